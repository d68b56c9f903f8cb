# 018_s3_refused.pl — S3 refuses the backup for good, end to end through the
# extension: wrong credentials and a missing bucket.  Each backup fails at once with
# the refusal in the catalog and the log, is not retried (backup_retries = 2 here:
# the errors are permanent), leaves nothing in the bucket, and the next backup with
# the settings put right succeeds.
#
# Time to detect: one request (no retries for a refusal); bounded loosely.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time);

my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('refused', s3 => $s3, prefix => 'refused',
	conf => "ripple_backup.backup_retries = 2\nripple_backup.backup_retry_delay = '1s'\n");
RippleTest::Cluster::create_app_db($node, 'app', 1000);

sub reload_with {
	my ($conf) = @_;
	$node->append_conf('postgresql.conf', $conf);
	$node->reload;
	sleep 1;    # the launcher reads the reload at its next look
}

# Runs one backup that must be refused; checks the outcome.
sub refused {
	my ($what, $error_re) = @_;
	my $offset = -s $node->logfile;
	my $t0 = time;
	my $id = RippleTest::Cluster::backup_now($node, 'app', $what);
	is(RippleTest::Cluster::wait_backup($node, $id, '2 minutes'), 'failed', "$what: the backup fails");
	my $elapsed = time - $t0;
	note sprintf('%s: time to detect %.1f s', $what, $elapsed);
	ok($elapsed < 15, sprintf('%s: at once, without the retry schedule (%.1f s)', $what, $elapsed));
	sleep 2;    # longer than the retry delay: a retry would have started
	my $row = RippleTest::Cluster::backup_row($node, $id);
	is($node->safe_psql('postgres', "SELECT status || ' ' || attempt FROM ripple_backup.backups WHERE id = $id"),
		'failed 1', "$what: failed once, not retried");
	like($row->{error} // '', $error_re, "$what: the error is the refusal: " . ($row->{error} // ''));
	is($row->{location}, undef, "$what: no location");
	like(slurp_file($node->logfile, $offset), qr/backup $id of database "app" failed.*\n.*$error_re/,
		"$what: the log says so");
	unlike(slurp_file($node->logfile, $offset), qr/backup $id of "app" failed .*retrying/, "$what: no retry was logged");
	return $id;
}

# --- wrong credentials ------------------------------------------------------------------
my $good = $node->safe_psql('postgres', 'SHOW ripple_backup.s3_credentials_file');
my $bad = $node->basedir . '/bad_credentials';
open my $fh, '>', $bad or die $!;
print $fh "[default]\naws_access_key_id = WRONGKEY\naws_secret_access_key = wrongsecret\n";
close $fh;
chmod 0600, $bad;
reload_with("ripple_backup.s3_credentials_file = '$bad'\n");
refused('wrong credentials', qr/InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied|403/);
unlike(slurp_file($node->logfile), qr/wrongsecret/, 'wrong credentials: the secret is never logged');

# --- missing bucket ---------------------------------------------------------------------
reload_with("ripple_backup.s3_credentials_file = '$good'\nripple_backup.destination = 's3://no-such-bucket/refused'\n");
refused('missing bucket', qr/NoSuchBucket|does not exist/);

is_deeply([ $s3->list_keys('refused/') ], [], 'nothing was stored in the bucket');

# --- put right, the next backup succeeds -------------------------------------------------
reload_with("ripple_backup.destination = 's3://backups/refused'\n");
my $next = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $next), 'succeeded', 'with the settings put right the next backup succeeds');

done_testing();
