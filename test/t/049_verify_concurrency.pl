# 049_verify_concurrency.pl — two restore verifies of the same backup started at
# once do not disturb each other: each restores into a scratch database of its own
# (ripple_backup_verify_<id>_<verifier pid>; restores also run one at a time, so the
# second waits for the first), neither drops the other's, both return verified,
# the catalog row says verified at restore level, and no scratch database or
# temporary file is left when both are done.  The same for a restore drill that
# overlaps a manual verify.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(usleep);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('concurrent', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\nripple_backup.drill_schedule = ''\n");

# a restore takes at least 5 s: pgbench data, and a CHECK that sleeps 5 ms a row
$node->safe_psql('postgres', 'CREATE DATABASE bench');
$node->command_ok([ 'pgbench', '-i', '-q', '-s', '5', '-d', $node->connstr('bench') ],
	'pgbench -i -s 5');
RippleTest::Cluster::create_slow_table($node, 'bench', 1000);
my $id = RippleTest::Cluster::backup_now($node, 'bench');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup succeeded');

my $scratch_sql = "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database"
  . " WHERE datname LIKE 'ripple\\_backup\\_verify\\_%'";

# Starts SELECT ripple_backup_verify($id, 'restore') in a psql of its own.
sub start_verify {
	my ($out, $err) = (\my $o, \my $e);
	$$out = '';
	$$err = '';
	my $h = IPC::Run::start(
		[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr('postgres'),
		  '-c', "SELECT ripple_backup_verify($id, 'restore', timeout => '5 minutes')" ],
		'>', $out, '2>', $err);
	return { h => $h, out => $out, err => $err };
}

# Waits until $n scratch databases exist, each with a pg_restore connected to it.
sub wait_restoring {
	my ($n, $timeout) = @_;
	my $sql = "SELECT count(DISTINCT datname) FROM pg_stat_activity"
	  . " WHERE datname LIKE 'ripple\\_backup\\_verify\\_%'";
	return RippleTest::Cluster::poll_value($node, 'postgres', $sql, $n, $timeout // 60);
}

# The number of "backup <id> verified at level restore" lines in the log since $offset.
sub verified_in_log {
	my ($offset) = @_;
	my @lines = slurp_file($node->logfile, $offset) =~ /backup $id verified at level restore/g;
	return scalar(@lines);
}

# Waits until $n restore verifies of the backup logged their outcome since $offset;
# returns the scratch database names seen meanwhile ("a,b").
sub watch_until_done {
	my ($offset, $n) = @_;
	my %seen;
	for (1 .. 1800) {
		$seen{$_} = 1 for grep { $_ ne '' } split /,/, $node->safe_psql('postgres', $scratch_sql);
		my @done = slurp_file($node->logfile, $offset) =~
		  /backup $id verified at level restore|verification of backup $id at level restore failed/g;
		last if @done >= $n;
		usleep(100_000);
	}
	return join(',', sort keys %seen);
}

my $log_offset = -s $node->logfile;
my $first = start_verify();
is(wait_restoring(1), '1', 'the first verify is restoring');
my $second = start_verify();
my $names = watch_until_done($log_offset, 2);
like($names, qr/^ripple_backup_verify_${id}_\d+,ripple_backup_verify_${id}_\d+$/,
	"each verify restored into a scratch database of its own, named after the backup and the verifier ($names)");

$first->{h}->finish;
$second->{h}->finish;
chomp(${ $_->{out} }) for $first, $second;
is(${ $first->{out} }, 'verified', 'the first verify: verified');
is(${ $first->{err} }, '', 'the first verify: no notice or error');
is(${ $second->{out} }, 'verified', 'the second verify: verified');
is(${ $second->{err} }, '', 'the second verify: no notice or error');
is($node->safe_psql('postgres',
		"SELECT verify_status || '/' || verify_level || '/' || (restore_seconds > 0)::text"
		  . " || '/' || coalesce(verify_error, '-') FROM ripple_backup.backups WHERE id = $id"),
	'verified/restore/true/-', 'catalog: verified at restore level, restore time, no error');
is(verified_in_log($log_offset), 2, 'the log shows two verified restores');
unlike(slurp_file($node->logfile, $log_offset), qr/verification of backup $id at level restore failed/,
	'and no failed one');
is($node->safe_psql('postgres', $scratch_sql), '', 'no scratch database left');
my @tmp = glob($node->data_dir . '/base/pgsql_tmp/*');
is(scalar(@tmp), 0, 'no temporary file left in base/pgsql_tmp');

# --- a restore drill overlapping a manual verify ----------------------------------------
$log_offset = -s $node->logfile;
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.drill_schedule = '* * * * *'");
$node->reload;
is(wait_restoring(1, 90), '1', 'a restore drill is restoring (it fires within a minute)');
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.drill_schedule = ''");
$node->reload;
ok($node->log_contains("restore drill of backup $id started", $log_offset), 'the log says the drill started');
my $manual = start_verify();
$names = watch_until_done($log_offset, 2);
like($names, qr/^ripple_backup_verify_${id}_\d+,ripple_backup_verify_${id}_\d+$/,
	"the drill and the manual verify restored into scratch databases of their own ($names)");
$manual->{h}->finish;
chomp ${ $manual->{out} };
is(${ $manual->{out} }, 'verified', 'the manual verify during the drill: verified');
is(${ $manual->{err} }, '', 'the manual verify during the drill: no notice or error');
is(verified_in_log($log_offset), 2, 'the log shows both verified: the drill and the manual verify');
unlike(slurp_file($node->logfile, $log_offset), qr/verification of backup $id at level restore failed/,
	'and no failed one');
is($node->safe_psql('postgres', $scratch_sql), '', 'no scratch database left after the drill');
@tmp = glob($node->data_dir . '/base/pgsql_tmp/*');
is(scalar(@tmp), 0, 'no temporary file left after the drill');

$node->stop;
done_testing();
