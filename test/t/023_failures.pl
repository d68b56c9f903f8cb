# 023_failures.pl — backups that go wrong end in 'failed' with a reason and leave
# nothing that looks like a backup: pg_dump killed mid-run; the runner terminated
# (pg_dump reaped with it); the server restarted mid-backup ('interrupted by server
# restart'); and at most max_workers run at once, the rest stay queued.
#
# A dump is held "mid-run" deterministically: another session holds an ACCESS
# EXCLUSIVE lock on a table, so pg_dump (already connected, snapshot imported) waits.
use strict;
use warnings;
use File::Find;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(usleep);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('failures', destination => "file://$dir", max_workers => 1);
RippleTest::Cluster::create_app_db($node, 'app', 1000);

sub files_in_destination {
	my @files;
	# the verifier's marker "<object>.verified" and record "<object>.verify.json" of an
	# earlier backup may come at any time, and so may their temporary files while written
	find(sub { push @files, $File::Find::name if -f $_ && !/\.(?:verified|verify\.json)(?:\.tmp-\d+)?$/ }, $dir);
	return sort @files;
}

# Holds an ACCESS EXCLUSIVE lock on app.accounts in a background session.
sub hold_lock {
	my $bg = $node->background_psql('app', on_error_stop => 1);
	$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
	return $bg;
}

# Waits until backup $id's pg_dump waits on the lock; returns the runner's pid.
sub runner_blocked {
	my ($id) = @_;
	my $blocked = RippleTest::Cluster::poll_value($node, 'app',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = 'app' AND wait_event_type = 'Lock' AND application_name = 'ripple_backup $id'",
		't', 60);
	return undef unless $blocked eq 't';
	return $node->safe_psql('postgres', "SELECT pid FROM ripple_backup.progress WHERE backup_id = $id");
}

# --- pg_dump killed mid-run ----------------------------------------------------------
my $bg = hold_lock();
my $id = RippleTest::Cluster::backup_now($node, 'app');
my $runner = runner_blocked($id);
ok($runner, 'pg_dump is running, waiting on the lock');
like($node->safe_psql('postgres', "SELECT phase || ' ' || dbname FROM ripple_backup.progress WHERE backup_id = $id"),
	qr/^dumping app$/, 'progress shows the backup dumping app');
is(RippleTest::Cluster::backup_row($node, $id)->{status}, 'running', 'the catalog says running');
my $kids = RippleTest::Cluster::children_of($runner);
my ($pg_dump) = grep { $kids->{$_} eq 'pg_dump' } keys %$kids;
ok($pg_dump, "the runner's child pg_dump is $pg_dump");
kill 'KILL', $pg_dump;
is(RippleTest::Cluster::wait_backup($node, $id), 'failed', 'a killed pg_dump: the backup failed');
my $row = RippleTest::Cluster::backup_row($node, $id);
like($row->{error}, qr/pg_dump.*(signal 9|killed)/i, "the error says pg_dump was killed: $row->{error}");
is($row->{sha256}, undef, 'no checksum');
is($row->{location}, undef, 'no location');
is_deeply([ files_in_destination() ], [], 'nothing left in the destination');
ok(!kill(0, $pg_dump), 'pg_dump is gone (reaped)');
$bg->query_safe('ROLLBACK');

# --- the runner terminated (SIGTERM): pg_dump terminated and reaped too ------------------
$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
$id = RippleTest::Cluster::backup_now($node, 'app');
$runner = runner_blocked($id);
ok($runner, 'the next backup is blocked too');
$kids = RippleTest::Cluster::children_of($runner);
($pg_dump) = grep { $kids->{$_} eq 'pg_dump' } keys %$kids;
ok($pg_dump, 'with its pg_dump');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($runner)");
is(RippleTest::Cluster::wait_backup($node, $id, '30 s'), 'failed', 'a terminated runner: failed');
like(RippleTest::Cluster::backup_row($node, $id)->{error}, qr/cancelled|terminated/,
	'the error says it was cancelled');
my $gone = 0;
for (1 .. 100) { if (!kill(0, $pg_dump)) { $gone = 1; last; } usleep(100_000); }
ok($gone, 'its pg_dump was terminated and reaped');
is_deeply([ files_in_destination() ], [], 'nothing left in the destination');
$bg->query_safe('ROLLBACK');

# --- max_workers = 1: the second backup waits its turn ------------------------------------
$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
my $first = RippleTest::Cluster::backup_now($node, 'app');
my $second = RippleTest::Cluster::backup_now($node, 'app');
ok(runner_blocked($first), 'the first backup runs');
sleep 1;
is(RippleTest::Cluster::backup_row($node, $second)->{status}, 'queued', 'the second stays queued (max_workers = 1)');
is($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.progress'), '1', 'one backup in progress');
$bg->query_safe('ROLLBACK');
is(RippleTest::Cluster::wait_backup($node, $first), 'succeeded', 'the first succeeds once the lock is gone');
is(RippleTest::Cluster::wait_backup($node, $second), 'succeeded', 'then the second');

# --- server restart mid-backup -------------------------------------------------------
my @before = files_in_destination();
$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
$id = RippleTest::Cluster::backup_now($node, 'app');
ok(runner_blocked($id), 'a backup is mid-run');
$node->restart;
eval { $bg->quit };
is(RippleTest::Cluster::wait_backup($node, $id, '1 minute'), 'failed', 'after the restart the backup is failed');
# Two truthful outcomes, depending on which the shutdown reaches first: the runner
# (its pg_dump's connection terminated by the shutdown, which the runner records), or
# the restarted launcher (a row left running: "interrupted by server restart").
my $restart_error = RippleTest::Cluster::backup_row($node, $id)->{error} // '';
if ($restart_error eq 'interrupted by server restart') {
	pass('with the error "interrupted by server restart"');
	ok($node->log_contains('marked failed: interrupted by server restart'), 'the launcher logged it');
}
else {
	like($restart_error, qr/terminating connection due to administrator command/,
		'with the error of the shutdown that terminated its pg_dump');
	ok($node->log_contains(qr/backup $id of database "app" failed/), 'the runner logged it');
}
is_deeply([ files_in_destination() ], \@before, 'nothing new in the destination (no temporary file either)');
is($node->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.backups WHERE status = 'running'"), '0',
	'nothing stays running');

# and the launcher works after the restart
my $after = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $after), 'succeeded', 'a backup after the restart succeeds');

# --- a database dropped after queueing -------------------------------------------------
$node->safe_psql('postgres', 'CREATE DATABASE doomed');
my $bg2 = hold_lock();
my $blocker = RippleTest::Cluster::backup_now($node, 'app');
ok(runner_blocked($blocker), 'the only worker is busy');
my $doomed = RippleTest::Cluster::backup_now($node, 'doomed');
$node->safe_psql('postgres', 'DROP DATABASE doomed');
$bg2->query_safe('ROLLBACK');
$bg2->quit;
is(RippleTest::Cluster::wait_backup($node, $doomed), 'failed', 'a backup of a dropped database fails');
like(RippleTest::Cluster::backup_row($node, $doomed)->{error}, qr/database "doomed" does not exist/,
	'and says the database does not exist');
is(RippleTest::Cluster::wait_backup($node, $blocker), 'succeeded', 'the other one succeeded');

# --- the launcher stops promptly on SIGTERM and is started again ----------------------
my $launcher_sql = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'";
my $launcher = $node->safe_psql('postgres', $launcher_sql);
like($launcher, qr/^\d+$/, 'one launcher runs');
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
my $stopped = 0;
for (1 .. 50) { if (!kill(0, $launcher)) { $stopped = 1; last; } usleep(100_000); }
ok($stopped, 'the launcher exits within 5 s of SIGTERM');
my $again = '';
for (1 .. 300) {
	$again = $node->safe_psql('postgres', $launcher_sql);
	last if $again =~ /^\d+$/ && $again ne $launcher;
	usleep(100_000);
}
like($again, qr/^\d+$/, 'the postmaster starts a new launcher');
my $later = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $later), 'succeeded', 'and backups work again');

$node->stop;
done_testing();
