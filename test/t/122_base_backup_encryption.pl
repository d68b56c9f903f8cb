# 122_base_backup_encryption.pl — encrypted physical base backups, end to end, against
# the S3 test server, the server's own pg_basebackup and stock zstd and tar:
#   - with ripple_backup.encryption_key_file set a base backup succeeds encrypted
#     (after compression): a plaintext marker that an unencrypted, uncompressed base
#     backup holds is in no encrypted object; the object starts with the format's
#     magic and names the key by its id; the catalog (encryption, key_id) and the
#     metadata object record the algorithm and the key id, never the key; size and
#     SHA-256 are of the stored bytes, and the checksum verification passes (in SQL
#     and with the CLI, which needs no key for it);
#   - an encrypted zstd base backup is no zstd stream; `ripple-backup decrypt` gives
#     the .tar.zst that stock `zstd -d | tar -t` reads, `fetch` the tar itself (the
#     same bytes), with backup_label, global/pg_control and the marker; without the
#     key fetch fails before writing anything, naming the key id;
#   - a key file that cannot be used fails the base backup and stores nothing;
#   - key rotation as for logical backups: a base backup with key B names B, the
#     key-A one still passes the checksum level, and the CLI reads each with its key
#     (both given, or the old one missing: refused, naming it);
#   - backup_nice lowers pg_basebackup, the walsender answering it and the runner, and
#     an upload left open by a postmaster crash is noted and recorded in
#     ripple_backup.pending_aborts after the restart, as for logical backups.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256_hex sha256_hex);
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $cli_bin = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $keys = PostgreSQL::Test::Utils::tempdir('keys');
my $marker = 'BASE-PLAINTEXT-MARKER-122-f00d';
my $algorithm = 'xchacha20poly1305-secretstream-v1';

# A key file of 64 hex digits; returns (path, key id as the format defines it, hex).
sub write_key {
	my ($name, $mode) = @_;
	my $hex = join '', map { sprintf '%02x', int(rand(256)) } 1 .. 32;
	my $path = "$keys/$name";
	open my $fh, '>', $path or die "$path: $!";
	print $fh "$hex\n";
	close $fh;
	chmod($mode // 0600, $path);
	return ($path, substr(hmac_sha256_hex('ripple_backup key id v1', pack('H*', $hex)), 0, 16), $hex);
}

sub slurp_raw {
	my ($path) = @_;
	open my $fh, '<:raw', $path or die "$path: $!";
	local $/;
	my $d = <$fh>;
	close $fh;
	return $d;
}

my ($key_a, $id_a, $hex_a) = write_key('a.key');
my ($key_b, $id_b, $hex_b) = write_key('b.key');
my ($key_bad) = write_key('group.key', 0640);

my $s3 = RippleTest::S3Server->new(bucket => 'benc');
my $node = RippleTest::Cluster->new_node('benc', s3 => $s3, prefix => 'pg',
	init => { allows_streaming => 1 },
	conf => "ripple_backup.compression = none\nripple_backup.verify_after_backup = off\n");
RippleTest::Cluster::create_app_db($node, 'app', 1000);
$node->safe_psql('app',
	"CREATE TABLE notes AS SELECT g AS id, '$marker' || g AS note FROM generate_series(1, 200) g");

sub sql { return $node->safe_psql('postgres', $_[0]); }

sub set_conf {
	my (%set) = @_;
	for my $k (sort keys %set) {
		(my $v = $set{$k}) =~ s/'/''/g;
		sql("ALTER SYSTEM SET ripple_backup.$k = '$v'");
	}
	sql('SELECT pg_reload_conf()');
	RippleTest::Cluster::poll_value($node, 'postgres', "SHOW ripple_backup.$_", $set{$_}) for keys %set;
	sleep 1;	# the next runner reads the new values
}

sub base_backup {
	my ($label) = @_;
	my $id = sql("SELECT ripple_backup_base_backup('$label')");
	my $status = RippleTest::Cluster::wait_backup($node, $id);
	return ($id, $status);
}

sub object_of {
	my ($id) = @_;
	my $row = RippleTest::Cluster::backup_row($node, $id);
	my $file = "$work/object-$id";
	ok($s3->fetch_object("pg/$row->{object_key}", $file, 'benc'), "object of base backup $id read back with awscli");
	return ($row, $file);
}

sub metadata_of {
	my ($row) = @_;
	my $file = "$work/meta-$row->{id}.json";
	$s3->fetch_object("pg/$row->{object_key}.metadata.json", $file, 'benc') or die 'no metadata';
	my $text = slurp_raw($file);
	return (decode_json($text), $text);
}

sub enc_of {
	return sql("SELECT encryption || '/' || coalesce(key_id, '<NULL>') FROM ripple_backup.backups WHERE id = $_[0]");
}

my @S3 = ('--destination', 's3://benc/pg', '--s3-endpoint', $s3->endpoint, '--s3-uri-style', 'path');
sub cli {
	my ($o, $e) = ('', '');
	local %ENV = (%ENV, $s3->env, HOME => $work);
	delete $ENV{$_} for grep { /^RIPPLE_BACKUP_/ } keys %ENV;
	IPC::Run::run([ $cli_bin, @_, @S3 ], '<', \undef, '>', \$o, '2>', \$e);
	return ($? >> 8, $o, $e);
}

# --- unencrypted and uncompressed: the marker is in the stored tar ----------------------
my ($plain, $st) = base_backup('plain');
is($st, 'succeeded', 'an unencrypted base backup succeeded')
  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $plain"));
my ($prow, $pfile) = object_of($plain);
ok(index(slurp_raw($pfile), $marker) >= 0, 'the unencrypted, uncompressed object holds the plaintext marker');
is(enc_of($plain), 'none/<NULL>', 'catalog: encryption none, no key id');

# --- encrypted, uncompressed -------------------------------------------------------------
set_conf(encryption_key_file => $key_a);
my ($enc0, $st0) = base_backup('encrypted uncompressed');
is($st0, 'succeeded', 'with encryption configured a base backup succeeds')
  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $enc0"));
my ($erow, $efile) = object_of($enc0);
my $edata = slurp_raw($efile);
is(index($edata, $marker), -1, 'the encrypted object does not hold the plaintext marker');
is(index($edata, 'backup_label'), -1, '... nor the tar\'s member names');
is(substr($edata, 0, 8), 'RIPBKENC', 'it starts with the format magic');
is(unpack('H*', substr($edata, 16, 8)), $id_a, 'its header names key A by its id');
is(enc_of($enc0), "$algorithm/$id_a", 'catalog: algorithm and key id of key A');
is(sql("SELECT kind FROM ripple_backup.backups WHERE id = $enc0"), 'physical', 'catalog: still a physical backup');
is($erow->{size_bytes}, length($edata), 'catalog size_bytes is the stored (encrypted) size');
is($erow->{sha256}, sha256_hex($edata), 'catalog sha256 is of the stored (encrypted) bytes');
my ($meta, $meta_text) = metadata_of($erow);
is($meta->{encryption}, $algorithm, 'metadata: encryption');
is($meta->{key_id}, $id_a, 'metadata: key_id');
is($meta->{kind}, 'physical', 'metadata: kind physical');
is($meta->{sha256}, $erow->{sha256}, 'metadata: sha256 of the stored bytes');
is(index(lc $meta_text, $hex_a), -1, 'the metadata does not hold the key');
my ($pmeta) = metadata_of($prow);
is($pmeta->{encryption} . '/' . ($pmeta->{key_id} // 'null'), 'none/null', 'metadata of the unencrypted one: none, null');
ok(index(slurp_raw($node->logfile), $hex_a) < 0, 'the server log does not hold the key');

# --- encrypted after zstd: checksum verification, the CLI ---------------------------------
set_conf(compression => 'zstd');
my ($enc_a, $sta) = base_backup('key-a');
is($sta, 'succeeded', 'an encrypted zstd base backup with key A succeeded')
  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $enc_a"));
my ($arow, $afile) = object_of($enc_a);
like($arow->{object_key}, qr{/base/\d{8}T\d{6}Z-$enc_a\.tar\.zst$}, 'stored under base/ as .tar.zst');
IPC::Run::run([ 'zstd', '-t', '-q', $afile ], '<', \undef, '>', \my $zo, '2>', \my $ze);
isnt($? >> 8, 0, 'stock zstd -t rejects the stored object: it is no zstd stream');
is(sql("SELECT ripple_backup_verify($enc_a, 'checksum')"), 'verified', 'checksum verification passes');
my ($rc, $out, $err) = cli('verify', $enc_a);
is($rc, 0, 'ripple-backup verify (size and checksum) needs no key') or diag($err);
like($out, qr/encrypted with key \Q$id_a\E/, '... and names the key');
($rc, $out, $err) = cli('info', $enc_a, '--encryption-key-file', $key_a);
is($rc, 0, 'ripple-backup info') or diag($err);
like($out, qr/^kind:\s+physical/m, 'info: kind physical');
like($out, qr/^encryption:\s+\Q$algorithm\E, key \Q$id_a\E \(a given key file holds it\)$/m, 'info: the encryption');

($rc, $out, $err) = cli('fetch', $enc_a, '-o', "$work/nokey.tar");
is($rc, 2, 'fetch without a key fails as a configuration error');
like($err, qr/backup $enc_a is encrypted with key \Q$id_a\E; give --encryption-key-file/, '... saying which key to give');
ok(!-e "$work/nokey.tar", '... and writes nothing');

($rc, $out, $err) = cli('decrypt', $enc_a, '-o', "$work/a.tar.zst", '--encryption-key-file', $key_a);
is($rc, 0, 'ripple-backup decrypt of the base backup') or diag($err);
my $listing = '';
IPC::Run::run([ 'zstd', '-d', '-q', '-c', "$work/a.tar.zst" ], '|', [ 'tar', '-t' ], '>', \$listing, '2>', \$ze);
is($?, 0, 'stock zstd -d | tar -t reads the decrypted object') or diag($ze);
my @members = split /\n/, $listing;
ok((grep { $_ eq 'backup_label' } @members), '... a tar with backup_label');
ok((grep { $_ eq 'global/pg_control' } @members), '... and global/pg_control');
ok((grep { m{^base/\d+/} } @members), '... and base/');

($rc, $out, $err) = cli('fetch', $enc_a, '-o', "$work/a.tar", '--encryption-key-file', $key_a);
is($rc, 0, 'ripple-backup fetch decrypts and decompresses it') or diag($err);
IPC::Run::run([ 'tar', '-tf', "$work/a.tar" ], '>', \$listing, '2>', \$ze);
is($?, 0, 'tar -t reads the fetched file') or diag($ze);
ok((grep { $_ eq 'backup_label' } split /\n/, $listing), '... with backup_label');
IPC::Run::run([ 'zstd', '-d', '-q', '-c', "$work/a.tar.zst" ], '>', "$work/a-unzstd.tar");
ok(slurp_raw("$work/a-unzstd.tar") eq slurp_raw("$work/a.tar"), 'decrypt + zstd -d gives the bytes fetch gives');
ok(index(slurp_raw("$work/a.tar"), $marker) >= 0, 'and the plaintext marker is back in them');

# --- a key file that cannot be used: the base backup fails, nothing stored ---------------
{
	my @before = sort $s3->list_keys('pg/');
	set_conf(encryption_key_file => $key_bad);
	my ($bad, $stb) = base_backup('refused key');
	is($stb, 'failed', 'a group-readable key file fails the base backup');
	my $error = sql("SELECT error FROM ripple_backup.backups WHERE id = $bad");
	like($error, qr/^ripple_backup\.encryption_key_file refused/, '... the error says the key file was refused');
	like($error, qr/group\.key/, '... and names it');
	is(sql("SELECT object_key IS NULL AND encryption IS NULL FROM ripple_backup.backups WHERE id = $bad"), 't',
		'... no object and no encryption recorded');
	is_deeply([ sort $s3->list_keys('pg/') ], \@before, '... and nothing was stored in the bucket');
}

# --- rotation: B encrypts, A kept for reading --------------------------------------------
set_conf(encryption_key_file => $key_b, decryption_key_files => $key_a);
my ($enc_b, $stb) = base_backup('key-b');
is($stb, 'succeeded', 'a base backup with key B succeeded')
  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $enc_b"));
is(enc_of($enc_b), "$algorithm/$id_b", 'it names key B');
my ($brow) = object_of($enc_b);
is((metadata_of($brow))[0]{key_id}, $id_b, 'its metadata names key B');
is(sql("SELECT ripple_backup_verify($enc_a, 'checksum')"), 'verified', 'the key-A base backup still verifies');
is(sql("SELECT ripple_backup_verify($enc_b, 'checksum')"), 'verified', 'the key-B base backup verifies');
set_conf(decryption_key_files => '');
is(sql("SELECT ripple_backup_verify($enc_a, 'checksum')"), 'verified',
	'the checksum level of the key-A one passes without key A (stored bytes)');

($rc, $out, $err) = cli('fetch', $enc_a, '-o', "$work/a-b.tar", '--encryption-key-file', $key_b);
is($rc, 2, 'fetch of the key-A base backup with only key B is refused');
like($err, qr/encrypted with key \Q$id_a\E, which none of the 1 given key files holds/, '... naming the key it needs');
($rc, $out, $err) = cli('fetch', $enc_b, '-o', "$work/b.tar", '--encryption-key-file', "$key_a,$key_b");
is($rc, 0, 'fetch of the key-B base backup with both key files') or diag($err);
($rc, $out, $err) = cli('fetch', $enc_a, '-o', "$work/a2.tar", '--encryption-key-file', $key_b,
	'--encryption-key-file', $key_a);
is($rc, 0, 'fetch of the key-A base backup with both key files') or diag($err);
ok(slurp_raw("$work/a2.tar") eq slurp_raw("$work/a.tar"), '... gives the same tar as before the rotation');
IPC::Run::run([ 'tar', '-tf', "$work/b.tar" ], '>', \$listing, '2>', \$ze);
ok($? == 0 && (grep { $_ eq 'global/pg_control' } split /\n/, $listing), 'the key-B tar reads, with global/pg_control');
($rc, $out, $err) = cli('list');
is($rc, 0, 'ripple-backup list') or diag($err);
like($out, qr/^.*\(base backup\).*\b$enc_b\b.*\b$id_b\b/m, 'list shows the key-B base backup with its key id');

# --- what a logical backup has, a base backup has too: backup_nice and the upload journal
# The upload is held mid-way as in test 076: once two parts are handed to the multipart
# upload the S3 server is frozen (SIGSTOP). Meanwhile the priorities are read from /proc
# (as test 077 does) and the note of the open upload is looked for; then the postmaster
# crashes, and after the restart the upload is in ripple_backup.pending_aborts.
sub nice_of {
	my ($pid) = @_;
	open my $fh, '<', "/proc/$pid/stat" or return undef;
	my $stat = <$fh>;
	close $fh;
	$stat =~ s/^.*\)\s+//s;
	return (split /\s+/, $stat)[19 - 3];
}
sub gone {
	my ($pid) = @_;
	for (1 .. 300) {
		return 1 unless kill(0, $pid);
		select(undef, undef, undef, 0.1);
	}
	return 0;
}
{
	$node->safe_psql('app',
		"CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS payload FROM generate_series(1, 300000) g");
	my $server = nice_of(sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'"));
	my $low = $server > 15 ? $server : 15;
	set_conf(compression => 'none', s3_part_size => '5MB', backup_nice => '15');
	my $offset = -s $node->logfile;
	my $held = sql("SELECT ripple_backup_base_backup('held')");
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT coalesce((SELECT bytes_stored >= 11 * 1024 * 1024 FROM ripple_backup.progress WHERE backup_id = $held), false)",
		't', 120), 't', "two parts of base backup $held are handed to the multipart upload");
	$s3->{h}->signal('STOP');
	my $runner = sql("SELECT pid FROM ripple_backup.progress WHERE backup_id = $held");
	my $kids = RippleTest::Cluster::children_of($runner);
	my ($pgbb) = grep { $kids->{$_} eq 'pg_basebackup' } keys %$kids;
	ok($pgbb, "the runner $runner has its pg_basebackup");
	my $walsender = sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender'"
		  . " AND application_name = 'ripple_backup $held'");
	like($walsender, qr/^\d+$/, "the walsender serving it: $walsender");
	is(nice_of($pgbb), $low, "backup_nice = 15: pg_basebackup runs at nice $low");
	is(nice_of($walsender), $low, "backup_nice = 15: the walsender answering it runs at nice $low");
	is(nice_of($runner), $low, "backup_nice = 15: the runner runs at nice $low");
	my $notes = $node->data_dir . '/pg_stat_tmp/ripple_backup_uploads';
	ok(-f "$notes/$held", 'the runner noted its open multipart upload');

	$node->stop('immediate');
	ok(gone($pgbb), 'pg_basebackup is gone after the crash');
	$node->start;
	$s3->{h}->signal('CONT');
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT status FROM ripple_backup.backups WHERE id = $held", 'failed', 60),
		'failed', 'after the restart the interrupted base backup is failed');
	my $hrow = RippleTest::Cluster::backup_row($node, $held);
	is($hrow->{error}, 'interrupted by server restart', '... interrupted by server restart');
	RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM ripple_backup.pending_aborts WHERE backup_id = $held", '1', 30);
	my $pa = sql("SELECT bucket || '|' || object_key || '|' || (upload_id ~ '\\S') FROM ripple_backup.pending_aborts WHERE backup_id = $held");
	like($pa, qr{^benc\|pg/\S+/base/\d{8}T\d{6}Z-$held\.tar\|true$},
		"its open multipart upload is recorded in ripple_backup.pending_aborts: $pa");
	is(join(',', glob("$notes/*")), '', 'the note is removed once recorded');
	is(scalar(grep { m{/base/\d{8}T\d{6}Z-$held\.} } $s3->list_keys('pg/')), 0, 'nothing of it lists in the bucket');

	my ($next, $stn) = base_backup('after the crash');
	is($stn, 'succeeded', 'the next base backup succeeds')
	  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $next"));
	is(sql("SELECT count(*) FROM ripple_backup.pending_aborts WHERE backup_id = $next"), '0',
		'a base backup that completes its upload leaves nothing to abort');
	is(join(',', glob("$notes/*")), '', 'and no note');
}

$s3->stop;
done_testing();
