# 072_backup_timeout.pl — ripple_backup.backup_timeout bounds one backup.  A pg_dump
# that waits for a lock another session never releases would otherwise run until
# that session ends (for ever); at the deadline the backup is stopped, pg_dump is
# killed and reaped, nothing is stored, the row says failed with the reason, and the
# next backup runs.
use strict;
use warnings;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(time);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('backup_timeout', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\nripple_backup.backup_timeout = '4s'\n");
RippleTest::Cluster::create_app_db($node, 'app', 1000);

sub files_in_destination {
	my @files;
	find(sub { push @files, $File::Find::name if -f $_ }, $dir);
	return sort @files;
}

# another session holds an ACCESS EXCLUSIVE lock: pg_dump waits on it
my $bg = $node->background_psql('app', on_error_stop => 1);
$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');

my $t0 = time;
my $id = RippleTest::Cluster::backup_now($node, 'app');
my $blocked = RippleTest::Cluster::poll_value($node, 'app',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = 'app' AND wait_event_type = 'Lock'"
	  . " AND application_name = 'ripple_backup $id'", 't', 30);
is($blocked, 't', 'pg_dump is running, waiting on the lock');
my $status = eval { RippleTest::Cluster::wait_backup($node, $id, '60 s') } // 'still running after 60 s';
is($status, 'failed', 'the backup held by the lock fails at its deadline');
my $elapsed = time - $t0;
ok($elapsed < 30, sprintf('it failed soon after the 4 s deadline (%.1f s), not when the lock went', $elapsed));
my $row = RippleTest::Cluster::backup_row($node, $id);
like($row->{error}, qr/did not finish within ripple_backup\.backup_timeout \(4 s\)/,
	"the error names the setting: $row->{error}");
is($row->{location}, undef, 'no location recorded');
is(join(',', files_in_destination()), '', 'nothing in the destination');
is(RippleTest::Cluster::poll_value($node, 'app',
		"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ripple_backup $id'", '0', 30),
	'0', "pg_dump's session is gone while the lock is still held");
$bg->quit;

my $next = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $next, '60 s'), 'succeeded', 'the next backup succeeds');

done_testing();
