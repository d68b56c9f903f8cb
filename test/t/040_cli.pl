# 040_cli.pl — the disaster-recovery CLI, ripple-backup, against real backups that
# src/core's backup pipeline wrote (build/tools/backup_run: pg_dump, row counts from
# the archive, zstd, SHA-256, metadata written last) to a directory (file://) and to
# the S3 test server, with no extension involved:
# list (newest first, --db, --json), info, fetch (the archive restores), verify
# (checksum and --archive), restore (--create --jobs 2, row counts compared);
# corrupted objects (a flipped byte at several offsets, a truncated object, a
# re-uploaded modified copy on S3) fail verify, fetch and restore with exit code 4
# and leave no output file; missing metadata, an unknown database, a bad
# destination, wrong credentials give clear errors and their exit codes; an id shared
# by two systems asks for --system-id; settings
# from flags, environment and config file; --help for every command; --version
# prints the extension's version (default_version in ripple_backup.control).
use strict;
use warnings;
use File::Copy qw(copy);
use File::Find;
use File::Path qw(make_path);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
ok(-x $cli, 'the CLI is built');

# One version: ripple-backup --version prints the control file's default_version.
my ($control_version) =
  slurp_file("$ENV{RIPPLE_SRC}/ripple_backup.control") =~ /^default_version = '([^']+)'$/m;
like($control_version // '', qr/^\d+\.\d+\.\d+$/, 'the control file has a default_version');
{
	my ($vout, $verr) = ('', '');
	IPC::Run::run([ $cli, '--version' ], '<', \undef, '>', \$vout, '2>', \$verr);
	is($? >> 8, 0, '--version exits 0');
	is($vout, "ripple-backup $control_version\n", '--version prints the extension\'s version');
}

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $s3 = RippleTest::S3Server->new(bucket => 'test');
my $node = PostgreSQL::Test::Cluster->new('cli');
$node->init;
$node->start;
my $backup_run = "$ENV{RIPPLE_SRC}/build/tools/backup_run";
ok(-x $backup_run, 'the backup driver is built');
my $host = $node->host;
my $port = $node->port;

# --- data: pgbench tables plus odd names -------------------------------------------
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 3000);
$node->command_ok([ 'pgbench', '-i', '-s', '1', '-q', 'app' ], 'pgbench -i');
$node->safe_psql('app', q{
	CREATE SCHEMA "my.schema";
	CREATE TABLE "my.schema"."a ""b"" c" (x int);
	INSERT INTO "my.schema"."a ""b"" c" SELECT generate_series(1, 17);
	CREATE TABLE public."Mixed Case" (y text);
	INSERT INTO public."Mixed Case" VALUES ('one'), ('two');
});
$expected->{'public.pgbench_accounts'} = 100000;
$expected->{'public.pgbench_branches'} = 1;
$expected->{'public.pgbench_tellers'} = 10;
$expected->{'public.pgbench_history'} = 0;
$expected->{'"my.schema"."a ""b"" c"'} = 17;
$expected->{'public.Mixed Case'} = 2;
my $total_rows = 0;
$total_rows += $_ for values %$expected;

# "schema.table" keys of the metadata (quoted where needed) back into names
sub split_key {
	my ($k) = @_;
	my @parts;
	while (length $k) {
		if ($k =~ s/^"((?:[^"]|"")*)"//) { (my $p = $1) =~ s/""/"/g; push @parts, $p; }
		elsif ($k =~ s/^([^.]*)//) { push @parts, $1; }
		$k =~ s/^\.//;
	}
	return @parts;
}

# Row counts of the expected tables in $db, counted with quoted identifiers.
sub count_rows {
	my ($db) = @_;
	my %got;
	for my $k (keys %$expected) {
		my $q = join '.', map { (my $x = $_) =~ s/"/""/g; qq{"$x"} } split_key($k);
		$got{$k} = $node->safe_psql($db, "SELECT count(*) FROM $q");
	}
	return \%got;
}

$node->safe_psql('postgres', 'CREATE DATABASE shop');
$node->safe_psql('shop', 'CREATE TABLE items AS SELECT g AS id FROM generate_series(1, 42) g');

my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');

# Runs one backup with backup_run; returns its key=value output as a hashref.
sub backup {
	my ($db, $dest, $id, %opt) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %{ $opt{env} // {} });
	IPC::Run::run([ $backup_run, '--dest', $dest, '--dbname', $db, '--host', $host, '--port', $port,
		'--id', $id, '--sysid', $sysid, @{ $opt{args} // [] } ], '<', \undef, '>', \$out, '2>', \$err);
	is($? >> 8, 0, "backup $id of $db to $dest") or diag $err;
	my %kv = $out =~ /^(\w+)=(.*)$/mg;
	return \%kv;
}

my $id1 = 1;
my $id_shop = 2;
my $id2 = 3;
backup('app', "file://$dir", $id1);
sleep 1;    # distinct timestamps: newest first is by time
backup('shop', "file://$dir", $id_shop);
sleep 1;
backup('app', "file://$dir", $id2);

# --- running the CLI ---------------------------------------------------------------
my %base_env = (%ENV);
delete $base_env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_)/ } keys %base_env;
$base_env{HOME} = $work;    # no ~/.config/ripple-backup.conf

sub cli {
	my ($args, %env) = @_;
	my ($out, $err) = ('', '');
	local %ENV = (%base_env, %env);
	IPC::Run::run([ $cli, @$args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my @F = ('--destination', "file://$dir");

# --- --help ----------------------------------------------------------------------
for my $cmd (qw(list info fetch verify restore)) {
	my ($rc, $out, $err) = cli([ $cmd, '--help' ]);
	is($rc, 0, "$cmd --help exits 0");
	like($out, qr/^ripple-backup $cmd: /, "$cmd --help describes the command");
	like($out, qr/Exit codes: 0 success, 1 error, 2 usage/, "$cmd --help documents the exit codes");
}
{
	my ($rc, $out) = cli(['--help']);
	is($rc, 0, '--help exits 0');
	like($out, qr/Commands:.*list.*info.*fetch.*verify.*restore/s, '--help lists the commands');
}

# --- list ------------------------------------------------------------------------
{
	my ($rc, $out, $err) = cli([ 'list', @F ]);
	is($rc, 0, 'list exits 0');
	my @lines = split /\n/, $out;
	like($lines[0], qr/^TIME \(UTC\)\s+DATABASE\s+SIZE\s+TABLES\s+ROWS\s+VERIFY\s+ID\s+INCARNATION\s+LABEL/, 'list: header');
	is(scalar(@lines), 4, 'list: three backups');
	my @ids = map { (split /\s{2,}/)[6] } @lines[ 1 .. 3 ];
	is_deeply(\@ids, [ $id2, $id_shop, $id1 ], 'list: newest first');
	like($lines[1], qr/\bapp\b.*\b$total_rows\s+-\s+$id2\s+0000000000000001\s*$/, 'list: rows, verification (none), id and incarnation of the newest');
}
my $list;
{
	my ($rc, $out, $err) = cli([ 'list', @F, '--json' ]);
	is($rc, 0, 'list --json exits 0');
	$list = eval { decode_json($out) };
	ok(ref $list eq 'ARRAY', 'list --json parses as a JSON array') or diag $out;
	is_deeply([ map { $_->{backup_id} } @$list ], [ $id2, $id_shop, $id1 ], 'list --json: newest first');
	my ($b2) = grep { $_->{backup_id} == $id2 } @$list;
	is($b2->{dbname}, 'app', 'list --json: dbname');
	is($b2->{rows}, $total_rows, 'list --json: rows');
	is($b2->{tables}, scalar(keys %$expected), 'list --json: tables');
	is($b2->{label}, undef, 'list --json: label (none)');
	is($b2->{system_identifier}, $sysid, 'list --json: system identifier (a string)');
	like($b2->{key}, qr{^\Q$sysid\E/0000000000000001/app/\d{8}T\d{6}Z-$id2\.dump\.zst$}, 'list --json: key');
	is($b2->{incarnation}, '0000000000000001', 'list --json: incarnation');
	is($b2->{timeline}, 1, 'list --json: timeline');
	is($b2->{url}, "file://$dir/$b2->{key}", 'list --json: url');
	is($b2->{size_bytes}, -s "$dir/$b2->{key}", 'list --json: size_bytes is the object size');
}
my ($b1) = grep { $_->{backup_id} == $id1 } @$list;
my ($b2) = grep { $_->{backup_id} == $id2 } @$list;
{
	my ($rc, $out) = cli([ 'list', @F, '--db', 'app', '--json' ]);
	is($rc, 0, 'list --db app exits 0');
	is_deeply([ map { $_->{backup_id} } @{ decode_json($out) } ], [ $id2, $id1 ], 'list --db app: only app, newest first');

	($rc, $out, my $err) = cli([ 'list', @F, '--db', 'x' ]);
	is($rc, 3, 'list --db x exits 3');
	like($err, qr/^ripple-backup: no backup of database "x" in file:\/\/\Q$dir\E$/m, 'list --db x: no backup of database "x"');
}

# --- info ------------------------------------------------------------------------
{
	my ($rc, $out, $err) = cli([ 'info', $id1, @F, '--json' ]);
	is($rc, 0, 'info ID --json exits 0');
	my $info = decode_json($out);
	is($info->{backup_id}, $id1, 'info: backup_id');
	is($info->{dbname}, 'app', 'info: dbname');
	is_deeply($info->{table_counts}, $expected, 'info: table_counts are the tables and their rows');

	($rc, $out, $err) = cli([ 'info', 'latest', @F ]);
	is($rc, 2, 'info latest with two databases exits 2');
	like($err, qr/"latest" is ambiguous: several databases/, 'info latest: asks to choose');
	like($err, qr/hint: .*--db/, 'info latest: hint names --db');

	($rc, $out, $err) = cli([ 'info', 'latest', '--db', 'app', @F ]);
	is($rc, 0, 'info latest --db app exits 0');
	like($out, qr/^backup id:\s+$id2$/m, 'info latest --db app: the newest');
	like($out, qr/^\s+"my\.schema"\."a ""b"" c"\s+17$/m, 'info: an odd table name and its rows');

	($rc, $out, $err) = cli([ 'info', $b1->{key}, @F ]);
	is($rc, 0, 'info KEY exits 0');
	like($out, qr/^backup id:\s+$id1$/m, 'info KEY: that backup');
	($rc, $out, $err) = cli([ 'info', "$b1->{url}.metadata.json", @F ]);
	like($out, qr/^backup id:\s+$id1$/m, 'info URL of the metadata: that backup');

	($rc, $out, $err) = cli([ 'info', '99999', @F ]);
	is($rc, 3, 'info of an unknown id exits 3');
	like($err, qr/no backup with id 99999 in file:/, 'info of an unknown id: clear error');

	($rc, $out, $err) = cli([ 'info', 'latest', '--db', 'x', @F ]);
	is($rc, 3, 'info latest --db x exits 3');
	like($err, qr/ripple-backup: no backup of database "x" in file:/, 'info latest --db x: clear error');
}

# --- fetch -----------------------------------------------------------------------
{
	my $file = "$work/fetched.dump";
	my ($rc, $out, $err) = cli([ 'fetch', $id1, @F, '-o', $file ]);
	is($rc, 0, 'fetch exits 0') or diag $err;
	ok(-f $file, 'fetch wrote the archive');
	is(-s $file, decode_json((cli([ 'info', $id1, @F, '--json' ]))[1])->{uncompressed_bytes},
		'the archive has the uncompressed size of the metadata');
	$node->safe_psql('postgres', 'CREATE DATABASE fromfetch');
	$node->command_ok([ 'pg_restore', '-d', 'fromfetch', $file ], 'pg_restore reads the fetched archive');
	is_deeply(count_rows('fromfetch'), $expected,
		'the fetched archive restores every row');

	($rc, $out, $err) = cli([ 'fetch', $id1, @F, '-o', $file ]);
	is($rc, 1, 'fetch onto an existing file exits 1');
	like($err, qr/output file ".*" already exists/, 'fetch does not overwrite without --force');
	($rc) = cli([ 'fetch', $id1, @F, '-o', $file, '--force' ]);
	is($rc, 0, 'fetch --force replaces it');

	($rc, $out, $err) = cli([ 'fetch', $id1, @F ]);
	is($rc, 2, 'fetch without -o exits 2');
	like($err, qr/missing output file/, 'fetch without -o: usage error');

	($rc, $out, $err) = cli([ 'fetch', $id2, @F, '-o', "$work/progress.dump", '--progress' ]);
	is($rc, 0, 'fetch --progress exits 0');
	like($err, qr/fetch\s+\[#+\]\s+100%/, '--progress draws a bar that reaches 100%');
	unlink "$work/progress.dump", $file;
}

# --- verify ----------------------------------------------------------------------
{
	my ($rc, $out, $err) = cli([ 'verify', $id2, @F ]);
	is($rc, 0, 'verify exits 0');
	like($out, qr/backup $id2 of database "app" .* verified: size .* and sha256 [0-9a-f]{64} match/, 'verify: size and sha256 match');
	($rc, $out, $err) = cli([ 'verify', $id2, @F, '--archive', '--work-dir', $work ]);
	is($rc, 0, 'verify --archive exits 0') or diag $err;
	like($out, qr/its \d+ tables hold the recorded $total_rows rows, and pg_restore lists its \d+ entries/,
		'verify --archive: row counts of the archive and pg_restore --list');
}

# --- restore ---------------------------------------------------------------------
sub files_in {
	my ($d) = @_;
	my @f;
	find(sub { push @f, $File::Find::name if -f $_ }, $d);
	return sort @f;
}
{
	my ($rc, $out, $err) = cli([ 'restore', 'latest', '--db', 'app', @F, '--dbname', 'restored',
		'--create', '--jobs', '2', '--host', $host, '--port', $port, '--work-dir', $work ]);
	is($rc, 0, 'restore --create --jobs 2 exits 0') or diag $err;
	# pgbench_accounts holds 94% of the rows: 2 jobs could not load them faster than one
	like($err, qr/pg_restore loads the schema and the rows as the archive downloads; indexes and constraints follow with --jobs=2/,
		'restore --create --jobs 2: the rows stream into pg_restore during the download');
	like($out, qr/^restored backup $id2 of database "app" .* into database "restored" in [\d.]+ s/m,
		'restore prints the time taken');
	like($err, qr/row counts match the backup for all \d+ tables \($total_rows rows/, 'restore compared the row counts');
	is_deeply(count_rows('restored'), $expected,
		'the restored database has every row');
	is_deeply([ files_in($work) ], [], 'the temporary archive is gone');

	($rc, $out, $err) = cli([ 'restore', $id1, @F, '--dbname', 'restored', '--create',
		'--host', $host, '--port', $port ]);
	is($rc, 1, 'restore --create into an existing database exits 1');
	like($err, qr/^ripple-backup: database "restored" already exists$/m, 'restore --create: clear error, before any download');
	unlike($err, qr/downloaded/, 'restore --create: nothing was downloaded');

	($rc, $out, $err) = cli([ 'restore', $id1, @F, '--dbname', 'nosuchdb', '--host', $host, '--port', $port ]);
	is($rc, 1, 'restore into a missing database without --create exits 1');
	like($err, qr/database "nosuchdb" does not exist.*\n.*hint: Add --create/, 'restore without --create: clear error and hint');

	($rc, $out, $err) = cli([ 'restore', $id1, @F, '--dbname', 'x', '--create', '--host', $host, '--port', '1' ]);
	is($rc, 1, 'restore to an unreachable server exits 1');
	like($err, qr/could not connect to the target server/, 'restore to an unreachable server: clear error');

	($rc, $out, $err) = cli([ 'restore', $id1, @F ]);
	is($rc, 2, 'restore without --dbname exits 2');
}

# --- a copy of the destination to damage -----------------------------------------
my $copy = PostgreSQL::Test::Utils::tempdir('damaged');
for my $f (files_in($dir)) {
	(my $rel = $f) =~ s{^\Q$dir\E/}{};
	(my $d = "$copy/$rel") =~ s{/[^/]+$}{};
	make_path($d);
	copy($f, "$copy/$rel") or die "copy $f: $!";
}
my @C = ('--destination', "file://$copy");
my $obj = "$copy/$b1->{key}";
my $size = -s $obj;

sub flip_byte {
	my ($path, $offset) = @_;
	open my $fh, '+<:raw', $path or die;
	seek $fh, $offset, 0;
	read $fh, my $c, 1;
	seek $fh, $offset, 0;
	print $fh chr(ord($c) ^ 0x01);
	close $fh;
}

for my $offset (0, 100, int($size / 2), $size - 1) {
	flip_byte($obj, $offset);
	my ($rc, $out, $err) = cli([ 'verify', $id1, @C ]);
	is($rc, 4, "verify: a flipped byte at offset $offset exits 4");
	like($err, qr/checksum mismatch for backup $id1 .*: the metadata says sha256 [0-9a-f]{64}, the object's is [0-9a-f]{64}/,
		"verify: checksum mismatch at offset $offset");
	($rc, $out, $err) = cli([ 'fetch', $id1, @C, '-o', "$work/bad.dump" ]);
	is($rc, 4, "fetch: a flipped byte at offset $offset exits 4");
	is_deeply([ files_in($work) ], [], "fetch: no output file (nor partial file) after offset $offset");
	flip_byte($obj, $offset);    # back as it was
}
{
	flip_byte($obj, int($size / 3));
	my ($rc, $out, $err) = cli([ 'restore', $id1, @C, '--dbname', 'never', '--create', '--host', $host,
		'--port', $port, '--work-dir', $work ]);
	is($rc, 4, 'restore of a corrupted object exits 4');
	like($err, qr/checksum mismatch/, 'restore: checksum mismatch');
	like($err, qr/pg_restore reads the archive as it downloads.*dropped database "never", which this command created and partly restored/s,
		'restore --create --jobs 1: streamed into pg_restore, and the database it created is dropped');
	is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'never'}), '0',
		'restore: nothing was created');
	is_deeply([ files_in($work) ], [], 'restore: no temporary archive left');
	($rc, $out, $err) = cli([ 'verify', $id1, @C, '--archive', '--work-dir', $work ]);
	is($rc, 4, 'verify --archive of a corrupted object exits 4');
	flip_byte($obj, int($size / 3));
	($rc) = cli([ 'verify', $id1, @C ]);
	is($rc, 0, 'the repaired copy verifies again');
}
{
	truncate $obj, $size - 10 or die;
	my ($rc, $out, $err) = cli([ 'verify', $id1, @C ]);
	is($rc, 4, 'verify of a truncated object exits 4');
	like($err, qr/size mismatch for backup $id1 .*: the metadata says $size bytes, the object has ${\($size - 10)}/,
		'verify: size mismatch');
	unlink $obj;
	($rc, $out, $err) = cli([ 'verify', $id1, @C ]);
	is($rc, 3, 'verify of a missing object exits 3');
	like($err, qr/backup object .* is missing \(its metadata exists\)/, 'verify: the object is missing');
	unlink "$obj.metadata.json" or die;
}

# metadata whose row counts do not describe the dump: verify --archive and restore say so
{
	my $mpath = "$copy/$b2->{key}.metadata.json";
	my $m = decode_json(slurp_file($mpath));
	$m->{table_counts}{'public.accounts'} += 1;
	open my $fh, '>', $mpath or die;
	print $fh encode_json($m);
	close $fh;
	my ($rc, $out, $err) = cli([ 'verify', $id2, @C ]);
	is($rc, 0, 'checksum verify passes (the object is intact)');
	($rc, $out, $err) = cli([ 'verify', $id2, @C, '--archive', '--work-dir', $work ]);
	is($rc, 4, 'verify --archive with wrong counts in the metadata exits 4');
	like($err, qr/table public\.accounts has 3000 rows in the archive, the metadata says 3001/,
		'verify --archive names the table');
	($rc, $out, $err) = cli([ 'restore', $id2, @C, '--dbname', 'restored2', '--create', '--host', $host,
		'--port', $port, '--work-dir', $work ]);
	is($rc, 4, 'restore with a row count mismatch exits 4');
	like($err, qr/row counts of database "restored2" do not match backup $id2/, 'restore: row counts do not match');
	like($err, qr/table public\.accounts has 3000 rows, the backup recorded 3001/, 'restore: names the table');
	is_deeply([ files_in($work) ], [], 'no temporary archive left');
}

# missing metadata: the dump alone is not a backup
{
	unlink "$copy/$b2->{key}.metadata.json" or die;
	my ($rc, $out, $err) = cli([ 'info', $b2->{key}, @C ]);
	is($rc, 3, 'info KEY without metadata exits 3');
	like($err, qr/backup object "\Q$b2->{key}\E" in file:.* has no metadata object "\Q$b2->{key}\E\.metadata\.json": it is not a complete backup/,
		'info KEY without metadata: clear error');
	($rc, $out, $err) = cli([ 'list', @C, '--json' ]);
	is_deeply([ map { $_->{backup_id} } @{ decode_json($out) } ], [$id_shop], 'list does not show backups without metadata');
	($rc, $out, $err) = cli([ 'fetch', $id2, @C, '-o', "$work/x.dump" ]);
	is($rc, 3, 'fetch of an id without metadata exits 3');
	like($err, qr/no backup with id $id2 in file:/, 'fetch: no backup with that id');
}
# an unreadable metadata object is skipped with a warning
{
	my ($shop) = grep { $_->{backup_id} == $id_shop } @$list;
	open my $fh, '>', "$copy/$shop->{key}.metadata.json" or die;
	print $fh '{"format_version": 1, "backup_id": ';
	close $fh;
	my ($rc, $out, $err) = cli([ 'list', @C ]);
	is($rc, 3, 'list with only a broken metadata object exits 3');
	like($err, qr/warning: skipping invalid metadata object/, 'list warns about the broken metadata object');
}

# --- destinations and settings -----------------------------------------------------
{
	my ($rc, $out, $err) = cli([ 'list', '--destination', 'ftp://host/x' ]);
	is($rc, 2, 'a bad destination URL exits 2');
	like($err, qr/invalid destination "ftp:\/\/host\/x"/, 'a bad destination URL: clear error');
	($rc, $out, $err) = cli(['list']);
	is($rc, 2, 'no destination exits 2');
	like($err, qr/no destination configured/, 'no destination: clear error');
	($rc, $out, $err) = cli([ 'list', '--destination', "file://$dir/none" ]);
	is($rc, 3, 'a missing destination directory exits 3');
	($rc, $out, $err) = cli(['list'], RIPPLE_BACKUP_DESTINATION => "file://$dir");
	is($rc, 0, 'RIPPLE_BACKUP_DESTINATION is used');
	($rc, $out, $err) = cli([ 'list', '--archive', @F ]);
	is($rc, 2, 'an option of another command exits 2');
	($rc, $out, $err) = cli([ 'frobnicate', @F ]);
	is($rc, 2, 'an unknown command exits 2');
}

# --- two systems sharing a destination: ids are per system -------------------------
{
	my $shared = PostgreSQL::Test::Utils::tempdir('shared');
	backup('shop', "file://$shared", 5);
	backup('shop', "file://$shared", 5, args => [ '--sysid', '4242' ]);
	my @S = ('--destination', "file://$shared");
	my ($rc, $out, $err) = cli([ 'info', '5', @S ]);
	is($rc, 2, 'an id that two systems share exits 2');
	like($err, qr/backup id 5 is ambiguous: it exists for several systems/, 'the shared id is called ambiguous');
	like($err, qr/hint: .*--system-id/, 'the hint names --system-id');
	($rc, $out, $err) = cli([ 'info', '5', '--system-id', '4242', '--json', @S ]);
	is($rc, 0, 'info ID --system-id exits 0');
	is(decode_json($out)->{system_identifier}, '4242', '--system-id picks that system');
	($rc, $out, $err) = cli([ 'list', '--long', @S ]);
	like($out, qr/^TIME.*\bSYSTEM\s+TIMELINE\s+HOST\s+KEY$/m, 'list --long adds system, timeline, host and key');
	like($out, qr/\b4242\s+1\s+-\s+4242\/0000000000000001\/shop\/\d{8}T\d{6}Z-5\.dump\.zst$/m, 'list --long shows the system, timeline, host and key');
	($rc, $out, $err) = cli([ 'list', '--json', '--system-id', $sysid, @S ]);
	is_deeply([ map { $_->{system_identifier} } @{ decode_json($out) } ], [$sysid], 'list --system-id filters');
	($rc, $out, $err) = cli([ 'list', '--system-id', '77', @S ]);
	is($rc, 3, 'list --system-id of an unknown system exits 3');
	like($err, qr/no backup of system 77 in file:/, 'list --system-id: clear error');
}

# --- S3 ----------------------------------------------------------------------------
my $id_s3 = 4;
backup('app', 's3://test/cli/backups', $id_s3,
	args => [ '--s3-endpoint', $s3->endpoint, '--s3-uri-style', 'path' ], env => { $s3->env });
my $cred = "$work/../aws_credentials";
{
	open my $fh, '>', $cred or die;
	print $fh "[default]\naws_access_key_id = $RippleTest::S3Server::ACCESS_KEY\n"
	  . "aws_secret_access_key = $RippleTest::S3Server::SECRET_KEY\n";
	close $fh;
	chmod 0600, $cred;
}
my %S3 = (
	RIPPLE_BACKUP_DESTINATION => 's3://test/cli/backups',
	RIPPLE_BACKUP_S3_ENDPOINT => $s3->endpoint,
	RIPPLE_BACKUP_S3_URI_STYLE => 'path',
	$s3->env,
);
my $s3meta;
{
	my ($rc, $out, $err) = cli([ 'list', '--json' ], %S3);
	is($rc, 0, 's3: list exits 0') or diag $err;
	my $l = decode_json($out);
	is_deeply([ map { $_->{backup_id} } @$l ], [$id_s3], 's3: list shows the backup in the bucket');
	$s3meta = $l->[0];
	like($s3meta->{url}, qr{^s3://test/cli/backups/\d+/0000000000000001/app/}, 's3: url');
	is($s3meta->{rows}, $total_rows, 's3: rows');

	# a config file in the extension's terms, with the credentials file
	my $conf = "$work/../ripple-backup.conf";
	open my $fh, '>', $conf or die;
	print $fh "# written by 040_cli.pl\nripple_backup.destination = 's3://test/cli/backups'\n"
	  . "s3_endpoint = " . $s3->endpoint . "\ns3_uri_style = path\ns3_region = us-east-1\n"
	  . "s3_credentials_file = '$cred'\n";
	close $fh;
	($rc, $out, $err) = cli([ 'list', '--json', '--config', $conf ]);
	is($rc, 0, 's3: list from a config file exits 0') or diag $err;
	is_deeply([ map { $_->{backup_id} } @{ decode_json($out) } ], [$id_s3], 's3: config file settings work');
	($rc, $out, $err) = cli([ 'list', '--json', '--config', $conf, @F ]);
	is_deeply([ map { $_->{backup_id} } @{ decode_json($out) } ], [ $id2, $id_shop, $id1 ],
		'a flag beats the config file');
	($rc, $out, $err) = cli([ 'list', '--json', '--config', $conf ], RIPPLE_BACKUP_DESTINATION => "file://$dir");
	is_deeply([ map { $_->{backup_id} } @{ decode_json($out) } ], [ $id2, $id_shop, $id1 ],
		'the environment beats the config file');
	($rc, $out, $err) = cli([ 'list', '--config', "$work/../missing.conf" ]);
	is($rc, 1, 'a missing --config file exits 1');
	like($err, qr/could not open config file/, 'a missing --config file: clear error');

	($rc, $out, $err) = cli([ 'verify', 'latest', '--archive', '--work-dir', $work ], %S3);
	is($rc, 0, 's3: verify --archive exits 0') or diag $err;
	($rc, $out, $err) = cli([ 'restore', 'latest', '--dbname', 'restored_s3', '--create', '--jobs', '2',
		'--host', $host, '--port', $port, '--work-dir', $work ], %S3);
	is($rc, 0, 's3: restore exits 0') or diag $err;
	is_deeply(count_rows('restored_s3'), $expected,
		's3: the restored database has every row');
	($rc, $out, $err) = cli([ 'fetch', 'latest', '-o', "$work/s3.dump" ], %S3);
	is($rc, 0, 's3: fetch exits 0');
	ok(-s "$work/s3.dump" > 0, 's3: fetched archive');
	unlink "$work/s3.dump";

	# wrong secret: a clear error, and the secret is never printed
	($rc, $out, $err) = cli([ 'list', '--verbose' ], %S3, AWS_SECRET_ACCESS_KEY => 'WrongSecretValue123');
	is($rc, 1, 's3: a wrong secret exits 1');
	like($err, qr/403 SignatureDoesNotMatch/, 's3: a wrong secret: clear error');
	unlike($err . $out, qr/WrongSecretValue123/, 's3: the secret is not printed');

	($rc, $out, $err) = cli([ 'list', '--db', 'x' ], %S3);
	is($rc, 3, 's3: list --db x exits 3');
	like($err, qr/^ripple-backup: no backup of database "x" in s3:\/\/test\/cli\/backups$/m,
		's3: no backup of database "x" in s3://test/cli/backups');
}
{
	# a modified copy re-uploaded with awscli
	my $key = "cli/backups/$s3meta->{key}";
	my $local = "$work/../s3obj";
	ok($s3->fetch_object($key, $local), 's3: awscli reads the object');
	my $ssize = -s $local;
	for my $offset (7, int($ssize / 2)) {
		flip_byte($local, $offset);
		my ($arc, $aout, $aerr) = $s3->aws('s3', 'cp', $local, "s3://test/$key");
		is($arc, 0, "s3: modified copy uploaded (offset $offset)") or diag $aerr;
		my ($rc, $out, $err) = cli([ 'verify', $id_s3 ], %S3);
		is($rc, 4, "s3: verify of the modified object exits 4 (offset $offset)");
		like($err, qr/checksum mismatch for backup $id_s3 \(s3:\/\/test\/cli\/backups\//, 's3: checksum mismatch');
		($rc, $out, $err) = cli([ 'fetch', $id_s3, '-o', "$work/bad.dump" ], %S3);
		is($rc, 4, "s3: fetch of the modified object exits 4 (offset $offset)");
		is_deeply([ files_in($work) ], [], 's3: no output file');
		flip_byte($local, $offset);
	}
	$s3->aws('s3', 'cp', $local, "s3://test/$key");
	my ($rc) = cli([ 'verify', $id_s3 ], %S3);
	is($rc, 0, 's3: the original verifies again');

	my ($arc) = $s3->aws('s3', 'rm', "s3://test/$key.metadata.json");
	is($arc, 0, 's3: metadata removed with awscli');
	my ($out, $err);
	($rc, $out, $err) = cli([ 'info', $s3meta->{key} ], %S3);
	is($rc, 3, 's3: info KEY without metadata exits 3');
	like($err, qr/has no metadata object/, 's3: missing metadata: clear error');
	($rc, $out, $err) = cli([ 'list' ], %S3);
	is($rc, 3, 's3: list without any complete backup exits 3');
	like($err, qr/no backups in s3:\/\/test\/cli\/backups/, 's3: no backups in the destination');
	unlink $local;
}

$node->stop;
done_testing();
