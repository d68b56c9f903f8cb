# 111_base_backup.pl — physical base backups: ripple_backup_base_backup() runs the
# server's pg_basebackup (tar to stdout, -X none) through zstd and SHA-256 to S3; the
# catalog row (kind, dbname NULL, LSNs, timeline, backup_label) and the metadata; the
# object read back with awscli is a tar with backup_label, global/pg_control and base/;
# unpacked into a new data directory with WAL from the source's archive it starts and
# has rows written after the backup; checksum verification works, the archive level is
# refused; a refused replication connection and a tablespace fail with clear errors;
# with encryption configured it is stored encrypted (test 122 tests that whole);
# privileges; a logical backup beside it keeps its stats and health.
use strict;
use warnings;
use Digest::SHA;
use File::Path qw(make_path);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $work = PostgreSQL::Test::Utils::tempdir('work');
my $archive = PostgreSQL::Test::Utils::tempdir('archive');
my $tsdir = PostgreSQL::Test::Utils::tempdir('tablespace');
my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('base', s3 => $s3, prefix => 'pitr',
	init => { allows_streaming => 1 },
	conf => "archive_mode = on\narchive_command = 'cp %p $archive/%f'\n"
	  . "ripple_backup.verify_after_backup = off\n");
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 5000);
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
sub sql { return $node->safe_psql('postgres', $_[0]); }

# --- a logical backup first: what stats and health say of it --------------------------
my $logical = RippleTest::Cluster::backup_now($node, 'app', 'logical');
is(RippleTest::Cluster::wait_backup($node, $logical), 'succeeded', 'a logical backup succeeded');
my $health_sql = "SELECT dbname, status, last_success, failures_since_success FROM ripple_backup_health()"
  . " WHERE dbname IS NOT NULL ORDER BY dbname";
my $stats_sql = 'SELECT schema_name, table_name, row_count FROM ripple_backup_stats() ORDER BY 1, 2';
my $health_before = sql($health_sql);
my $stats_before = sql($stats_sql);
my $metrics_before = sql("SELECT ripple_backup_metrics()");

# --- the base backup --------------------------------------------------------------------
my $first_offset = -s $node->logfile;
my $id = sql("SELECT ripple_backup_base_backup('first')");
like($id, qr/^\d+$/, 'ripple_backup_base_backup() returns an id');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the base backup succeeded')
  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $id"));
my $row = RippleTest::Cluster::backup_row($node, $id);
my $first_log = slurp_file($node->logfile, $first_offset);
my ($kind, $dbname_null, $start_lsn, $stop_lsn, $timeline, $label_text, $lsn_order) = split /\|/,
  sql("SELECT kind, dbname IS NULL, start_lsn, stop_lsn, timeline, backup_label, start_lsn <= stop_lsn"
	  . " FROM ripple_backup.backups WHERE id = $id"), 7;
is($kind, 'physical', 'catalog: kind physical');
is($dbname_null, 't', 'catalog: dbname NULL');
like($start_lsn, qr{^[0-9A-F]+/[0-9A-F]+$}, "catalog: start_lsn $start_lsn");
like($stop_lsn, qr{^[0-9A-F]+/[0-9A-F]+$}, "catalog: stop_lsn $stop_lsn");
is($lsn_order, 't', 'start_lsn <= stop_lsn');
is($timeline, '1', 'catalog: timeline 1');
like($label_text, qr{^START WAL LOCATION: \Q$start_lsn\E \(file [0-9A-F]{24}\)$}m, 'catalog: backup_label text');
like($label_text, qr{^LABEL: ripple_backup $id: first$}m, 'backup_label carries the id and the label');
my $incarnation = sql('SELECT incarnation_id FROM ripple_backup.incarnation');
like($row->{location}, qr{^s3://backups/pitr/\Q$sysid\E/\Q$incarnation\E/base/\d{8}T\d{6}Z-$id\.tar\.zst$},
	'location: <prefix>/<sysid>/<incarnation>/base/<timestamp>-<id>.tar.zst');
my $key = substr($row->{location}, length('s3://backups/'));

ok($s3->fetch_object($key, "$work/base.tar.zst", 'backups'), 'awscli reads the object back');
is(-s "$work/base.tar.zst", $row->{size_bytes}, 'it has size_bytes bytes');
is(Digest::SHA->new(256)->addfile("$work/base.tar.zst")->hexdigest, $row->{sha256}, 'and the catalog\'s SHA-256');
system_or_bail('zstd', '-q', '-d', "$work/base.tar.zst", '-o', "$work/base.tar");
my @members = split /\n/, `tar -tf $work/base.tar`;
ok((grep { $_ eq 'backup_label' } @members), 'the tar has backup_label');
ok((grep { $_ eq 'global/pg_control' } @members), 'the tar has global/pg_control');
ok((grep { m{^base/\d+/} } @members), 'the tar has base/');
ok(!(grep { m{^pg_wal/[0-9A-F]{24}$} } @members), 'no WAL segments in it (-X none)');

ok($s3->fetch_object("$key.metadata.json", "$work/meta.json", 'backups'), 'awscli reads the metadata back');
my $meta = decode_json(slurp_file("$work/meta.json"));
is($meta->{kind}, 'physical', 'metadata: kind');
is($meta->{dbname}, undef, 'metadata: dbname null');
is($meta->{start_lsn}, $start_lsn, 'metadata: start_lsn');
is($meta->{stop_lsn}, $stop_lsn, 'metadata: stop_lsn');
is($meta->{timeline}, 1, 'metadata: timeline');
is($meta->{sha256}, $row->{sha256}, 'metadata: sha256');
is($meta->{pg_dump_format}, 'tar', 'metadata: format tar');
like($meta->{backup_label}, qr/^START TIMELINE: 1$/m, 'metadata: backup_label');

# --- the CLI shows the kind, and restores only logical backups ------------------------
{
	my $cli_bin = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
	my @S3 = ('--destination', 's3://backups/pitr', '--s3-endpoint', $s3->endpoint, '--s3-uri-style', 'path');
	my $cli = sub {
		my ($out, $err) = ('', '');
		local %ENV = (%ENV, $s3->env, HOME => $work);
		IPC::Run::run([ $cli_bin, @_, @S3 ], '<', \undef, '>', \$out, '2>', \$err);
		return ($? >> 8, $out, $err);
	};
	my ($crc, $cout, $cerr) = $cli->('list');
	is($crc, 0, 'ripple-backup list exits 0') or diag($cerr);
	like($cout, qr/^\S+ \S+\s+\(base backup\)\s.*\b$id\b/m, 'list shows the base backup as one');
	like($cout, qr/\bapp\b.*\b$logical\b/, 'and the logical backup beside it');
	($crc, $cout, $cerr) = $cli->('info', $id);
	is($crc, 0, 'ripple-backup info exits 0') or diag($cerr);
	like($cout, qr/^kind:\s+physical/m, 'info shows the kind');
	like($cout, qr/^WAL from:\s+\Q$start_lsn\E to \Q$stop_lsn\E$/m, 'info shows the WAL range');
	($crc, $cout, $cerr) = $cli->('verify', $id);
	is($crc, 0, 'ripple-backup verify (size and checksum) of the base backup') or diag($cerr);
	($crc, $cout, $cerr) = $cli->('restore', $id, '--dbname', 'app', '--host', $node->host,
		'--port', $node->port);
	isnt($crc, 0, 'ripple-backup restore of a base backup is refused');
	like($cerr, qr/is a physical base backup; restore restores logical backups only/, '... saying why');
}

# --- a logical backup's truths are unchanged --------------------------------------------
is(sql($health_sql), $health_before, 'health of the databases: unchanged by the base backup');
is(sql($stats_sql), $stats_before, 'ripple_backup_stats(): still the logical backup\'s counts');
is(sql("SELECT string_agg(component, ',' ORDER BY component) FROM ripple_backup_health() WHERE dbname IS NULL"),
	'destination,wal archive', 'health: the rows without a database are the destination and the WAL archive, as before');
my $metrics_after = sql("SELECT ripple_backup_metrics()");
my $strip = sub { my $m = shift; $m =~ s/^ripple_backup_(?:destination|rpo_seconds|up|scrape).*\n//mg; $m };
is($strip->($metrics_after), $strip->($metrics_before), 'metrics per database: unchanged');
is(sql("SELECT action || ': ' || reason FROM ripple_backup_prune(dry_run => true) WHERE backup_id = $id"),
	'keep: newest succeeded', 'retention decides the base backup as a series of its own: the newest one is kept');

# --- verification ----------------------------------------------------------------------
is(sql("SELECT ripple_backup_verify($id, 'checksum')"), 'verified', 'checksum verification of the base backup');
my ($rc, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'archive')");
isnt($rc, 0, 'archive-level verification of a base backup is refused (the restore level is a drill: test 120)');
like($err, qr/physical base backup and can be verified at checksum or restore level only/, '... saying so');
is(sql("SELECT ripple_backup_verify(NULL, 'archive')"), 'verified',
	'a verification without an id takes the latest logical backup');
# that verification changed the logical backup's health (it is verified now): compare from here
$health_before = sql($health_sql);

# --- the base backup is a usable cluster: restore it with WAL from the archive ----------
$node->safe_psql('app', "CREATE TABLE after_base AS SELECT g AS n FROM generate_series(1, 777) g");
my $seg = sql("SELECT pg_walfile_name(pg_current_wal_lsn())");
sql("SELECT pg_switch_wal()");
$node->poll_query_until('postgres', "SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")
  or BAIL_OUT('the segment was not archived');

my $restored = PostgreSQL::Test::Cluster->new('restored');
my $pgdata = $restored->data_dir;
make_path($pgdata);
chmod(0700, $pgdata);
system_or_bail('tar', '-xf', "$work/base.tar", '-C', $pgdata);
ok(-f "$pgdata/backup_label", 'the unpacked directory has backup_label');
$restored->append_conf('postgresql.conf', "port = " . $restored->port . "\n"
	  . "shared_preload_libraries = ''\narchive_mode = off\n"
	  . "restore_command = 'cp $archive/%f %p'\n");
open(my $sig, '>', "$pgdata/recovery.signal") or die;
close($sig);
$restored->start;
$restored->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
  or BAIL_OUT('the restored cluster did not finish recovery');
is($restored->safe_psql('app', 'SELECT count(*) FROM after_base'), '777',
	'the restored cluster has the rows written after the base backup (WAL replayed from the archive)');
is_deeply(RippleTest::Cluster::count_rows($restored, 'app', $expected), $expected,
	'and the tables of the base backup');
$restored->stop;

# --- refused: replication not allowed in pg_hba.conf -----------------------------------
my $hba = slurp_file($node->data_dir . '/pg_hba.conf');
open(my $fh, '>', $node->data_dir . '/pg_hba.conf') or die;
print $fh "local replication all reject\n$hba";
close($fh);
$node->reload;
my $refused = sql("SELECT ripple_backup_base_backup()");
is(RippleTest::Cluster::wait_backup($node, $refused), 'failed', 'replication refused by pg_hba.conf: failed');
like(sql("SELECT error FROM ripple_backup.backups WHERE id = $refused"),
	qr/^pg_hba\.conf must allow a replication connection for user "\w+" over the local socket: pg_basebackup exited with code 1: .*pg_hba\.conf/s,
	'... with an error that says pg_hba.conf must allow a replication connection');
is(sql("SELECT count(*) FROM ripple_backup.backups WHERE id = $refused AND location IS NULL AND sha256 IS NULL"), '1',
	'... and nothing recorded as stored');
open($fh, '>', $node->data_dir . '/pg_hba.conf') or die;
print $fh $hba;
close($fh);
$node->reload;

# --- refused: a tablespace ---------------------------------------------------------------
sql("CREATE TABLESPACE extra LOCATION '$tsdir'");
my $ts = sql("SELECT ripple_backup_base_backup()");
is(RippleTest::Cluster::wait_backup($node, $ts), 'failed', 'a cluster with a tablespace: failed');
like(sql("SELECT error FROM ripple_backup.backups WHERE id = $ts"),
	qr/^base backups of clusters with tablespaces are not supported yet/, '... saying tablespaces are not supported yet');
sql("DROP TABLESPACE extra");
is(sql($health_sql), $health_before, 'health of the databases: unchanged by failed base backups');

# --- privileges --------------------------------------------------------------------------
sql("CREATE ROLE plain LOGIN; CREATE ROLE repl LOGIN REPLICATION;"
	  . " GRANT USAGE ON SCHEMA ripple_backup TO plain, repl;");
($rc, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_base_backup()", extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied for function ripple_backup_base_backup/, 'not granted to PUBLIC');
sql("GRANT EXECUTE ON FUNCTION ripple_backup_base_backup(text) TO plain, repl");
($rc, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_base_backup()", extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied to take a base backup/, 'granted but without REPLICATION: refused');
my $by_repl = $node->safe_psql('postgres', "SELECT ripple_backup_base_backup('by repl')", extra_params => [ '-U', 'repl' ]);
is(RippleTest::Cluster::wait_backup($node, $by_repl), 'succeeded', 'a role with REPLICATION and EXECUTE takes one');
is(sql("SELECT requested_by FROM ripple_backup.backups WHERE id = $by_repl"), 'repl', '... recorded as requested by it');

# --- a spread checkpoint (base_backup_fast_checkpoint off) -------------------------------
$node->append_conf('postgresql.conf', "ripple_backup.base_backup_fast_checkpoint = off\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.base_backup_fast_checkpoint', 'off');
my $spread_offset = -s $node->logfile;
my $spread = sql("SELECT ripple_backup_base_backup('spread')");
is(RippleTest::Cluster::wait_backup($node, $spread), 'succeeded', 'a base backup with a spread checkpoint succeeded');
my $spread_log = slurp_file($node->logfile, $spread_offset);
like($spread_log, qr/BASE_BACKUP \( LABEL 'ripple_backup $spread: spread'/, 'the server saw its BASE_BACKUP');
unlike($spread_log, qr/BASE_BACKUP \( LABEL 'ripple_backup $spread: spread'[^\n]*CHECKPOINT 'fast'/,
	'... without CHECKPOINT fast');
like($first_log, qr/BASE_BACKUP \( LABEL 'ripple_backup $id: first'[^\n]*CHECKPOINT 'fast'/,
	'the first one (the default, on) asked for a fast checkpoint');
$node->append_conf('postgresql.conf', "ripple_backup.base_backup_fast_checkpoint = on\n");
$node->reload;

# --- encryption configured: the base backup is encrypted (test 122 covers it whole) -------
{
	my $keyfile = "$work/base.key";
	open(my $kf, '>', $keyfile) or die;
	print $kf join('', map { sprintf '%02x', int(rand(256)) } 1 .. 32), "\n";
	close($kf);
	chmod(0600, $keyfile);
	sql("ALTER SYSTEM SET ripple_backup.encryption_key_file = '$keyfile'");
	sql('SELECT pg_reload_conf()');
	RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.encryption_key_file', $keyfile);
	my $enc = sql("SELECT ripple_backup_base_backup()");
	is(RippleTest::Cluster::wait_backup($node, $enc), 'succeeded', 'with encryption configured a base backup succeeds')
	  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $enc"));
	is(sql("SELECT encryption <> 'none' AND key_id IS NOT NULL FROM ripple_backup.backups WHERE id = $enc"), 't',
		'... encrypted, with its key id recorded');
	my $ekey = substr(RippleTest::Cluster::backup_row($node, $enc)->{location}, length('s3://backups/'));
	ok($s3->fetch_object($ekey, "$work/enc.tar.zst", 'backups'), '... and stored');
	open(my $ef, '<:raw', "$work/enc.tar.zst") or die;
	read($ef, my $magic, 8);
	close($ef);
	is($magic, 'RIPBKENC', '... as an encrypted object, not the cluster in the clear');
	sql("ALTER SYSTEM RESET ripple_backup.encryption_key_file");
	sql('SELECT pg_reload_conf()');
	RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.encryption_key_file', '');
}

# --- a physical schedule fires ------------------------------------------------------------
($rc, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_schedule('bad', '* * * * *', kind => 'fuzzy')");
like($err, qr/invalid backup kind "fuzzy"/, 'a kind other than logical or physical is refused');
sql("GRANT EXECUTE ON FUNCTION ripple_backup_schedule(text, text, name, text, text) TO plain");
($rc, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_schedule('p', '* * * * *', kind => 'physical')",
	extra_params => [ '-U', 'plain' ]);
like($err, qr/permission denied to take a base backup/, 'a physical job needs the base backup privilege too');
my $job = sql("SELECT ripple_backup_schedule('base-every-minute', '* * * * *', kind => 'physical')");
is(sql("SELECT kind, dbname IS NULL FROM ripple_backup.jobs WHERE jobid = $job"), 'physical|t',
	'the job is physical, without a database');
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM ripple_backup.backups WHERE jobid = $job AND status IN ('succeeded', 'failed')"),
	'the physical job fired within its minute');
is(sql("SELECT kind || ' ' || status || ' ' || backup_type || ' ' || (dbname IS NULL) || ' ' || (start_lsn IS NOT NULL)"
	  . " FROM ripple_backup.backups WHERE jobid = $job ORDER BY id LIMIT 1"),
	'physical succeeded scheduled true true', 'its backup is a scheduled physical one that succeeded');
like(sql("SELECT location FROM ripple_backup.backups WHERE jobid = $job ORDER BY id LIMIT 1"), qr{/base/\d{8}T\d{6}Z-\d+\.tar\.zst$},
	'... stored under base/');
sql("SELECT ripple_backup_unschedule('base-every-minute')");
is(sql($health_sql), $health_before, 'health of the databases: unchanged by the physical job');
is(sql("SELECT count(*) FROM ripple_backup.rpo_state('1 hour') WHERE dbname IS NULL"), '0',
	'the RPO state has no row without a database');

done_testing();
