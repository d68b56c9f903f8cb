# 097_encryption_format.pl — proves that docs/encryption-format.md is enough to decrypt a
# backup without ripple_backup: objects written by src/core's encryptor
# (build/tools/encrypt_tool) are decrypted by two decryptors written from the document
# alone, the PyNaCl snippet in the document itself (extracted from it here) and
# test/tools/decrypt_reference.py, across chunk boundaries and with the key file in hex
# and in base64; the documented size formula, header fields and key id (test vector and
# an independent HMAC) hold; and both independent decryptors refuse a flipped bit, a cut
# at a chunk boundary and appended data, as the document says a reader must.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use MIME::Base64 qw(encode_base64);
use Test::More;

my $src = $ENV{RIPPLE_SRC} // '.';
my $tool = "$src/build/tools/encrypt_tool";
my $ref = "$src/test/tools/decrypt_reference.py";
my $python = '/usr/bin/python3';
my $dir = tempdir(CLEANUP => 1);

ok(-x $tool, 'encrypt_tool is built') or do { done_testing(); exit 0; };
my $has_nacl = run([ $python, '-c', 'import nacl.bindings' ], '>&', \my $nacl_out);
ok($has_nacl, 'python3-nacl is installed (test/setup.sh)') or do { diag($nacl_out); done_testing(); exit 0; };

# The PyNaCl snippet of the document, as a program.
open(my $doc, '<', "$src/docs/encryption-format.md") or die "docs/encryption-format.md: $!";
my $text = do { local $/; <$doc> };
close($doc);
my ($snippet) = $text =~ /## Decrypting with PyNaCl.*?```python\n(.*?)```/s;
ok(defined $snippet && $snippet =~ /init_pull/, 'the document has a PyNaCl decryptor') or BAIL_OUT('no snippet');
my $snippet_file = "$dir/snippet.py";
open(my $sf, '>', $snippet_file) or die $!;
print $sf $snippet;
close($sf);

sub write_key {
	my ($name, $content) = @_;
	my $path = "$dir/$name";
	open(my $fh, '>', $path) or die "$path: $!";
	print $fh $content;
	close($fh);
	chmod(0600, $path) or die "chmod $path: $!";
	return $path;
}

sub slurp {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!";
	local $/;
	my $d = <$fh>;
	close($fh);
	return $d // '';
}

sub spew {
	my ($path, $data) = @_;
	open(my $fh, '>:raw', $path) or die "$path: $!";
	print $fh $data;
	close($fh);
}

# The documented test vector key 00 01 .. 1f, in hex and in base64.
my $key_bytes = join('', map { chr } 0 .. 31);
my $key_hex = write_key('key.hex', unpack('H*', $key_bytes) . "\n");
my $key_b64 = write_key('key.b64', encode_base64($key_bytes, '') . "\n");
my $keyid = '';
run([ $python, $ref, '--key-id', $key_hex ], '>', \$keyid) or die 'key id';
chomp $keyid;
is($keyid, 'a1a5075473acbf9a', 'the key id of the test vector, computed from the document');
like($text, qr/a1a5075473acbf9a/, 'the document states the same test vector');

my $C = 65536;
for my $size (0, 1, $C - 1, $C, $C + 1, 3 * $C + 123, 1_000_003) {
	my $plain = join('', map { chr(int(rand(256))) } 1 .. ($size > 4096 ? 4096 : $size));
	$plain = substr($plain x (int($size / 4096) + 1), 0, $size) if $size > 4096;
	substr($plain, $_ * 4096, 8) = pack('NN', $_, $size) for grep { $_ * 4096 + 8 <= $size } 0 .. int($size / 4096);
	spew("$dir/plain", $plain);

	my $err = '';
	ok(run([ $tool, 'encrypt', $key_hex ], '<', "$dir/plain", '>', "$dir/object", '2>', \$err),
		"$size bytes: the C encryptor wrote an object") or diag($err);
	my $obj = slurp("$dir/object");
	my $n = $size == 0 ? 1 : int(($size + $C - 1) / $C);
	is(length($obj), 48 + $size + 17 * $n, "$size bytes: size is 48 + P + 17 x N (N = $n)");
	is(substr($obj, 0, 16), "RIPBKENC\x01\x01\x00\x00" . pack('N', $C),
		"$size bytes: magic, version, algorithm, reserved, big-endian chunk size");
	is(unpack('H*', substr($obj, 16, 8)), $keyid, "$size bytes: the header's key id");
	if ($size >= 64) {
		is(index($obj, substr($plain, 100, 32)), -1, "$size bytes: no plaintext in the object");
	}

	for my $dec ([ 'the document\'s snippet, hex key', $snippet_file, $key_hex ],
		[ 'the document\'s snippet, base64 key', $snippet_file, $key_b64 ],
		[ 'decrypt_reference.py, base64 key', $ref, $key_b64 ]) {
		my ($what, $prog, $key) = @$dec;
		my $e = '';
		ok(run([ $python, $prog, $key ], '<', "$dir/object", '>', "$dir/out", '2>', \$e),
			"$size bytes: $what decrypts") or diag($e);
		ok(slurp("$dir/out") eq $plain, "$size bytes: $what gives the plaintext back");
	}
	ok(run([ $tool, 'decrypt', $key_b64 ], '<', "$dir/object", '>', "$dir/out"),
		"$size bytes: the C decryptor decrypts");
	ok(slurp("$dir/out") eq $plain, "$size bytes: the C decryptor gives the plaintext back");

	next unless $size == 3 * $C + 123;
	# What the document says a reader must refuse, both independent decryptors refuse.
	my %bad;
	$bad{'a flipped bit in chunk 2'} = $obj;
	vec($bad{'a flipped bit in chunk 2'}, (48 + $C + 17 + 500) * 8 + 2, 1) ^= 1;
	$bad{'a cut at a chunk boundary'} = substr($obj, 0, 48 + 3 * ($C + 17));
	$bad{'a cut inside the last chunk'} = substr($obj, 0, length($obj) - 1);
	$bad{'a byte appended'} = $obj . "x";
	$bad{'chunks 1 and 2 swapped'} = substr($obj, 0, 48) . substr($obj, 48 + $C + 17, $C + 17)
	  . substr($obj, 48, $C + 17) . substr($obj, 48 + 2 * ($C + 17));
	for my $case (sort keys %bad) {
		spew("$dir/bad", $bad{$case});
		for my $prog ([ 'the snippet', $snippet_file ], [ 'decrypt_reference.py', $ref ]) {
			my ($out, $e) = ('', '');
			ok(!run([ $python, $prog->[1], $key_hex ], '<', "$dir/bad", '>', \$out, '2>', \$e),
				"$case: $prog->[0] refuses it");
		}
		my $e = '';
		ok(!run([ $tool, 'decrypt', $key_hex ], '<', "$dir/bad", '>', '/dev/null', '2>', \$e),
			"$case: the C decryptor refuses it");
		like($e, qr/^error: (chunk \d+ \(at byte offset \d+.*failed authentication|encrypted object (is truncated|has data after its final chunk))/,
			"$case: the C decryptor says why") or diag($e);
	}
}

done_testing();
