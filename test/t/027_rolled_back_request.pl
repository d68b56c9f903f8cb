# 027_rolled_back_request.pl — a backup whose requesting transaction rolled back is
# never stored: SELECT ripple_backup_wait(ripple_backup_now()) hands the uncommitted
# request to the launcher through shared memory so that one statement can wait.
# When that transaction rolls back (a wait that timed out, an explicit ROLLBACK):
#   - a request the launcher has not started yet is never started;
#   - a runner already running is stopped (also by a launcher that restarted since);
#   - a result already stored (object and metadata) is deleted again;
# and in every case nothing is left in the destination, nothing in the catalog,
# `ripple-backup list` shows nothing, and the server log says why.  The last case
# runs against the S3 test server too (the delete goes through the S3 client).
#
# A dump is held mid-run deterministically by an ACCESS EXCLUSIVE lock on a table
# that another session holds (pg_dump waits for it).
use strict;
use warnings;
use File::Find;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $cli = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $node = RippleTest::Cluster->new_node('rolled_back', destination => "file://$dir");
RippleTest::Cluster::create_app_db($node, 'app', 1000);

sub files_in_destination {
	my @files;
	# the verifier's marker "<object>.verified" (retention_keys.h) is no backup object
	find(sub { push @files, $File::Find::name if -f $_ && !/\.(?:verified|verify\.json)(?:\.tmp-\d+)?$/ }, $dir);
	return sort @files;
}

sub catalog_rows {
	return $node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.backups');
}

sub cli_list {
	my ($out, $err) = ('', '');
	local %ENV = %ENV;
	delete $ENV{$_} for grep { /^(RIPPLE_BACKUP_|AWS_)/ } keys %ENV;
	$ENV{HOME} = $work;
	IPC::Run::run([ $cli, 'list', '--json', '--destination', "file://$dir" ],
		'<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# The next id the sequence hands out (a rolled-back row still consumed its id).
sub next_id {
	return $node->safe_psql('postgres',
		"SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END FROM ripple_backup.backups_id_seq");
}

# Polls the server log (of $on, default $node) from $offset for $re; true when it
# appears within 30 s.
sub log_has {
	my ($offset, $re, $on) = @_;
	$on //= $node;
	for (1 .. 300) {
		return 1 if slurp_file($on->logfile, $offset) =~ $re;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}

# Runs BEGIN; SELECT ripple_backup_wait(ripple_backup_now('app')); $end; on $on
# (default $node); returns psql's exit code, stdout and stderr.
sub wait_in_transaction {
	my ($end, $on) = @_;
	return ($on // $node)->psql('postgres', qq{
		BEGIN;
		SELECT ripple_backup_wait(ripple_backup_now('app'), '2 minutes');
		$end;
	});
}

sub nothing_left {
	my ($what) = @_;
	is_deeply([ files_in_destination() ], [], "$what: nothing in the destination");
	is(catalog_rows(), '0', "$what: nothing in the catalog");
	my ($rc, $out, $err) = cli_list();
	is($rc, 3, "$what: ripple-backup list finds no backup (exit 3)") or diag "$out $err";
	like($out, qr/^\s*\[\s*\]\s*$/, "$what: ripple-backup list shows no backup");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.progress'), '0',
		"$what: no runner left");
}

# --- 1. the wait times out at once: the request must never start ----------------------
# The launcher is held (SIGSTOP) while the request is handed over and rolled back, so
# it sees the request only after the rollback, whatever the timing.
my $launcher = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'");
like($launcher, qr/^\d+$/, "the launcher runs (pid $launcher)");
my $offset = -s $node->logfile;
my $id = next_id();
kill 'STOP', $launcher;
my ($ret, $out, $err) = $node->psql('postgres',
	"SELECT ripple_backup_wait(ripple_backup_now('app'), '0 s')");
kill 'CONT', $launcher;
isnt($ret, 0, 'a wait with a zero timeout errors');
like($err, qr/timed out waiting for backup $id/, '... with the timeout message');
ok(log_has($offset, qr/backup $id is not started: the transaction that queued it rolled back/),
	'the log says the rolled-back request is not started');
sleep 2;    # a runner started by mistake would have finished a 1000-row dump by now
nothing_left('a request rolled back before it started');

# --- 2. the runner is running when the transaction rolls back: it is stopped -----------
# The request is handed over by a wait that times out inside a savepoint, so the
# transaction stays open while its runner waits on the lock; then it rolls back.
# With $restart_launcher, the launcher that started the runner is terminated first
# (its successor has no handle on the runner and stops it by its pid).
sub runner_stopped_on_rollback {
	my ($what, $restart_launcher) = @_;
	my $bg = $node->background_psql('app', on_error_stop => 1);
	$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
	my $offset = -s $node->logfile;
	my $req = $node->background_psql('postgres', on_error_stop => 0);
	$req->query_safe('BEGIN');
	my $id = $req->query_safe("SELECT ripple_backup_now('app')");
	$req->query_safe('SAVEPOINT before_wait');
	$req->query("SELECT ripple_backup_wait($id, '0 s')");
	like($req->{stderr}, qr/timed out waiting for backup $id/, "$what: a wait inside the transaction times out");
	$req->{stderr} = '';
	$req->query_safe('ROLLBACK TO SAVEPOINT before_wait');
	is(RippleTest::Cluster::poll_value($node, 'app',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = 'app' AND wait_event_type = 'Lock' AND application_name = 'ripple_backup $id'",
		't', 60), 't', "$what: the runner of backup $id started, its pg_dump waits on the lock");
	if ($restart_launcher) {
		my $sql = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'";
		my $old = $node->safe_psql('postgres', $sql);
		$node->safe_psql('postgres', "SELECT pg_terminate_backend($old)");
		my $new = '';
		for (1 .. 600) {
			$new = $node->safe_psql('postgres', $sql);
			last if $new ne '' && $new ne $old;
			select(undef, undef, undef, 0.1);
		}
		isnt($new, $old, "$what: a new launcher runs (pid $new, was $old)");
	}
	$req->query_safe('ROLLBACK');
	$req->quit;
	ok(log_has($offset, qr/stopping the runner of backup $id: the transaction that queued it rolled back/),
		"$what: the log says the runner is stopped because the request rolled back");
	ok(log_has($offset, qr/backup $id is not recorded: the transaction that queued it rolled back/),
		"$what: the log says the result is not recorded");
	$bg->query_safe('ROLLBACK');
	$bg->quit;
	sleep 2;    # a runner left running would store the object now that the lock is gone
	nothing_left($what);
}
runner_stopped_on_rollback('a request rolled back while its runner ran', 0);
runner_stopped_on_rollback('the same after a launcher restart', 1);

# --- 3. the result is stored, then the transaction rolls back: it is deleted -----------
$offset = -s $node->logfile;
$id = next_id();
($ret, $out, $err) = wait_in_transaction('ROLLBACK');
is($ret, 0, 'BEGIN; wait; ROLLBACK runs') or diag $err;
like($out, qr/^succeeded$/m, 'the wait inside the transaction saw the backup succeed');
ok(log_has($offset, qr/backup $id of database "app" succeeded/), 'the runner stored it');
ok(log_has($offset, qr/backup $id is not recorded: the transaction that queued it rolled back; its stored object and metadata were deleted/),
	'the log says the stored object and metadata were deleted');
nothing_left('a stored result whose request rolled back');

# --- and a committed request still works ----------------------------------------------
($ret, $out, $err) = wait_in_transaction('COMMIT');
is($ret, 0, 'BEGIN; wait; COMMIT runs') or diag $err;
like($out, qr/^succeeded$/m, 'the committed request succeeded');
is($node->safe_psql('postgres', "SELECT string_agg(status, ',') FROM ripple_backup.backups"),
	'succeeded', 'the catalog has the committed backup only');
is(scalar(my @f = files_in_destination()), 2, 'its object and metadata are stored');

$node->stop;

# --- S3: a stored result whose request rolled back is deleted from the bucket ----------
my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $s3node = RippleTest::Cluster->new_node('rolled_back_s3', s3 => $s3, prefix => 'rb');
RippleTest::Cluster::create_app_db($s3node, 'app', 1000);
$offset = -s $s3node->logfile;
($ret, $out, $err) = wait_in_transaction('ROLLBACK', $s3node);
is($ret, 0, 's3: BEGIN; wait; ROLLBACK runs') or diag $err;
like($out, qr/^succeeded$/m, 's3: the wait inside the transaction saw the backup succeed');
ok(log_has($offset, qr/is not recorded: the transaction that queued it rolled back; its stored object and metadata were deleted/, $s3node),
	's3: the log says the stored object and metadata were deleted');
is_deeply([ $s3->list_keys('rb/') ], [], 's3: nothing is left in the bucket');
is($s3node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.backups'), '0',
	's3: nothing in the catalog');
$s3node->stop;

done_testing();
