# 011_sigv4_botocore.pl — cross-checks src/core's SigV4 signer against botocore (the
# copy bundled in Debian's awscli) for every request shape the S3 client sends:
# both sign the same request description at the same fixed time, and the URL, the
# canonical request, the string to sign, the signed headers, the signature, the
# Authorization header and x-amz-content-sha256 must be byte-identical.
#   ours:     build/tools/sigv4_sign     (test/tools/sigv4_sign.c)
#   botocore: test/tools/botocore_sign.py, run with /usr/bin/python3
use strict;
use warnings;
use IPC::Run qw(run);
use Test::More;

my $src = $ENV{RIPPLE_SRC} or die "RIPPLE_SRC is not set";
my $ours = "$src/build/tools/sigv4_sign";
my $boto = "$src/test/tools/botocore_sign.py";
my $python = '/usr/bin/python3';

ok(-x $ours, 'sigv4_sign is built');
ok(-x $python && -d '/usr/lib/python3/dist-packages/awscli/botocore',
	"Debian's awscli (bundled botocore) is installed");

my %doc_cred = (access_key => 'AKIAIOSFODNN7EXAMPLE',
	secret_key => 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
my %test_cred = (access_key => 'AKIATESTCROSSCHECK',
	secret_key => 'tEsT/sEcReT+kEy=ForThe/CrossCheck0123456789');
my $token = 'IQoJb3JpZ2luX2VjEDAaCXVzLWVhc3QtMSJHMEUCIQD+/token/with+plus/and=equals==';
my %base = (scheme => 'http', host => '127.0.0.1:9000', region => 'us-east-1',
	time => '20240229T235959Z', %test_cred);

sub hexof { return unpack('H*', $_[0]) }

my $part = join('', map { chr(($_ * 7 + 3) % 256) } 0 .. 4095);
my $complete_xml = '<?xml version="1.0" encoding="UTF-8"?>' . "\n"
  . '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
  . '<Part><PartNumber>1</PartNumber><ETag>&quot;0b6f7ad1b4e9bc7d6b3b1b8f3a5a11a2&quot;</ETag></Part>'
  . '<Part><PartNumber>2</PartNumber><ETag>&quot;9f1f9dce319c4700ef28ec8c53bd3cc8&quot;</ETag></Part>'
  . '</CompleteMultipartUpload>';
my $delete_xml = '<?xml version="1.0" encoding="UTF-8"?>' . "\n"
  . '<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>'
  . '<Object><Key>db/a b.dump</Key></Object><Object><Key>db/&amp;x</Key></Object></Delete>';
my $upload_id = 'VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA+/=~';
my $odd_key = "db/odd key+plus=equals~tilde \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 !*'()\$&,;:@[]#%?.dump";

# name => [ description lines ]
my @cases = (
	[ 'S3 documentation: GET object with Range (anchor)',
	  { %doc_cred, scheme => 'https', host => 'examplebucket.s3.amazonaws.com',
		time => '20130524T000000Z', region => 'us-east-1', method => 'GET', path => '/test.txt',
		headers => ['Range: bytes=0-9'] },
	  'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41' ],
	[ 'PutObject with Content-MD5 and Content-Type',
	  { %base, method => 'PUT', path => '/bucket/db/2024/backup.dump.zst',
		headers => ['Content-MD5: @body', 'Content-Type: application/octet-stream'],
		body => $part } ],
	[ 'PutObject of an empty body',
	  { %base, method => 'PUT', path => '/bucket/db/empty',
		headers => ['Content-MD5: @body', 'Content-Type: application/json'], body => '' } ],
	[ 'CreateMultipartUpload (?uploads)',
	  { %base, method => 'POST', path => '/bucket/db/big.dump.zst', query => ['uploads'],
		headers => ['Content-Type: application/octet-stream'] } ],
	[ 'UploadPart (?partNumber&uploadId)',
	  { %base, method => 'PUT', path => '/bucket/db/big.dump.zst',
		query => ['partNumber=10', "uploadId=$upload_id"],
		headers => ['Content-MD5: @body'], body => $part } ],
	[ 'CompleteMultipartUpload (?uploadId)',
	  { %base, method => 'POST', path => '/bucket/db/big.dump.zst',
		query => ["uploadId=$upload_id"],
		headers => ['Content-Type: application/xml', 'Content-MD5: @body'],
		body => $complete_xml } ],
	[ 'PutObject that must not replace (If-None-Match: *)',
	  { %base, method => 'PUT', path => '/bucket/db/2024/backup.dump.zst',
		headers => ['Content-MD5: @body', 'Content-Type: application/octet-stream', 'If-None-Match: *'],
		body => $part } ],
	[ 'CompleteMultipartUpload that must not replace (If-None-Match: *)',
	  { %base, method => 'POST', path => '/bucket/db/big.dump.zst',
		query => ["uploadId=$upload_id"],
		headers => ['Content-Type: application/xml', 'If-None-Match: *'],
		body => $complete_xml } ],
	[ 'AbortMultipartUpload',
	  { %base, method => 'DELETE', path => '/bucket/db/big.dump.zst',
		query => ["uploadId=$upload_id"] } ],
	[ 'GetObject with Range',
	  { %base, method => 'GET', path => '/bucket/db/big.dump.zst',
		headers => ['Range: bytes=16777216-33554431'] } ],
	[ 'HeadObject',
	  { %base, method => 'HEAD', path => '/bucket/db/big.dump.zst' } ],
	[ 'ListObjectsV2, first page',
	  { %base, method => 'GET', path => '/bucket',
		query => ['list-type=2', 'prefix=db/2024 x/', 'max-keys=1000'] } ],
	[ 'ListObjectsV2 with a continuation token (+ / = chars) and delimiter',
	  { %base, method => 'GET', path => '/bucket',
		query => ['list-type=2', 'prefix=db/',
				  'continuation-token=1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM+x==',
				  'max-keys=1000', 'delimiter=/'] } ],
	[ 'DeleteObject',
	  { %base, method => 'DELETE', path => '/bucket/db/old.dump.zst' } ],
	[ 'DeleteObjects (?delete with Content-MD5)',
	  { %base, method => 'POST', path => '/bucket', query => ['delete'],
		headers => ['Content-MD5: @body', 'Content-Type: application/xml'],
		body => $delete_xml } ],
	[ 'keys with spaces, unicode, +, =, ~ and reserved characters, session token',
	  { %base, method => 'PUT', path => "/bucket/$odd_key", token => $token,
		headers => ['Content-MD5: @body'], body => 'x' } ],
	[ 'GetObject of the odd key with a session token',
	  { %base, method => 'GET', path => "/bucket/$odd_key", token => $token,
		headers => ['Range: bytes=0-0'] } ],
	[ 'UploadPart with a session token',
	  { %base, method => 'PUT', path => '/bucket/db/t.dump', token => $token,
		query => ['uploadId=abc', 'partNumber=1'], headers => ['Content-MD5: @body'],
		body => $part } ],
	[ 'virtual-hosted style over https (default port), another region',
	  { %doc_cred, scheme => 'https', host => 'my-bucket.s3.eu-west-1.amazonaws.com',
		region => 'eu-west-1', time => '20241231T120000Z', method => 'GET', path => '/',
		query => ['list-type=2', 'prefix=a b/'] } ],
	[ 'custom endpoint with a port, path-style, keys with slashes',
	  { %base, host => 'minio.internal:9000', method => 'PUT',
		path => '/backups/prod/db/2024/01/02/03-04-05.dump.zst',
		headers => ['Content-MD5: @body'], body => $part } ],
	[ 'header values with runs of spaces are normalised alike',
	  { %base, method => 'PUT', path => '/bucket/k',
		headers => ['Content-Type:   text/plain;   charset=utf-8  ', 'x-amz-meta-note: a  b   c'],
		body => 'hello' } ],
	[ 'UNSIGNED-PAYLOAD',
	  { %base, method => 'PUT', path => '/bucket/k', payload => 'UNSIGNED-PAYLOAD',
		body => 'streamed' } ],
);

sub description {
	my ($d) = @_;
	my $text = '';
	for my $f (qw(scheme method host path region time access_key secret_key token payload)) {
		$text .= "$f=$d->{$f}\n" if defined $d->{$f};
	}
	$text .= "service=s3\n";
	$text .= "query=$_\n" for @{ $d->{query} // [] };
	$text .= "header=$_\n" for @{ $d->{headers} // [] };
	$text .= 'body_hex=' . hexof($d->{body}) . "\n" if defined $d->{body};
	return $text;
}

sub sign {
	my ($cmd, $input) = @_;
	my ($out, $err) = ('', '');
	my $ok = run($cmd, '<', \$input, '>', \$out, '2>', \$err);
	my %r;
	for my $line (split /\n/, $out) {
		my ($k, $v) = split /=/, $line, 2;
		next unless defined $v;
		if (exists $r{$k}) { $r{$k} .= "\n$v" } else { $r{$k} = $v }
	}
	return ($ok, \%r, $err);
}

my @fields = qw(url canonical_request_hex string_to_sign_hex signed_headers signature
  authorization content_sha256 security_token_set header);

for my $case (@cases) {
	my ($name, $d, $want_sig) = @$case;
	my $input = description($d);
	my ($ok1, $a, $err1) = sign([$ours], $input);
	my ($ok2, $b, $err2) = sign([$python, $boto], $input);
	ok($ok1, "$name: ours signs") or diag($err1);
	ok($ok2, "$name: botocore signs") or diag($err2);
	for my $f (@fields) {
		is($a->{$f}, $b->{$f}, "$name: same $f");
	}
	if (($a->{canonical_request_hex} // '') ne ($b->{canonical_request_hex} // '')) {
		diag("ours:\n" . pack('H*', $a->{canonical_request_hex} // ''));
		diag("botocore:\n" . pack('H*', $b->{canonical_request_hex} // ''));
	}
	like($a->{signature} // '', qr/^[0-9a-f]{64}$/, "$name: a signature");
	is($a->{signature}, $want_sig, "$name: the published signature") if $want_sig;
	unlike(join("\n", values %$a), qr/\Q$d->{secret_key}\E/, "$name: no secret in our output");
	is($a->{security_token_set}, ($d->{token} ? 1 : 0), "$name: token header iff a token");
}

# The comparison can fail: a different secret on one side gives another signature.
{
	my ($name, $d) = @{ $cases[1] };
	my %other = (%$d, secret_key => 'another-secret');
	my (undef, $a) = sign([$ours], description($d));
	my (undef, $b) = sign([$python, $boto], description(\%other));
	isnt($a->{signature}, $b->{signature}, 'a different secret gives a different signature');
	is($a->{canonical_request_hex}, $b->{canonical_request_hex},
		'...with the same canonical request');
}

# Bad input is refused, not signed.
{
	my %bad = (%base, method => 'GET', path => '/b/k', headers => ["X-Evil: a\rb"]);
	my ($ok, undef, $err) = sign([$ours], description(\%bad));
	ok(!$ok, 'a header value with CR is refused');
}

done_testing();
