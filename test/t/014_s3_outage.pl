# 014_s3_outage.pl — how long the S3 client rides out an outage and how soon it
# gives up on a stalled endpoint, driven through test/tools/s3tool.c with the
# product's default retry policy and circuit breaker:
#   - a multipart upload (48 MiB in 1 MiB parts, 4 in flight) meets a 5 s outage
#     of the S3 test server (stopped and restarted on the same port) and succeeds:
#     the parts in flight share the breaker, and the breaker counts failed
#     requests, not failed attempts, so it cannot cut their retries short; and
#     one through a 12 s outage, most of the documented window of at least 15.5 s;
#   - a multipart upload whose server stays down fails with the real cause
#     (Connection refused), not with the breaker;
#   - the retry schedule is the documented one: 5 retries after the first attempt,
#     each wait in [d/2, d] for d = base, 2 base, 4 base, 8 base, 16 base;
#   - an endpoint that accepts connections and never answers fails the request
#     within the request deadline (--request-timeout, the
#     ripple_backup.s3_request_timeout of the extension), saying it timed out; and a
#     backup through the extension to that endpoint fails within that setting,
#     with the timeout in the catalog's error.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run qw(run start);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(time sleep);
use RippleTest::S3Server;

my $s3tool = "$ENV{RIPPLE_SRC}/build/tools/s3tool";
my $tmp = tempdir('s3outage_XXXX', TMPDIR => 1, CLEANUP => 1);
my $s3 = RippleTest::S3Server->new(bucket => 'test');
my %env = $s3->env;
$ENV{$_} = $env{$_} for keys %env;

sub cmd { ($s3tool, '--endpoint', $s3->endpoint, '--bucket', 'test', @_) }

sub sha_file { RippleTest::S3Server::sha_file(@_) }
sub make_file { RippleTest::S3Server::make_file(@_) }

# Feeds a file to stdout 1 MiB every 0.1 s, so that the upload is still running
# when the outage comes.
my @feeder = ('perl', '-e',
	'open my $f, "<", $ARGV[0] or die; binmode $f; binmode STDOUT; $| = 1;'
	  . ' while (read($f, my $b, 1 << 20)) { print $b; select(undef, undef, undef, 0.1) }');

# Uploads $file to $key in 1 MiB parts, 4 in flight, with the server stopped after
# $after s for $down s (restarted on the same port); returns the exit code, stdout,
# stderr, how long the server was really down and how long the upload took.
sub upload_through_outage {
	my ($file, $key, $after, $down) = @_;
	my ($out, $err) = ('', '');
	my $t0 = time;
	my $h = start([ @feeder, $file ], '|',
		[ cmd('-v', '--part-size', '1M', '--in-flight', '4', 'upload', $key) ],
		'>', \$out, '2>', \$err);
	sleep $after;
	$s3->stop;
	my $stopped = time;
	sleep $down;
	$s3->start;
	my $outage = time - $stopped;
	$h->finish;
	return (($h->results)[1], $out, $err, $outage, time - $t0);
}

# --- a multipart upload through a 5 s outage ---------------------------------------------
make_file("$tmp/big.bin", 48, 11);
{
	my ($rc, $out, $err, $outage, $elapsed) = upload_through_outage("$tmp/big.bin", 'outage/big.bin', 1.5, 5);
	is($rc, 0, 'a multipart upload survives a 5 s outage of the server')
	  or diag "outage ${outage}s; stderr:\n" . substr($err, -3000);
	like($err, qr/s3: PUT part \d+ of outage\/big\.bin failed: could not connect to endpoint http:\/\/127\.0\.0\.1:\d+: Connection refused; retrying in [\d.]+ s \(attempt 2 of 6\)/,
		'the parts in flight met the outage and were retried');
	unlike($err, qr/circuit breaker/, 'the breaker neither opened nor cut a retry short');
	like($out, qr/^size=50331648 parts=48 multipart=1 /, 'all 48 MiB went up in 48 parts');
	ok(eval { $s3->fetch_object('outage/big.bin', "$tmp/big.aws") }, 'awscli reads the object');
	is(-e "$tmp/big.aws" ? sha_file("$tmp/big.aws") : 'none', sha_file("$tmp/big.bin"), 'the object is byte-identical');
	ok($elapsed < 60, 'within a minute') or diag "took $elapsed s";
}

# --- ... and through a 12 s outage: most of the documented window (15.5 s at least) ---
make_file("$tmp/long.bin", 12, 13);
{
	my ($rc, $out, $err, $outage) = upload_through_outage("$tmp/long.bin", 'outage/long.bin', 0.5, 12);
	is($rc, 0, sprintf('a multipart upload survives a 12 s outage (it lasted %.1f s)', $outage))
	  or diag substr($err, -3000);
	like($err, qr/\(attempt [45] of 6\)/, 'the parts went deep into their retry schedule');
	like($out, qr/^size=12582912 parts=12 multipart=1 /, 'all 12 MiB went up');
}

# --- a multipart upload whose server stays down ------------------------------------------
make_file("$tmp/mid.bin", 12, 12);
{
	my ($out, $err) = ('', '');
	my $h = start([ @feeder, "$tmp/mid.bin" ], '|',
		[ cmd('-v', '--part-size', '1M', '--in-flight', '4', '--max-attempts', '4', '--base-delay', '0.05',
				'upload', 'outage/mid.bin') ],
		'>', \$out, '2>', \$err);
	sleep 0.5;
	$s3->stop;
	$h->finish;
	is(($h->results)[1], 1, 'the upload fails when the server stays down');
	like($err, qr{s3tool: PUT part \d+ of s3://test/outage/mid\.bin: could not connect to endpoint http://127\.0\.0\.1:\d+: Connection refused \(gave up after 4 attempts\)},
		'the error is the real cause, with the part and the attempts');
	unlike($err, qr/s3tool: .*circuit breaker/, 'it does not name the breaker');
	$s3->start;
	my @keys = $s3->list_keys('outage/mid');
	is(scalar @keys, 0, 'nothing is listed at the key');
}

# --- the retry schedule ----------------------------------------------------------------------
{
	my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp', Listen => 1)
	  or die "listen: $!";
	my $port = $sock->sockport;
	close $sock;    # nobody listens there now: every attempt is refused at once
	my ($out, $err) = ('', '');
	run([ $s3tool, '--endpoint', "http://127.0.0.1:$port", '-v', '--base-delay', '0.1',
			'put', 'sched/x', "$tmp/mid.bin" ], '<', \undef, '>', \$out, '2>', \$err);
	is($? >> 8, 1, 'a request to a closed port fails');
	my @waits = $err =~ /retrying in ([\d.]+) s \(attempt \d+ of 6\)/g;
	is(scalar @waits, 5, 'the default policy retries 5 times after the first attempt') or diag $err;
	for my $n (1 .. 5) {
		my $d = 0.1 * 2**($n - 1);
		my $w = $waits[ $n - 1 ] // -1;
		ok($w >= $d / 2 - 0.051 && $w <= $d + 0.051, "wait $n ($w s) is within [d/2, d] for d = $d s");
	}
	like($err, qr{PUT s3://test/sched/x: could not connect to endpoint http://127\.0\.0\.1:\d+: Connection refused \(gave up after 6 attempts\)},
		'it gave up after 6 attempts');
}

# --- a stalled endpoint: accepts connections and never answers ------------------------------
{
	my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
		Listen => 16, ReuseAddr => 1) or die "listen: $!";
	my $port = $sock->sockport;    # the kernel completes the handshakes; nobody reads
	# A HEAD shows each attempt ending at the low-speed timeout.  A PUT's body fills
	# the socket buffers first, and curl averages the speed over a few seconds, so
	# its attempts may outlast the low-speed time: only its deadline is asserted.
	for my $op ([ 'head', 'stall/x' ], [ 'put', 'stall/y', "$tmp/mid.bin" ]) {
		my ($out, $err) = ('', '');
		my $t0 = time;
		run([ $s3tool, '--endpoint', "http://127.0.0.1:$port", '-v', '--low-speed-time', '2',
				'--request-timeout', '5', @$op ], '<', \undef, '>', \$out, '2>', \$err);
		my $rc = $? >> 8;
		my $elapsed = time - $t0;
		my $m = uc $op->[0];
		is($rc, 1, "$op->[0] to a stalled endpoint fails");
		if ($op->[0] eq 'head') {
			like($err, qr/s3: HEAD stall\/x failed: timed out: Operation too slow\..*; retrying/,
				'head: each stalled attempt ends at the low-speed timeout and says it timed out');
			like($err, qr{s3tool: HEAD s3://test/stall/x: timed out: no success within the request deadline of 5 s \(\d attempts; last error: timed out: .*\)},
				'head: the final error says the request deadline passed, with the last error');
		} else {
			like($err, qr{s3tool: PUT s3://test/stall/y: timed out: no success within the request deadline of 5 s \(\d attempts?[;)]},
				'put: the final error says the request deadline passed');
		}
		ok($elapsed >= 4.5 && $elapsed < 8, "$op->[0]: it failed at the 5 s deadline, not after 6 stalled attempts")
		  or diag "took $elapsed s";
	}

	# the same endpoint behind a backup of the extension
	my $node = RippleTest::Cluster->new_node('stall', s3 => $s3, prefix => 'stall',
		conf => "ripple_backup.s3_endpoint = 'http://127.0.0.1:$port'\n"
		  . "ripple_backup.s3_request_timeout = '3s'\n");
	is($node->safe_psql('postgres', 'SHOW ripple_backup.s3_request_timeout'), '3s',
		'ripple_backup.s3_request_timeout is a setting');
	my $t0 = time;
	my $id = RippleTest::Cluster::backup_now($node, 'postgres', 'stalled endpoint');
	is(RippleTest::Cluster::wait_backup($node, $id, '3 minutes'), 'failed', 'a backup to a stalled endpoint fails');
	my $elapsed = time - $t0;
	my $row = RippleTest::Cluster::backup_row($node, $id);
	like($row->{error} // '', qr/timed out: no success within the request deadline of 3 s/,
		'the catalog says the request timed out') or diag $row->{error};
	ok($elapsed < 20, 'within the request deadline and the clean-up, not after 6 stalled attempts of 30 s')
	  or diag "took $elapsed s";
	$node->stop;
	close $sock;
}

done_testing();
