# 093_drill_timeout.pl — a restore drill whose restore never finishes is stopped
# after ripple_backup.drill_timeout and recorded as failed with the reason.  Nobody
# waits for a drill, so before this setting a restored function that sleeps held
# the drill (and the lock that serialises restore verifies) for good: every later
# restore verify waited behind it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('drill_timeout', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\nripple_backup.drill_schedule = ''\n"
	  . "ripple_backup.drill_timeout = '8s'\n");

# The only backup: a table whose restore (not its source) sleeps an hour a row.
$node->safe_psql('postgres', 'CREATE DATABASE stuck');
$node->safe_psql('stuck', q{
	CREATE FUNCTION public.hang(int) RETURNS boolean LANGUAGE sql
	  AS $$SELECT CASE WHEN pg_catalog.current_database() LIKE 'ripple_backup_verify%'
	               THEN pg_catalog.pg_sleep(3600) IS NOT NULL ELSE true END$$;
	CREATE TABLE public.t (x int CHECK (public.hang(x)));
	INSERT INTO public.t VALUES (1);
});
my $id = RippleTest::Cluster::backup_now($node, 'stuck');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup succeeded');

my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.drill_schedule = '* * * * *'");
$node->reload;
# the drill fires at the next minute boundary, then has 8 s
my $status = RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT coalesce(verify_status, '') FROM ripple_backup.backups WHERE id = $id",
	'failed', 150);
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.drill_schedule = ''");
$node->reload;
ok($node->log_contains("restore drill of backup $id started", $log_offset), 'the drill started');
is($status, 'failed', 'the drill that never finishes is recorded as failed');
like($node->safe_psql('postgres',
		"SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/did not finish within 8 s/, 'verify_error says it ran out of time');
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_database WHERE datname LIKE 'ripple\\_backup\\_verify\\_%'",
		'0', 30),
	'0', 'no scratch database left');
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'ripple\\_backup\\_verify\\_%'"
		  . " OR backend_type = 'ripple_backup verifier'",
		'0', 30),
	'0', 'no verifier and no restore session is left');

# the lock is free again: a checksum verify of the same backup and a restore verify
# of a healthy backup go through at once
$node->safe_psql('postgres', 'CREATE DATABASE fine');
$node->safe_psql('fine', 'CREATE TABLE t AS SELECT generate_series(1, 10) x');
my $ok = RippleTest::Cluster::backup_now($node, 'fine');
is(RippleTest::Cluster::wait_backup($node, $ok), 'succeeded', 'second backup succeeded');
is($node->safe_psql('postgres',
		"SELECT ripple_backup_verify($ok, 'restore', timeout => '60 s')"),
	'verified', 'a restore verify after the stopped drill is not blocked');

done_testing();
