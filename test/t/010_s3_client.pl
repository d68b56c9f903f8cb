# 010_s3_client.pl — the S3 client's operations against the S3 test server (s3rver,
# which checks SigV4 signatures), driven through test/tools/s3tool.c: put, get (whole
# and ranged), head (found and missing), list of more than 1,000 keys across pages,
# delete and batch delete, a 100 MiB streaming multipart upload read back
# byte-identical with our GET and with awscli, a small stream stored with one
# PutObject, credentials from a shared-credentials file, and a wrong secret that
# fails at once with SignatureDoesNotMatch and no retry.
use strict;
use warnings;
use Digest::SHA;
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use Test::More;
use Time::HiRes qw(time);
use RippleTest::S3Server;

my $s3tool = "$ENV{RIPPLE_SRC}/build/tools/s3tool";
my $s3 = RippleTest::S3Server->new(bucket => 'test');
my $tmp = tempdir('s3client_XXXX', TMPDIR => 1, CLEANUP => 1);
my %env = $s3->env;

# Runs s3tool with the server's credentials; returns (exit code, stdout, stderr).
sub s3tool {
	my (%o) = @_;
	my @cmd = ($s3tool, '--endpoint', $s3->endpoint, '--bucket', 'test', '--base-delay', '0.05',
		@{ $o{args} });
	my ($out, $err) = ('', '');
	local %ENV = (%ENV, %env, %{ $o{env} // {} });
	# stdin from a file: s3tool may stop reading when an upload fails
	write_file("$tmp/stdin.bin", $o{stdin} // '') unless defined $o{stdin_file};
	my @in = ('<', $o{stdin_file} // "$tmp/stdin.bin");
	my @out = defined $o{stdout_file} ? ('>', $o{stdout_file}) : ('>', \$out);
	run(\@cmd, @in, @out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub sha_file { Digest::SHA->new(256)->addfile($_[0])->hexdigest }

sub write_file {
	my ($path, $data) = @_;
	open my $fh, '>', $path or die "$path: $!";
	binmode $fh;
	print $fh $data;
	close $fh;
}

# --- put, get, head, range ---------------------------------------------------------
my $content = join('', map { chr(($_ * 7 + 3) % 256) } 0 .. 9999);
write_file("$tmp/small.bin", $content);

my ($rc, $out, $err) = s3tool(args => [ 'put', 'dir/small.bin', "$tmp/small.bin" ]);
is($rc, 0, 'put of a 10,000-byte file succeeds') or diag $err;

($rc, $out, $err) = s3tool(args => [ 'get', 'dir/small.bin' ]);
is($rc, 0, 'get succeeds');
ok($out eq $content, 'get returns the bytes that were put');

($rc, $out, $err) = s3tool(args => [ 'get', 'dir/small.bin', '--range', '100-199' ]);
is($rc, 0, 'ranged get succeeds');
ok($out eq substr($content, 100, 100), 'ranged get returns bytes 100-199');

($rc, $out, $err) = s3tool(args => [ 'get', 'dir/small.bin', '--range', '9990-' ]);
ok($rc == 0 && $out eq substr($content, 9990), 'open-ended range returns the last 10 bytes');

($rc, $out, $err) = s3tool(args => [ 'head', 'dir/small.bin' ]);
is($rc, 0, 'head succeeds');
my $md5 = do { require Digest::MD5; Digest::MD5::md5_hex($content) };
like($out, qr/^size=10000 etag=$md5 /, 'head reports the size and the MD5 ETag');
like($out, qr/mtime=(\d+)/, 'head reports a modification time');
my ($mtime) = $out =~ /mtime=(\d+)/;
ok(abs($mtime - time) < 300, 'modification time is parsed to the current epoch');

($rc, $out, $err) = s3tool(args => [ 'head', 'dir/missing' ]);
is($rc, 4, 'head of a missing key fails with "not found"');
like($err, qr{HEAD s3://test/dir/missing: 404}, 'not-found error names the operation, key and status');

($rc, $out, $err) = s3tool(args => [ 'get', 'dir/missing' ]);
is($rc, 4, 'get of a missing key fails with "not found"');
like($err, qr{GET s3://test/dir/missing: 404 NoSuchKey}, 'error carries the S3 code');

# awscli reads what we wrote
ok($s3->fetch_object('dir/small.bin', "$tmp/small.aws"), 'awscli reads the object');
is(sha_file("$tmp/small.aws"), sha_file("$tmp/small.bin"), 'awscli gets the same bytes');

# --- list with pagination, batch delete ------------------------------------------
($rc, $out, $err) = s3tool(args => [ 'put-many', 'many/k', '1050' ]);
is($rc, 0, '1,050 small objects are put') or diag $err;

($rc, $out, $err) = s3tool(args => [ '-v', 'list', 'many/' ]);
is($rc, 0, 'list succeeds');
my @lines = split /\n/, $out;
is(scalar @lines, 1050, 'list returns all 1,050 keys (two pages of 1,000 max)');
like($err, qr/requests=2 /, 'list took two requests (continuation token)');
is_deeply([ map { (split / /)[0] } @lines ], [ map { sprintf('many/k%05d', $_) } 0 .. 1049 ],
	'keys come in order, each once');
is((split / /, $lines[7])[1], 11, 'list reports object sizes');

($rc, $out, $err) = s3tool(args => [ '-v', '--page-size', '100', 'list', 'many/k001' ]);
@lines = split /\n/, $out;
is(scalar @lines, 100, 'prefix many/k001 matches 100 keys');
like($err, qr/requests=1 /, 'one page of 100 with max-keys 100 (no empty extra page)');
($rc, $out, $err) = s3tool(args => [ '-v', '--page-size', '100', 'list', 'many/' ]);
is(scalar(split /\n/, $out), 1050, 'pages of 100 also return 1,050 keys');
like($err, qr/requests=11 /, '... in 11 requests');

my @keys = map { sprintf('many/k%05d', $_) } 0 .. 1049;
($rc, $out, $err) = s3tool(args => [ '-v', 'delete', @keys ]);
is($rc, 0, 'batch delete of 1,050 keys succeeds') or diag $err;
like($err, qr/requests=2 /, 'batch delete used two requests (1,000 + 50)');
my @left = $s3->list_keys('many/');
is(scalar @left, 0, 'awscli sees no key left under many/');

($rc, $out, $err) = s3tool(args => [ 'delete', 'dir/small.bin' ]);
is($rc, 0, 'delete of one key succeeds');
($rc) = s3tool(args => [ 'head', 'dir/small.bin' ]);
is($rc, 4, 'deleted key is gone');
($rc, $out, $err) = s3tool(args => [ 'delete', 'dir/small.bin' ]);
is($rc, 0, 'deleting a missing key succeeds, as in S3');

# --- 100 MiB streaming multipart upload --------------------------------------------
{
	# incompressible and compressible halves, like a compressed dump with plain parts
	open my $fh, '>', "$tmp/big.bin" or die;
	binmode $fh;
	my $seed = 12345;
	for my $i (1 .. 50) {
		my $block = '';
		$block .= pack('N', ($seed = ($seed * 1103515245 + 12345) % 4294967296)) for 1 .. 1024;
		print $fh $block x 256;    # 1 MiB of a repeated 4 KiB block
	}
	close $fh;
	run([ 'sh', '-c', "head -c 52428800 /dev/urandom >> $tmp/big.bin" ]) or die 'head failed';
}
is(-s "$tmp/big.bin", 100 * 1024 * 1024, 'a 100 MiB input file exists');

($rc, $out, $err) = s3tool(args => [ '-v', '--part-size', '8M', '--in-flight', '2', 'upload', 'big/stream.bin' ],
	stdin_file => "$tmp/big.bin");
is($rc, 0, 'streaming upload of 100 MiB from stdin succeeds') or diag $err;
like($out, qr/^size=104857600 parts=13 multipart=1 /, '13 parts of 8 MiB (the last one smaller)');
my ($peak) = $out =~ /buffer_peak=(\d+)/;
ok(defined $peak && $peak <= 3 * 8 * 1024 * 1024,
	'part buffers never exceed part size x (in flight + 1)') or diag "peak $peak";
unlike($err, qr/retrying/, 'no retry was needed');

($rc, $out, $err) = s3tool(args => [ 'get', 'big/stream.bin' ], stdout_file => "$tmp/big.get");
is($rc, 0, 'get of the 100 MiB object succeeds');
is(sha_file("$tmp/big.get"), sha_file("$tmp/big.bin"), 'our get returns the same 100 MiB (sha256)');
unlink "$tmp/big.get";
ok($s3->fetch_object('big/stream.bin', "$tmp/big.aws"), 'awscli downloads the object');
is(sha_file("$tmp/big.aws"), sha_file("$tmp/big.bin"), 'awscli gets the same 100 MiB (sha256)');
unlink "$tmp/big.aws";

($rc, $out, $err) = s3tool(args => [ 'get', 'big/stream.bin', '--range', '52428000-52429999' ]);
my $expect = do {
	open my $fh, '<', "$tmp/big.bin" or die;
	binmode $fh;
	seek $fh, 52428000, 0;
	read $fh, my $buf, 2000;
	$buf;
};
ok($rc == 0 && $out eq $expect, 'a range across the compressible/random boundary matches');

# A stream shorter than one part goes in with one PutObject.
($rc, $out, $err) = s3tool(args => [ '-v', 'upload', 'small/stream.txt' ], stdin => "hello, world\n");
is($rc, 0, 'a small stream is uploaded');
like($out, qr/^size=13 parts=0 multipart=0 /, 'small stream used a single PutObject');
like($err, qr/requests=1 /, '... in one request');
($rc, $out) = s3tool(args => [ 'get', 'small/stream.txt' ]);
is($out, "hello, world\n", 'small stream reads back');

($rc, $out, $err) = s3tool(args => [ 'upload', 'small/empty' ], stdin => '');
like($out, qr/^size=0 parts=0 /, 'an empty stream stores an empty object');
($rc, $out) = s3tool(args => [ 'head', 'small/empty' ]);
like($out, qr/^size=0 /, 'empty object exists with size 0');

# --- credentials ------------------------------------------------------------------------
write_file("$tmp/credentials", "[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n"
	  . "[ripple]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n");
chmod 0600, "$tmp/credentials";
($rc, $out, $err) = s3tool(args => [ '--credentials-file', "$tmp/credentials", '--profile', 'ripple',
		'head', 'small/stream.txt' ],
	env => { AWS_ACCESS_KEY_ID => 'wrong', AWS_SECRET_ACCESS_KEY => 'wrong' });
is($rc, 0, 'credentials from a shared-credentials file and profile work') or diag $err;

($rc, $out, $err) = s3tool(args => [ 'head', 'small/stream.txt' ],
	env => { AWS_SESSION_TOKEN => 'FQoGZXIvYXdzEXAMPLE+token/==' });
is($rc, 0, 'a session token is signed and sent (x-amz-security-token)') or diag $err;

# --- a wrong secret fails at once, without retries ---------------------------------------
my $t0 = time;
($rc, $out, $err) = s3tool(args => [ '-v', '--base-delay', '1', 'put', 'dir/denied', "$tmp/small.bin" ],
	env => { AWS_SECRET_ACCESS_KEY => 'not-the-secret' });
my $elapsed = time - $t0;
is($rc, 1, 'a wrong secret fails');
like($err, qr{PUT s3://test/dir/denied: 403 SignatureDoesNotMatch: The request signature we calculated does not match},
	'the error names operation, bucket, key, status and S3 code');
like($err, qr/requests=1 retries=0/, 'exactly one attempt was made');
unlike($err, qr/retrying/, 'no retry was logged');
ok($elapsed < 1, 'it failed at once') or diag "took $elapsed s";
unlike($err, qr/not-the-secret/, 'the secret does not appear in the output');

($rc, $out, $err) = s3tool(args => [ '-v', '--part-size', '1M', 'upload', 'dir/denied2' ],
	stdin => 'x' x (3 * 1024 * 1024), env => { AWS_SECRET_ACCESS_KEY => 'not-the-secret' });
is($rc, 1, 'a multipart upload with a wrong secret fails');
like($err, qr/403 SignatureDoesNotMatch/, '... with SignatureDoesNotMatch');
unlike($err, qr/retrying/, '... without retries');

# --- bad options ---------------------------------------------------------------------------
($rc, $out, $err) = s3tool(args => [ '--endpoint', 'ftp://x', 'head', 'k' ]);
like($err, qr/invalid S3 endpoint "ftp:\/\/x": scheme must be http or https/, 'a bad endpoint is refused');
($rc, $out, $err) = s3tool(args => [ '--uri-style', 'virtual', 'head', 'k' ]);
like($err, qr/virtual-hosted style needs a host name/, 'virtual-hosted style with an IP endpoint is refused');

$s3->stop;
done_testing();
