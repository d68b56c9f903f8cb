# 021_backup_file.pl — end to end to a directory: SELECT ripple_backup_now() on a
# database, the object and its metadata under file://, checksum and size as the
# catalog says, per-table counts in the catalog, the metadata and the restored
# database all equal; the log lines; gzip after a reload; no temporary file left.
use strict;
use warnings;
use Digest::SHA;
use File::Find;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $node = RippleTest::Cluster->new_node('file', destination => "file://$dir");
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 5000);
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

# --- one backup of "app", zstd ------------------------------------------------------
my $log_offset = -s $node->logfile;
my $id = RippleTest::Cluster::backup_now($node, 'app', 'file test');
like($id, qr/^\d+$/, 'ripple_backup_now returns an id');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the backup succeeded');
my $row = RippleTest::Cluster::backup_row($node, $id);
is($row->{status}, 'succeeded', 'catalog: succeeded');
is($row->{error}, undef, 'catalog: no error');
is($row->{dbname}, 'app', 'catalog: dbname');
is($row->{backup_type}, 'manual', 'catalog: manual');
is($row->{label}, 'file test', 'catalog: label');
is($row->{compression}, 'zstd', 'catalog: zstd');
is($row->{system_identifier}, $sysid, 'catalog: system identifier');
my $incarnation = $node->safe_psql('postgres', 'SELECT incarnation_id FROM ripple_backup.incarnation');
like($row->{location}, qr{^file://\Q$dir\E/\Q$sysid\E/\Q$incarnation\E/app/\d{8}T\d{6}Z-$id\.dump\.zst$},
	'location: <prefix>/<sysid>/<incarnation>/<db>/<timestamp>-<id>.dump.zst');
is($row->{object_key}, substr($row->{location}, length("file://$dir/")), 'object_key is the location under the prefix');

my $path = substr($row->{location}, length('file://'));
ok(-f $path, 'the object exists');
is(-s $path, $row->{size_bytes}, 'its size is size_bytes');
is(Digest::SHA->new(256)->addfile($path)->hexdigest, $row->{sha256}, 'its SHA-256 is sha256');
open my $fh, '<:raw', $path or die;
read $fh, my $magic, 4;
close $fh;
is(unpack('H8', $magic), '28b52ffd', 'the object is a zstd frame');

ok(-f "$path.metadata.json", 'the metadata exists beside it');
my $meta = decode_json(slurp_file("$path.metadata.json"));
is($meta->{format_version}, 1, 'metadata: format_version');
is($meta->{backup_id}, $id, 'metadata: backup_id');
is($meta->{dbname}, 'app', 'metadata: dbname');
is("$meta->{system_identifier}", $sysid, 'metadata: system_identifier');
is($meta->{backup_type}, 'manual', 'metadata: backup_type');
is($meta->{label}, 'file test', 'metadata: label');
is($meta->{size_bytes}, $row->{size_bytes}, 'metadata: size_bytes');
is($meta->{sha256}, $row->{sha256}, 'metadata: sha256');
is($meta->{compression}, 'zstd', 'metadata: compression');
is($meta->{pg_dump_format}, 'custom', 'metadata: pg_dump_format');
like($meta->{server_version}, qr/^15\./, 'metadata: server_version');
is($meta->{extension_version}, '0.1.0', 'metadata: extension_version');
like($meta->{timestamp}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'metadata: ISO 8601 UTC timestamp');
ok($meta->{duration_seconds} > 0, 'metadata: duration_seconds');
is_deeply($meta->{table_counts}, $expected, 'metadata: table_counts are the tables and their rows');

# the catalog's row counts and ripple_backup_stats() say the same
my %catalog = map { my ($s, $t, $n) = split /\|/; ("$s.$t" => $n) }
  split /\n/, $node->safe_psql('postgres', "SELECT schema_name, table_name, row_count FROM ripple_backup_stats($id)");
is_deeply(\%catalog, $expected, 'ripple_backup_stats(id) gives the same counts');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup_stats()'), scalar(keys %$expected),
	'ripple_backup_stats() shows the latest succeeded backup');

# only the object and its metadata: no temporary file left (the verifier's marker
# "<object>.verified" and record "<object>.verify.json", see retention_keys.h and
# verify_record.h, may come and are no temporary files)
my @files;
find(sub { push @files, $File::Find::name if -f $_ && !/\.(?:verified|verify\.json)(?:\.tmp-\d+)?$/ }, $dir);
is_deeply([ sort @files ], [ sort($path, "$path.metadata.json") ], 'no other file in the destination');

# restore with pg_restore into a new database: the counts match the metadata
system_or_bail('zstd', '-q', '-d', $path, '-o', "$work/app.dump");
$node->safe_psql('postgres', 'CREATE DATABASE restored');
command_ok([ 'pg_restore', '--no-owner', '-d', $node->connstr('restored'), "$work/app.dump" ],
	'pg_restore of the object');
is_deeply(RippleTest::Cluster::count_rows($node, 'restored', $meta->{table_counts}), $expected,
	'the restored tables have the metadata\'s row counts');

# log lines
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/ripple_backup: backup $id of database "app" started/, 'log: started');
like($log, qr/ripple_backup: backup $id of database "app" succeeded: [\d.]+ (bytes|kB|MB) in [\d.]+ s to file:\/\//,
	'log: succeeded, with size, duration and location');

# --- gzip after a reload --------------------------------------------------------------
$node->append_conf('postgresql.conf', "ripple_backup.compression = 'gzip'\n");
$node->reload;
is(RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.compression', 'gzip'), 'gzip',
	'compression is gzip after the reload');
my $gz = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $gz), 'succeeded', 'the gzip backup succeeded');
my $gzrow = RippleTest::Cluster::backup_row($node, $gz);
like($gzrow->{location}, qr/-$gz\.dump\.gz$/, 'object name ends in .dump.gz');
is($gzrow->{compression}, 'gzip', 'catalog: gzip');
my $gzpath = substr($gzrow->{location}, length('file://'));
system_or_bail("gzip -dc '$gzpath' > '$work/gz.dump'");
command_like([ 'pg_restore', '--list', "$work/gz.dump" ], qr/TABLE DATA public accounts/,
	'the gunzipped object is a pg_dump archive');

# --- a rolled-back call queues nothing and starts nothing -------------------------------
my $before = $node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.backups');
$node->safe_psql('postgres', "BEGIN; SELECT ripple_backup_now('app'); ROLLBACK;");
sleep 1;
is($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.backups'), $before,
	'a rolled-back ripple_backup_now() left no row');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.progress'), '0', 'and nothing runs');

$node->stop;
done_testing();
