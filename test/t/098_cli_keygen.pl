# 098_cli_keygen.pl — ripple-backup keygen: prints a key file's text (64 lowercase hex
# digits and a newline) and the key id on stderr, the id matching an independent HMAC
# of the key (test/tools/decrypt_reference.py, from docs/encryption-format.md); -o FILE
# creates the file with mode 0600 whatever the umask, never replaces a file nor follows
# a symbolic link; the keys are new each time, load as encryption keys (an object
# encrypted with one decrypts with it) and need no destination.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use Test::More;

my $src = $ENV{RIPPLE_SRC} // '.';
my $cli = "$src/src/cli/ripple-backup";
my $tool = "$src/build/tools/encrypt_tool";
my $ref = "$src/test/tools/decrypt_reference.py";
my $dir = tempdir(CLEANUP => 1);
# no destination anywhere: keygen needs none
my %env = (PATH => $ENV{PATH}, HOME => $dir);

sub cli {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	local %ENV = %env;
	run([ $cli, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub key_id_of {
	my ($path) = @_;
	my $id = '';
	run([ '/usr/bin/python3', $ref, '--key-id', $path ], '>', \$id) or die "key id of $path";
	chomp $id;
	return $id;
}

# to stdout
my ($rc, $out, $err) = cli('keygen');
is($rc, 0, 'keygen exits 0');
like($out, qr/\A[0-9a-f]{64}\n\z/, 'stdout is 64 lowercase hex digits and a newline, nothing else');
like($err, qr/\Aripple-backup: key id [0-9a-f]{16}\n\z/, 'the key id on stderr');
my ($id) = $err =~ /key id ([0-9a-f]{16})/;
unlike($err, qr/\Q@{[substr($out, 0, 16)]}\E/, 'stderr does not show the key');
my $k1 = "$dir/k1";
{
	open(my $fh, '>', $k1) or die $!;
	print $fh $out;
	close($fh);
	chmod(0600, $k1);
}
is(key_id_of($k1), $id, 'the printed key id is the HMAC the format document defines');
my ($rc2, $out2) = cli('keygen');
isnt($out2, $out, 'a new key each time');

# -q: nothing on stderr
($rc, $out, $err) = cli('keygen', '-q');
is($rc, 0, 'keygen -q exits 0');
is($err, '', 'keygen -q prints nothing on stderr');

# -o FILE: mode 0600 whatever the umask
my $k2 = "$dir/k2";
{
	my $old = umask(0000);
	($rc, $out, $err) = cli('keygen', '-o', $k2);
	umask($old);
}
is($rc, 0, 'keygen -o exits 0');
is($out, '', 'nothing on stdout with -o');
ok(-f $k2, 'the key file exists');
is(sprintf('%04o', (stat($k2))[2] & 07777), '0600', 'the key file has mode 0600 even with umask 0');
my $text = do { open(my $fh, '<', $k2) or die $!; local $/; <$fh> };
like($text, qr/\A[0-9a-f]{64}\n\z/, 'the key file holds 64 hex digits and a newline');
like($err, qr/wrote key file "\Q$k2\E" \(mode 0600\), key id ([0-9a-f]{16})/, 'stderr names the file and the key id');
my ($id2) = $err =~ /key id ([0-9a-f]{16})/;
is(key_id_of($k2), $id2, 'the key id of the file matches');

# never replaced, never through a link
($rc, $out, $err) = cli('keygen', '-o', $k2);
is($rc, 1, 'keygen -o on an existing file exits 1');
like($err, qr/could not create key file "\Q$k2\E": File exists/, 'and says the file exists');
like($err, qr/hint: keygen never replaces a file/, 'with a hint why');
is(do { open(my $fh, '<', $k2) or die $!; local $/; <$fh> }, $text, 'the existing key is unchanged');
symlink("$dir/target", "$dir/link") or die "symlink: $!";
($rc, $out, $err) = cli('keygen', '-o', "$dir/link");
is($rc, 1, 'keygen -o on a symbolic link exits 1');
ok(!-e "$dir/target", 'nothing was written through the link');
($rc, $out, $err) = cli('keygen', '-o', "$dir/no/such/dir/key");
is($rc, 1, 'keygen -o into a missing directory exits 1');
like($err, qr/could not create key file .*No such file or directory/, 'and says why');

# usage errors
($rc, $out, $err) = cli('keygen', 'extra');
is($rc, 2, 'an argument is a usage error');
($rc, $out, $err) = cli('keygen', '--destination', 'file:///tmp');
is($rc, 2, 'a destination option is refused');
like($err, qr/option --destination is not valid for command "keygen"/, 'and named');
($rc, $out, $err) = cli('keygen', '--help');
is($rc, 0, 'keygen --help exits 0');
like($out, qr/ripple-backup keygen -o FILE/, 'the help shows -o FILE');
unlike($out, qr/--destination/, 'the help has no destination options');
($rc, $out, $err) = cli('--help');
like($out, qr/^  keygen /m, 'the overview lists keygen');

# the keys load as encryption keys and work
ok(-x $tool, 'encrypt_tool is built') or BAIL_OUT('no encrypt_tool');
{
	my $plain = join('', map { chr(int(rand(256))) } 1 .. 100_000);
	my ($obj, $back, $e) = ('', '', '');
	ok(run([ $tool, 'encrypt', $k2 ], '<', \$plain, '>', \$obj, '2>', \$e), 'the -o key file encrypts') or diag($e);
	ok(run([ $tool, 'decrypt', $k1, $k2 ], '<', \$obj, '>', \$back, '2>', \$e), 'and decrypts') or diag($e);
	ok($back eq $plain, 'giving the plaintext back');
}

done_testing();
