# 074_backup_retries.pl — backup-level retries (ripple_backup.backup_retries,
# backup_retry_delay).  A backup that fails because S3 is unreachable is queued
# again after the delay: with the server back it succeeds on attempt 2, the
# earlier error kept in previous_errors, ripple_backup_wait() waiting through the
# retry, and one backup.succeeded notification (none for the failed attempt).
# Refused credentials are permanent: one attempt, no retry.  S3 down for good
# with backup_retries = 1: failed after 2 attempts, one backup.failed.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $s3 = RippleTest::S3Server->new;
my $hook_port = RippleTest::S3Server::free_port();	# nothing listens: rows are still queued
my $node = RippleTest::Cluster->new_node('retries', s3 => $s3, prefix => 'retries',
	conf => "ripple_backup.verify_after_backup = off\n"
	  . "ripple_backup.backup_retries = 2\n"	# the default; RippleTest::Cluster sets 0
	  . "ripple_backup.backup_retry_delay = '2s'\n"
	  . "ripple_backup.s3_request_timeout = '3s'\n"
	  . "ripple_backup.notify_on = 'always'\n"
	  . "ripple_backup.webhook_url = 'http://127.0.0.1:$hook_port/hook'\n");

is($node->safe_psql('postgres', "SELECT boot_val FROM pg_settings WHERE name = 'ripple_backup.backup_retries'"),
	'2', 'backup_retries defaults to 2');
is($node->safe_psql('postgres', "SELECT boot_val || unit FROM pg_settings WHERE name = 'ripple_backup.backup_retry_delay'"),
	'60s', 'backup_retry_delay defaults to a minute');
is($node->safe_psql('postgres', 'SHOW ripple_backup.backup_retry_delay'), '2s', 'backup_retry_delay is a duration');

sub sqlv { $node->safe_psql('postgres', $_[0]) }

sub events {
	my ($id) = @_;
	return sqlv("SELECT coalesce(string_agg(event, ',' ORDER BY id), '') FROM ripple_backup.notifications"
		  . " WHERE backup_id = $id AND channel = 'webhook'");
}

sub reload {
	my ($conf) = @_;
	$node->append_conf('postgresql.conf', $conf);
	$node->reload;
	sleep 1;
}

# (a) S3 down at the first attempt, back before the retry
{
	$s3->stop;
	my $log_offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'postgres', 'retried');
	my $queued_again = RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT attempt = 2 AND status = 'queued' AND retry_at IS NOT NULL FROM ripple_backup.backups WHERE id = $id",
		't', 60);
	is($queued_again, 't', 'after the transient failure the row is queued again with retry_at, attempt 2');
	$s3->start;
	is(RippleTest::Cluster::wait_backup($node, $id, '2 minutes'), 'succeeded',
		'ripple_backup_wait waits through the retry to the final outcome');
	is(sqlv("SELECT attempt FROM ripple_backup.backups WHERE id = $id"), '2', 'attempt = 2');
	like(sqlv("SELECT previous_errors[1] FROM ripple_backup.backups WHERE id = $id"),
		qr/Connection refused|request deadline/, 'the first attempt\'s error is kept in previous_errors');
	is(sqlv("SELECT retry_at IS NULL AND error IS NULL FROM ripple_backup.backups WHERE id = $id"), 't',
		'no retry pending and no error on the succeeded row');
	my $log = slurp_file($node->logfile, $log_offset);
	like($log, qr/ripple_backup: backup $id of "postgres" failed \(.*\), retrying in 2 s \(attempt 2 of 3\)/,
		'a log line names the failure and the retry');
	RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 0 FROM ripple_backup.notifications WHERE backup_id = $id", 't', 30);
	is(events($id), 'backup.succeeded', 'one backup.succeeded notification and no backup.failed');
}

# (b) refused credentials: permanent, not retried
{
	my $bad = $node->basedir . '/bad_credentials';
	open my $fh, '>', $bad or die $!;
	print $fh "[default]\naws_access_key_id = WRONGKEY\naws_secret_access_key = wrongsecret\n";
	close $fh;
	chmod 0600, $bad;
	my $good = sqlv('SHOW ripple_backup.s3_credentials_file');
	reload("ripple_backup.s3_credentials_file = '$bad'\n");
	my $id = RippleTest::Cluster::backup_now($node, 'postgres', 'bad credentials');
	is(RippleTest::Cluster::wait_backup($node, $id, '2 minutes'), 'failed', 'wrong credentials fail');
	sleep 3;	# longer than the retry delay: a retry would have started
	is(sqlv("SELECT status || ' ' || attempt || ' ' || coalesce(array_length(previous_errors, 1), 0) FROM ripple_backup.backups WHERE id = $id"),
		'failed 1 0', 'failed once, attempt 1, not retried');
	like(sqlv("SELECT error FROM ripple_backup.backups WHERE id = $id"), qr/403|InvalidAccessKeyId|SignatureDoesNotMatch|AccessDenied/,
		'the error is the refusal');
	RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 0 FROM ripple_backup.notifications WHERE backup_id = $id", 't', 30);
	is(events($id), 'backup.failed', 'one backup.failed notification');
	reload("ripple_backup.s3_credentials_file = '$good'\n");
}

# (c) S3 down for good, backup_retries = 1
{
	reload("ripple_backup.backup_retries = 1\n");
	$s3->stop;
	my $id = RippleTest::Cluster::backup_now($node, 'postgres', 'down for good');
	is(RippleTest::Cluster::wait_backup($node, $id, '2 minutes'), 'failed', 'fails when S3 stays down');
	is(sqlv("SELECT attempt || ' ' || array_length(previous_errors, 1) FROM ripple_backup.backups WHERE id = $id"),
		'2 1', 'failed after 2 attempts, the first one\'s error kept');
	RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 0 FROM ripple_backup.notifications WHERE backup_id = $id", 't', 30);
	sleep 1;
	is(events($id), 'backup.failed', 'exactly one backup.failed notification');
	$s3->start;
}

# (d) a scheduled backup that is retried tells the heartbeat once: one /start, one outcome
{
	reload("ripple_backup.backup_retries = 2\n"
		  . "ripple_backup.heartbeat_url = 'http://127.0.0.1:$hook_port/hb'\n");
	sqlv(q{SELECT ripple_backup_schedule('hourly', '0 * * * *', 'postgres')});
	$s3->stop;
	sqlv(q{UPDATE ripple_backup.jobs SET next_run = now() - interval '1 second' WHERE job_name = 'hourly';
		SELECT ripple_backup.wake_launcher_at_commit()});
	RippleTest::Cluster::poll_value($node, 'postgres',
		q{SELECT last_backup_id IS NOT NULL FROM ripple_backup.jobs WHERE job_name = 'hourly'}, 't', 30);
	my $id = sqlv(q{SELECT last_backup_id FROM ripple_backup.jobs WHERE job_name = 'hourly'});
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT attempt = 2 FROM ripple_backup.backups WHERE id = $id", 't', 60),
		't', 'the scheduled backup is retried');
	$s3->start;
	is(RippleTest::Cluster::wait_backup($node, $id, '2 minutes'), 'succeeded', 'and succeeds on its second attempt');
	RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 1 FROM ripple_backup.notifications WHERE backup_id = $id AND channel = 'heartbeat'", 't', 30);
	sleep 1;
	is(sqlv("SELECT string_agg(event, ',' ORDER BY id) FROM ripple_backup.notifications"
		  . " WHERE backup_id = $id AND channel = 'heartbeat'"),
		'backup.started,backup.succeeded', 'the heartbeat gets one /start (the first attempt) and the final outcome');
	sqlv(q{SELECT ripple_backup_unschedule('hourly')});
}

$node->stop;
done_testing();
