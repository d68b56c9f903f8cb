# 024_standby.pl — on a standby the launcher does nothing (it is not even started)
# until the standby is promoted; then backups work there.  ripple_backup_now() and
# ripple_backup_verify() fail at once on the standby, saying why.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $primary = RippleTest::Cluster->new_node('primary', destination => "file://$dir",
	init => { allows_streaming => 1 });
my $launchers = "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'";
is(RippleTest::Cluster::poll_value($primary, 'postgres', $launchers, '1'), '1', 'the primary runs a launcher');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);
is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
sleep 2;
is($standby->safe_psql('postgres', $launchers), '0', 'no launcher on the standby');
my ($rc, $out, $err) = $standby->psql('postgres', 'SELECT ripple_backup_now()');
isnt($rc, 0, 'ripple_backup_now() fails on the standby');
like($err, qr/cannot queue a backup on a standby server/, '... saying it is a standby');

# a succeeded backup of the primary, replicated: verifying it on the standby fails at
# once (a verifier worker never starts during recovery)
my $pbackup = RippleTest::Cluster::backup_now($primary, 'postgres');
is(RippleTest::Cluster::wait_backup($primary, $pbackup), 'succeeded', 'a backup on the primary succeeded');
$primary->wait_for_catchup($standby);
my $t0 = time;
($rc, $out, $err) = $standby->psql('postgres',
	"SELECT ripple_backup_verify($pbackup, 'checksum', timeout => '20 seconds')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
my $took = time - $t0;
isnt($rc, 0, 'ripple_backup_verify() fails on the standby');
like($err, qr/ERROR:  25006: cannot verify a backup on a standby server/,
	'... with read_only_sql_transaction, saying it is a standby');
like($err, qr/HINT:  Verify the backup on the primary/, '... and a hint');
ok($took < 10, "... at once, not after its timeout ($took s)");

$standby->promote;
is(RippleTest::Cluster::poll_value($standby, 'postgres', $launchers, '1'), '1',
	'after promotion the launcher runs');
my $id = RippleTest::Cluster::backup_now($standby, 'postgres');
is(RippleTest::Cluster::wait_backup($standby, $id), 'succeeded', 'and a backup on the promoted server succeeds');

$standby->stop;
$primary->stop;
done_testing();
