# 061_notify_server.pl — notifications sent by the server, against real receivers:
# e-mails through maildev (success and failure subjects and bodies with the
# backup's real facts), STARTTLS required by default (a server without it is a
# recorded failure; a STARTTLS server with a private CA gets the message), wrong
# SMTP credentials (a recorded, logged failure while the backup succeeds),
# webhooks through a local HTTP receiver (JSON body, its HMAC, the Slack format),
# the heartbeat of a scheduled job (/start then success, or /fail with the error),
# a receiver that hangs (the backup is not delayed), ripple_backup_notify_test(),
# ripple_backup_health() (ok after a verified backup, critical when the RPO is
# breached), the launcher's RPO check (breach and recovery notified once each) and
# ripple_backup_metrics() checked by promtool.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time usleep);
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::MailServer;
use RippleTest::S3Server ();

my $tmp = tempdir('notify_srv_XXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8;
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';

sub write_file {
	my ($path, $data, $mode) = @_;
	open my $fh, '>', $path or die "$path: $!";
	binmode $fh;
	print $fh $data;
	close $fh;
	chmod $mode // 0600, $path;
}

sub wait_port {
	my ($p) = @_;
	for (1 .. 100) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p, Proto => 'tcp');
		if ($s) { close $s; return 1; }
		usleep(100_000);
	}
	return 0;
}

# --- receivers ---------------------------------------------------------------------------
my $mail = RippleTest::MailServer->new;
my $authmail = RippleTest::MailServer->new(user => 'ripple', password => 'Corr3ct-horse');
my $port = RippleTest::S3Server::free_port();
my $rlog = "$tmp/receiver.jsonl";
write_file($rlog, '', 0644);
my $receiver = IPC::Run::start([ $python, "$ENV{RIPPLE_SRC}/test/services/http_receiver.py",
	'--port', $port, '--log', $rlog ], '<', \undef, '>', "$tmp/receiver.out", '2>&1');
ok(wait_port($port), 'the HTTP receiver is up');
my $base = "http://127.0.0.1:$port";

# Every request the receiver got, decoded; with a path prefix, only those.
sub requests {
	my ($prefix) = @_;
	open my $fh, '<', $rlog or die "$rlog: $!";
	my @all = map { $json->decode($_) } grep { /\S/ } <$fh>;
	close $fh;
	return grep { !defined $prefix || index($_->{path}, $prefix) == 0 } @all;
}

# Waits until $n requests under $prefix arrived (30 s at most); returns them.
sub wait_requests {
	my ($prefix, $n) = @_;
	my @r;
	for (1 .. 300) {
		@r = requests($prefix);
		return @r if @r >= $n;
		usleep(100_000);
	}
	return @r;
}

my $secret = 'hook-s3cret-value';
write_file("$tmp/hook_secret", "$secret\n");
my $dest = "$tmp/backups";
mkdir $dest;
chmod 0777, $dest;

my $node = RippleTest::Cluster->new_node('notify',
	destination => "file://$dest",
	conf => join('', map { "$_\n" }
		"ripple_backup.smtp_url = '" . $mail->smtp_url . "'",
		"ripple_backup.smtp_tls = 'none'",
		"ripple_backup.mail_from = 'ripple_backup <backup\@example.com>'",
		"ripple_backup.mail_to = 'dba\@example.com, oncall\@example.com'",
		"ripple_backup.notify_on = 'always'",
		"ripple_backup.webhook_url = '$base/hook/T0KEN-in-path'",
		"ripple_backup.webhook_secret_file = '$tmp/hook_secret'",
		"ripple_backup.notify_timeout = '2s'",
		"ripple_backup.rpo_check_interval = '1s'",
		"ripple_backup.drill_schedule = ''"));
my $counts = RippleTest::Cluster::create_app_db($node, 'app');

sub reload_with {
	my (%set) = @_;
	for my $k (sort keys %set) {
		my $v = $set{$k};
		$v =~ s/'/''/g;
		$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.$k = '$v'");
	}
	$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
	usleep(300_000);
}

# Waits until backup $id has no pending notification (30 s at most); returns
# { channel => [status, error] } of its rows.
sub notifications_of {
	my ($id) = @_;
	RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM ripple_backup.notifications WHERE backup_id = $id AND status = 'pending'",
		'0', 30);
	my $out = $node->safe_psql('postgres',
		"SELECT channel, event, status, coalesce(error, '') FROM ripple_backup.notifications"
		  . " WHERE backup_id = $id ORDER BY id", extra_params => [ '-F', "\x1f" ]);
	my %r;
	for my $line (split /\n/, $out) {
		my ($ch, $ev, $st, $err) = split /\x1f/, $line, 4;
		push @{ $r{$ch} }, { event => $ev, status => $st, error => $err };
	}
	return \%r;
}

# --- a successful backup: the e-mail and the webhook -----------------------------------
my $id = RippleTest::Cluster::backup_now($node, 'app', 'nightly-test');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the backup succeeds');
my @m = $mail->wait_messages(1);
is(scalar @m, 1, 'one e-mail arrived');
my $msg = $m[0] // {};
is($msg->{subject}, '[ripple_backup] succeeded: backup of "app" on notify',
	'subject: succeeded, database and cluster name');
is($msg->{headers}{'x-ripple-event'}, 'backup.succeeded', 'X-Ripple-Event header');
like($msg->{headers}{'message-id'} // '', qr/^<ripple_backup\.\d+\.[0-9a-f]{16}\@example\.com>$/,
	'Message-ID in the sender\'s domain');
like($msg->{headers}{date} // '', qr/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000$/, 'Date header');
is_deeply([ sort map { $_->{address} } @{ $msg->{to} // [] } ],
	[ 'dba@example.com', 'oncall@example.com' ], 'both recipients');
my $text = $msg->{text} // '';
like($text, qr/^Database:       app$/m, 'body: database');
like($text, qr/^Backup id:      $id$/m, 'body: the catalog id of the backup');
like($text, qr/^Label:          nightly-test$/m, 'body: label');
like($text, qr/^Rows:           6,234 in 3 tables$/m, 'body: the row totals counted in the dump');
like($text, qr/^Largest tables: public\.accounts \(5,000 rows\)/m, 'body: the largest table first');
my $loc = $node->safe_psql('postgres', "SELECT location FROM ripple_backup.backups WHERE id = $id");
like($text, qr{^Location:       \Q$loc\E$}m, 'body: the object URL, whole on its line (a cut URL is no link)');
like($text, qr/^Size:           .*bytes\)$/m, 'body: size');
like($text, qr/^Compression:    [\d.]+ : 1$/m, 'body: compression ratio');
like($text, qr/^Duration:       /m, 'body: duration');
ok(!(grep { length($_) > 78 && !/^Location: / } split /\r?\n/, $text), 'no other body line longer than 78 columns');

my @hooks = wait_requests('/hook/', 1);
is(scalar @hooks, 1, 'one webhook request arrived');
my $hook = $hooks[0] // { headers => {}, body => '{}' };
is($hook->{method}, 'POST', 'the webhook is a POST');
my $body = eval { $json->decode($hook->{body}) } // {};
is($body->{event}, 'backup.succeeded', 'webhook JSON: event');
is($body->{backup_id}, "$id", 'webhook JSON: backup id');
is($body->{database}, 'app', 'webhook JSON: database');
is($body->{host}, 'notify', 'webhook JSON: host is the cluster name (cluster_name, set by the test cluster)');
is($body->{rows_total}, 6234, 'webhook JSON: rows');
is($body->{tables_total}, 3, 'webhook JSON: tables');
is($body->{largest_tables}[0]{name}, 'public.accounts', 'webhook JSON: largest table');
like($body->{location} // '', qr{^file://}, 'webhook JSON: location');
ok(defined $body->{size_bytes} && $body->{size_bytes} > 0, 'webhook JSON: size');
is($hook->{headers}{'x-ripple-signature'}, 'sha256=' . hmac_sha256_hex($hook->{body}, $secret),
	'the HMAC-SHA256 signature of the body verifies');
my $n = notifications_of($id);
is($n->{email}[0]{status}, 'sent', 'the e-mail is recorded as sent');
is($n->{webhook}[0]{status}, 'sent', 'the webhook is recorded as sent');
is($n->{email}[0]{event}, 'backup.succeeded', 'with its event');
ok(!exists $n->{heartbeat}, 'a manual backup sends no heartbeat');
diag("e-mail as received:\n" . join('', map { "$_: $msg->{headers}{$_}\n" } sort keys %{ $msg->{headers} }) . "\n$text");
diag("webhook body: $hook->{body}");

# --- health after a verified backup -------------------------------------------------------
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT verify_status FROM ripple_backup.backups WHERE id = $id", 'verified', 60),
	'verified', 'verify-after-backup verified it');
my $health = $node->safe_psql('postgres',
	"SELECT status, detail, last_success IS NOT NULL, last_verified IS NOT NULL,"
	  . " rpo < rpo_target, failures_since_success, rpo_target = interval '25 hours',"
	  . " rto_target = interval '4 hours'"
	  . " FROM ripple_backup_health() WHERE dbname = 'app'");
is($health, 'ok|backed up, verified and within the recovery objectives|t|t|t|0|t|t',
	'health is ok after a verified backup, with the default objectives');
like($node->safe_psql('postgres', "SELECT status || ': ' || detail FROM ripple_backup_health() WHERE component = 'destination'"),
	qr{^ok: destination file://\Q$dest\E is reachable \(listed in [\d.]+ s\)$}, 'the destination row: reachable');

# --- a failed backup: the failure e-mail and webhook --------------------------------------
$mail->clear;
reload_with(destination => 'file:///dev/null/not-a-directory');
like($node->safe_psql('postgres', "SELECT status || ': ' || detail FROM ripple_backup_health() WHERE component = 'destination'"),
	qr{^critical: destination file:///dev/null/not-a-directory cannot be reached: .*Not a directory},
	'the destination row: critical, and why');
my $fid = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $fid), 'failed', 'a backup to an impossible directory fails');
@m = $mail->wait_messages(1);
$msg = $m[0] // {};
is($msg->{subject}, '[ripple_backup] FAILED: backup of "app" on notify', 'failure subject');
my $ferror = $node->safe_psql('postgres', "SELECT error FROM ripple_backup.backups WHERE id = $fid");
like($msg->{text} // '', qr/^Error:          \S/m, 'body: the error');
like($msg->{text} // '', qr/not-a-directory/, 'body: the error names the directory');
unlike($msg->{text} // '', qr/^Verification:/m, 'body: no verification line for a backup that stored nothing');
like($msg->{text} // '', qr/^Last success:   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, .* ago$/m,
	'body: the last success and its age');
diag("failure e-mail as received:\nSubject: $msg->{subject}\n\n" . ($msg->{text} // ''));
@hooks = wait_requests('/hook/', 2);
$body = eval { $json->decode($hooks[1]{body}) } // {};
is($body->{event}, 'backup.failed', 'webhook JSON: backup.failed');
is($body->{error}, $ferror, 'webhook JSON: the error recorded in the catalog');
ok(defined $body->{last_success_at}, 'webhook JSON: last success');
reload_with(destination => "file://$dest");
like($node->safe_psql('postgres', "SELECT detail FROM ripple_backup_health() WHERE dbname = 'app'"),
	qr/1 failed backup\(s\) since the last success/, 'health counts the failure since the last success');

# --- STARTTLS is required by default ------------------------------------------------------
reload_with(smtp_tls => 'starttls');
$mail->clear;
$id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the backup succeeds');
$n = notifications_of($id);
is($n->{email}[0]{status}, 'failed', 'e-mail to a server without STARTTLS fails');
like($n->{email}[0]{error}, qr/does not offer STARTTLS.*nothing was sent/, 'and the row says why');
usleep(300_000);
is(scalar($mail->messages), 0, 'nothing arrived in plain text');

my ($key, $crt) = ("$tmp/smtp.key", "$tmp/smtp.crt");
my ($ssl_out, $ssl_err) = ('', '');
IPC::Run::run([ 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
	'-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
	'-keyout', $key, '-out', $crt ], '<', \undef, '>', \$ssl_out, '2>', \$ssl_err)
  or die "openssl req failed: $ssl_err";
chmod 0644, $crt;
my $sport = RippleTest::S3Server::free_port();
my $slog = "$tmp/starttls.jsonl";
write_file($slog, '', 0644);
my $starttls = IPC::Run::start([ $python, "$ENV{RIPPLE_SRC}/test/services/smtp_starttls.py",
	'--port', $sport, '--cert', $crt, '--key', $key, '--log', $slog ],
	'<', \undef, '>', "$tmp/starttls.out", '2>&1');
ok(wait_port($sport), 'the STARTTLS server is up');
reload_with(smtp_url => "smtp://127.0.0.1:$sport", smtp_ca_file => $crt);
$id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the backup succeeds');
$n = notifications_of($id);
is($n->{email}[0]{status}, 'sent', 'e-mail through a STARTTLS server with the private CA is sent');
my @s = map { $json->decode($_) } grep { /\S/ } do { open my $fh, '<', $slog; <$fh> };
ok(@s && $s[-1]{tls}, 'the session was encrypted before the message');
like($s[-1]{content} // '', qr/^Subject: \[ripple_backup\] succeeded: backup of "app" on notify\r?$/m,
	'the message as sent');
$starttls->kill_kill;

# --- wrong SMTP credentials: recorded, logged, the backup unaffected ------------------------
write_file("$tmp/smtp_cred", "user = ripple\npassword = Wr0ng-battery\n");
reload_with(smtp_url => $authmail->smtp_url, smtp_tls => 'none', smtp_ca_file => '',
	smtp_credentials_file => "$tmp/smtp_cred");
my $log_offset = -s $node->logfile;
$id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'with wrong SMTP credentials the backup still succeeds');
$n = notifications_of($id);
is($n->{email}[0]{status}, 'failed', 'the e-mail is recorded as failed');
like($n->{email}[0]{error}, qr/the SMTP server refused the credentials \(reply code 535\)/,
	'the row says the credentials were refused, with the server\'s code');
is($n->{webhook}[0]{status}, 'sent', 'the webhook went out all the same');
my $log = slurp_file($node->logfile, $log_offset);
like($log, qr/WARNING:  ripple_backup: email notification backup\.succeeded of backup $id failed/,
	'the failure is logged as a warning');
unlike($log, qr/Wr0ng-battery/, 'the password is in no log line');
unlike($log, qr/T0KEN-in-path/, 'the webhook URL\'s path is in no log line');
write_file("$tmp/smtp_cred", "user = ripple\npassword = Corr3ct-horse\n");
$id = RippleTest::Cluster::backup_now($node, 'app');
RippleTest::Cluster::wait_backup($node, $id);
$n = notifications_of($id);
is($n->{email}[0]{status}, 'sent', 'with the right credentials the e-mail is sent');
is(scalar($authmail->wait_messages(1)), 1, 'and arrives');

# --- Slack format ----------------------------------------------------------------------------
reload_with(webhook_format => 'slack', webhook_url => "$base/slack/T0KEN");
$id = RippleTest::Cluster::backup_now($node, 'app');
RippleTest::Cluster::wait_backup($node, $id);
my @slack = wait_requests('/slack/', 1);
$body = eval { $json->decode($slack[0]{body}) } // {};
is_deeply([ keys %$body ], ['text'], 'the Slack body has one field, text');
like($body->{text} // '', qr/^\[ripple_backup\] succeeded: backup of "app" on notify\n/,
	'text opens with the summary');
like($body->{text} // '', qr/\nDatabase: app\n/, 'and has the facts');
reload_with(webhook_format => 'json', webhook_url => "$base/hook/T0KEN-in-path");

# --- a hanging receiver does not delay the backup --------------------------------------------
reload_with(webhook_url => "$base/hang/T0KEN");
my $t0 = time;
$id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the backup succeeds with a hanging receiver');
my $took = time - $t0;
ok($took < 6, sprintf('and is not delayed by it (%.1f s; one notification may take 2 s x 3 attempts)', $took));
$n = notifications_of($id);
is($n->{webhook}[0]{status}, 'failed', 'the webhook to a hanging receiver is recorded as failed');
like($n->{webhook}[0]{error}, qr/attempt 3 of 3/, 'after 3 attempts');
like($n->{webhook}[0]{error}, qr/no answer within 2000 ms/, 'each one timed out after notify_timeout');
unlike($n->{webhook}[0]{error}, qr/T0KEN/, 'the error does not show the URL\'s path');
reload_with(webhook_url => "$base/hook/T0KEN-in-path");

# --- heartbeat of a scheduled job: /start then success, or /fail ------------------------------
$node->safe_psql('postgres', q{SELECT ripple_backup_schedule('hourly', '0 * * * *', 'app')});
$node->safe_psql('postgres',
	qq{SELECT ripple_backup_alter_job('hourly', heartbeat_url => '$base/hb/job-T0KEN')});
is($node->psql('postgres', q{SELECT ripple_backup_alter_job('hourly', heartbeat_url => 'ftp://x/T0KEN')},
	stderr => \my $hb_err), 3, 'a heartbeat URL that is not http(s) is refused');
like($hb_err, qr/invalid heartbeat URL/, 'with a clear error');
unlike($hb_err, qr/T0KEN/, 'that does not repeat the URL');

# fire the job now: its next_run is moved to the past and the launcher woken
sub fire_job {
	$node->safe_psql('postgres', q{UPDATE ripple_backup.jobs SET next_run = now() - interval '1 second'
		WHERE job_name = 'hourly'; SELECT ripple_backup.wake_launcher_at_commit()});
	my $bid = RippleTest::Cluster::poll_value($node, 'postgres',
		q{SELECT count(*) > 0 FROM ripple_backup.jobs WHERE job_name = 'hourly' AND next_run > now()},
		't', 30);
	return $node->safe_psql('postgres', q{SELECT last_backup_id FROM ripple_backup.jobs WHERE job_name = 'hourly'});
}
$id = fire_job();
like($id, qr/^\d+$/, 'the job fired a backup');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the scheduled backup succeeds');
my @hb = wait_requests('/hb/', 2);
is(scalar @hb, 2, 'two heartbeat requests');
is("$hb[0]{method} $hb[0]{path}", 'GET /hb/job-T0KEN/start', 'first GET <url>/start');
is("$hb[1]{method} $hb[1]{path}", 'GET /hb/job-T0KEN', 'then GET <url> on success');
reload_with(destination => 'file:///dev/null/not-a-directory');
$id = fire_job();
is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'the next scheduled backup fails');
@hb = wait_requests('/hb/', 4);
is("$hb[2]{method} $hb[2]{path}", 'GET /hb/job-T0KEN/start', 'GET <url>/start');
is("$hb[3]{method} $hb[3]{path}", 'POST /hb/job-T0KEN/fail', 'then POST <url>/fail');
like($hb[3]{body} // '', qr/not-a-directory/, 'with the error text as the body');
reload_with(destination => "file://$dest");
$n = notifications_of($id);
is(join(',', map { "$_->{event}:$_->{status}" } @{ $n->{heartbeat} }),
	'backup.started:sent,backup.failed:sent', 'both heartbeat signals are recorded');
# no real top-of-the-hour fire during the rest of the test
$node->safe_psql('postgres', q{SELECT ripple_backup_alter_job('hourly', active => false)});

# --- verification failure ---------------------------------------------------------------------
$id = RippleTest::Cluster::backup_now($node, 'app');
RippleTest::Cluster::wait_backup($node, $id);
RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT verify_status FROM ripple_backup.backups WHERE id = $id", 'verified', 60);
my $obj = $node->safe_psql('postgres', "SELECT substr(location, 8) FROM ripple_backup.backups WHERE id = $id");
open my $fh, '+<', $obj or die "$obj: $!";
binmode $fh;
seek $fh, 100, 0;
print $fh "corrupted!";
close $fh;
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id, force => true)"), 'failed',
	'a corrupted backup fails its verification');
my @vf = grep { $_->{event} eq 'verify.failed' } @{ notifications_of($id)->{webhook} // [] };
is(scalar @vf, 1, 'verify.failed is notified');
is($vf[0]{status}, 'sent', 'and sent');
@hooks = grep { ($json->decode($_->{body})->{event} // '') eq 'verify.failed' } requests('/hook/');
like($json->decode($hooks[-1]{body})->{error} // '', qr/SHA-256|checksum|size/i,
	'the verify.failed body carries the verification error');

# --- restore drills: drill.failed, then drill.succeeded -----------------------------------
# Webhook bodies of an event, waiting (up to $secs) until $n have arrived.
sub wait_event {
	my ($event, $n, $secs) = @_;
	my @b;
	for (1 .. $secs * 10) {
		@b = grep { ($_->{event} // '') eq $event }
		  map { eval { $json->decode($_->{body}) } // {} } requests('/hook/');
		return @b if @b >= $n;
		usleep(100_000);
	}
	return @b;
}
reload_with(drill_schedule => '* * * * *');
my @drill = wait_event('drill.failed', 1, 90);
is(scalar @drill, 1, 'a drill of the corrupted latest backup notifies drill.failed');
is($drill[0]{backup_id}, "$id", 'naming the backup it restored');
ok(defined $drill[0]{error}, 'with the error');
is(scalar(wait_event('verify.failed', 1, 1)), 1, 'a drill is not also a verify.failed');
like($node->safe_psql('postgres', "SELECT status || ': ' || detail FROM ripple_backup_health() WHERE dbname = 'app'"),
	qr/^critical: .*the last restore drill failed/, 'health is critical after a failed drill');
my $did = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $did), 'succeeded', 'a new backup');
@drill = wait_event('drill.succeeded', 1, 90);
is(scalar @drill, 1, 'the next drill restores it and notifies drill.succeeded');
is($drill[0]{backup_id}, "$did", 'naming the new backup');
ok(defined $drill[0]{restore_seconds} && $drill[0]{restore_seconds} >= 0, 'with the measured restore time');
reload_with(drill_schedule => '');
RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT verify_status FROM ripple_backup.backups WHERE id = $did", 'verified', 60);

# --- ripple_backup_notify_test() --------------------------------------------------------------
$mail->clear;
my $test = $node->safe_psql('postgres',
	q{SELECT string_agg(channel || '=' || status, ',' ORDER BY channel) FROM ripple_backup_notify_test()});
is($test, 'email=sent,heartbeat=not configured,webhook=sent', 'notify_test sends on every configured channel');
is($node->safe_psql('postgres', q{SELECT status FROM ripple_backup_notify_test('webhook')}), 'sent',
	'notify_test on one channel');
my @tests = grep { ($json->decode($_->{body})->{event} // '') eq 'notify.test' } requests('/hook/');
is(scalar @tests, 2, 'the receiver got two notify.test bodies');
is($node->safe_psql('postgres',
	q{SELECT count(*) FROM ripple_backup.notifications WHERE event = 'notify.test' AND status = 'sent'}),
	'3', 'each test is recorded');
reload_with(heartbeat_url => "$base/hbglobal/T0KEN");
is($node->safe_psql('postgres', q{SELECT status FROM ripple_backup_notify_test('heartbeat')}), 'sent',
	'notify_test pings the global heartbeat');
is((wait_requests('/hbglobal/', 1))[0]{path}, '/hbglobal/T0KEN', 'with a plain GET (success)');

# --- the URLs can come from owner-only files instead of settings --------------------------------
write_file("$tmp/hook_url", "$base/filehook/T0KEN-from-file\n");
reload_with(webhook_url => '', webhook_url_file => "$tmp/hook_url");
is($node->safe_psql('postgres', q{SELECT status FROM ripple_backup_notify_test('webhook')}), 'sent',
	'the webhook URL is read from webhook_url_file');
is((wait_requests('/filehook/', 1))[0]{path}, '/filehook/T0KEN-from-file', 'and used');
chmod 0644, "$tmp/hook_url";
my $uf = $node->safe_psql('postgres', q{SELECT status || ': ' || error FROM ripple_backup_notify_test('webhook')});
like($uf, qr/^failed: webhook URL file ".*" is accessible by other users \(mode 0644\); chmod 600 it/,
	'a URL file others can read is refused');
unlike($uf, qr/T0KEN/, 'without showing the URL');
write_file("$tmp/hb_url", "$base/hbfile/T0KEN\n");
reload_with(heartbeat_url => '', heartbeat_url_file => "$tmp/hb_url");
is($node->safe_psql('postgres', q{SELECT status FROM ripple_backup_notify_test('heartbeat')}), 'sent',
	'the heartbeat URL is read from heartbeat_url_file');
is((wait_requests('/hbfile/', 1))[0]{path}, '/hbfile/T0KEN', 'and used');
reload_with(webhook_url => "$base/hook/T0KEN-in-path", webhook_url_file => '', heartbeat_url_file => '',
	heartbeat_url => '');
is($node->psql('postgres', q{SELECT * FROM ripple_backup_notify_test('pager')}, stderr => \my $nt_err), 3,
	'an unknown channel is an error');
like($nt_err, qr/unknown notification channel "pager"/, 'that names it');

# --- the RPO: breached once, recovered once ---------------------------------------------------
sub rpo_events {
	my ($event) = @_;
	return scalar grep {
		my $b = eval { $json->decode($_->{body}) } // {};
		($b->{event} // '') eq $event && ($b->{database} // '') eq 'app'
	} requests('/hook/');
}
reload_with(rpo_target => '3s');
my $breached = 0;
for (1 .. 200) { last if ($breached = rpo_events('rpo.breached')) > 0; usleep(100_000); }
is($breached, 1, 'rpo.breached arrives once the last success is older than rpo_target');
like($node->safe_psql('postgres', "SELECT status || ': ' || detail FROM ripple_backup_health() WHERE dbname = 'app'"),
	qr/^critical: RPO breached: the last successful backup is .* old, the target is 00:00:03/,
	'health is critical and says why');
sleep 4;
is(rpo_events('rpo.breached'), 1, 'the breach is notified once, not at every check');
reload_with(rpo_target => '1h');
my $recovered = 0;
for (1 .. 200) { last if ($recovered = rpo_events('rpo.recovered')) > 0; usleep(100_000); }
is($recovered, 1, 'rpo.recovered arrives once the target is met again');
sleep 3;
is(rpo_events('rpo.recovered'), 1, 'the recovery is notified once');
is(rpo_events('rpo.breached'), 1, 'and no new breach');
my ($rpo_hook) = grep { ($json->decode($_->{body})->{event} // '') eq 'rpo.breached' } requests('/hook/');
is($json->decode($rpo_hook->{body})->{rpo_target_seconds}, 3, 'rpo.breached carries the target');

# --- metrics ------------------------------------------------------------------------------------
my $metrics = $node->safe_psql('postgres', 'SELECT ripple_backup_metrics()');
write_file("$tmp/metrics.txt", "$metrics\n", 0644);
like($metrics, qr/^ripple_backup_last_success_timestamp_seconds\{dbname="app"\} \d/m, 'last success metric');
like($metrics, qr/^ripple_backup_backups_total\{dbname="app",status="failed"\} 2$/m, 'failed backups counted');
like($metrics, qr/^ripple_backup_verify_failures_total\{dbname="app"\} 1$/m, 'verify failures counted');
like($metrics, qr/^ripple_backup_rpo_target_seconds 3600$/m, 'the RPO target');
like($metrics, qr/^ripple_backup_last_size_bytes\{dbname="app"\} \d+$/m, 'last size');
like($metrics, qr{^ripple_backup_destination_up\{destination="file://\Q$dest\E"\} 1$}m, 'the destination is up');
like($metrics, qr/^ripple_backup_health\{dbname="app"\} 0$/m, 'app is healthy again');
my ($pout, $perr) = ('', '');
my $prc = IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', "$tmp/metrics.txt", '>', \$pout, '2>', \$perr);
ok($prc, 'promtool check metrics accepts the output') or diag "$pout$perr";

# --- pruning with history_days -------------------------------------------------------------------
$node->safe_psql('postgres',
	q{UPDATE ripple_backup.notifications SET sent_at = now() - interval '100 days' WHERE event = 'notify.test'});
$node->safe_psql('postgres', 'SELECT ripple_backup.prune_history(90)');
is($node->safe_psql('postgres', q{SELECT count(*) FROM ripple_backup.notifications WHERE event = 'notify.test'}),
	'0', 'notifications older than history_days are pruned');
ok($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.notifications') > 0, 'the others stay');

# --- a backup interrupted by a server restart is a backup.failed too -------------------------
my $bg = $node->background_psql('app', on_error_stop => 1);
$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
my $iid = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::poll_value($node, 'app',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = 'app' AND wait_event_type = 'Lock'"
	  . " AND application_name = 'ripple_backup $iid'", 't', 60), 't', 'a backup is mid-run');
$node->restart;
eval { $bg->quit };
is(RippleTest::Cluster::wait_backup($node, $iid, '1 minute'), 'failed', 'after the restart it is failed');
my @int = grep { ($_->{backup_id} // '') eq $iid } wait_event('backup.failed', 3, 30);
is(scalar @int, 1, 'and backup.failed is sent for it');
is($int[0]{error}, 'interrupted by server restart', 'saying it was interrupted by the restart');

$node->stop;
$receiver->kill_kill;
$mail->stop;
$authmail->stop;
done_testing();
