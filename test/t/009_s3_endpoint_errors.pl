# 009_s3_endpoint_errors.pl — an endpoint that cannot be reached is named in the
# error, and a host name that does not resolve is reported as such and retried
# once only (a name that does not resolve is rarely a passing failure), through
# the S3 client (test/tools/s3tool.c) and through a backup of the extension:
#   - connection refused: "could not connect to endpoint http://127.0.0.1:1:
#     Connection refused (gave up after N attempts)", every attempt made;
#   - a connection never completed (a listener that never answers the TLS
#     handshake): "timed out: could not connect to endpoint https://...", while a
#     request sent and never answered stays a stalled transfer;
#   - a name under .invalid (which never resolves): "could not resolve host
#     "x.invalid" of endpoint http://x.invalid:9000 (gave up after 2 attempts)":
#     2 requests whatever the retry policy, virtual-hosted names included.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run qw(run);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time);

my $s3tool = "$ENV{RIPPLE_SRC}/build/tools/s3tool";
my $tmp = tempdir('s3unreach_XXXX', TMPDIR => 1, CLEANUP => 1);
my $s3 = RippleTest::S3Server->new(bucket => 'test', no_start => 1);    # credentials only
my %env = $s3->env;
$ENV{$_} = $env{$_} for keys %env;

sub s3tool {
	my (@args) = @_;
	my ($out, $err) = ('', '');
	my $t0 = time;
	run([ $s3tool, '--bucket', 'test', '-v', '--base-delay', '0.1', '--max-delay', '0.2', @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err, time - $t0);
}

sub requests_of {
	my ($err) = @_;
	return $err =~ /requests=(\d+) retries=(\d+)/ ? ($1, $2) : (-1, -1);
}

open my $fh, '>', "$tmp/x" or die;
print $fh "x\n";
close $fh;

# --- connection refused: the endpoint is named, every attempt is made ---------------------
{
	my ($rc, $out, $err) = s3tool('--endpoint', 'http://127.0.0.1:1', '--max-attempts', '3',
		'put', 'k', "$tmp/x");
	is($rc, 1, 'an endpoint that refuses connections: the request fails');
	like($err, qr{s3tool: PUT s3://test/k: could not connect to endpoint http://127\.0\.0\.1:1: Connection refused \(gave up after 3 attempts\)},
		'the error names the endpoint, not only the bucket') or diag $err;
	like($err, qr{s3: PUT k failed: could not connect to endpoint http://127\.0\.0\.1:1: Connection refused; retrying in [\d.]+ s \(attempt 2 of 3\)},
		'so does the log line of a retry');
	is_deeply([ requests_of($err) ], [ 3, 2 ], 'all 3 attempts were made (2 retries)');
}

# --- a connection that is never completed: a timeout that names the endpoint -------------
{
	# a listener that never answers: TCP connects, the TLS handshake never completes
	my $silent = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, Proto => 'tcp')
	  or die "listen: $!";
	my $port = $silent->sockport;
	my ($rc, $out, $err) = s3tool('--endpoint', "https://127.0.0.1:$port", '--connect-timeout', '1',
		'--max-attempts', '2', 'put', 'k', "$tmp/x");
	like($err, qr{PUT s3://test/k: timed out: could not connect to endpoint https://127\.0\.0\.1:$port: .*\(gave up after 2 attempts\)},
		'a connection never completed (TLS handshake unanswered): the timeout names the endpoint') or diag $err;
	# over plain HTTP the request is sent and then stalls: a slow transfer, not a connect failure
	($rc, $out, $err) = s3tool('--endpoint', "http://127.0.0.1:$port", '--low-speed-time', '1',
		'--max-attempts', '1', 'put', 'k', "$tmp/x");
	like($err, qr{PUT s3://test/k: timed out: Operation too slow}, 'a request sent and never answered is a stalled transfer')
	  or diag $err;
	unlike($err, qr/could not connect/, 'not a connect failure');
}

# --- DNS: reported as such, one retry -------------------------------------------------------
{
	my ($rc, $out, $err, $t) = s3tool('--endpoint', 'http://backup-store.invalid:9000',
		'--max-attempts', '6', 'put', 'k', "$tmp/x");
	is($rc, 1, 'an endpoint whose name does not resolve: the request fails');
	like($err, qr{s3tool: PUT s3://test/k: could not resolve host "backup-store\.invalid" of endpoint http://backup-store\.invalid:9000 \(gave up after 2 attempts\)},
		'the error says the host name does not resolve, and names the endpoint') or diag $err;
	like($err, qr{s3: PUT k failed: could not resolve host "backup-store\.invalid" of endpoint http://backup-store\.invalid:9000; retrying in [\d.]+ s \(attempt 2 of 2\)},
		'the one retry is logged as the last attempt');
	is_deeply([ requests_of($err) ], [ 2, 1 ], '2 attempts of the 6 the policy allows: one retry');
	note sprintf('DNS failure: %d requests in %.2f s', (requests_of($err))[0], $t);

	# virtual-hosted: the name looked up is bucket.host
	($rc, $out, $err) = s3tool('--endpoint', 'http://s3.nowhere.invalid', '--uri-style', 'virtual',
		'--max-attempts', '6', 'head', 'k');
	like($err, qr{HEAD s3://test/k: could not resolve host "test\.s3\.nowhere\.invalid" of endpoint http://s3\.nowhere\.invalid \(gave up after 2 attempts\)},
		'virtual-hosted: the name that did not resolve is the bucket\'s host name') or diag $err;
	is((requests_of($err))[0], 2, 'two attempts there too');

	# a policy of one attempt is not raised
	($rc, $out, $err) = s3tool('--endpoint', 'http://backup-store.invalid:9000', '--max-attempts', '1',
		'put', 'k', "$tmp/x");
	is((requests_of($err))[0], 1, 'with --max-attempts 1: one attempt');
	like($err, qr{PUT s3://test/k: could not resolve host "backup-store\.invalid" of endpoint http://backup-store\.invalid:9000$}m,
		'and no "gave up" suffix for a single attempt');
}

# --- through a backup: the catalog's error names the endpoint -----------------------------
my $node = RippleTest::Cluster->new_node('unreach', s3 => $s3, prefix => 'u',
	conf => "ripple_backup.s3_endpoint = 'http://127.0.0.1:1'\n");
$node->safe_psql('postgres', 'CREATE DATABASE app');
{
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'a backup to http://127.0.0.1:1 fails');
	like(RippleTest::Cluster::backup_row($node, $id)->{error},
		qr{s3://test/u/.*: could not connect to endpoint http://127\.0\.0\.1:1: Connection refused \(gave up after 6 attempts\)},
		'its error names the endpoint');
}
$node->append_conf('postgresql.conf', "ripple_backup.s3_endpoint = 'http://backup-store.invalid:9000'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.s3_endpoint', 'http://backup-store.invalid:9000');
{
	my $offset = -s $node->logfile;
	my $t0 = time;
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'a backup to a name that does not resolve fails');
	my $t = time - $t0;
	like(RippleTest::Cluster::backup_row($node, $id)->{error},
		qr{could not resolve host "backup-store\.invalid" of endpoint http://backup-store\.invalid:9000 \(gave up after 2 attempts\)},
		'its error says so, after one retry');
	my @retries = slurp_file($node->logfile, $offset) =~ /could not resolve host .*retrying in/g;
	is(scalar(@retries), 1, 'the server log shows one retry');
	note sprintf('backup to an unresolvable endpoint failed after %.2f s', $t);
}
$node->stop;
done_testing();
