# 117_wal_archive_alerts.pl — notifications on WAL archive failure streaks, against
# real receivers (maildev for e-mail, test/services/http_receiver.py for the
# webhook), with ripple_backup.wal_archive_alert_after = 10s:
#   - a streak shorter than the threshold (alert_after 1 h while S3 is briefly
#     down) notifies nobody;
#   - a streak that lasts: exactly one wal_archive.failing e-mail and webhook, not
#     before the threshold, and no more while the failures go on (no flood),
#     with the failing file's error, the number of attempts and the last file
#     archived; the body matches the documented webhook schema's event names;
#   - S3 back: exactly one wal_archive.recovered on each channel;
#   - ripple_backup.notifications records each as sent.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IPC::Run ();
use JSON::PP ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::MailServer;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $tmp = tempdir('walalert_XXXX', TMPDIR => 1, CLEANUP => 1);
my $json = JSON::PP->new->utf8;
my $python = -x '/usr/bin/python3' ? '/usr/bin/python3' : 'python3';

sub wait_port {
	my ($p) = @_;
	for (1 .. 100) {
		my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p, Proto => 'tcp');
		if ($s) { close $s; return 1; }
		usleep(100_000);
	}
	return 0;
}

my $mail = RippleTest::MailServer->new;
my $port = RippleTest::S3Server::free_port();
my $rlog = "$tmp/receiver.jsonl";
open my $fh, '>', $rlog or die "$rlog: $!";
close $fh;
my $receiver = IPC::Run::start([ $python, "$ENV{RIPPLE_SRC}/test/services/http_receiver.py",
	'--port', $port, '--log', $rlog ], '<', \undef, '>', "$tmp/receiver.out", '2>&1');
ok(wait_port($port), 'the HTTP receiver is up');

# The webhook bodies that arrived, decoded.
sub hooks {
	open my $in, '<', $rlog or die "$rlog: $!";
	my @all = map { $json->decode($_) } grep { /\S/ } <$in>;
	close $in;
	return map { $json->decode($_->{body}) } grep { index($_->{path}, '/hook') == 0 } @all;
}
sub hooks_of { my ($ev) = @_; return grep { $_->{event} eq $ev } hooks(); }
sub mails_of { my ($ev) = @_; return grep { ($_->{headers}{'x-ripple-event'} // '') eq $ev } $mail->messages; }

my $s3 = RippleTest::S3Server->new;
my $node = RippleTest::Cluster->new_node('walalert', s3 => $s3, prefix => 'pitr',
	init => { allows_streaming => 1 },
	conf => join('', map { "$_\n" }
		"archive_mode = on",
		"archive_library = 'ripple_backup'",
		"cluster_name = 'walalert'",
		"ripple_backup.s3_request_timeout = '4s'",
		"ripple_backup.s3_breaker_open_time = '2s'",
		"ripple_backup.verify_after_backup = off",
		"ripple_backup.drill_schedule = ''",
		"ripple_backup.smtp_url = '" . $mail->smtp_url . "'",
		"ripple_backup.smtp_tls = 'none'",
		"ripple_backup.mail_from = 'ripple_backup <backup\@example.com>'",
		"ripple_backup.mail_to = 'dba\@example.com'",
		"ripple_backup.webhook_url = 'http://127.0.0.1:$port/hook'",
		"ripple_backup.notify_timeout = '2s'",
		"ripple_backup.wal_archive_alert_after = '1h'"));

sub sqlv { $node->safe_psql('postgres', $_[0]) }

sub wait_for {
	my ($what, $cond, $timeout) = @_;
	my $deadline = time + ($timeout // 120);
	while (time < $deadline) {
		return 1 if $cond->();
		usleep(200_000);
	}
	diag("timed out waiting for $what");
	return 0;
}

sub switch_segment {
	sqlv("INSERT INTO t SELECT g FROM generate_series(1, 100) g");
	return sqlv("SELECT pg_walfile_name(pg_current_wal_lsn()) FROM pg_switch_wal()");
}
sub archived { my ($seg) = @_; return sqlv("SELECT coalesce(last_archived_wal >= '$seg', false) FROM ripple_backup.wal_archive") eq 't'; }
sub wal_rows {
	return sqlv("SELECT count(*) FROM ripple_backup.notifications WHERE event LIKE 'wal_archive.%'");
}

sqlv('CREATE TABLE t (id int)');
my $first = switch_segment();
ok(wait_for("$first archived", sub { archived($first) }), 'archiving works');

# --- a short streak: nobody is told ------------------------------------------------------
$s3->stop;
my $short = switch_segment();
ok(wait_for('a failure', sub { sqlv('SELECT failed_count > 0 FROM ripple_backup.wal_archive') eq 't' }, 60),
	'a short outage: archiving fails');
$s3->start;
my $tick = 0;
ok(wait_for("$short archived", sub { switch_segment() if ++$tick % 25 == 0; archived($short) }, 180),
	'and recovers');
sleep 12;	# the launcher's round (10 s at the latest) has seen the figures
is(wal_rows(), '0', 'a streak shorter than wal_archive_alert_after notifies nobody');

# --- a streak that lasts --------------------------------------------------------------------
$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.wal_archive_alert_after = '10s'");
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
$s3->stop;
my $t_stop = time;
my $failing_file = switch_segment();
ok(wait_for('a failure', sub { sqlv("SELECT last_failed_wal >= '$failing_file' FROM ripple_backup.wal_archive") eq 't' }, 60),
	'S3 down: archiving fails');
my $t_fail = time;
my @hooks;
ok(wait_for('the failing webhook', sub { @hooks = hooks_of('wal_archive.failing'); @hooks > 0 }, 90),
	'a wal_archive.failing webhook arrives');
my $t_alert = time;
note sprintf('alert %.1f s after the first failure was seen, %.1f s after S3 stopped', $t_alert - $t_fail, $t_alert - $t_stop);
cmp_ok($t_alert - $t_stop, '>=', 9, 'not before the streak lasted wal_archive_alert_after (10 s)');
my $h = $hooks[0];
is($h->{status}, 'failing', 'status: failing');
like($h->{summary}, qr/^\[ripple_backup\] FAILING: WAL archiving on walalert$/, 'summary: FAILING, WAL archiving, the cluster');
ok(defined $h->{error} && length $h->{error} > 0, "the error: $h->{error}");
like($h->{detail} // '', qr/^\d+ attempts in a row have failed, for \d+ s; the last one was for WAL file "[0-9A-F]{24}"\.$/,
	'the detail: attempts, duration, the file');
is($h->{database}, undef, 'no database');
ok(defined $h->{last_success_at}, 'the last archived time as last_success_at');
my @m;
ok(wait_for('the failing e-mail', sub { @m = mails_of('wal_archive.failing'); @m > 0 }, 60), 'and an e-mail');
is($m[0]{subject}, '[ripple_backup] FAILING: WAL archiving on walalert', 'its subject');
like($m[0]{text} // '', qr/WAL archiving on walalert is FAILING/, 'its body says what fails');

# the failures go on: no second alert
for (1 .. 4) { switch_segment(); sleep 5; }
is(scalar(hooks_of('wal_archive.failing')), 1, 'exactly one failing webhook while the failures go on (20 s more)');
is(scalar(mails_of('wal_archive.failing')), 1, 'exactly one failing e-mail');
cmp_ok(sqlv('SELECT failed_count FROM ripple_backup.wal_archive'), '>', 2, 'while the archiver kept failing');

# --- S3 back: recovered, once ----------------------------------------------------------------
$s3->start;
my $last = switch_segment();
ok(wait_for("$last archived", sub { switch_segment() if ++$tick % 25 == 0; archived($last) }, 240), 'S3 back: archived');
ok(wait_for('the recovered webhook', sub { hooks_of('wal_archive.recovered') > 0 }, 60), 'a wal_archive.recovered webhook');
ok(wait_for('the recovered e-mail', sub { mails_of('wal_archive.recovered') > 0 }, 60), 'and an e-mail');
my ($rh) = hooks_of('wal_archive.recovered');
is($rh->{status}, 'archiving', 'status: archiving');
like($rh->{detail} // '', qr/^The last WAL file archived is "[0-9A-F]{24}"\.$/, 'the detail names the last file archived');
my ($rm) = mails_of('wal_archive.recovered');
is($rm->{subject}, '[ripple_backup] recovered: WAL archiving on walalert', 'the recovered subject');
sleep 12;
is(scalar(hooks_of('wal_archive.recovered')), 1, 'exactly one recovered webhook');
is(scalar(mails_of('wal_archive.recovered')), 1, 'exactly one recovered e-mail');
is(scalar(hooks_of('wal_archive.failing')), 1, 'and still one failing webhook');
is(sqlv("SELECT string_agg(event || '/' || channel || '/' || status, ',' ORDER BY id) FROM ripple_backup.notifications"
	  . " WHERE event LIKE 'wal_archive.%'"),
	'wal_archive.failing/email/sent,wal_archive.failing/webhook/sent,wal_archive.recovered/email/sent,wal_archive.recovered/webhook/sent',
	'ripple_backup.notifications: one of each per channel, sent');

# the documented event names
my $doc = slurp_file("$ENV{RIPPLE_SRC}/docs/notifications.md");
my ($schema_text) = $doc =~ /<!-- webhook-schema-begin -->\s*```json\n(.*?)```\s*<!-- webhook-schema-end -->/s;
my $schema = $json->decode($schema_text);
for my $b ($h, $rh) {
	ok((grep { $_ eq $b->{event} } @{ $schema->{properties}{event}{enum} }), "$b->{event} is a documented event");
	is_deeply([ sort keys %$b ], [ sort @{ $schema->{required} } ], "$b->{event}: exactly the documented keys");
}
my ($logged) = slurp_file($node->logfile) =~ /LOG:  ripple_backup: WAL archiving has failed for (\d+) s \(\d+ attempts without a success\)/;
ok(defined $logged, 'the launcher logs the alert');
note "the launcher saw a streak of " . ($logged // '?') . ' s when it queued the alert';

$node->stop;
$receiver->kill_kill;
done_testing();
