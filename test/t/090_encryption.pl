# 090_encryption.pl — client-side encryption of backups, end to end, against the
# S3 test server, the real pg_dump/pg_restore and stock zstd:
#   - a known plaintext marker is in an unencrypted (uncompressed) object and in
#     no encrypted one; the catalog and the metadata record the algorithm and the
#     key id (HMAC-SHA256 of "ripple_backup key id v1" under the key), never the
#     key; size and SHA-256 are of the stored bytes;
#   - an encrypted zstd backup is no zstd stream (zstd -t fails), verifies at the
#     checksum, archive and restore levels;
#   - every refused key file (missing, unreadable, too short, too long, group or
#     world readable, not a key; a relative path is refused by the setting) fails
#     the backup at its first attempt with an error naming the file and the fault,
#     and leaves the bucket exactly as it was;
#   - key rotation: backups of key A and key B both verify with A kept in
#     decryption_key_files; without it the old backup fails at archive level with
#     its key id named, and still passes the checksum level;
#   - a flipped bit in the ciphertext, with the checksum forged to match, passes
#     the checksum level and fails the archive level, fetch and decrypt;
#   - the CLI: list shows key ids, fetch without a key fails before downloading,
#     decrypt writes a .dump.zst that zstd -t and pg_restore --list accept, and
#     with the server stopped and its data directory gone a second fresh cluster
#     is restored from the bucket and the key file alone, with exact row counts.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256_hex sha256_hex);
use File::Path qw(rmtree);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $keys = PostgreSQL::Test::Utils::tempdir('keys');
my $marker = 'PLAINTEXT-MARKER-95-c0ffee';
my $algorithm = 'xchacha20poly1305-secretstream-v1';

# A key file of 64 hex digits; returns (path, key id as the format defines it).
sub write_key {
	my ($name, $mode) = @_;
	my $hex = join '', map { sprintf '%02x', int(rand(256)) } 1 .. 32;
	my $path = "$keys/$name";
	open my $fh, '>', $path or die "$path: $!";
	print $fh "$hex\n";
	close $fh;
	chmod($mode // 0600, $path);
	my $id = substr(hmac_sha256_hex('ripple_backup key id v1', pack('H*', $hex)), 0, 16);
	return ($path, $id, $hex);
}

sub write_file {
	my ($name, $text, $mode) = @_;
	my $path = "$keys/$name";
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	chmod($mode // 0600, $path);
	return $path;
}

sub slurp_raw {
	my ($path) = @_;
	open my $fh, '<:raw', $path or die "$path: $!";
	local $/;
	my $d = <$fh>;
	close $fh;
	return $d;
}

sub run_cmd {
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

my ($key_a, $id_a, $hex_a) = write_key('a.key');
my ($key_b, $id_b, $hex_b) = write_key('b.key');

my $s3 = RippleTest::S3Server->new(bucket => 'enc');
my $node = RippleTest::Cluster->new_node('enc', s3 => $s3, prefix => 'pg',
	conf => "ripple_backup.compression = none\n");
my $counts = RippleTest::Cluster::create_app_db($node, 'app', 3000);
$node->safe_psql('app', "CREATE TABLE notes AS SELECT g AS id, '$marker' || g AS note FROM generate_series(1, 200) g");
$counts->{'public.notes'} = 200;

sub sqlv { $node->safe_psql('postgres', $_[0]) }

sub set_conf {
	my (%set) = @_;
	for my $k (sort keys %set) {
		my $v = $set{$k};
		$v =~ s/'/''/g;
		sqlv("ALTER SYSTEM SET ripple_backup.$k = '$v'");
	}
	sqlv('SELECT pg_reload_conf()');
	# the launcher and the next runner read the new value
	for (1 .. 50) {
		my $ok = 1;
		for my $k (keys %set) {
			$ok = 0 if sqlv("SHOW ripple_backup.$k") ne $set{$k};
		}
		last if $ok;
		select(undef, undef, undef, 0.1);
	}
	sleep 1;
}

sub object_of {
	my ($id) = @_;
	my $row = RippleTest::Cluster::backup_row($node, $id);
	my $file = "$work/object-$id";
	ok($s3->fetch_object("pg/$row->{object_key}", $file), "object of backup $id read back with awscli");
	return ($row, $file);
}

sub metadata_of {
	my ($row) = @_;
	my $file = "$work/meta-$row->{id}.json";
	$s3->fetch_object("pg/$row->{object_key}.metadata.json", $file) or die "no metadata";
	my $text = slurp_raw($file);
	return (decode_json($text), $text);
}

# --- plaintext and ciphertext of the same data (no compression) -----------------
my $plain = RippleTest::Cluster::backup_now($node, 'app', 'plain');
is(RippleTest::Cluster::wait_backup($node, $plain), 'succeeded', 'unencrypted backup succeeded');
my ($prow, $pfile) = object_of($plain);
ok(index(slurp_raw($pfile), $marker) >= 0, 'the unencrypted object contains the plaintext marker');
is(sqlv("SELECT encryption || '/' || coalesce(key_id, '<NULL>') FROM ripple_backup.backups WHERE id = $plain"),
	'none/<NULL>', 'catalog: an unencrypted backup says encryption none, no key id');

set_conf(encryption_key_file => $key_a);
my $enc0 = RippleTest::Cluster::backup_now($node, 'app', 'encrypted-uncompressed');
is(RippleTest::Cluster::wait_backup($node, $enc0), 'succeeded', 'encrypted backup succeeded');
my ($erow, $efile) = object_of($enc0);
my $edata = slurp_raw($efile);
is(index($edata, $marker), -1, 'the encrypted object does not contain the plaintext marker');
is(substr($edata, 0, 8), 'RIPBKENC', 'the encrypted object starts with the format magic');
is(unpack('H*', substr($edata, 16, 8)), $id_a, 'its header names key A by its id');
is(sqlv("SELECT encryption || '/' || key_id FROM ripple_backup.backups WHERE id = $enc0"),
	"$algorithm/$id_a", 'catalog: algorithm and key id of key A');
is($erow->{size_bytes}, length($edata), 'catalog size_bytes is the stored (encrypted) size');
is($erow->{sha256}, sha256_hex($edata), 'catalog sha256 is of the stored (encrypted) bytes');
my ($meta, $meta_text) = metadata_of($erow);
is($meta->{encryption}, $algorithm, 'metadata: encryption');
is($meta->{key_id}, $id_a, 'metadata: key_id');
is($meta->{sha256}, $erow->{sha256}, 'metadata: sha256 of the stored bytes');
is(index(lc $meta_text, $hex_a), -1, 'the metadata does not contain the key');
my ($pmeta) = metadata_of($prow);
is($pmeta->{encryption} . '/' . ($pmeta->{key_id} // 'null'), 'none/null', 'metadata of the unencrypted backup: none, null');
is(scalar(grep { index(lc $_, $hex_a) >= 0 } split /\n/, sqlv("SELECT name || '=' || setting FROM pg_settings")),
	0, 'no setting holds the key');
ok(index(slurp_raw($node->logfile), $hex_a) < 0, 'the server log does not contain the key');

# --- encrypted and compressed: not zstd; checksum, archive and restore levels ------
set_conf(compression => 'zstd');
my $enc_a = RippleTest::Cluster::backup_now($node, 'app', 'key-a');
is(RippleTest::Cluster::wait_backup($node, $enc_a), 'succeeded', 'encrypted zstd backup with key A succeeded');
my ($arow, $afile) = object_of($enc_a);
my ($zrc) = run_cmd('zstd', '-t', '-q', $afile);
isnt($zrc, 0, 'stock zstd -t rejects the stored object: it is no zstd stream');
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT verify_status || '/' || verify_level FROM ripple_backup.backups WHERE id = $enc_a",
		'verified/checksum', 60),
	'verified/checksum', 'verified at checksum level after the backup');
is(sqlv("SELECT ripple_backup_verify($enc_a, 'archive')"), 'verified', 'archive level decrypts on the fly');
is(sqlv("SELECT ripple_backup_verify($enc_a, 'restore')"), 'verified', 'restore level decrypts on the fly');

# --- refusals: the backup fails at once, and nothing reaches the bucket ------------
set_conf(backup_retries => '2', backup_retry_delay => '1s');
my $dir = "$keys/a-directory";
mkdir $dir;
my @refusals = (
	[ 'missing', "$keys/no-such.key", qr/no-such\.key/ ],
	[ 'unreadable', write_file('unreadable.key', "$hex_b\n", 0000), qr/unreadable\.key/ ],
	[ 'too short', write_file('short.key', substr($hex_b, 0, 62) . "\n"), qr/short\.key/ ],
	[ 'too long', write_file('long.key', $hex_b . "ab\n"), qr/long\.key/ ],
	[ 'group readable', write_file('group.key', "$hex_b\n", 0640), qr/group\.key/ ],
	[ 'world readable', write_file('world.key', "$hex_b\n", 0604), qr/world\.key/ ],
	[ 'not a key', write_file('notkey.key', ('zz' x 32) . "\n"), qr/notkey\.key/ ],
	[ 'empty', write_file('empty.key', ''), qr/empty\.key/ ],
	[ 'a directory', $dir, qr/a-directory/ ],
);
for my $case (@refusals) {
	my ($what, $path, $names) = @$case;
	my @before = sort $s3->list_keys('pg/');
	set_conf(encryption_key_file => $path);
	my $id = RippleTest::Cluster::backup_now($node, 'app', "refused $what");
	is(RippleTest::Cluster::wait_backup($node, $id), 'failed', "key file $what: the backup failed");
	my $error = sqlv("SELECT error FROM ripple_backup.backups WHERE id = $id");
	like($error, qr/^ripple_backup\.encryption_key_file refused/, "key file $what: the error says the key file was refused");
	like($error, $names, "key file $what: the error names the file");
	unlike($error, qr/$hex_b|zzzz/i, "key file $what: no key material in the error");
	is(sqlv("SELECT attempt || '/' || (retry_at IS NULL) FROM ripple_backup.backups WHERE id = $id"), '1/true',
		"key file $what: permanent, not retried");
	is(sqlv("SELECT object_key IS NULL AND encryption IS NULL FROM ripple_backup.backups WHERE id = $id"),
		't', "key file $what: no object and no encryption recorded");
	is_deeply([ sort $s3->list_keys('pg/') ], \@before, "key file $what: nothing was stored in the bucket");
}
diag('refusal errors, e.g.: ' . sqlv("SELECT error FROM ripple_backup.backups WHERE label = 'refused too short'"));
my ($rc, $out, $err) = run_cmd('psql', '-X', '-d', $node->connstr('postgres'), '-c',
	"ALTER SYSTEM SET ripple_backup.encryption_key_file = 'keys/relative.key'");
isnt($rc, 0, 'a relative encryption_key_file is refused by the setting');
like($err, qr/encryption key file "keys\/relative\.key" is not an absolute path/, 'the setting says why');
($rc, $out, $err) = run_cmd('psql', '-X', '-d', $node->connstr('postgres'), '-c',
	"ALTER SYSTEM SET ripple_backup.decryption_key_files = '$key_a, old/b.key'");
isnt($rc, 0, 'a relative decryption_key_files entry is refused by the setting');
like($err, qr/decryption key file "old\/b\.key" is not an absolute path/, 'the setting names the entry');
set_conf(backup_retries => '0');

# --- rotation: B encrypts, A kept for reading ---------------------------------------
set_conf(encryption_key_file => $key_b, decryption_key_files => $key_a);
my $enc_b = RippleTest::Cluster::backup_now($node, 'app', 'key-b');
is(RippleTest::Cluster::wait_backup($node, $enc_b), 'succeeded', 'backup with key B succeeded');
is(sqlv("SELECT key_id FROM ripple_backup.backups WHERE id = $enc_b"), $id_b, 'it names key B');
is(sqlv("SELECT ripple_backup_verify($enc_a, 'archive')"), 'verified', 'after the rotation the key-A backup verifies (A in decryption_key_files)');
is(sqlv("SELECT ripple_backup_verify($enc_b, 'archive')"), 'verified', 'the key-B backup verifies');
set_conf(decryption_key_files => '');
is(sqlv("SELECT ripple_backup_verify($enc_a, 'archive')"), 'failed', 'without key A the key-A backup fails at archive level');
like(sqlv("SELECT verify_error FROM ripple_backup.backups WHERE id = $enc_a"),
	qr/encrypted with key \Q$id_a\E, which none of the configured keys matches/,
	'verify names the missing key by its id');
is(sqlv("SELECT ripple_backup_verify($enc_a, 'checksum')"), 'verified', 'its checksum level still passes without the key');

# --- a tampered ciphertext whose checksum was forged too: it never decrypts ---------
my $enc_t = RippleTest::Cluster::backup_now($node, 'app', 'tampered');
is(RippleTest::Cluster::wait_backup($node, $enc_t), 'succeeded', 'backup to tamper with');
my ($trow, $tfile) = object_of($enc_t);
{
	my $data = slurp_raw($tfile);
	substr($data, length($data) - 5, 1) = chr(ord(substr($data, length($data) - 5, 1)) ^ 0x01);
	open my $out, '>:raw', $tfile or die;
	print $out $data;
	close $out;
	my $sha = sha256_hex($data);
	my ($tmeta, $ttext) = metadata_of($trow);
	$ttext =~ s/\Q$trow->{sha256}\E/$sha/ or die 'no sha256 in the metadata';
	open $out, '>:raw', "$work/tampered.json" or die;
	print $out $ttext;
	close $out;
	is(($s3->aws('s3', 'cp', $tfile, "s3://enc/pg/$trow->{object_key}"))[0], 0, 'one bit of the last chunk flipped in the bucket');
	is(($s3->aws('s3', 'cp', "$work/tampered.json", "s3://enc/pg/$trow->{object_key}.metadata.json"))[0], 0,
		'and the checksum in its metadata forged to match');
	sqlv("UPDATE ripple_backup.backups SET sha256 = '$sha' WHERE id = $enc_t");
}
is(sqlv("SELECT ripple_backup_verify($enc_t, 'checksum')"), 'verified', 'the forged checksum passes');
is(sqlv("SELECT ripple_backup_verify($enc_t, 'archive')"), 'failed', 'but the archive level fails: the chunk does not authenticate');
like(sqlv("SELECT verify_error FROM ripple_backup.backups WHERE id = $enc_t"),
	qr/matches its checksum but does not decrypt: /, 'verify says it does not decrypt');
diag('tampered: ' . sqlv("SELECT verify_error FROM ripple_backup.backups WHERE id = $enc_t"));

# --- the CLI -------------------------------------------------------------------------
my $etc = PostgreSQL::Test::Utils::tempdir('etc');
my $cred = "$etc/credentials";
open my $fh, '>', $cred or die;
print $fh "[default]\naws_access_key_id = $RippleTest::S3Server::ACCESS_KEY\n"
  . "aws_secret_access_key = $RippleTest::S3Server::SECRET_KEY\n";
close $fh;
chmod 0600, $cred;
my $conf = "$etc/ripple-backup.conf";
open $fh, '>', $conf or die;
print $fh "destination = 's3://enc/pg'\ns3_endpoint = " . $s3->endpoint
  . "\ns3_uri_style = path\ns3_region = us-east-1\ns3_credentials_file = $cred\n";
close $fh;
my %env = %ENV;
delete $env{$_} for grep { /^(RIPPLE_BACKUP_|AWS_|PG(HOST|PORT|DATABASE)$)/ } keys %env;
$env{RIPPLE_BACKUP_CONFIG} = $conf;
$env{HOME} = $etc;

sub cli {
	my ($extra_env, @args) = @_;
	my ($o, $e) = ('', '');
	local %ENV = (%env, %$extra_env);
	IPC::Run::run([ $cli, @args ], '<', \undef, '>', \$o, '2>', \$e);
	return ($? >> 8, $o, $e);
}

($rc, $out, $err) = cli({}, 'list', '--db', 'app');
is($rc, 0, 'list') or diag $err;
like($out, qr/^\S+ \S+\s+app\s.*\s$enc_a\s.*\bkey-a\s+$id_a\s*$/m, 'list shows the key id of the key-A backup');
like($out, qr/^\S+ \S+\s+app\s.*\s$plain\s.*\bplain\s+-\s*$/m, 'list shows "-" for the unencrypted backup');
($rc, $out) = cli({}, 'list', '--json');
my ($jb) = grep { $_->{backup_id} == $enc_b } @{ decode_json($out) };
is("$jb->{encryption}/$jb->{key_id}", "$algorithm/$id_b", 'list --json: encryption and key_id');

($rc, $out, $err) = cli({}, 'fetch', $enc_a, '-o', "$work/a.dump");
is($rc, 2, 'fetch of an encrypted backup without a key fails as a configuration error');
like($err, qr/backup $enc_a is encrypted with key \Q$id_a\E; give --encryption-key-file/, 'fetch says which key to give');
ok(!-e "$work/a.dump", 'no output file');
($rc, $out, $err) = cli({}, 'fetch', $enc_a, '-o', "$work/a.dump", '--encryption-key-file', $key_b);
is($rc, 2, 'fetch with the wrong key file fails');
like($err, qr/encrypted with key \Q$id_a\E, which none of the 1 given key files holds/, 'and says so');
($rc, $out, $err) = cli({}, 'fetch', $enc_a, '-o', "$work/a.dump", '--encryption-key-file', $key_b,
	'--encryption-key-file', $key_a);
is($rc, 0, 'fetch with both key files (repeated option)') or diag $err;
($rc, $out, $err) = run_cmd('pg_restore', '--list', "$work/a.dump");
is($rc, 0, 'pg_restore --list reads the fetched archive') or diag $err;
like($out, qr/TABLE DATA public notes/, 'the archive holds the marker table');
($rc, $out, $err) = cli({}, 'fetch', $enc_a, '-o', "$work/a2.dump", '--encryption-key-file', "$key_b,$key_a");
is($rc, 0, 'fetch with a comma-separated list of key files') or diag $err;
($rc, $out, $err) = cli({}, 'fetch', $enc_a, '-o', "$work/bad.dump", '--encryption-key-file', "$keys/group.key");
is($rc, 2, 'fetch refuses a group-readable key file');
like($err, qr/group\.key/, 'and names it');

($rc, $out, $err) = cli({ RIPPLE_BACKUP_ENCRYPTION_KEY_FILE => $key_a }, 'verify', $enc_a, '--archive');
is($rc, 0, 'verify --archive with the key from RIPPLE_BACKUP_ENCRYPTION_KEY_FILE') or diag $err;
like($out, qr/archive decrypts, decompresses/, 'verify says the archive decrypts');
($rc, $out, $err) = cli({}, 'verify', $enc_a);
is($rc, 0, 'verify (checksum) of an encrypted backup needs no key') or diag $err;
like($out, qr/encrypted with key \Q$id_a\E/, 'and names its key');
($rc, $out, $err) = cli({}, 'info', $enc_a, '--encryption-key-file', $key_a);
like($out, qr/^encryption:\s+\Q$algorithm\E, key \Q$id_a\E \(a given key file holds it\)$/m, 'info shows the encryption');

($rc, $out, $err) = cli({}, 'decrypt', $enc_a, '-o', "$work/a.dump.zst", '--encryption-key-file', $key_a);
is($rc, 0, 'decrypt') or diag $err;
($rc) = run_cmd('zstd', '-t', '-q', "$work/a.dump.zst");
is($rc, 0, 'stock zstd -t accepts the decrypted object');
($rc, $out, $err) = run_cmd('zstd', '-d', '-q', '-f', "$work/a.dump.zst", '-o', "$work/a-unzstd.dump");
is($rc, 0, 'zstd -d decompresses it');
($rc, $out, $err) = run_cmd('pg_restore', '--list', "$work/a-unzstd.dump");
is($rc, 0, 'pg_restore --list reads the decompressed archive') or diag $err;
is(slurp_raw("$work/a-unzstd.dump"), slurp_raw("$work/a.dump"), 'decrypt + zstd -d gives the archive fetch gives');
($rc, $out, $err) = cli({}, 'decrypt', $plain, '-o', "$work/p.dump.zst");
is($rc, 2, 'decrypt of an unencrypted backup is refused');
like($err, qr/is not encrypted/, 'and says why');
($rc, $out, $err) = cli({}, 'decrypt', $enc_t, '-o', "$work/t.dump.zst", '--encryption-key-file', $key_b);
is($rc, 4, 'decrypt of the tampered backup fails as a verification failure');
like($err, qr/does not decrypt/, 'and says it does not decrypt');
ok(!-e "$work/t.dump.zst", 'leaving no output file');
($rc, $out, $err) = cli({}, 'fetch', $enc_t, '-o', "$work/t.dump", '--encryption-key-file', $key_b);
is($rc, 4, 'fetch of the tampered backup fails too');
ok(!-e "$work/t.dump", 'leaving no output file');

# --- the database gone: a second fresh cluster, the bucket and the key file --------
my %before = %{ RippleTest::Cluster::count_rows($node, 'app', $counts) };
is_deeply(\%before, $counts, 'row counts before the loss');
$node->stop('immediate');
rmtree($node->data_dir);
ok(!-d $node->data_dir, 'the server is stopped and its data directory is gone');

my $new = PostgreSQL::Test::Cluster->new('enc_replacement');
$new->init;
$new->start;
open $fh, '>>', $conf or die;
print $fh "encryption_key_file = '$key_b'\n";	# the current key, from the config file
close $fh;
($rc, $out, $err) = cli({}, 'restore', $enc_b, '--dbname', 'app', '--create',
	'--host', $new->host, '--port', $new->port);
is($rc, 0, 'restore of the key-B backup into a fresh cluster with the key file from the config file') or diag $err;
like($err, qr/row counts match the backup for all 4 tables/, 'the CLI compared every table');
is_deeply(RippleTest::Cluster::count_rows($new, 'app', $counts), $counts, 'row counts exact after the restore');
($rc, $out, $err) = cli({}, 'restore', $enc_a, '--dbname', 'app_nokey', '--create',
	'--host', $new->host, '--port', $new->port);
is($rc, 2, 'restore of the key-A backup with only key B fails');
like($err, qr/encrypted with key \Q$id_a\E, which none of the 1 given key files holds/, 'naming the key it needs');
is($new->safe_psql('postgres', "SELECT count(*) FROM pg_database WHERE datname = 'app_nokey'"), '0',
	'before creating the database');
($rc, $out, $err) = cli({}, 'restore', $enc_a, '--dbname', 'app_a', '--create',
	'--host', $new->host, '--port', $new->port, '--encryption-key-file', $key_a);
is($rc, 0, 'restore of the key-A backup with --encryption-key-file') or diag $err;
is_deeply(RippleTest::Cluster::count_rows($new, 'app_a', $counts), $counts, 'its row counts exact too');

$new->stop;
$s3->stop;
done_testing();
