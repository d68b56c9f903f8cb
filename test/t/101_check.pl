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

done_testing();
