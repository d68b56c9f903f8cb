# 071_worker_slots.pl — the server runs out of background worker slots
# (max_worker_processes = 2: the launcher and one more).  A backup that cannot
# start waits quietly: the launcher logs once when it starts waiting and once when
# a slot frees (not a LOG+HINT pair every 250 ms), backs off, and
# ripple_backup.progress shows the backup "waiting for a worker slot".  A
# verify-after-backup that finds no free slot is not dropped: the row says
# verify_status 'pending' until a slot frees, across a launcher restart too.
#
# The one free slot is held deterministically by a parallel worker: a session runs
# pg_sleep() under force_parallel_mode, whose Gather hands the call to a worker.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(usleep time);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('slots', destination => "file://$dir", max_workers => 2,
	conf => "max_worker_processes = 2\nmax_logical_replication_workers = 0\n"
	  . "ripple_backup.verify_after_backup = on\n");
RippleTest::Cluster::create_app_db($node, 'app', 1000);

# Starts pg_sleep($secs) in a parallel worker from a background session; returns
# the session once the worker holds the slot.
sub hold_worker_slot {
	my ($secs) = @_;
	my $bg = $node->background_psql('postgres', on_error_stop => 1);
	$bg->query_safe('SET force_parallel_mode = on');
	$bg->query_until(qr/sleeping/, "\\echo sleeping\nSELECT pg_sleep($secs);\n");
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'parallel worker'", '1', 30),
		'1', "a parallel worker holds the last worker slot for $secs s");
	return $bg;
}

sub log_since {
	my ($offset) = @_;
	return slurp_file($node->logfile, $offset);
}

# --- defect 4: no log flood while no slot is free, the wait visible in SQL ----------
my $offset = -s $node->logfile;
my $bg = hold_worker_slot(14);
my $id = RippleTest::Cluster::backup_now($node, 'app');
my $t0 = time;
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT phase FROM ripple_backup.progress WHERE backup_id = $id", 'waiting for a worker slot', 10),
	'waiting for a worker slot', 'progress shows the backup waiting for a worker slot');
is($node->safe_psql('postgres', "SELECT status FROM ripple_backup.backups WHERE id = $id"),
	'queued', 'the catalog row stays queued meanwhile');
usleep(1_000_000 * (10 - (time - $t0))) if time - $t0 < 10;
my $log = log_since($offset);
my $lines = () = $log =~ /LOG:  ripple_backup: .*worker slot/g;
my $hints = () = $log =~ /HINT:\s+Raise max_worker_processes/g;
note "log lines about the missing slot in 10 s: $lines, hints: $hints";
cmp_ok($lines, '<=', 2, "at most 2 log lines about the missing slot in 10 s (got $lines)");
cmp_ok($hints, '<=', 1, "the hint is logged once (got $hints)");
like($log, qr/backup $id is waiting for a free background worker slot/,
	'the log says once that the backup waits for a slot');
$bg->quit;
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT status FROM ripple_backup.backups WHERE id = $id", 'succeeded', 90),
	'succeeded', 'the backup runs once the slot frees (within the backoff of at most a minute)');
my $over = () = log_since($offset) =~ /nothing waits for a background worker slot any more/g;
is($over, 1, 'the log says once that the wait is over');
is($node->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.progress WHERE phase = 'waiting for a worker slot'"),
	'0', 'nothing waits any more');
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT verify_status FROM ripple_backup.backups WHERE id = $id", 'verified', 60),
	'verified', 'and it is verified after the backup');

# --- defect 3: verify-after-backup queued when no slot is free -----------------------
# pg_dump waits on a lock; the backup row is locked so the launcher cannot record
# the result until the runner has exited and a parallel worker holds its slot.
my $lock = $node->background_psql('app', on_error_stop => 1);
$lock->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
my $id2 = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::poll_value($node, 'app',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE datname = 'app' AND wait_event_type = 'Lock' AND application_name = 'ripple_backup $id2'",
	't', 60), 't', "backup $id2 is running, its pg_dump waits on the lock");
my $row_lock = $node->background_psql('postgres', on_error_stop => 1);
$row_lock->query_safe("BEGIN; SELECT id FROM ripple_backup.backups WHERE id = $id2 FOR UPDATE;");
$lock->query_safe('COMMIT');
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup runner'", '0', 60),
	'0', 'the runner finished and exited; the launcher waits on the row lock to record it');
$offset = -s $node->logfile;
$bg = hold_worker_slot(8);
$row_lock->query_safe('COMMIT');
$row_lock->quit;
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT status FROM ripple_backup.backups WHERE id = $id2", 'succeeded', 30),
	'succeeded', "backup $id2 succeeded");
is($node->safe_psql('postgres', "SELECT verify_status FROM ripple_backup.backups WHERE id = $id2"),
	'pending', 'no slot for the verifier: verify_status is pending, not dropped');
# a launcher restart must not lose the queued verification
my $launcher = $node->safe_psql('postgres', "SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'");
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher' AND pid <> $launcher", '1', 60),
	'1', 'a new launcher started');
$bg->quit;
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT verify_status FROM ripple_backup.backups WHERE id = $id2", 'verified', 90),
	'verified', 'the queued verification ran once a slot freed, after the launcher restart');
unlike(log_since($offset), qr/could not start a verifier/, 'no verification was given up');

done_testing();
