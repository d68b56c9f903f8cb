# 099_sql_surface.pl — the SQL surface a DBA scripts against:
#   - ripple_backup_now(..., wait => true) returns the id of a backup that succeeded
#     and raises an ERROR with the backup's error when it fails, so that a migration
#     under ON_ERROR_STOP stops before migrating; ripple_backup_wait() still returns
#     the status;
#   - a failed backup is logged at WARNING, with its error (DETAIL) and a HINT;
#   - ripple_backup_stats() names the backup it describes and takes a database name;
#   - ripple_backup.summary: one row per backup, newest first, human sizes;
#   - settings that could only fail later are refused when set: a relative or
#     unreadable s3_credentials_file, a compression_level the compression does not
#     take (gzip 15); a pair a reload applied in an order that hides the mismatch
#     fails the backup at its start with a message that names both settings.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(usleep);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('sqlsurface', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");
RippleTest::Cluster::create_app_db($node, 'app', 100);

sub sql { return $node->safe_psql('postgres', $_[0]); }

# Sets postgresql.conf lines, reloads, and waits until every line shows.
sub reload_conf {
	my (%set) = @_;
	$node->append_conf('postgresql.conf', join('', map { "ripple_backup.$_ = '$set{$_}'\n" } sort keys %set));
	$node->reload;
	for my $k (keys %set) {
		RippleTest::Cluster::poll_value($node, 'postgres', "SHOW ripple_backup.$k", $set{$k}, 30);
	}
}

# --- wait => true ---------------------------------------------------------------------
my $ok_id = sql("SELECT ripple_backup_now('app', 'waited', wait => true)");
like($ok_id, qr/^\d+$/, 'wait => true returns the id');
is(sql("SELECT status FROM ripple_backup.backups WHERE id = $ok_id"), 'succeeded',
	'... of a backup that has succeeded when it returns');

# a destination that cannot be written: every backup fails
my $blocker = "$dir/not_a_directory";
open my $fh, '>', $blocker or die;
close $fh;
my $good_destination = sql('SHOW ripple_backup.destination');
reload_conf(destination => "file://$blocker/sub");

my $log_offset = -s $node->logfile;
my ($ret, $out, $err) = $node->psql('postgres', <<'EOS', extra_params => [ '-v', 'ON_ERROR_STOP=1' ]);
SELECT ripple_backup_now('app', 'before migration 43', wait => true);
CREATE TABLE public.migrated_43 (x int);
EOS
is($ret, 3, 'under ON_ERROR_STOP, psql stops at the failed backup (exit 3)');
like($err, qr/ERROR:  backup \d+ of database "app" failed/, 'the ERROR names the backup and its database');
like($err, qr/DETAIL:  .*not_a_directory/, "its DETAIL is the backup's error");
is(sql("SELECT to_regclass('public.migrated_43') IS NULL"), 't', 'the migration did not run');
is(sql("SELECT count(*) FROM ripple_backup.backups WHERE label = 'before migration 43'"), '0',
	'the row of the backup is rolled back with the statement (as the HINT says)');
like($err, qr/HINT:  .*rolled back/, '... and the HINT says so');

# ripple_backup_wait keeps returning the status
my $failed_id = sql("SELECT ripple_backup_now('app', 'queued, then waited')");
is(sql("SELECT ripple_backup_wait($failed_id)"), 'failed', 'ripple_backup_wait returns "failed", without an error');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/WARNING:  ripple_backup: backup $failed_id of database "app" failed\n(?:.*\n)*?.*DETAIL:  .*not_a_directory/,
	'a failed backup is logged at WARNING with its error');
like($log, qr/WARNING:  ripple_backup: backup $failed_id of database "app" failed\n(?:.*\n)*?.*HINT:  /,
	'... and a hint');
unlike($log, qr/LOG:  ripple_backup: backup $failed_id of database "app" failed/, 'not at LOG');

reload_conf(destination => $good_destination);

# --- ripple_backup_stats: which backup, and by database ------------------------------
my $pg_id = sql("SELECT ripple_backup_now('postgres', wait => true)");
ok($pg_id > $ok_id, 'a newer backup of another database');
is(sql("SELECT DISTINCT backup_id || ' ' || dbname FROM ripple_backup_stats(dbname => 'app')"), "$ok_id app",
	"ripple_backup_stats(dbname => 'app') describes app's latest succeeded backup and says so");
is(sql("SELECT DISTINCT backup_id || ' ' || dbname FROM ripple_backup_stats()"), "$pg_id postgres",
	'ripple_backup_stats() says which backup it describes (the newest of all)');
is(sql("SELECT sum(row_count) FROM ripple_backup_stats(dbname => 'app') WHERE table_name <> 'pgbench_history'"),
	sql("SELECT sum(row_count) FROM ripple_backup.backup_tables WHERE backup_id = $ok_id AND table_name <> 'pgbench_history'"),
	'... with the row counts of that backup');

# --- ripple_backup.summary ----------------------------------------------------------------
{
	my @rows = split /\n/, sql("SELECT id, status, coalesce(size, '-'), coalesce(compression_ratio::text, '-'),"
		  . " verify_status, age >= '0 s', coalesce(error, '') <> '' FROM ripple_backup.summary");
	is(scalar(@rows), sql('SELECT count(*) FROM ripple_backup.backups'), 'summary: one row per backup');
	my @ids = map { (split /\|/)[0] } @rows;
	is_deeply(\@ids, [ sort { $b <=> $a } @ids ], 'summary: newest first');
	my ($newest) = grep { /^$pg_id\|/ } @rows;
	my $pretty = sql("SELECT pg_size_pretty(size_bytes) FROM ripple_backup.backups WHERE id = $pg_id");
	like($newest, qr/^$pg_id\|succeeded\|\Q$pretty\E\|\d+\.\d\d\|unverified\|t\|f$/,
		'summary: size as pg_size_pretty, compression ratio, verify status, age');
	my ($failed) = grep { /^$failed_id\|/ } @rows;
	like($failed, qr/^$failed_id\|failed\|-\|-\|unverified\|t\|t$/, 'summary: a failed backup, with its error');
}

# --- settings checked when set ---------------------------------------------------------------
($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET ripple_backup.s3_credentials_file = 'relative.creds'");
isnt($ret, 0, 'a relative s3_credentials_file is refused');
like($err, qr/S3 credentials file "relative\.creds" is not an absolute path/, '... saying why');
($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET ripple_backup.s3_credentials_file = '/nonexistent/creds'");
isnt($ret, 0, 'a missing s3_credentials_file is refused');
like($err, qr{S3 credentials file "/nonexistent/creds" cannot be read: No such file or directory}, '... saying why');
my $creds = $node->basedir . '/creds';
open $fh, '>', $creds or die;
print $fh "[default]\naws_access_key_id = A\naws_secret_access_key = B\n";
close $fh;
chmod 0600, $creds;
($ret, $out, $err) = $node->psql('postgres', "ALTER SYSTEM SET ripple_backup.s3_credentials_file = '$creds'");
is($ret, 0, 'a readable file given by its absolute path is accepted') or diag $err;
sql('ALTER SYSTEM RESET ripple_backup.s3_credentials_file');

reload_conf(compression => 'gzip');
($ret, $out, $err) = $node->psql('postgres', 'ALTER SYSTEM SET ripple_backup.compression_level = 15');
isnt($ret, 0, 'compression_level 15 is refused while the compression is gzip');
like($err, qr/invalid compression level 15 for compression gzip/, '... with a clear message');
like($err, qr/must be between 1 and 9/, '... that gives the range');
($ret, $out, $err) = $node->psql('postgres', 'ALTER SYSTEM SET ripple_backup.compression_level = 9');
is($ret, 0, 'gzip level 9 is accepted') or diag $err;
sql('ALTER SYSTEM RESET ripple_backup.compression_level');

# zstd 15 in the file, then gzip named after the level: the reload applies the level
# first (fine for zstd), then gzip; the backup refuses the pair at its start.
reload_conf(compression => 'zstd');
reload_conf(compression_level => '15');
reload_conf(compression => 'gzip');
is(sql('SHOW ripple_backup.compression_level') . ' ' . sql('SHOW ripple_backup.compression'), '15 gzip',
	'a reload in that order leaves gzip with level 15');
$log_offset = -s $node->logfile;
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_now('app', wait => true)");
isnt($ret, 0, 'the backup with the mismatched pair fails');
like($err, qr/DETAIL:  ripple_backup\.compression_level = 15 does not suit ripple_backup\.compression = gzip: invalid compression level 15 for gzip: must be between 1 and 9/,
	'its error names both settings');
# the next reload checks the level against gzip, and says so in the log
$node->reload;
ok(RippleTest::Cluster::poll_value($node, 'postgres', 'SELECT 1', '1', 5), 'reloaded');
my $found = 0;
for (1 .. 100) {
	$found = slurp_file($node->logfile, $log_offset) =~ /invalid compression level 15 for compression gzip/;
	last if $found;
	usleep(100_000);
}
ok($found, 'the next reload logs that level 15 does not suit gzip');
like(slurp_file($node->logfile, $log_offset), qr/put ripple_backup\.compression before ripple_backup\.compression_level/,
	'... with the hint about the order of the two settings');
reload_conf(compression => 'zstd', compression_level => '0');
like(sql("SELECT ripple_backup_now('app', wait => true)"), qr/^\d+$/, 'back to zstd: backups succeed');

$node->stop;
done_testing();
