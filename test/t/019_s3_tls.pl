# 019_s3_tls.pl — the S3 client over TLS, for real: the S3 test server runs HTTPS
# with a certificate signed by a CA made here with openssl, and the client,
# the extension and the CLI talk to it as they would to a private-CA endpoint.
#   - verification on and no CA file: a clear certificate error, at once (one
#     attempt, no retries: another attempt meets the same certificate);
#   - a CA file that does not exist: a clear error, one attempt;
#   - the CA file of the test CA (s3tool --ca-file, ripple_backup.s3_ca_file, the
#     CLI's --s3-ca-file): the upload and the backup succeed, awscli and the CLI
#     read them back;
#   - the host name must match: a certificate made for "example.invalid",
#     signed by the trusted CA, is refused when the endpoint is 127.0.0.1 (and
#     accepted when verification is off, which shows what refused it).
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run qw(run);
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time);

my $s3tool = "$ENV{RIPPLE_SRC}/build/tools/s3tool";
my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $tmp = tempdir('s3tls_XXXX', TMPDIR => 1, CLEANUP => 1);

# the CA, a certificate for this host (by address and name) and one for another name
my $tls = RippleTest::S3Server::make_tls($tmp, 'localhost', 'DNS:localhost', 'IP:127.0.0.1');
my $other = RippleTest::S3Server::make_tls($tmp, 'example.invalid', 'other', 'DNS:example.invalid');
is($other->{ca}, $tls->{ca}, 'both certificates are signed by the one test CA');

my $s3 = RippleTest::S3Server->new(bucket => 'test', https => $tls);
like($s3->endpoint, qr{^https://127\.0\.0\.1:\d+$}, 'the test server speaks HTTPS');
my $wrong = RippleTest::S3Server->new(bucket => 'test', https => { %$other, ca => $tls->{ca} });
my %env = $s3->env;
$ENV{$_} = $env{$_} for keys %env;

sub s3tool {
	my ($endpoint, @args) = @_;
	my ($out, $err) = ('', '');
	my $t0 = time;
	run([ $s3tool, '--endpoint', $endpoint, '--bucket', 'test', '-v', @args ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err, time - $t0);
}

sub requests_of {
	my ($err) = @_;
	return $err =~ /requests=(\d+) retries=(\d+)/ ? ($1, $2) : (-1, -1);
}

open my $fh, '>', "$tmp/obj.txt" or die;
print $fh "over TLS\n" x 100;
close $fh;

# --- verification on, no CA file: the system's CAs do not know the test CA ---------------
{
	# the default schedule: a retried failure would wait at least 15.5 s
	my ($rc, $out, $err, $t) = s3tool($s3->endpoint, 'put', 'tls/obj.txt', "$tmp/obj.txt");
	is($rc, 1, 'no CA file: the upload fails');
	like($err, qr{s3tool: PUT s3://test/tls/obj\.txt: could not verify the TLS certificate of endpoint https://127\.0\.0\.1:\d+: SSL certificate problem: (?:self[- ]signed certificate in certificate chain|unable to get local issuer certificate)},
		'with a clear certificate error that names the endpoint') or diag $err;
	my ($req, $retries) = requests_of($err);
	is($req, 1, 'one attempt: a certificate failure is not retried');
	is($retries, 0, 'no retries');
	unlike($err, qr/retrying in/, 'no retry was logged');
	cmp_ok($t, '<', 15, sprintf('it failed at once (%.2f s; the retry schedule waits at least 15.5 s)', $t));
	note sprintf('no CA file: failed after %.2f s, %d request(s)', $t, $req);
}

# --- a CA file that does not exist -----------------------------------------------------
{
	my ($rc, $out, $err, $t) = s3tool($s3->endpoint, '--ca-file', "$tmp/nonexistent.pem",
		'put', 'tls/obj.txt', "$tmp/obj.txt");
	is($rc, 1, 'a missing CA file: the upload fails');
	like($err, qr{PUT s3://test/tls/obj\.txt: TLS connection to endpoint https://127\.0\.0\.1:\d+ failed: .*\Q$tmp/nonexistent.pem\E},
		'the error names the endpoint and the CA file') or diag $err;
	is((requests_of($err))[0], 1, 'one attempt');
}

# --- the test CA: it works ---------------------------------------------------------------
{
	my ($rc, $out, $err) = s3tool($s3->endpoint, '--ca-file', $tls->{ca}, 'put', 'tls/obj.txt', "$tmp/obj.txt");
	is($rc, 0, 'with --ca-file of the test CA the upload succeeds') or diag $err;
	($rc, $out, $err) = s3tool($s3->endpoint, '--ca-file', $tls->{ca}, 'get', 'tls/obj.txt');
	is($out, "over TLS\n" x 100, 'and the object reads back through the client');
	ok($s3->fetch_object('tls/obj.txt', "$tmp/obj.aws"), 'awscli (trusting the test CA) reads it back');
	is(slurp_file("$tmp/obj.aws"), "over TLS\n" x 100, 'with the same bytes');
}

# --- the host name must match --------------------------------------------------------------
{
	my ($rc, $out, $err, $t) = s3tool($wrong->endpoint, '--ca-file', $tls->{ca},
		'put', 'tls/obj.txt', "$tmp/obj.txt");
	is($rc, 1, 'a trusted certificate for example.invalid, reached as 127.0.0.1: refused');
	like($err, qr{could not verify the TLS certificate of endpoint https://127\.0\.0\.1:\d+: SSL: no alternative certificate subject name matches target host name '127\.0\.0\.1'},
		'the error says the name does not match') or diag $err;
	is((requests_of($err))[0], 1, 'one attempt');
	($rc, $out, $err) = s3tool($wrong->endpoint, '--insecure', 'put', 'tls/obj.txt', "$tmp/obj.txt");
	is($rc, 0, 'the same server with verification off is reachable: verification refused it') or diag $err;
}

# --- the extension: ripple_backup.s3_ca_file --------------------------------------------
my $node = RippleTest::Cluster->new_node('tls', s3 => $s3, prefix => 'tls');
my $expected = RippleTest::Cluster::create_app_db($node, 'app', 2000);
{
	my $offset = -s $node->logfile;
	my $t0 = time;
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'no s3_ca_file: the backup fails');
	my $t = time - $t0;
	my $row = RippleTest::Cluster::backup_row($node, $id);
	like($row->{error}, qr{could not verify the TLS certificate of endpoint https://127\.0\.0\.1:\d+: SSL certificate problem},
		'its error is the certificate error, naming the endpoint') or diag $row->{error};
	my $log = slurp_file($node->logfile, $offset);
	unlike($log, qr/s3: .* failed: .*retrying in/, 'the server log shows no retried request');
	cmp_ok($t, '<', 15, sprintf('the backup failed without a retry storm (%.2f s)', $t));
	note sprintf('backup without s3_ca_file: failed after %.2f s', $t);
}
$node->append_conf('postgresql.conf', "ripple_backup.s3_ca_file = '$tls->{ca}'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.s3_ca_file', $tls->{ca});
my $good = RippleTest::Cluster::backup_now($node, 'app', 'over tls');
is(RippleTest::Cluster::wait_backup($node, $good), 'succeeded', 'with s3_ca_file = the test CA the backup succeeds');
my $grow = RippleTest::Cluster::backup_row($node, $good);
my $key = substr($grow->{location}, length('s3://test/'));
my ($rc, $out, $err) = $s3->aws('s3api', 'head-object', '--bucket', 'test', '--key', $key);
is($rc, 0, 'awscli over TLS finds the object') or diag $err;
like($out, qr/"ContentLength":\s*$grow->{size_bytes}\b/, 'of the catalog\'s size');

# --- the CLI over TLS: --s3-ca-file -------------------------------------------------------
sub cli {
	my (@args) = @_;
	my ($o, $e) = ('', '');
	my %cenv = (%ENV, $s3->env);
	delete $cenv{$_} for grep { /^RIPPLE_BACKUP_/ } keys %cenv;
	local %ENV = %cenv;
	run([ $cli, @args, '--destination', 's3://test/tls', '--s3-endpoint', $s3->endpoint,
			'--s3-uri-style', 'path' ], '<', \undef, '>', \$o, '2>', \$e);
	return ($? >> 8, $o, $e);
}
($rc, $out, $err) = cli('list', '--json', '--s3-ca-file', $tls->{ca});
is($rc, 0, 'ripple-backup list --s3-ca-file: succeeds over TLS') or diag $err;
my $list = eval { decode_json($out) } // [];
is(scalar(grep { $_->{backup_id} == $good && $_->{label} eq 'over tls' } @$list), 1,
	'and lists the backup the server wrote');
($rc, $out, $err) = cli('verify', $good, '--s3-ca-file', $tls->{ca});
is($rc, 0, 'ripple-backup verify over TLS: the checksum holds') or diag $err;
($rc, $out, $err) = cli('fetch', $good, '-o', "$tmp/fetched.dump", '--s3-ca-file', $tls->{ca});
is($rc, 0, 'ripple-backup fetch over TLS') or diag $err;
command_ok([ 'pg_restore', '--list', "$tmp/fetched.dump" ], 'the fetched archive is one pg_restore reads');
($rc, $out, $err) = cli('list', '-v');
isnt($rc, 0, 'the CLI without a CA file fails');
like($err, qr{could not verify the TLS certificate of endpoint https://127\.0\.0\.1:\d+: SSL certificate problem},
	'with the certificate error') or diag $err;
unlike($err, qr/retrying in/, 'and no retry');

# --- the extension: the host name must match ----------------------------------------------
$node->append_conf('postgresql.conf', "ripple_backup.s3_endpoint = '" . $wrong->endpoint . "'\n");
$node->reload;
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.s3_endpoint', $wrong->endpoint);
my $mismatch = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $mismatch), 'failed', 'a certificate for another name: the backup fails');
like(RippleTest::Cluster::backup_row($node, $mismatch)->{error},
	qr{could not verify the TLS certificate of endpoint https://127\.0\.0\.1:\d+: SSL: no alternative certificate subject name matches target host name '127\.0\.0\.1'},
	'because the host name does not match');

$node->stop;
$s3->stop;
$wrong->stop;
done_testing();
