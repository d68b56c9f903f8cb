# 015_shared_breaker.pl — the S3 circuit breaker is shared in shared memory by every
# process of the server that talks to the endpoint, and visible in SQL:
#   - with the S3 server stopped, a backup fails after its request's retries and
#     opens the endpoint's breaker (ripple_backup.s3_breaker_threshold = 1);
#   - a second backup, a new runner process, finds the breaker open at once: it fails
#     fast, within a second or two instead of the request's retry window, naming the
#     real cause (Connection refused) with the breaker as context;
#   - ripple_backup.destinations shows the endpoint open with its failures, its
#     opened_at, next trial and last error; ripple_backup_health()'s destination row
#     is critical and names the breaker; ripple_backup_metrics() has
#     ripple_backup_breaker_open{endpoint="..."} 1 and passes promtool;
#   - the view is not readable by PUBLIC;
#   - after the server comes back and the open time has passed, a backup succeeds
#     (it is the half-open trial) and the view shows the breaker closed, metric 0.
use strict;
use warnings;
use File::Temp qw(tempdir);
use IPC::Run ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time sleep);

my $tmp = tempdir('breaker_XXXX', TMPDIR => 1, CLEANUP => 1);
my $s3 = RippleTest::S3Server->new(bucket => 'test');
my $endpoint = $s3->endpoint;
my $open_time = 15;
my $node = RippleTest::Cluster->new_node('breaker', s3 => $s3, prefix => 'breaker',
	conf => "ripple_backup.s3_request_timeout = '6s'\n"
	  . "ripple_backup.s3_breaker_threshold = 1\n"
	  . "ripple_backup.s3_breaker_open_time = '${open_time}s'\n"
	  . "ripple_backup.verify_after_backup = off\n"
	  . "ripple_backup.backup_retries = 0\n");	# each backup is one runner, timed alone
RippleTest::Cluster::create_app_db($node, 'app');

sub view {
	my ($cols) = @_;
	return $node->safe_psql('postgres',
		"SELECT $cols FROM ripple_backup.destinations WHERE endpoint = '$endpoint'");
}

sub timed_backup {
	my ($label) = @_;
	my $t0 = time;
	my $id = RippleTest::Cluster::backup_now($node, 'app', $label);
	my $status = RippleTest::Cluster::wait_backup($node, $id, '2 minutes');
	return ($id, $status, time - $t0);
}

is($node->safe_psql('postgres', 'SHOW ripple_backup.s3_breaker_threshold'), '1',
	'ripple_backup.s3_breaker_threshold is a setting');
is($node->safe_psql('postgres',
		"SELECT count(*) FROM ripple_backup.destinations WHERE endpoint <> '$endpoint' OR state <> 'closed'"),
	'0', 'before the outage no breaker is open (the launcher may have talked to the endpoint)');

# --- the server is down: the first backup opens the breaker ---------------------------------
$s3->stop;
my ($id1, $st1, $t1) = timed_backup('down 1');
is($st1, 'failed', 'a backup with the S3 server down fails');
my $row1 = RippleTest::Cluster::backup_row($node, $id1);
like($row1->{error}, qr/Connection refused/, 'its error is the real cause') or diag $row1->{error};
ok($t1 >= 4, "it went through the request's retries first (${t1} s)");
is(view('state'), 'open', 'the view shows the breaker open');
is(view('consecutive_failures >= 1 AND opened_at IS NOT NULL AND next_trial > opened_at'
	  . " AND last_failure > coalesce(last_success, '-infinity')"), 't',
	'with its failures, opened_at, next trial and last failure');
like(view('last_error'), qr/Connection refused/, 'and the last error');
unlike(view('last_error'), qr/\Q$RippleTest::S3Server::SECRET_KEY\E|aws_secret/, 'no secret in it');

# --- a new runner sees it open at once ---------------------------------------------------------
my ($id2, $st2, $t2) = timed_backup('down 2');
is($st2, 'failed', 'a second backup fails too');
my $row2 = RippleTest::Cluster::backup_row($node, $id2);
like($row2->{error}, qr/circuit breaker open/, 'because the shared breaker is open') or diag $row2->{error};
like($row2->{error}, qr/Connection refused/, 'naming the real cause with the breaker as context');
ok($t2 < 4, "it failed fast, without the request's retry window (${t2} s, the first took ${t1} s)");
like(slurp_file($node->logfile), qr/circuit breaker open/, 'the log says so');

# --- health and metrics ----------------------------------------------------------------------
my $health = $node->safe_psql('postgres',
	q{SELECT status || ' | ' || detail FROM ripple_backup_health() WHERE component = 'destination'});
like($health, qr/^critical \| /, 'the destination row of the health check is critical');
like($health, qr/circuit breaker of \Q$endpoint\E open after \d+ consecutive failures/, 'and names the open breaker')
  or diag $health;
my $metrics = $node->safe_psql('postgres', 'SELECT ripple_backup_metrics()');
like($metrics, qr/^ripple_backup_breaker_open\{endpoint="\Q$endpoint\E"\} 1$/m, 'ripple_backup_breaker_open is 1');
my $check = sub {
	my ($text, $what) = @_;
	my $f = "$tmp/$what.txt";
	open my $fh, '>', $f or die $!;
	print $fh "$text\n";
	close $fh;
	my ($out, $err) = ('', '');
	my $ok = IPC::Run::run([ 'promtool', 'check', 'metrics' ], '<', $f, '>', \$out, '2>', \$err);
	ok($ok, "promtool check metrics accepts the output ($what)") or diag "$out$err";
};
$check->($metrics, 'open');

# --- not for PUBLIC --------------------------------------------------------------------------
$node->safe_psql('postgres', 'CREATE ROLE breaker_nobody LOGIN');
my ($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM ripple_backup.destinations',
	extra_params => [ '-U', 'breaker_nobody' ]);
isnt($rc, 0, 'a role without grants cannot read the view');
like($err, qr/permission denied/, 'permission denied');
($rc, $out, $err) = $node->psql('postgres', 'SELECT * FROM ripple_backup.destinations_state()',
	extra_params => [ '-U', 'breaker_nobody' ]);
like($err, qr/permission denied/, 'nor call its function');

# --- the server comes back: after the open time a backup is the trial and closes it ----------
$s3->start;
my $wait = $node->safe_psql('postgres',
	"SELECT greatest(0, extract(epoch FROM next_trial - now()))::float8 FROM ripple_backup.destinations WHERE endpoint = '$endpoint'");
sleep($wait + 0.5);
my ($id3, $st3) = timed_backup('back');
is($st3, 'succeeded', 'with the server back and the open time over, a backup succeeds')
  or diag RippleTest::Cluster::backup_row($node, $id3)->{error};
is(view('state'), 'closed', 'the view shows the breaker closed');
is(view('consecutive_failures = 0 AND last_success > last_failure AND next_trial IS NULL'), 't',
	'failures reset, last success after the last failure');
like(slurp_file($node->logfile), qr/circuit breaker for \Q$endpoint\E closed/, 'the log says it closed');
$metrics = $node->safe_psql('postgres', 'SELECT ripple_backup_metrics()');
like($metrics, qr/^ripple_backup_breaker_open\{endpoint="\Q$endpoint\E"\} 0$/m, 'ripple_backup_breaker_open is 0');
$check->($metrics, 'closed');
like($node->safe_psql('postgres',
		q{SELECT status || ' | ' || detail FROM ripple_backup_health() WHERE component = 'destination'}),
	qr/^ok \| .*circuit breaker of \Q$endpoint\E closed/, 'the health row is ok again');

$node->stop;
done_testing();
