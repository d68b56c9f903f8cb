# 017_s3_stalled.pl — backups against a stalled S3 endpoint, end to end through the
# extension:
#   * an endpoint that accepts connections and never answers (a listener in this
#     test that nobody reads): the backup fails at ripple_backup.s3_request_timeout
#     with "timed out: no success within the request deadline", nothing is stored;
#   * the S3 test server frozen (SIGSTOP) in the middle of a multipart upload for
#     longer than the low-speed timeout (30 s), then thawed (SIGCONT) within the
#     request deadline (2 min): the parts wait or are retried, and the backup
#     succeeds once the server moves again;
#   * the same freeze with a request deadline shorter than the freeze: the backup
#     fails at the deadline with an error that names the time-out, nothing lists as a
#     backup, and the next backup succeeds.
#
# Time to detect (docs/architecture.md, "Failure behaviour"): a request fails at
# ripple_backup.s3_request_timeout at the latest; a backup whose upload stalls fails
# within twice that (the part, then the abort of the multipart upload).
use strict;
use warnings;
use IO::Socket::INET;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(usleep time);

my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $sock = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
	Listen => 64, ReuseAddr => 1) or die "listen: $!";
my $stalled = 'http://127.0.0.1:' . $sock->sockport;    # the kernel completes the handshakes; nobody reads

my $node = RippleTest::Cluster->new_node('stalled', s3 => $s3, prefix => 'stall',
	conf => "ripple_backup.compression = 'none'\nripple_backup.s3_part_size = 5\n");
$node->safe_psql('postgres', 'CREATE DATABASE app');
# about 75 MB of table data: the upload is multipart and still running when frozen
$node->safe_psql('app',
	"CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS payload FROM generate_series(1, 300000) g");

sub set_conf {
	my (%set) = @_;
	$node->safe_psql('postgres', "ALTER SYSTEM SET ripple_backup.$_ = '$set{$_}'") for sort keys %set;
	$node->reload;
	for my $k (sort keys %set) {
		RippleTest::Cluster::poll_value($node, 'postgres',
			"SELECT setting || coalesce(unit, '') IN ('$set{$k}') OR setting = '$set{$k}' FROM pg_settings WHERE name = 'ripple_backup.$k'",
			't', 10);
	}
	sleep 1;    # the launcher reads the reload at its next look
}

sub backups_listed {
	return grep { /\.dump(\.(zst|gz))?$/ } $s3->list_keys('stall/');
}

# --- an endpoint that accepts and never answers ----------------------------------------
{
	set_conf(s3_endpoint => $stalled, s3_request_timeout => '5s');
	my $offset = -s $node->logfile;
	my $t0 = time;
	my $id = RippleTest::Cluster::backup_now($node, 'postgres', 'never answers');
	is(RippleTest::Cluster::wait_backup($node, $id, '3 minutes'), 'failed', 'never answers: the backup fails');
	my $elapsed = time - $t0;
	note sprintf('never answers: time to detect %.1f s', $elapsed);
	my $row = RippleTest::Cluster::backup_row($node, $id);
	like($row->{error} // '', qr/timed out: no success within the request deadline of 5 s/,
		'never answers: the error names the time-out') or diag $row->{error};
	ok($elapsed >= 4.5 && $elapsed < 40, sprintf('never answers: at the 5 s request deadline plus the clean-up (%.1f s)', $elapsed));
	like(slurp_file($node->logfile, $offset), qr/backup $id of database "postgres" failed.*\n.*request deadline of 5 s/,
		'never answers: the log says so');
	is($row->{location}, undef, 'never answers: no location');
}

# --- the S3 server frozen past the low-speed timeout, then thawed ------------------------
# Freezes the S3 server once two parts of backup $id are handed over; returns the time.
sub freeze_mid_upload {
	my ($what, $id) = @_;
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT coalesce((SELECT bytes_stored >= 11 * 1024 * 1024 FROM ripple_backup.progress WHERE backup_id = $id), false)",
		't', 120), 't', "$what: two parts of backup $id are handed to the multipart upload");
	$s3->{h}->signal('STOP');
	return time;
}

{
	my $what = 'frozen 35 s';
	set_conf(s3_endpoint => $s3->endpoint, s3_request_timeout => '2min');
	my $offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	my $frozen = freeze_mid_upload($what, $id);
	sleep 35;
	is($node->safe_psql('postgres', "SELECT status FROM ripple_backup.backups WHERE id = $id"), 'running',
		"$what: the backup is still running while its requests retry");
	$s3->{h}->signal('CONT');
	is(RippleTest::Cluster::wait_backup($node, $id, '3 minutes'), 'succeeded',
		"$what: the backup succeeds once the server moves again");
	my $took = time - $frozen;
	note sprintf('%s: finished %.1f s after the freeze', $what, $took);
	ok($took >= 35, sprintf('%s: it was held by the freeze (%.1f s)', $what, $took));
	# A part's body fills the socket buffers first and curl averages the speed over a
	# few seconds, so an attempt may outlast the low-speed time: either it rode out
	# the freeze or it was retried; both are fine, a failure is not.
	my $log = slurp_file($node->logfile, $offset);
	my @retries = $log =~ /s3: PUT part \d+ of \S+ failed: (.*?); retrying in/g;
	note "$what: part attempts retried: " . scalar(@retries) . (@retries ? " ($retries[0])" : '');
	unlike($log, qr/backup $id of database "app" failed/, "$what: no failure was logged");
	my $row = RippleTest::Cluster::backup_row($node, $id);
	ok($s3->fetch_object("stall/$row->{object_key}", PostgreSQL::Test::Utils::tempdir() . '/obj'), "$what: the object reads back");
}

{
	my $what = 'frozen past the deadline';
	set_conf(s3_request_timeout => '10s');
	my @before = backups_listed();
	my $offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	my $frozen = freeze_mid_upload($what, $id);
	my $status = RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT status FROM ripple_backup.backups WHERE id = $id", 'failed', 120);
	my $detect = time - $frozen;
	$s3->{h}->signal('CONT');
	is($status, 'failed', "$what: the backup fails while the server is frozen");
	note sprintf('%s: time to detect %.1f s after the freeze', $what, $detect);
	ok($detect >= 9 && $detect < 60,
		sprintf('%s: at the 10 s request deadline of the part, plus at most one more for the abort (%.1f s)', $what, $detect));
	my $row = RippleTest::Cluster::backup_row($node, $id);
	like($row->{error} // '', qr/timed out: no success within the request deadline of 10 s/,
		"$what: the error names the time-out") or diag $row->{error};
	like(slurp_file($node->logfile, $offset), qr/backup $id of database "app" failed.*\n.*timed out/,
		"$what: the log says so");
	is_deeply([ backups_listed() ], \@before, "$what: nothing new lists as a backup");
	like($node->safe_psql('postgres', "SELECT object_key FROM ripple_backup.pending_aborts WHERE backup_id = $id"),
		qr{^stall/\S+/app/\d{8}T\d{6}Z-$id\.dump$}, "$what: the upload whose abort timed out is recorded for a later abort");
	set_conf(s3_request_timeout => '2min');
	my $next = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::wait_backup($node, $next, '3 minutes'), 'succeeded', "$what: the next backup succeeds");
}

close $sock;
done_testing();
