# 101_check.pl — ripple_backup_check(): the server's own way to its destination,
# step by step, with its own settings and credentials.  Good settings: every step
# ok (and the probe object is gone again); a wrong secret: the auth step fails
# with S3's own error and the write is skipped; an unreachable endpoint: the
# connect step fails; a file:// destination: every step ok.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use IO::Socket::INET;

my $s3 = RippleTest::S3Server->new(bucket => 'checks');
my $node = RippleTest::Cluster->new_node('check', s3 => $s3, prefix => 'pg');

sub check {
	return $node->safe_psql('postgres',
		q{SELECT step || '|' || coalesce(ok::text, 'skipped') || '|' || detail FROM ripple_backup_check()});
}

my @steps = qw(settings credentials connect tls auth write delete);
my $out = check();
my @rows = split /\n/, $out;
is_deeply([ map { (split /\|/)[0] } @rows ], \@steps, 'one row per step, in order');
is_deeply([ map { (split /\|/)[1] } @rows ], [ ('true') x 7 ], 'good settings: every step ok') or diag $out;
like($out, qr/^credentials\|true\|from credentials file ".*aws_credentials"/m, 'the credentials row names their file');
unlike($out, qr/\Q$RippleTest::S3Server::SECRET_KEY\E.*\Q$RippleTest::S3Server::SECRET_KEY\E/, 'no secret shown');
my ($rc, $list) = $s3->aws('s3', 'ls', '--recursive', 's3://checks/');
unlike($list // '', qr/ripple_backup-check-/, 'the probe object is deleted');

# a wrong secret: the signature is refused, and the row says so in S3's words
my $cred = $node->basedir . '/aws_credentials';
open my $fh, '>', $cred or die;
print $fh "[default]\naws_access_key_id = $RippleTest::S3Server::ACCESS_KEY\naws_secret_access_key = wrong-secret\n";
close $fh;
chmod 0600, $cred;
$out = check();
like($out, qr/^credentials\|true\|/m, 'wrong secret: the credentials are found');
like($out, qr/^connect\|true\|/m, 'wrong secret: the endpoint answers');
like($out, qr/^auth\|false\|.*(SignatureDoesNotMatch|403)/m, 'wrong secret: the auth step fails with the S3 error') or diag $out;
like($out, qr/^write\|skipped\|/m, 'wrong secret: the write is skipped');

# an endpoint nobody listens on: the connect step fails
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.s3_endpoint = 'http://127.0.0.1:1'");
$node->reload;
$out = check();
like($out, qr/^connect\|false\|.*(refused|connect)/mi, 'unreachable endpoint: the connect step fails') or diag $out;
like($out, qr/^auth\|skipped\|/m, 'unreachable endpoint: auth is skipped');

# a missing credentials file
$node->safe_psql('postgres', "ALTER SYSTEM RESET ripple_backup.s3_endpoint");
unlink $cred;
$node->reload;
$out = check();
like($out, qr/^credentials\|false\|/m, 'no credentials file: the credentials step fails') or diag $out;

# file:// destination
my $dir = PostgreSQL::Test::Utils::tempdir('files');
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.destination = 'file://$dir'");
$node->reload;
$out = check();
is_deeply([ map { (split /\|/)[1] } split /\n/, $out ], [ ('true') x 7 ], 'file://: every step ok') or diag $out;

# not for PUBLIC
$node->safe_psql('postgres', 'CREATE ROLE nobody LOGIN');
my ($ret, $o, $err) = $node->psql('postgres', 'SELECT * FROM ripple_backup_check()', extra_params => [ '-U', 'nobody' ]);
like($err, qr/permission denied for function ripple_backup_check/, 'a role without a grant may not run it');

# a cancel (here statement_timeout) while the probe's PUT awaits its answer: the
# request stops, and the probe, which the destination may have stored all the same,
# is deleted even so.  A minimal S3 endpoint: an empty listing, a PUT answered after
# 6 s, a DELETE; it writes one line per request.
{
	my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5, ReuseAddr => 1)
	  or die "listen: $!";
	my $port = $srv->sockport;
	my $log = $node->basedir . '/slow_s3.log';
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		$SIG{PIPE} = 'IGNORE';
		while (my $c = $srv->accept) {
			while (defined(my $line = <$c>)) {
				my ($m, $u) = $line =~ /^(\S+) (\S+)/;
				my ($len, $expect) = (0, 0);
				while (defined(my $h = <$c>)) {
					last if $h =~ /^\r?\n$/;
					$len = $1 if $h =~ /^content-length:\s*(\d+)/i;
					$expect = 1 if $h =~ /^expect:\s*100-continue/i;
				}
				print $c "HTTP/1.1 100 Continue\r\n\r\n" if $expect;
				my $body = '';
				read($c, $body, $len) if $len;
				open my $l, '>>', $log or die;
				print $l "$m $u\n";
				close $l;
				my ($status, $resp) = ('200 OK', '');
				$resp = '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>checks</Name>'
				  . '<IsTruncated>false</IsTruncated></ListBucketResult>' if $m eq 'GET';
				sleep 6 if $m eq 'PUT';
				$status = '204 No Content' if $m eq 'DELETE';
				print $c "HTTP/1.1 $status\r\nContent-Length: " . length($resp) . "\r\nETag: \"0\"\r\n\r\n$resp";
			}
			close $c;
		}
		exit 0;
	}
	close $srv;
	open my $cf, '>', $cred or die;
	print $cf "[default]\naws_access_key_id = $RippleTest::S3Server::ACCESS_KEY\naws_secret_access_key = $RippleTest::S3Server::SECRET_KEY\n";
	close $cf;
	chmod 0600, $cred;
	$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.destination = 's3://checks/pg'");
	$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.s3_endpoint = 'http://127.0.0.1:$port'");
	$node->reload;
	my $t0 = time;
	my ($r, $so, $se) = $node->psql('postgres', "SET statement_timeout = '3s'; SELECT * FROM ripple_backup_check()");
	like($se, qr/canceling statement due to statement timeout/, 'the check is cancelled while the probe is written') or diag "$so\n$se";
	my $seen = '';
	for (1 .. 100) {
		$seen = -e $log ? slurp_file($log) : '';
		last if $seen =~ /^DELETE /m;
		select(undef, undef, undef, 0.1);
	}
	like($seen, qr/^PUT \S*ripple_backup-check-/m, 'the probe was sent');
	like($seen, qr/^DELETE \S*ripple_backup-check-/m, 'and deleted although its write was cancelled') or diag $seen;
	note sprintf('the cancelled check took %d s', time - $t0);
	kill 'KILL', $pid;
	waitpid $pid, 0;
}

done_testing();
