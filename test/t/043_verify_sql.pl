# 043_verify_sql.pl — ripple_backup_verify() from SQL against a file:// destination:
# a good backup passes the checksum, archive and restore levels (restore time
# recorded, scratch database dropped); a single flipped byte at several offsets
# fails the checksum with a precise verify_error; a missing metadata object fails
# clearly; a restore from a damaged object is refused unless forced; bad requests
# raise errors with proper SQLSTATEs; each new backup is verified automatically
# (ripple_backup.verify_after_backup).
use strict;
use warnings;
use File::Copy;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('verify', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 3000);

sub vrow {
	my ($id) = @_;
	my $out = $node->safe_psql('postgres',
		"SELECT verify_status, coalesce(verify_level, '<NULL>'), verified_at IS NOT NULL,"
		  . " coalesce(restore_seconds::text, '<NULL>'), coalesce(verify_error, '<NULL>')"
		  . " FROM ripple_backup.backups WHERE id = $id",
		extra_params => [ '-F', "\x1f" ]);
	my %r;
	@r{qw(status level has_time restore_seconds error)} =
	  map { $_ eq '<NULL>' ? undef : $_ } split /\x1f/, $out, -1;
	return \%r;
}

sub verify {
	my ($args) = @_;
	return $node->safe_psql('postgres', "SELECT ripple_backup_verify($args)");
}

sub scratch_dbs {
	return $node->safe_psql('postgres',
		"SELECT count(*) FROM pg_database WHERE datname LIKE 'ripple_backup_verify_%'");
}

sub flip_byte {
	my ($path, $offset) = @_;
	open my $fh, '+<:raw', $path or die "$path: $!";
	seek $fh, $offset, 0;
	read $fh, my $b, 1;
	seek $fh, $offset, 0;
	print $fh chr(ord($b) ^ 0x01);
	close $fh;
}

# --- a good backup ----------------------------------------------------------------------
my $id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup succeeded');
my $row = RippleTest::Cluster::backup_row($node, $id);
my $path = substr($row->{location}, length('file://'));
my $v = vrow($id);
is($v->{status}, 'unverified', 'a new backup is unverified (verify_after_backup off)');
is($v->{level}, undef, 'no verify level yet');

is(verify($id), 'verified', 'checksum level: verified');
$v = vrow($id);
is($v->{status}, 'verified', 'catalog: verify_status verified');
is($v->{level}, 'checksum', 'catalog: verify_level checksum');
is($v->{has_time}, 't', 'catalog: verified_at set');
is($v->{error}, undef, 'catalog: no verify_error');
is($v->{restore_seconds}, undef, 'catalog: no restore time from a checksum verify');

is(verify("NULL, 'archive'"), 'verified', 'archive level of the latest backup: verified');
is(vrow($id)->{level}, 'archive', 'catalog: verify_level archive');

is(verify("$id, 'restore'"), 'verified', 'restore level: verified');
$v = vrow($id);
is($v->{level}, 'restore', 'catalog: verify_level restore');
ok(defined $v->{restore_seconds} && $v->{restore_seconds} > 0, "catalog: restore_seconds recorded ($v->{restore_seconds})");
is(scratch_dbs(), '0', 'the scratch database is dropped after the restore');
my $restore_seconds = $v->{restore_seconds};

is(verify($id), 'verified', 'a later checksum verify passes');
is(vrow($id)->{restore_seconds}, $restore_seconds, 'and keeps the measured restore time');

my @tmp = glob($node->data_dir . '/base/pgsql_tmp/*ripple_backup_verify_*');
is(scalar(@tmp), 0, 'no temporary archive left behind');

# --- one flipped byte at several offsets ---------------------------------------------------
my $size = -s $path;
copy($path, "$path.orig") or die;
for my $offset (0, int($size / 3), int($size / 2), $size - 1) {
	flip_byte($path, $offset);
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id)");
	is($out, 'failed', "byte $offset of $size flipped: checksum fails");
	$v = vrow($id);
	is($v->{status}, 'failed', "byte $offset: verify_status failed");
	like($v->{error}, qr/^checksum mismatch for file:\/\/\Q$path\E: expected $row->{sha256}, found [0-9a-f]{64}$/,
		"byte $offset: verify_error names the object and both checksums");
	like($err, qr/NOTICE:  backup $id failed verification at level checksum/, "byte $offset: a notice says so");
	copy("$path.orig", $path) or die;
}
is(verify($id), 'verified', 'the repaired object verifies again');

# a truncated object
truncate($path, $size - 10) or die;
is(verify($id), 'failed', 'a truncated object fails');
like(vrow($id)->{error}, qr/^size mismatch for file:\/\/\Q$path\E: expected $size bytes, found @{[$size - 10]}$/,
	'verify_error: size mismatch');
copy("$path.orig", $path) or die;

# --- a restore from a damaged object is refused --------------------------------------------
flip_byte($path, int($size / 2));
is(verify("$id, 'restore'"), 'failed', 'restore level from a damaged object fails');
$v = vrow($id);
like($v->{error}, qr/^restore refused: checksum mismatch for file:/, 'verify_error: restore refused');
is($v->{restore_seconds}, $restore_seconds, 'no restore ran (restore_seconds unchanged)');
is(scratch_dbs(), '0', 'no scratch database');
copy("$path.orig", $path) or die;

# --- missing metadata ---------------------------------------------------------------------
rename("$path.metadata.json", "$path.metadata.hidden") or die;
is(verify($id), 'failed', 'missing metadata fails');
is(vrow($id)->{error}, qq{metadata object "file://$path.metadata.json" is missing},
	'verify_error: metadata object is missing');
rename("$path.metadata.hidden", "$path.metadata.json") or die;

# a metadata object that disagrees with the catalog
my $meta = slurp_file("$path.metadata.json");
(my $bad = $meta) =~ s/"sha256":\s*"([0-9a-f])/'"sha256": "' . ($1 eq 'a' ? 'b' : 'a')/e;
open my $mf, '>', "$path.metadata.json" or die;
print $mf $bad;
close $mf;
is(verify($id), 'failed', 'metadata with another sha256 fails');
like(vrow($id)->{error}, qr/^metadata of file:\/\/\Q$path\E disagrees with the catalog: sha256/,
	'verify_error: metadata disagrees with the catalog');
open $mf, '>', "$path.metadata.json" or die;
print $mf $meta;
close $mf;
is(verify($id), 'verified', 'verified again with the real metadata');

# --- forced restore of an uncompressed backup with one changed data byte --------------------
$node->append_conf('postgresql.conf', "ripple_backup.compression = 'none'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.compression', 'none');
my $raw = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $raw), 'succeeded', 'uncompressed backup succeeded');
my $rawpath = substr(RippleTest::Cluster::backup_row($node, $raw)->{location}, length('file://'));
my $content = slurp_file($rawpath);
my $pos = index($content, 'c4ca4238a0b923820dcc509a6f75849b');    # md5('1'), a row of accounts
ok($pos > 0, 'a data byte to change is found in the archive');
flip_byte($rawpath, $pos);    # 'c' -> 'b': still valid text
is(verify("$raw, 'restore'"), 'failed', 'restore of the changed object is refused');
like(vrow($raw)->{error}, qr/^restore refused: checksum mismatch/, 'refused: checksum mismatch');
is(vrow($raw)->{restore_seconds}, undef, 'no restore time');
is(verify("$raw, 'restore', force => true"), 'failed', 'forced restore still reports failed');
$v = vrow($raw);
like($v->{error}, qr/^forced restore completed, but: checksum mismatch for file:/,
	'verify_error: the forced restore ran but the checksum failed');
ok(defined $v->{restore_seconds} && $v->{restore_seconds} > 0, 'the forced restore was timed');
is(scratch_dbs(), '0', 'scratch database dropped after the forced restore');

# --- bad requests -----------------------------------------------------------------------
my ($ret, $out, $err) = $node->psql('postgres', 'SELECT ripple_backup_verify(999999)',
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
isnt($ret, 0, 'unknown id fails');
like($err, qr/ERROR:  42704: backup 999999 does not exist/, 'unknown id: undefined_object');
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'deep')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  22023: invalid verify level "deep"/, 'bad level: invalid_parameter_value');
my $failed = $node->safe_psql('postgres',
	"INSERT INTO ripple_backup.backups (dbname, status, error) VALUES ('app', 'failed', 'test') RETURNING id");
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($failed)",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  55000: backup $failed cannot be verified/, 'failed backup: object_not_in_prerequisite_state');
$node->safe_psql('postgres', "DELETE FROM ripple_backup.backups WHERE id = $failed");
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, timeout => '0')",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  22023: timeout must be positive/, 'zero timeout refused');
$node->safe_psql('postgres', 'CREATE ROLE verify_nobody LOGIN');
($ret, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id)",
	extra_params => [ '-U', 'verify_nobody' ]);
like($err, qr/permission denied for function ripple_backup_verify/, 'PUBLIC may not call it');

# --- automatic checksum after each backup ----------------------------------------------------
$node->append_conf('postgresql.conf', "ripple_backup.verify_after_backup = on\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.verify_after_backup', 'on');
my $auto = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $auto), 'succeeded', 'a new backup succeeded');
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT verify_status || '/' || verify_level FROM ripple_backup.backups WHERE id = $auto",
		'verified/checksum', 60),
	'verified/checksum', 'it is verified at checksum level automatically');

$node->stop;
done_testing();
