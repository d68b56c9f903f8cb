# 016_s3_flapping.pl — S3 that comes and goes under a large (multipart) backup,
# end to end through the extension:
#   * flapping: the S3 test server is killed as soon as the upload has moved on,
#     kept down 2 s and restarted, four times through the upload (so every outage
#     meets parts in flight, however fast the machine).  The backup either succeeds, and then
#     the object reads back whole with the catalog's checksum, or fails truthfully
#     (the network error in the catalog); either way nothing half-written lists as a
#     backup, and the next backup succeeds.  The backup-level retries are on (2, the
#     default): a part whose six attempts all meet an outage fails that attempt;
#     the backup is then tried again as a whole;
#   * killed mid-multipart and not restarted: the backup fails once the parts'
#     retry schedule is spent (Connection refused in the catalog and the log, not the
#     breaker), the upload that could not be aborted is recorded in
#     ripple_backup.pending_aborts, nothing lists as a backup, and once the server
#     is back the next backup succeeds.
#
# Time to detect (docs/architecture.md, "Failure behaviour"): a server that stays
# away fails a backup once a request has spent its retries (6 attempts, 15.5 to
# 31 s of waits) and at ripple_backup.s3_request_timeout at the latest.
use strict;
use warnings;
use Digest::SHA;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(usleep time);

my $s3 = RippleTest::S3Server->new(bucket => 'backups');
# zstd at level 9 paces the upload (a few MB/s on a test machine), so that the
# server goes away several times while parts are in flight
my $node = RippleTest::Cluster->new_node('flapping', s3 => $s3, prefix => 'flap',
	conf => "ripple_backup.compression = 'zstd'\nripple_backup.compression_level = 9\n"
	  . "ripple_backup.s3_part_size = 5\n"
	  # the product's default of 2 backup-level retries, after 2 s instead of a minute
	  . "ripple_backup.backup_retries = 2\nripple_backup.backup_retry_delay = '2s'\n");
$node->safe_psql('postgres', 'CREATE DATABASE app');
# about 55 MB of table data that compresses to about 30 MB: 6 parts of 5 MiB
$node->safe_psql('app',
	"CREATE TABLE big AS SELECT g AS id, (SELECT string_agg(md5((g * 8 + i)::text), '') FROM generate_series(0, 7) i) AS payload"
	  . " FROM generate_series(1, 200000) g");
my $tmp = PostgreSQL::Test::Utils::tempdir();

sub status_of {
	my ($id) = @_;
	return $node->safe_psql('postgres', "SELECT status FROM ripple_backup.backups WHERE id = $id");
}

sub backups_listed {
	return grep { /\.dump(\.(zst|gz))?$/ } $s3->list_keys('flap/');
}

# --- flapping ---------------------------------------------------------------------------
{
	my $offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT coalesce((SELECT bytes_stored > 0 FROM ripple_backup.progress WHERE backup_id = $id), false)",
		't', 120), 't', 'flapping: the upload has begun');
	# The server is killed as soon as the upload has moved on since the last restart (so
	# every outage meets parts in flight, however fast the machine), kept down 2 s, then
	# restarted; up to four times.
	my ($outages, $inflight, $down, $t0, $last) = (0, 0, 0, time, 0);
	my $stored_now = sub {
		my $v = $node->safe_psql('postgres', "SELECT bytes_stored FROM ripple_backup.progress WHERE backup_id = $id");
		return $v eq '' ? undef : $v;
	};
	while ($outages < 4 && time - $t0 < 240) {
		my $stored;
		while (time - $t0 < 240) {
			last unless status_of($id) eq 'running';
			$stored = $stored_now->();
			last if defined $stored && $stored > $last;
			usleep(100_000);
		}
		last unless status_of($id) eq 'running' && defined $stored && $stored > $last;
		my $t_down = time;
		$s3->stop;
		$outages++;
		$inflight++;
		$last = $stored;
		usleep(2_000_000);
		$s3->start;
		$down += time - $t_down;
		# what the pipeline buffered meanwhile does not count as the upload moving on
		my $after = $stored_now->();
		$last = $after if defined $after && $after > $last;
	}
	$s3->start unless $s3->is_running;
	my $status = RippleTest::Cluster::wait_backup($node, $id, '3 minutes');
	my $attempts = $node->safe_psql('postgres', "SELECT attempt FROM ripple_backup.backups WHERE id = $id");
	note sprintf('flapping: %d outages (%.1f s down in all, killed until listening again) in %.1f s; the backup %s after %d attempt(s)',
		$outages, $down, time - $t0, $status, $attempts);
	cmp_ok($inflight, '>=', 2, "flapping: the server went away $inflight times while the upload ran ($outages in all)");
	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/s3: (PUT part \d+|POST (create|complete) multipart upload) of \S+ failed: .*; retrying in/,
		'flapping: the outages were met and retried');
	my $row = RippleTest::Cluster::backup_row($node, $id);
	if ($status eq 'succeeded') {
		ok($s3->fetch_object("flap/$row->{object_key}", "$tmp/flap.dump"), 'flapping: succeeded, and the object reads back');
		is(-f "$tmp/flap.dump" ? RippleTest::S3Server::sha_file("$tmp/flap.dump") : 'none', $row->{sha256}, 'flapping: whole, with the checksum of the catalog');
		is_deeply([ backups_listed() ], [ "flap/$row->{object_key}" ], 'flapping: the one object listed is the backup');
	} else {
		is($status, 'failed', 'flapping: or it failed');
		like($row->{error} // '', qr/Connection refused|Connection reset|Couldn't connect|Failure when receiving|Empty reply|timed out|InternalError|Broken pipe/i,
			"flapping: failed, with the network error: " . ($row->{error} // ''));
		is_deeply([ backups_listed() ], [], 'flapping: nothing lists as a backup');
	}
	my $next = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::wait_backup($node, $next), 'succeeded', 'flapping: the next backup succeeds');
}

# --- killed mid-multipart and not restarted ------------------------------------------
# one attempt, so that the time to detect is the request's
$node->safe_psql('postgres', 'ALTER SYSTEM SET ripple_backup.backup_retries = 0');
$node->reload;
{
	my $what = 'killed and not restarted';
	my @before = backups_listed();
	my $offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT coalesce((SELECT bytes_stored >= 11 * 1024 * 1024 FROM ripple_backup.progress WHERE backup_id = $id), false)",
		't', 120), 't', "$what: two parts of backup $id are handed to the multipart upload");
	$s3->stop;
	my $t0 = time;
	is(RippleTest::Cluster::wait_backup($node, $id, '4 minutes'), 'failed', "$what: the backup fails");
	my $detect = time - $t0;
	note sprintf('%s: time to detect %.1f s', $what, $detect);
	ok($detect >= 10 && $detect < 150,
		sprintf('%s: after the retry schedule (15.5 to 31 s of waits) and within the 2 min request deadline (%.1f s)',
			$what, $detect));
	my $row = RippleTest::Cluster::backup_row($node, $id);
	like($row->{error} // '', qr/Connection refused/, "$what: the error is the real cause: " . ($row->{error} // ''));
	unlike($row->{error} // '', qr/^circuit breaker/, "$what: not the breaker first");
	is($row->{location}, undef, "$what: no location");
	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/backup $id of database "app" failed.*\n.*Connection refused/, "$what: the log says so");
	like($log, qr/could not abort the multipart upload/, "$what: the abort was tried and its failure logged");
	like($node->safe_psql('postgres', "SELECT object_key || ' ' || (upload_id ~ '\\S') FROM ripple_backup.pending_aborts WHERE backup_id = $id"),
		qr{^flap/\S+/app/\d{8}T\d{6}Z-$id\.dump\.zst true$}, "$what: the open upload is recorded for a later abort");
	$s3->start;
	is_deeply([ backups_listed() ], \@before, "$what: nothing new lists as a backup");
	# the shared breaker opened by the outage lets a trial through after its open time
	my $next = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::wait_backup($node, $next), 'succeeded', "$what: with the server back the next backup succeeds");
}

done_testing();
