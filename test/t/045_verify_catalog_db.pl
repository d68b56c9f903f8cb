# 045_verify_catalog_db.pl — a backup of the catalog database (the one holding the
# extension) verifies at restore level: the restore skips the extension's own
# entries (it refuses to exist outside the catalog database) and the row counts
# of its schema; user tables beside it are restored and counted.  A restore drill
# (ripple_backup.drill_schedule) verifies the latest backup at restore level.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('catalog', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");

# a user table in the catalog database, beside the extension's schema
$node->safe_psql('postgres',
	'CREATE TABLE public.things AS SELECT g AS id FROM generate_series(1, 1234) g');

sub vrow {
	my ($id) = @_;
	return $node->safe_psql('postgres',
		"SELECT verify_status, coalesce(verify_level, '-'), restore_seconds IS NOT NULL,"
		  . " coalesce(verify_error, '-') FROM ripple_backup.backups WHERE id = $id");
}

my $id = RippleTest::Cluster::backup_now($node, 'postgres');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup of the catalog database succeeded');

is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id, 'restore')"),
	'verified', 'restore level of a catalog-database backup: verified');
is(vrow($id), 'verified|restore|t|-', 'catalog: verified at restore level, restore time recorded');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_database WHERE datname LIKE 'ripple_backup_verify_%'"),
	'0', 'the scratch database is dropped');

# --- restore drill -------------------------------------------------------------------------
my ($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET ripple_backup.drill_schedule = '61 * * * *'");
isnt($ret, 0, 'an invalid drill schedule is refused');
like($err, qr/minute 61 is out of range/, 'with the cron parser\'s reason');

my $id2 = RippleTest::Cluster::backup_now($node, 'postgres');
is(RippleTest::Cluster::wait_backup($node, $id2), 'succeeded', 'a second backup succeeded');
is(vrow($id2), 'unverified|-|f|-', 'the new backup is unverified (no drill yet)');

my $log_offset = -s $node->logfile;
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.drill_schedule = '* * * * *'");
$node->reload;
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT verify_level = 'restore' AND verify_status = 'verified' AND restore_seconds IS NOT NULL"
		  . " FROM ripple_backup.backups WHERE id = $id2", 't', 75),
	't', 'within 75 s the drill verified the latest backup at restore level');
ok($node->log_contains("ripple_backup: restore drill of backup $id2 started", $log_offset),
	'the log says the drill started');
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.drill_schedule = ''");
$node->reload;

done_testing();
