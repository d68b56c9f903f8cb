# 075_pgdump_connect.pl — pg_dump cannot connect because every connection slot
# is taken (max_connections full).  The backup starts pg_dump again with the
# backoff schedule (1, 2, 4, 8, 16 s, each shortened by up to half at random)
# inside one backup attempt, logging each retry with its reason and wait:
#   (a) a slot frees a few seconds later: the backup succeeds, attempt 1, the
#       log shows the connection retries;
#   (b) no slot ever frees: the backup fails within a bounded time with an error
#       that names "too many clients" and the attempts, not a generic one.
# And (c) 20 backups queued at once (ripple_backup_now() 20 times in a row) on
# the same small server (ripple_backup.max_workers = 2, max_worker_processes = 4:
# the launcher, two runners, one spare): all 20 end succeeded, none is lost or
# run twice, the catalog has 20 rows with 20 distinct objects, at most 2 ran at
# once, it finishes in a bounded time, and the log is not flooded.
# The slots are held by background psql sessions (all superuser, so the
# reserved slots are taken too); the session that queues the backup holds the
# last one.  While every slot is taken nothing can be queried, so the outcome is
# read from the server log first and from the catalog once the slots are free.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(time usleep);

my $max_connections = 5;
my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('conn', destination => "file://$dir", max_workers => 2,
	conf => "max_connections = $max_connections\n"
	  . "superuser_reserved_connections = 0\n"
	  . "max_worker_processes = 4\nmax_logical_replication_workers = 0\nmax_parallel_workers = 0\n"
	  . "ripple_backup.verify_after_backup = off\n");

# Waits until the server log (from $offset) matches $re or $timeout seconds pass;
# returns the log text read.
sub wait_log {
	my ($offset, $re, $timeout) = @_;
	my $log = '';
	my $until = time + $timeout;
	while (time < $until) {
		$log = slurp_file($node->logfile, $offset);
		return $log if $log =~ $re;
		usleep(200_000);
	}
	return $log;
}

# Opens $max_connections sessions; the last one queues a backup.  Returns the
# sessions and the backup id.
sub fill_slots_and_queue {
	my @sessions;
	for (1 .. $max_connections - 1) {
		my $bg = $node->background_psql('postgres', on_error_stop => 1);
		$bg->query_safe('SELECT 1');
		push @sessions, $bg;
	}
	my $last = $node->background_psql('postgres', on_error_stop => 1);
	my $id = $last->query_safe(q{SELECT ripple_backup_now('postgres')});
	$id =~ s/\s+//g;
	push @sessions, $last;
	return (\@sessions, $id);
}

# --- (a) a slot frees a few seconds after the backup starts -------------------------
{
	my $offset = -s $node->logfile;
	my ($sessions, $id) = fill_slots_and_queue();
	my $t0 = time;
	my $log = wait_log($offset, qr/pg_dump could not connect to database "postgres" \(too many clients\), attempt 3 of 6; retrying in/, 60);
	usleep(1_000_000 * (4 - (time - $t0))) if time - $t0 < 4;	# a few seconds of full slots
	$log = slurp_file($node->logfile, $offset);
	like($log, qr/backup $id: pg_dump could not connect to database "postgres" \(too many clients\), attempt 1 of 6; retrying in \d+\.\d s/,
		'the log names the reason and the next wait of the first retry');
	unlike($log, qr/backup $id of database "postgres" (failed|succeeded)/, 'the backup is still running while the slots are full');
	my $t_free = time;
	note sprintf('freeing one slot %.1f s after the backup was queued', $t_free - $t0);
	(pop @$sessions)->quit;
	$log = wait_log($offset, qr/backup $id of database "postgres" (failed|succeeded)/, 120);
	my $t_done = time;
	like($log, qr/backup $id of database "postgres" succeeded/, 'the backup succeeds once a slot is free');
	unlike($log, qr/backup $id of database "postgres" failed/, 'and did not fail first');
	note sprintf('(a) slots full: backup succeeded %.1f s after it was queued, %.1f s after a slot freed',
		$t_done - $t0, $t_done - $t_free);
	$_->quit for @$sessions;
	my $row = RippleTest::Cluster::backup_row($node, $id);
	is($row->{status}, 'succeeded', 'the catalog row says succeeded');
	ok(!defined $row->{error}, 'no error on the row');
	ok(defined $row->{sha256} && $row->{size_bytes} > 0, 'the row has the size and checksum');
	ok(-f "$dir/$row->{object_key}", 'the dump is in the destination');
	is($node->safe_psql('postgres', "SELECT attempt FROM ripple_backup.backups WHERE id = $id"), '1',
		'the connection retries are within attempt 1 (not counted as backup-level attempts)');
}

# --- (b) the slots never free --------------------------------------------------------
{
	my $offset = -s $node->logfile;
	my ($sessions, $id) = fill_slots_and_queue();
	my $t0 = time;
	my $log = wait_log($offset, qr/backup $id of database "postgres" (failed|succeeded)/, 120);
	my $elapsed = time - $t0;
	note sprintf('(b) slots never free: backup failed %.1f s after it was queued', $elapsed);
	like($log, qr/backup $id of database "postgres" failed/, 'the backup fails when no slot frees');
	my $retries = () = $log =~ /backup $id: pg_dump could not connect to database "postgres" \(too many clients\), attempt \d of 6; retrying in/g;
	is($retries, 5, 'five retries were logged');
	# waits of at most 1 + 2 + 4 + 8 + 16 s plus six short pg_dump runs; generous for a loaded machine
	cmp_ok($elapsed, '<', 90, 'it fails within a bounded time');
	cmp_ok($elapsed, '>=', 15, 'after at least the shortest schedule of waits (15.5 s)');
	$_->quit for @$sessions;
	my $row = RippleTest::Cluster::backup_row($node, $id);
	is($row->{status}, 'failed', 'the catalog row says failed');
	like($row->{error}, qr/pg_dump could not connect in 6 attempts over \d+ s: pg_dump exited with code 1: .*too many clients already/,
		'the error names the real cause: too many clients, after 6 attempts');
	is($node->safe_psql('postgres', "SELECT attempt FROM ripple_backup.backups WHERE id = $id"), '1', 'one backup attempt');
}

# --- (c) 20 backups queued at once ---------------------------------------------------
{
	my $n = 20;
	RippleTest::Cluster::create_app_db($node, 'app', 2000);

	my $offset = -s $node->logfile;
	my $t0 = time;
	my @ids = split /\n/, $node->safe_psql('postgres',
		join('', map { "SELECT ripple_backup_now('app', 'queued $_');\n" } 1 .. $n));
	my $t_queued = time;
	is(scalar(@ids), $n, "$n backups queued");
	is(scalar(keys %{ { map { $_ => 1 } @ids } }), $n, 'with distinct ids');

	# sample how many run at once while the queue drains
	my $max_running = 0;
	my $done = 0;
	my $until = time + 600;
	while (time < $until) {
		my ($running, $finished) = split /\|/, $node->safe_psql('postgres',
			"SELECT count(*) FILTER (WHERE status = 'running'), count(*) FILTER (WHERE status IN ('succeeded', 'failed'))"
			  . " FROM ripple_backup.backups WHERE id IN (" . join(',', @ids) . ")");
		$max_running = $running if $running > $max_running;
		if ($finished == $n) { $done = 1; last; }
		usleep(100_000);
	}
	my $elapsed = time - $t0;
	ok($done, "all $n finished");
	note sprintf('%d backups queued in %.2f s, all finished %.1f s after the first was queued (%.1f s per backup); at most %d ran at once',
		$n, $t_queued - $t0, $elapsed, $elapsed / $n, $max_running);
	cmp_ok($elapsed, '<', 600, 'within a bounded time');
	cmp_ok($max_running, '<=', 2, 'never more than max_workers running at once');

	is($node->safe_psql('postgres',
		"SELECT count(*) FROM ripple_backup.backups WHERE id IN (" . join(',', @ids) . ") AND status = 'succeeded' AND attempt = 1"),
		$n, "all $n succeeded, each on its first attempt");
	is($node->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.backups WHERE label LIKE 'queued %'"),
		$n, "the catalog has $n rows for them (none lost, none doubled)");
	is($node->safe_psql('postgres',
		"SELECT count(DISTINCT object_key) FROM ripple_backup.backups WHERE id IN (" . join(',', @ids) . ")"),
		$n, 'each stored its own object');
	my $on_disk = 0;
	for my $key (split /\n/, $node->safe_psql('postgres',
		"SELECT object_key FROM ripple_backup.backups WHERE id IN (" . join(',', @ids) . ")")) {
		$on_disk++ if -s "$dir/$key" && -s "$dir/$key.metadata.json";
	}
	is($on_disk, $n, 'every object and its metadata are in the destination');

	my $log = slurp_file($node->logfile, $offset);
	# lines the extension logs (not the test's own statements, which log_statement = all records)
	my $lines = () = $log =~ /(?:LOG|WARNING|HINT|DETAIL):  ripple_backup/g;
	my $slot_lines = () = $log =~ /worker slot/g;
	note "log lines naming ripple_backup while the queue drained: $lines (" . sprintf('%.1f', $lines / $n) . ' per backup)';
	cmp_ok($lines, '<=', 6 * $n, "the log is not flooded (at most 6 lines per backup, got $lines)");
	# a verifier or the notifier may meet the worker-slot limit for a moment: that is
	# logged once per change of state (a message and its hint), never per retry
	cmp_ok($slot_lines, '<=', 4, "worker-slot waits are not logged per retry (got $slot_lines)");
	my $succeeded = () = $log =~ /backup \d+ of database "app" succeeded/g;
	is($succeeded, $n, "the log has one succeeded line per backup");
}

# --- the next backup succeeds --------------------------------------------------------
{
	my $id = RippleTest::Cluster::backup_now($node, 'postgres');
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the next backup succeeds');
}

$node->stop;
done_testing();
