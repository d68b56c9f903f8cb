# 060_notify_core.pl — the notification library (src/core/notify_*.c) against real
# receivers, driven through test/tools/notify_send.c: e-mails through maildev
# (subject, Date, Message-ID, MIME headers and body as they arrive; a UTF-8 subject
# and body; STARTTLS required by default, so plain SMTP is refused with a clear
# error while tls=none works; credentials accepted, refused with the server's code,
# or refused locally when the file is readable by others; SMTPS with a private CA);
# webhooks and heartbeats through a local HTTP receiver (test/services/
# http_receiver.py): the JSON body parses and its HMAC verifies, the Slack body has
# `text`, the heartbeat gets /start, success and /fail with the error, statuses are
# named, 5xx retried and 4xx not, no URL path in any message, and a receiver that
# hangs makes the send fail after the timeout.
use strict;
use warnings;
use Digest::SHA qw(hmac_sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP ();
use Test::More;
use Time::HiRes qw(time usleep);
use RippleTest::MailServer;
use RippleTest::S3Server ();

my $tool = "$ENV{RIPPLE_SRC}/build/tools/notify_send";
my $tmp = tempdir('notify_XXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8;

# Runs notify_send; returns (exit code, stdout, stderr, seconds).
sub notify {
	my @args = @_;
	my ($out, $err) = ('', '');
	my $t0 = time;
	IPC::Run::run([ $tool, @args ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err, time - $t0);
}

sub write_file {
	my ($path, $data, $mode) = @_;
	open my $fh, '>', $path or die "$path: $!";
	binmode $fh;
	print $fh $data;
	close $fh;
	chmod $mode // 0600, $path;
}

my @event = ('--host', 'testhost', '--db', 'app');
# Debian's python3 (with python3-aiosmtpd), not another one first in PATH
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';

# --- e-mail: success and failure through plain SMTP (tls none) ----------------------
my $mail = RippleTest::MailServer->new;
my $url = $mail->smtp_url;
my @to = ('--from', 'ripple_backup <backup@example.com>', '--to', 'dba@example.com, oncall@example.com');

my ($rc, $out, $err) = notify('mail', '--url', $url, '--tls', 'none', @to, @event,
	'--event', 'backup.succeeded');
is($rc, 0, 'success mail with tls=none is accepted') or diag $err;
my @m = $mail->wait_messages(1);
is(scalar @m, 1, 'one message arrived');
my $msg = $m[0];
is($msg->{subject}, '[ripple_backup] succeeded: backup of "app" on testhost', 'success subject');
like($msg->{headers}{date}, qr/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d \+0000$/,
	'Date header in RFC 5322 form');
like($msg->{headers}{'message-id'}, qr/^<ripple_backup\.\d+\.[0-9a-f]{16}\@example\.com>$/,
	'Message-ID header, in the sender\'s domain');
is($msg->{headers}{'mime-version'}, '1.0', 'MIME-Version header');
is($msg->{headers}{'auto-submitted'}, 'auto-generated', 'Auto-Submitted header (no vacation replies)');
like($msg->{headers}{'content-type'}, qr{^text/plain; charset=UTF-8$}i, 'Content-Type text/plain UTF-8');
is($msg->{headers}{'content-transfer-encoding'}, '8bit', 'an ASCII body is sent 8bit');
is($msg->{headers}{'x-ripple-event'}, 'backup.succeeded', 'X-Ripple-Event header');
is_deeply([ sort map { $_->{address} } @{ $msg->{to} } ], [ 'dba@example.com', 'oncall@example.com' ],
	'both recipients in To');
is_deeply([ sort map { $_->{address} } @{ $msg->{envelope}{to} // [] } ],
	[ 'dba@example.com', 'oncall@example.com' ], 'both recipients in the SMTP envelope');
is($msg->{envelope}{from}{address}, 'backup@example.com', 'envelope sender is the bare address');
my $text = $msg->{text};
like($text, qr/^The backup of database "app" on testhost succeeded\./, 'body opens with what happened');
like($text, qr/^Database:       app$/m, 'body: database');
like($text, qr/^Backup id:      20261203T084352Z-app-0001$/m, 'body: backup id');
like($text, qr/^Size:           5\.6 MiB \(5,872,025 bytes\)$/m, 'body: size');
like($text, qr/^Compression:    36\.4 : 1$/m, 'body: compression ratio');
like($text, qr/^Rows:           2,041,223 in 4 tables$/m, 'body: row totals');
like($text, qr/^Largest tables: public\.pgbench_accounts \(2,000,000 rows\)/m, 'body: largest tables');
like($text, qr{^Location:       s3://backups/app/}m, 'body: location');
like($text, qr/^Verification:   verified$/m, 'body: verification');
ok(!(grep { length($_) > 78 } split /\r?\n/, $text), 'no body line longer than 78 columns');
$mail->clear;

($rc, $out, $err) = notify('mail', '--url', $url, '--tls', 'none', @to, @event,
	'--event', 'backup.failed', '--error', 'pg_dump failed: could not write to the pipe',
	'--detail', 'No space left on device.', '--hint', 'Free some space on the server.');
is($rc, 0, 'failure mail is accepted') or diag $err;
@m = $mail->wait_messages(1);
$msg = $m[0] // {};
is($msg->{subject}, '[ripple_backup] FAILED: backup of "app" on testhost', 'failure subject');
like($msg->{text} // '', qr/^Error:          pg_dump failed: could not write to the pipe$/m, 'body: error');
like($msg->{text} // '', qr/^Detail:         No space left on device\.$/m, 'body: detail');
like($msg->{text} // '', qr/^Hint:           Free some space on the server\.$/m, 'body: hint');
like($msg->{text} // '', qr/^Last success:   \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, 26 h 00 min ago$/m,
	'body: the last success and its age');
$mail->clear;

# UTF-8 in the subject (RFC 2047) and the body (quoted-printable), decoded by maildev
($rc, $out, $err) = notify('mail', '--url', $url, '--tls', 'none', @to, '--host', 'testhost',
	'--db', "donn\xc3\xa9es", '--event', 'backup.failed', '--error', "\xc3\xa9chec = 100 %");
is($rc, 0, 'UTF-8 mail is accepted') or diag $err;
@m = $mail->wait_messages(1);
$msg = $m[0] // {};
is($msg->{subject}, "[ripple_backup] FAILED: backup of \"donn\x{e9}es\" on testhost",
	'a UTF-8 subject arrives intact');
is($msg->{headers}{'content-transfer-encoding'}, 'quoted-printable', 'a UTF-8 body is quoted-printable');
like($msg->{text} // '', qr/^Database:       donn\x{e9}es$/m, 'the UTF-8 body decodes');
like($msg->{text} // '', qr/^Error:          \x{e9}chec = 100 %$/m, 'an = in the body survives the encoding');
$mail->clear;

# --- STARTTLS is required by default --------------------------------------------------
my $t;
($rc, $out, $err, $t) = notify('mail', '--url', $url, @to, @event, '--event', 'backup.failed');
is($rc, 1, 'default tls (starttls) to a server without STARTTLS fails');
like($err, qr/does not offer STARTTLS/, 'the error says STARTTLS is not offered');
like($err, qr/nothing was sent/, 'the error says nothing was sent');
unlike($err, qr/retrying/, 'a missing STARTTLS is not retried');
usleep(300_000);
is(scalar($mail->messages), 0, 'nothing arrived without TLS');
($rc, $out, $err) = notify('mail', '--url', $url, '--tls', 'starttls', @to, @event);
like($err, qr/does not offer STARTTLS/, 'explicit starttls behaves the same');

# --- connection refused: a clear error after the retries ---------------------------------
my $closed = RippleTest::S3Server::free_port();
($rc, $out, $err) = notify('mail', '--url', "smtp://127.0.0.1:$closed", '--tls', 'none', @to, @event,
	'--attempts', '2', '--base-delay', '0.1');
is($rc, 1, 'sending to a closed port fails');
like($err, qr/could not connect to the SMTP server: Connection refused/, 'the error says connection refused');
like($err, qr/attempt 1 of 2 failed: .*retrying in/, 'the first failure is logged and retried');
like($err, qr/\(attempt 2 of 2\)/, 'the final error counts the attempts');
$mail->stop;

# --- a server that refuses a recipient: 5xx is final, 4xx is retried ----------------------
# A minimal SMTP dialogue that answers RCPT TO with the given reply and counts connections.
sub fake_smtp {
	my ($rcpt_reply) = @_;
	my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Listen => 5,
		ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
	my $port = $srv->sockport;
	my $count = "$tmp/fake_smtp_$port.count";
	write_file($count, '', 0644);
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		while (my $c = $srv->accept) {
			open my $fh, '>>', $count; print $fh "x\n"; close $fh;
			$c->autoflush(1);
			print $c "220 fake ESMTP\r\n";
			while (my $l = <$c>) {
				if ($l =~ /^RCPT/i) { print $c "$rcpt_reply\r\n" }
				elsif ($l =~ /^QUIT/i) { print $c "221 bye\r\n"; last }
				else { print $c "250 ok\r\n" }
			}
			close $c;
		}
		exit 0;
	}
	close $srv;
	return ($port, $pid, $count);
}
sub connections { open my $fh, '<', $_[0] or die; my @l = <$fh>; return scalar @l; }

my ($fport, $fpid, $fcount) = fake_smtp('550 5.1.1 no such user here');
($rc, $out, $err) = notify('mail', '--url', "smtp://127.0.0.1:$fport", '--tls', 'none', @to, @event,
	'--attempts', '3', '--base-delay', '0.1');
is($rc, 1, 'a refused recipient fails');
like($err, qr/the SMTP server refused the message: .*550.* \(reply code 550\)/, 'the error gives the reply code');
is(connections($fcount), 1, 'a 5xx reply is not retried');
kill 'KILL', $fpid;
waitpid($fpid, 0);
($fport, $fpid, $fcount) = fake_smtp('451 4.3.0 try again later');
($rc, $out, $err) = notify('mail', '--url', "smtp://127.0.0.1:$fport", '--tls', 'none', @to, @event,
	'--attempts', '2', '--base-delay', '0.1');
is($rc, 1, 'a recipient refused for now fails in the end');
like($err, qr/\(attempt 2 of 2\): the SMTP server refused the message: .*\(reply code 451\)/,
	'after the retries');
is(connections($fcount), 2, 'a 4xx reply is retried');
kill 'KILL', $fpid;
waitpid($fpid, 0);

# --- credentials ------------------------------------------------------------------------
my $authmail = RippleTest::MailServer->new(user => 'ripple', password => 'Corr3ct-horse');
my $cred = "$tmp/smtp_credentials";
write_file($cred, "# SMTP account of the backups\nuser = ripple\npassword = Corr3ct-horse\n");
($rc, $out, $err) = notify('mail', '--url', $authmail->smtp_url, '--tls', 'none', @to, @event,
	'--credentials-file', $cred);
is($rc, 0, 'the right credentials are accepted') or diag $err;
@m = $authmail->wait_messages(1);
is(scalar @m, 1, 'the authenticated message arrived');

write_file($cred, "user = ripple\npassword = Wr0ng-battery\n");
($rc, $out, $err) = notify('mail', '--url', $authmail->smtp_url, '--tls', 'none', @to, @event,
	'--credentials-file', $cred);
is($rc, 1, 'wrong credentials fail');
like($err, qr/the SMTP server refused the credentials \(reply code 535\)/,
	'the error says the credentials were refused, with the server\'s code');
unlike($err, qr/Wr0ng-battery/, 'the password is in no message');
unlike($err, qr/retrying/, 'refused credentials are not retried');
is(scalar($authmail->messages), 1, 'nothing more arrived');

write_file($cred, "user = ripple\npassword = Corr3ct-horse\n", 0644);
($rc, $out, $err) = notify('mail', '--url', $authmail->smtp_url, '--tls', 'none', @to, @event,
	'--credentials-file', $cred);
is($rc, 1, 'a credentials file readable by others is refused');
like($err, qr/SMTP credentials file ".*" is accessible by other users \(mode 0644\); chmod 600 it/,
	'the error names the file and its mode');
unlike($err, qr/Corr3ct-horse/, 'and not the password');
$authmail->stop;

# --- SMTPS with a private CA ---------------------------------------------------------------
my ($key, $crt) = ("$tmp/smtp.key", "$tmp/smtp.crt");
my ($ssl_out, $ssl_err) = ('', '');
IPC::Run::run([ 'openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
	'-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
	'-keyout', $key, '-out', $crt ], '<', \undef, '>', \$ssl_out, '2>', \$ssl_err)
  or die "openssl req failed: $ssl_err";
my $tlsmail = RippleTest::MailServer->new(tls_key => $key, tls_cert => $crt);
like($tlsmail->smtp_url, qr{^smtps://}, 'the TLS server is reached with smtps://');
($rc, $out, $err) = notify('mail', '--url', $tlsmail->smtp_url, '--ca-file', $crt, @to, @event);
is($rc, 0, 'with the CA file the message goes over TLS') or diag $err;
@m = $tlsmail->wait_messages(1);
is(scalar @m, 1, 'the message sent over SMTPS arrived');
($rc, $out, $err) = notify('mail', '--url', $tlsmail->smtp_url, '--tls', 'none', @to, @event);
like($err, qr/contradicts an smtps:\/\/ URL/, 'tls=none with smtps:// is refused');
# last: maildev 2.2.1 exits when a client rejects its certificate
($rc, $out, $err) = notify('mail', '--url', $tlsmail->smtp_url, @to, @event, '--attempts', '1');
is($rc, 1, 'a certificate from an unknown CA is refused');
like($err, qr/the SMTP server's TLS certificate could not be verified: SSL certificate problem: self-signed certificate/,
	'the error says the certificate was not verified');
$tlsmail->stop;

# --- a server that offers STARTTLS: the default mode encrypts before AUTH and DATA ------------
sub wait_port {
	my ($p) = @_;
	for (1 .. 100) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p, Proto => 'tcp');
		if ($s) { close $s; return 1; }
		usleep(100_000);
	}
	return 0;
}
sub read_jsonl {
	my ($path) = @_;
	open my $fh, '<', $path or die "$path: $!";
	my @all = map { $json->decode($_) } grep { /\S/ } <$fh>;
	close $fh;
	return @all;
}
my $sport = RippleTest::S3Server::free_port();
my $slog = "$tmp/starttls.jsonl";
write_file($slog, '', 0644);
my $starttls = IPC::Run::start([ $python, "$ENV{RIPPLE_SRC}/test/services/smtp_starttls.py",
	'--port', $sport, '--cert', $crt, '--key', $key, '--log', $slog,
	'--user', 'ripple', '--password', 'Corr3ct-horse' ], '<', \undef, '>', "$tmp/starttls.out", '2>&1');
ok(wait_port($sport), 'the STARTTLS server is up');
write_file($cred, "user = ripple\npassword = Corr3ct-horse\n");
($rc, $out, $err) = notify('mail', '--url', "smtp://127.0.0.1:$sport", '--ca-file', $crt,
	'--credentials-file', $cred, @to, @event, '--event', 'backup.succeeded');
is($rc, 0, 'default tls (starttls) with a server that offers STARTTLS sends') or diag $err;
my @s = read_jsonl($slog);
is(scalar @s, 1, 'the server accepted one message');
ok($s[0]{tls}, 'the session was encrypted (STARTTLS) before the message');
ok($s[0]{authenticated}, 'and authenticated (AUTH is offered only over TLS there)');
is($s[0]{mail_from}, 'backup@example.com', 'envelope sender');
is_deeply([ sort @{ $s[0]{rcpt_tos} } ], [ 'dba@example.com', 'oncall@example.com' ], 'envelope recipients');
like($s[0]{content}, qr/^Subject: \[ripple_backup\] succeeded: backup of "app" on testhost\r?$/m,
	'the message as sent');
write_file($cred, "user = ripple\npassword = Wr0ng-battery\n");
($rc, $out, $err) = notify('mail', '--url', "smtp://127.0.0.1:$sport", '--ca-file', $crt,
	'--credentials-file', $cred, @to, @event);
like($err, qr/the SMTP server refused the credentials \(reply code 535\)/, 'wrong credentials over STARTTLS: 535');
unlike($err, qr/Wr0ng-battery/, 'without the password');
($rc, $out, $err) = notify('mail', '--url', "smtp://127.0.0.1:$sport", @to, @event, '--attempts', '1');
like($err, qr/TLS certificate could not be verified/, 'STARTTLS verifies the certificate too');
is(scalar(read_jsonl($slog)), 1, 'nothing more was accepted');
$starttls->kill_kill;

# --- the HTTP receiver -----------------------------------------------------------------------
my $port = RippleTest::S3Server::free_port();
my $rlog = "$tmp/receiver.jsonl";
write_file($rlog, '', 0644);
my $receiver = IPC::Run::start([ $python, "$ENV{RIPPLE_SRC}/test/services/http_receiver.py",
	'--port', $port, '--log', $rlog ], '<', \undef, '>', "$tmp/receiver.out", '2>&1');
for (1 .. 100) {
	last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Proto => 'tcp');
	usleep(100_000);
}
my $base = "http://127.0.0.1:$port";

# The requests the receiver got since the last call.
my $seen = 0;
sub received {
	open my $fh, '<', $rlog or die "$rlog: $!";
	my @all = map { $json->decode($_) } grep { /\S/ } <$fh>;
	close $fh;
	my @new = @all[ $seen .. $#all ];
	$seen = @all;
	return @new;
}

# webhook, JSON, signed
my $secret = "$tmp/webhook_secret";
write_file($secret, "s3cr3t-for-hmac\n");
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/T000/B000/secret-token", '--secret-file', $secret,
	@event, '--event', 'backup.failed', '--error', 'pg_dump failed: "quoted"');
is($rc, 0, 'signed JSON webhook delivered') or diag $err;
my @r = received();
is(scalar @r, 1, 'one request');
is($r[0]{method}, 'POST', 'webhook is a POST');
is($r[0]{path}, '/hooks/T000/B000/secret-token', 'to the URL given');
is($r[0]{headers}{'content-type'}, 'application/json', 'Content-Type application/json');
my $body = eval { $json->decode($r[0]{body}) };
ok($body, 'the body is JSON') or diag $@;
is($body->{event}, 'backup.failed', 'JSON event');
like($body->{timestamp} // '', qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'JSON timestamp (RFC 3339, UTC)');
is($body->{database}, 'app', 'JSON database');
is($body->{host}, 'testhost', 'JSON host');
is($body->{error}, 'pg_dump failed: "quoted"', 'JSON error');
is($body->{summary}, '[ripple_backup] FAILED: backup of "app" on testhost', 'JSON summary');
ok(exists $body->{size_bytes} && !defined $body->{size_bytes}, 'unknown facts are null');
is($r[0]{headers}{'x-ripple-signature'}, 'sha256=' . hmac_sha256_hex($r[0]{body}, 's3cr3t-for-hmac'),
	'X-Ripple-Signature is the HMAC-SHA256 of the body with the secret (line end stripped)');
isnt($r[0]{headers}{'x-ripple-signature'}, 'sha256=' . hmac_sha256_hex($r[0]{body}, 'other'),
	'and another secret would not verify');

# the body matches the schema documented in docs/notifications.md (keys and types)
my $doc = do { local $/; open my $fh, '<', "$ENV{RIPPLE_SRC}/docs/notifications.md" or die; <$fh> };
my ($schema_text) = $doc =~ /<!-- webhook-schema-begin -->\s*```json\n(.*?)```\s*<!-- webhook-schema-end -->/s;
my $schema = $json->decode($schema_text);
sub json_type {
	my ($v) = @_;
	return 'null' unless defined $v;
	return 'array' if ref $v eq 'ARRAY';
	return 'object' if ref $v eq 'HASH';
	my $flags = B::svref_2object(\$v)->FLAGS;
	return 'string' if $flags & B::SVp_POK() && !($flags & (B::SVp_IOK() | B::SVp_NOK()));
	return $v == int($v) && $flags & B::SVp_IOK() ? 'integer' : 'number';
}
require B;
sub check_schema {
	my ($b, $what) = @_;
	is_deeply([ sort keys %$b ], [ sort @{ $schema->{required} } ], "$what: exactly the documented keys");
	is_deeply([ sort keys %$b ], [ sort keys %{ $schema->{properties} } ], "$what: every key is described");
	my @bad;
	for my $k (sort keys %$b) {
		my $p = $schema->{properties}{$k} // {};
		my $got = json_type($b->{$k});
		my @want = ref $p->{type} ? @{ $p->{type} } : defined $p->{type} ? ($p->{type}) : ('string');
		push @want, 'integer' if grep { $_ eq 'number' } @want;
		push @bad, "$k is $got, not " . join('|', @want) unless grep { $_ eq $got } @want;
	}
	for my $t (@{ ref $b->{largest_tables} eq 'ARRAY' ? $b->{largest_tables} : [] }) {
		push @bad, 'largest_tables item' unless json_type($t->{name}) eq 'string'
		  && json_type($t->{rows}) eq 'integer' && keys %$t == 2;
	}
	is_deeply(\@bad, [], "$what: every value has the documented type");
	ok((grep { $_ eq $b->{event} } @{ $schema->{properties}{event}{enum} }), "$what: a documented event name");
}
check_schema($body, 'failure body');
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/json-success", @event, '--event', 'drill.succeeded');
is($rc, 0, 'success webhook delivered') or diag $err;
@r = received();
my $sbody = eval { $json->decode($r[0]{body}) } // {};
check_schema($sbody, 'drill success body');
is($sbody->{size_bytes}, 5872025, 'a known size is a number');
is($sbody->{largest_tables}[0]{name}, 'public.pgbench_accounts', 'largest tables listed');
ok($sbody->{restore_seconds} > 41 && $sbody->{restore_seconds} < 42, 'restore time of the drill');

# unsigned without a secret; a secret file others can read is refused
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/plain", @event);
is($rc, 0, 'unsigned webhook delivered') or diag $err;
@r = received();
ok(!exists $r[0]{headers}{'x-ripple-signature'}, 'no signature header without a secret');
write_file($secret, "s3cr3t-for-hmac\n", 0640);
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/x", '--secret-file', $secret, @event);
is($rc, 1, 'a secret file readable by the group is refused');
like($err, qr/webhook secret file ".*" is accessible by other users \(mode 0640\)/, 'the error names the mode');
unlike($err, qr/s3cr3t/, 'and not the secret');
is(scalar(received()), 0, 'nothing was sent');
chmod 0600, $secret;

# notify_on filters what goes out (the server passes its setting the same way)
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/filtered", @event, '--event', 'backup.succeeded',
	'--notify-on', 'failure');
is($out, "not sent (notify_on = failure)\n", 'notify_on=failure keeps a success back');
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/filtered", @event, '--event', 'rpo.recovered',
	'--notify-on', 'failure');
is($out, "sent\n", 'notify_on=failure sends the recovery that ends a breach') or diag $err;
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/filtered", @event, '--event', 'backup.failed',
	'--notify-on', 'never');
is($out, "not sent (notify_on = never)\n", 'notify_on=never sends nothing');
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/filtered", @event, '--event', 'notify.test',
	'--notify-on', 'never');
is($out, "sent\n", 'a test message goes out whatever notify_on says') or diag $err;
@r = received();
is_deeply([ map { $json->decode($_->{body})->{event} } @r ], [ 'rpo.recovered', 'notify.test' ],
	'the receiver got exactly the events let through');

# Slack / Mattermost
($rc, $out, $err) = notify('webhook', '--url', "$base/hooks/slack", '--format', 'slack', @event);
is($rc, 0, 'Slack webhook delivered') or diag $err;
@r = received();
$body = eval { $json->decode($r[0]{body}) } // {};
is_deeply([ keys %$body ], ['text'], 'the Slack body has one field, text');
like($body->{text} // '', qr/^\[ripple_backup\] succeeded: backup of "app" on testhost\nDatabase: app\n/,
	'text starts with the summary and the facts');

# statuses: 5xx retried, 4xx not; the path (the secret of a Slack URL) is in no message
($rc, $out, $err) = notify('webhook', '--url', "$base/status/500/secret-token", @event,
	'--attempts', '2', '--base-delay', '0.1');
is($rc, 1, 'a 500 answer is an error');
like($err, qr/webhook to http:\/\/127\.0\.0\.1:$port \(attempt 2 of 2\): the receiver answered HTTP 500/,
	'the error names the status and the attempts');
is(scalar(received()), 2, 'a 500 is retried');
unlike($err, qr/secret-token/, 'the URL path is in no message');
($rc, $out, $err) = notify('webhook', '--url', "$base/status/404/x", @event, '--attempts', '3');
like($err, qr/answered HTTP 404: refused by the test receiver/, 'a 404 is named, with the answer');
is(scalar(received()), 1, 'a 404 is not retried');
($rc, $out, $err) = notify('webhook', '--url', "$base/status/302/x", @event);
like($err, qr/answered HTTP 302 \(redirects are not followed\)/, 'a redirect is an error');
received();

# --- heartbeat ---------------------------------------------------------------------------------
my $hb = "$base/ping/0c4e4f0a-uuid";
($rc, $out, $err) = notify('heartbeat', '--url', $hb, '--signal', 'start');
is($rc, 0, 'heartbeat start') or diag $err;
($rc, $out, $err) = notify('heartbeat', '--url', $hb, '--signal', 'success');
is($rc, 0, 'heartbeat success') or diag $err;
($rc, $out, $err) = notify('heartbeat', '--url', "$hb/", '--signal', 'fail',
	'--error', 'pg_dump failed: connection to server was lost');
is($rc, 0, 'heartbeat fail') or diag $err;
@r = received();
is_deeply([ map { "$_->{method} $_->{path}" } @r ],
	[ 'GET /ping/0c4e4f0a-uuid/start', 'GET /ping/0c4e4f0a-uuid', 'POST /ping/0c4e4f0a-uuid/fail' ],
	'the service gets /start, then the success, then /fail');
is($r[2]{body}, 'pg_dump failed: connection to server was lost', 'the fail carries the error text');
like($r[2]{headers}{'content-type'} // '', qr{^text/plain}, 'as text/plain');
($rc, $out, $err) = notify('heartbeat', '--url', "$hb?rid=7", '--signal', 'start');
@r = received();
is($r[0]{path}, '/ping/0c4e4f0a-uuid/start?rid=7', 'the suffix goes before the query string');

# --- a receiver that hangs ------------------------------------------------------------------------
($rc, $out, $err, $t) = notify('webhook', '--url', "$base/hang/x", @event, '--timeout-ms', '1000',
	'--attempts', '1');
is($rc, 1, 'a webhook to a hanging receiver fails');
like($err, qr/no answer within 1000 ms/, 'the error says it timed out');
cmp_ok($t, '<', 3, "and it gave up after the timeout (${\ sprintf('%.2f', $t)} s for a 1 s timeout)");
cmp_ok($t, '>=', 0.9, 'not before it');
($rc, $out, $err, $t) = notify('heartbeat', '--url', "$base/hang/y", '--signal', 'start',
	'--timeout-ms', '1000', '--attempts', '2', '--base-delay', '0.2');
is($rc, 1, 'a heartbeat to a hanging receiver fails');
like($err, qr/\(attempt 2 of 2\): no answer within 1000 ms/, 'after both attempts timed out');
cmp_ok($t, '<', 2 * 3 + 1, "two attempts stay bounded (${\ sprintf('%.2f', $t)} s)");
received();

# cancellation (SIGTERM, as a worker's shutdown) ends a transfer that waits, at once
{
	my ($cout, $cerr) = ('', '');
	my $t0 = time;
	my $h = IPC::Run::start([ $tool, 'webhook', '--url', "$base/hang/cancel", @event,
		'--timeout-ms', '20000' ], '<', \undef, '>', \$cout, '2>', \$cerr);
	usleep(500_000);
	$h->signal('TERM');
	$h->finish;
	my $elapsed = time - $t0;
	is($h->result, 1, 'a cancelled webhook fails');
	like($cerr, qr/webhook to http:\/\/127\.0\.0\.1:$port: cancelled/, 'the error says cancelled');
	cmp_ok($elapsed, '<', 2, "it stopped soon after the signal (${\ sprintf('%.2f', $elapsed)} s), not after the 20 s timeout");
}
received();

$receiver->kill_kill;
done_testing();
