# 012_s3_resilience.pl — the S3 client when the network or the server fails, driven
# through test/tools/s3tool.c against the S3 test server (s3rver) and two stand-ins:
#   - the server is down at the start and comes up within the retry window: the
#     streaming upload succeeds;
#   - the server is killed in the middle of a multipart upload: the upload fails
#     after its retries with a clear error, and no object appears at the key;
#   - the circuit breaker (kept in a file, as the extension keeps it in shared
#     memory) opens after 5 failures, fails fast, half-opens after the interval the
#     test sets, re-opens when the trial fails and closes when it succeeds; it
#     counts failed requests, not failed attempts, so inside one process it never
#     cuts a request's retries short, and its fast failure names the last real
#     error;
#   - 503 SlowDown is retried and then reported; a stalled server is detected by
#     the low-speed timeout; a SIGTERM stops a client waiting in backoff at once.
use strict;
use warnings;
use Digest::MD5;
use Digest::SHA;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run qw(run start);
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);
use RippleTest::S3Server;

my $s3tool = "$ENV{RIPPLE_SRC}/build/tools/s3tool";
my $tmp = tempdir('s3resil_XXXX', TMPDIR => 1, CLEANUP => 1);
my $s3 = RippleTest::S3Server->new(bucket => 'test', no_start => 1);
my %env = $s3->env;
$ENV{$_} = $env{$_} for keys %env;

sub cmd { ($s3tool, '--endpoint', $s3->endpoint, '--bucket', 'test', @_) }

sub s3tool {
	my @args = @_;
	my ($out, $err) = ('', '');
	run([ cmd(@args) ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub sha_file { RippleTest::S3Server::sha_file(@_) }
sub make_file { RippleTest::S3Server::make_file(@_) }

# --- the server is down at the start and comes up within the retry window ------------
make_file("$tmp/start.bin", 12, 1);
{
	my ($out, $err) = ('', '');
	my $t0 = time;
	my $h = start([ cmd('-v', '--part-size', '5M', '--max-attempts', '8', '--base-delay', '0.25',
				'--max-delay', '2', '--breaker-threshold', '50', 'upload', 'down/start.bin') ],
		'<', "$tmp/start.bin", '>', \$out, '2>', \$err);
	sleep 0.7;
	$s3->start;
	$h->finish;
	is(($h->results)[0], 0, 'upload started while the server was down succeeds once it is up') or diag $err;
	like($err, qr/s3: POST create multipart upload of down\/start\.bin failed: could not connect to endpoint http:\/\/127\.0\.0\.1:\d+: Connection refused; retrying in [\d.]+ s \(attempt 2 of 8\)/,
		'the failed attempts were logged with the reason, the delay and the attempt number');
	like($out, qr/^size=12582912 parts=3 multipart=1 /, 'all 12 MiB went up in 3 parts');
	ok($s3->fetch_object('down/start.bin', "$tmp/start.aws"), 'awscli reads the object');
	is(sha_file("$tmp/start.aws"), sha_file("$tmp/start.bin"), 'the object is byte-identical');
}

# --- the server is killed in the middle of a multipart upload ----------------------------
make_file("$tmp/p1.bin", 3, 2);
make_file("$tmp/p2.bin", 4, 3);
{
	my ($out, $err) = ('', '');
	my $t0 = time;
	my $h = start([ 'sh', '-c', "cat $tmp/p1.bin; sleep 1.5; cat $tmp/p2.bin 2>/dev/null" ], '|',
		[ cmd('-v', '--part-size', '1M', '--in-flight', '2', '--max-attempts', '3', '--base-delay', '0.05',
				'--breaker-threshold', '100', 'upload', 'killed/obj.bin') ],
		'>', \$out, '2>', \$err);
	sleep 0.8;    # parts 1-3 are up by now; part 4 is filling
	$s3->stop;
	$h->finish;
	my @rc = $h->results;
	my $elapsed = time - $t0;
	is($rc[1], 1, 'the upload fails when the server dies in the middle');
	like($err, qr/s3: PUT part \d+ of killed\/obj\.bin failed: could not connect to endpoint http:\/\/127\.0\.0\.1:\d+: Connection refused; retrying in [\d.]+ s \(attempt 2 of 3\)/,
		'the failed part was retried alone');
	like($err, qr{s3tool: PUT part \d+ of s3://test/killed/obj\.bin: could not connect to endpoint http://127\.0\.0\.1:\d+: Connection refused \(gave up after 3 attempts\)},
		'the error names the part, the object, the reason and the attempts');
	like($err, qr/could not abort the multipart upload of killed\/obj\.bin/,
		'the abort was attempted (and, with the server down, reported as a warning)');
	ok($elapsed < 10, 'it gave up promptly') or diag "took $elapsed s";
	is($out, '', 'no success line was printed');
	$s3->start;
	my ($rc) = s3tool('head', 'killed/obj.bin');
	is($rc, 4, 'no object appears at the key');
	my @keys = $s3->list_keys('killed/');
	is(scalar @keys, 0, 'awscli lists nothing under killed/');
}

# --- the circuit breaker across processes (kept in a file) ------------------------------
{
	my $bf = "$tmp/breaker";
	my @b = ('--max-attempts', '1', '--breaker-file', $bf, '--breaker-threshold', '5',
		'--breaker-open-ms', '1500');
	my ($rc, $out, $err) = s3tool(@b, 'put', 'breaker/obj', "$tmp/p1.bin");
	is($rc, 0, 'an object for the breaker test is stored');
	$s3->stop;
	for my $i (1 .. 5) {
		($rc, $out, $err) = s3tool(@b, 'head', 'breaker/obj');
		is($rc, 1, "request $i with the server down fails");
		like($err, qr/Connection refused/, "request $i reached the network (connection refused)");
	}
	($rc, $out, $err) = s3tool(@b, 'breaker-state');
	like($out, qr/^state=open consecutive_failures=5 times_opened=1 /, 'the breaker opened after 5 failures');
	my $t0 = time;
	($rc, $out, $err) = s3tool(@b, 'head', 'breaker/obj');
	my $elapsed = time - $t0;
	is($rc, 3, 'the sixth request fails fast with the breaker open');
	like($err, qr{HEAD s3://test/breaker/obj: could not connect to endpoint http://127\.0\.0\.1:\d+: Connection refused \(the last error of http://127\.0\.0\.1:\d+; circuit breaker open after 5 consecutive failures, failing fast: next trial in [\d.]+ s\)},
		'the fast-fail message names the real cause, the endpoint and the failures');
	ok($elapsed < 0.5, 'it did not wait for the network') or diag "took $elapsed s";

	sleep 1.6;
	($rc, $out, $err) = s3tool(@b, 'head', 'breaker/obj');
	is($rc, 1, 'after the interval one trial request goes through (half-open)');
	like($err, qr/Connection refused/, 'the trial met the dead server');
	($rc, $out) = s3tool(@b, 'breaker-state');
	like($out, qr/^state=open .*times_opened=2 /, 'the failed trial opened the breaker again');
	($rc, $out, $err) = s3tool(@b, 'head', 'breaker/obj');
	is($rc, 3, 'and it fails fast again');

	$s3->start;
	sleep 1.6;
	($rc, $out, $err) = s3tool(@b, 'head', 'breaker/obj');
	is($rc, 0, 'after the interval, with the server back, the trial succeeds') or diag $err;
	($rc, $out) = s3tool(@b, 'breaker-state');
	like($out, qr/^state=closed consecutive_failures=0 /, 'the success closed the breaker');
}

# --- inside one process the breaker does not cut a request's retries short ---------------
$s3->stop;
{
	my ($rc, $out, $err) = s3tool('-v', '--max-attempts', '10', '--base-delay', '0.02', '--max-delay', '0.05',
		'put', 'breaker/x', "$tmp/p1.bin");
	is($rc, 1, 'with 10 attempts allowed and a breaker of 5 failures, the request runs its whole schedule');
	my @retries = $err =~ /retrying in/g;
	is(scalar @retries, 9, 'nine attempts failed and were retried; none was refused');
	like($err, qr{PUT s3://test/breaker/x: could not connect to endpoint http://127\.0\.0\.1:\d+: Connection refused \(gave up after 10 attempts\)},
		'the error is the real cause');
	unlike($err, qr/circuit breaker/, 'one failed request does not open the breaker');
	like($err, qr/requests=10 /, 'all ten attempts reached the network');
}

# --- cancellation during a backoff sleep --------------------------------------------------
{
	my ($out, $err) = ('', '');
	my $h = start([ cmd('-v', '--max-attempts', '5', '--base-delay', '5', 'put', 'cancel/x', "$tmp/p1.bin") ],
		'<', \undef, '>', \$out, '2>', \$err);
	sleep 1;
	my $t0 = time;
	$h->signal('TERM');
	$h->finish;
	my $elapsed = time - $t0;
	is(($h->results)[0], 5, 'SIGTERM during a 5 s backoff stops the request (cancelled)');
	like($err, qr{PUT s3://test/cancel/x: cancelled}, 'the error says it was cancelled');
	ok($elapsed < 1, 'it stopped within a second') or diag "took $elapsed s";
}

# --- a server that answers 503 SlowDown, and one that never answers ----------------------
# A stand-in HTTP server in a child process.  mode: 'slowdown' answers 503 SlowDown
# to everything; 'stall' accepts connections and never answers; 'resume' answers
# the first GET with 200 and half of a 1000-byte body, then drops the connection,
# and answers a GET with "Range: bytes=500-" and the right If-Match with 206 and
# the rest (anything else gets 400, so a wrong resume fails the test);
# 'complete-lost' loses the answer of a CompleteMultipartUpload that took effect.
sub fake_server {
	my ($mode) = @_;
	my $respond = $mode ne 'stall';
	my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
		Listen => 16, ReuseAddr => 1) or die "listen: $!";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		if (!$respond) { sleep 60; POSIX::_exit(0); }    # accept nothing, answer nothing
		my (%parts, $completed);
		while (my $c = $sock->accept) {
			my ($hdr, $len) = ('', 0);
			while (my $line = <$c>) {
				$hdr .= $line;
				$len = $1 if $line =~ /^content-length:\s*(\d+)/i;
				last if $line eq "\r\n";
			}
			read($c, my $body, $len) if $len;
			my ($method, $target) = $hdr =~ /^(\S+) (\S+)/;
			if ($mode eq 'badetag' || $mode eq 'kms') {
				my $extra = $mode eq 'kms' ? "x-amz-server-side-encryption: aws:kms\r\n" : '';
				print $c "HTTP/1.1 200 OK\r\nETag: \"0123456789abcdef0123456789abcdef\"\r\n$extra"
				  . "Content-Length: 0\r\nConnection: close\r\n\r\n";
				close $c;
				next;
			}
			if ($mode eq 'complete-lost') {
				# the first complete takes effect but its answer is lost (the
				# connection drops); the retries find the upload gone (500, as
				# s3rver answers); HEAD shows the object the first one completed
				my ($xml, $hdrs, $status) = ('', '', '200 OK');
				if ($method eq 'POST' && $target =~ /[?&]uploads=/) {
					$xml = '<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult>'
					  . '<Bucket>test</Bucket><Key>k</Key><UploadId>U1</UploadId></InitiateMultipartUploadResult>';
				} elsif ($method eq 'PUT') {
					my ($n) = $target =~ /[?&]partNumber=(\d+)/;
					$parts{$n} = Digest::MD5::md5($body // '');
					$hdrs = 'ETag: "' . Digest::MD5::md5_hex($body // '') . "\"\r\n";
				} elsif ($method eq 'POST' && !$completed++) {
					close $c;
					next;
				} elsif ($method eq 'POST') {
					$status = '500 Internal Server Error';
					$xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
					  . '<Message>We encountered an internal error. Please try again.</Message></Error>';
				} elsif ($method eq 'HEAD') {
					my @n = sort { $a <=> $b } keys %parts;
					$hdrs = 'ETag: "' . Digest::MD5::md5_hex(join('', @parts{@n})) . '-' . scalar(@n) . "\"\r\n"
					  . "Content-Length: 0\r\n";
				} elsif ($method eq 'DELETE') {
					$status = '204 No Content';
				}
				print $c "HTTP/1.1 $status\r\n$hdrs" . ($method eq 'HEAD' ? '' : "Content-Length: " . length($xml) . "\r\n")
				  . "Connection: close\r\n\r\n$xml";
				close $c;
				next;
			}
			if ($mode eq 'complete-error') {
				my $xml = '';
				my $etag = '';
				my $status = '200 OK';
				if ($method eq 'POST' && $target =~ /[?&]uploads=/) {
					$xml = '<?xml version="1.0" encoding="UTF-8"?><InitiateMultipartUploadResult>'
					  . '<Bucket>test</Bucket><Key>k</Key><UploadId>U1</UploadId></InitiateMultipartUploadResult>';
				} elsif ($method eq 'PUT') {
					$etag = 'ETag: "' . Digest::MD5::md5_hex($body // '') . "\"\r\n";
				} elsif ($method eq 'POST') {
					$xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code>'
					  . '<Message>We encountered an internal error. Please try again.</Message></Error>';
				} elsif ($method eq 'DELETE') {
					$status = '204 No Content';
				}
				print $c "HTTP/1.1 $status\r\n$etag" . "Content-Length: " . length($xml)
				  . "\r\nConnection: close\r\n\r\n$xml";
				close $c;
				next;
			}
			if ($mode eq 'resume') {
				my $obj = join('', map { chr(65 + $_ % 26) } 0 .. 999);
				if ($hdr !~ /^range:/mi) {
					print $c "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nETag: \"e1\"\r\n\r\n"
					  . substr($obj, 0, 500);
				} elsif ($hdr =~ /^range: bytes=500-\r$/mi && $hdr =~ /^if-match: "e1"\r$/mi) {
					print $c "HTTP/1.1 206 Partial Content\r\nContent-Length: 500\r\n"
					  . "Content-Range: bytes 500-999/1000\r\nETag: \"e1\"\r\n\r\n" . substr($obj, 500);
				} else {
					print $c "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
				}
				close $c;
				next;
			}
			my $xml = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code>'
			  . '<Message>Please reduce your request rate.</Message></Error>';
			print $c "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\n"
			  . "Content-Length: " . length($xml) . "\r\nConnection: close\r\n\r\n$xml";
			close $c;
		}
		POSIX::_exit(0);
	}
	return ($pid, $sock->sockport, $sock);
}

{
	my ($pid, $port, $sock) = fake_server('slowdown');
	my ($out, $err) = ('', '');
	run([ $s3tool, '--endpoint', "http://127.0.0.1:$port", '-v', '--max-attempts', '3', '--base-delay', '0.05',
			'put', 'slow/x', "$tmp/p1.bin" ], '<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	kill 'KILL', $pid;
	waitpid $pid, 0;
	is($rc, 1, 'a server that keeps answering 503 SlowDown makes the request fail');
	like($err, qr/s3: PUT slow\/x failed: 503 SlowDown: Please reduce your request rate\.; retrying in [\d.]+ s \(attempt 2 of 3\)/,
		'503 SlowDown was retried');
	like($err, qr{PUT s3://test/slow/x: 503 SlowDown: Please reduce your request rate\. \(gave up after 3 attempts\)},
		'the final error carries status, code, message and attempts');
}

{
	my ($pid, $port, $sock) = fake_server('stall');
	my ($out, $err) = ('', '');
	my $t0 = time;
	run([ $s3tool, '--endpoint', "http://127.0.0.1:$port", '-v', '--max-attempts', '2', '--base-delay', '0.05',
			'--low-speed-time', '1', 'head', 'stalled/x' ], '<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	my $elapsed = time - $t0;
	kill 'KILL', $pid;
	waitpid $pid, 0;
	is($rc, 1, 'a server that never answers makes the request fail');
	like($err, qr/s3: HEAD stalled\/x failed: .*(too slow|timed out).*; retrying/i, 'the stall was detected and retried');
	ok($elapsed >= 1.5 && $elapsed < 6, 'after the low-speed time of each attempt') or diag "took $elapsed s";
}

{
	my ($pid, $port, $sock) = fake_server('resume');
	my ($out, $err) = ('', '');
	run([ $s3tool, '--endpoint', "http://127.0.0.1:$port", '-v', '--max-attempts', '3', '--base-delay', '0.05',
			'get', 'resume/x' ], '<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	kill 'KILL', $pid;
	waitpid $pid, 0;
	is($rc, 0, 'a GET cut off in the middle succeeds on retry') or diag $err;
	is($out, join('', map { chr(65 + $_ % 26) } 0 .. 999), 'the body arrives whole, no byte twice');
	like($err, qr/s3: GET resume\/x failed: .*; retrying/, 'the cut was logged as a retry');
	like($err, qr/requests=2 /, 'the second request resumed from byte 500 with If-Match');
}

# Runs s3tool against a stand-in server; returns (exit code, stderr).
sub against_fake {
	my ($mode, @args) = @_;
	my ($pid, $port, $sock) = fake_server($mode);
	my ($out, $err) = ('', '');
	run([ $s3tool, '--endpoint', "http://127.0.0.1:$port", '-v', '--max-attempts', '2', '--base-delay', '0.05',
			@args ], '<', "$tmp/p1.bin", '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	kill 'KILL', $pid;
	waitpid $pid, 0;
	return ($rc, $err, $out);
}

{
	my ($rc, $err) = against_fake('badetag', 'put', 'etag/x', "$tmp/p1.bin");
	is($rc, 1, 'an ETag that is not the MD5 of the bytes sent fails the PUT');
	like($err, qr/s3: PUT etag\/x failed: ETag "0123456789abcdef0123456789abcdef" returned by the server does not match the MD5 [0-9a-f]{32} of the bytes sent; retrying/,
		'the mismatch was retried');
	like($err, qr{PUT s3://test/etag/x: ETag .* does not match .*\(gave up after 2 attempts\)}, 'then reported');

	($rc, $err) = against_fake('kms', 'put', 'etag/kms', "$tmp/p1.bin");
	is($rc, 0, 'with SSE-KMS the ETag is not an MD5 and is not compared') or diag $err;

	($rc, $err) = against_fake('complete-error', '--part-size', '1M', 'upload', 'k');
	is($rc, 1, 'a 200 answer to CompleteMultipartUpload with an <Error> inside is a failure');
	like($err, qr/s3: POST complete multipart upload of k failed: .*InternalError: We encountered an internal error\. Please try again\.; retrying/,
		'the InternalError inside the 200 was retried');
	like($err, qr{s3tool: POST complete multipart upload of s3://test/k: .*InternalError.*\(gave up after 2 attempts\)},
		'then reported with the S3 code');
	like($err, qr/s3: aborted the multipart upload of k/, 'and the upload was aborted');
	like($err, qr/requests=8 /, 'create, 3 parts, 2 completes, a HEAD (was an earlier complete done?), 1 abort');

	# the answer of a complete that took effect is lost; its retries find the
	# upload gone: the object at the key is the one it completed, so it succeeded
	($rc, $err, my $out) = against_fake('complete-lost', '--part-size', '1M', 'upload', 'k');
	is($rc, 0, 'a complete whose answer was lost, and whose retries fail, succeeded when the object is ours') or diag $err;
	like($err, qr/s3: POST complete multipart upload of k failed: .*; retrying/, 'the lost answer was retried');
	like($err, qr/s3: complete multipart upload of k: the object at the key is the one an earlier attempt completed/,
		'and the object at the key was recognised by its multipart ETag');
	unlike($err, qr/aborted the multipart upload/, 'nothing was aborted');
	like($out, qr/^size=\d+ parts=3 multipart=1 /, 'the result names the 3 parts');
}

done_testing();
