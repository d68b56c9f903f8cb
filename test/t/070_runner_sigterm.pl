# 070_runner_sigterm.pl — a runner stopped while its cleanup logs warnings still
# finishes the cleanup: S3 goes away in the middle of a multipart upload, the
# runner gets SIGTERM (kill -TERM, then pg_terminate_backend), and the abort of the
# upload fails and logs WARNINGs.  A SIGTERM must not turn one of those warnings
# into a FATAL that leaves src/core halfway: pg_dump is signalled and reaped (no
# process, no zombie), the catalog row is failed with the reason, and nothing in
# the bucket lists as a backup.  The upload that could not be aborted is recorded in
# ripple_backup.pending_aborts (bucket, key, upload id) for a later abort, and so
# is one that s3rver refuses to abort (405) after pg_dump was killed.
#
# The upload is frozen mid-way deterministically: once two parts have been handed
# over (so the multipart upload exists), the S3 server is stopped with SIGSTOP
# (nothing moves, pg_dump blocks on the full pipe), then killed (connection
# refused from then on: the part retries and the abort fail fast).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(usleep);

my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('sigterm', s3 => $s3, prefix => 'cleanup',
	conf => "ripple_backup.compression = 'none'\nripple_backup.s3_part_size = 5\n");
$node->safe_psql('postgres', 'CREATE DATABASE app');
# about 150 MB of table data: far more than the parts in flight and the pipe hold
$node->safe_psql('app',
	"CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS payload FROM generate_series(1, 600000) g");

# The multipart upload of backup $id is recorded for a later abort, and logged.
sub pending_abort_recorded {
	my ($what, $id, $log) = @_;
	my $pa = $node->safe_psql('postgres',
		"SELECT bucket || '|' || object_key || '|' || (upload_id ~ '\\S') || '|' || reason"
		  . " FROM ripple_backup.pending_aborts WHERE backup_id = $id");
	like($pa, qr{^backups\|cleanup/\S+/app/\d{8}T\d{6}Z-$id\.dump\|true\|.+},
		"$what: the upload that could not be aborted is recorded (bucket, key, upload id, reason): $pa");
	like($log, qr/backup $id left a multipart upload that could not be aborted: bucket "backups", key "cleanup\/[^"]+", upload id "[^"]+"/,
		"$what: and the log names it");
}

sub alive_or_zombie {
	my ($pid) = @_;
	my $stat = `ps -o stat= -p $pid 2>/dev/null`;
	chomp $stat;
	$stat =~ s/\s+//g;
	return $stat;
}

# Starts a backup and freezes the S3 server (SIGSTOP) once two parts are handed
# to its multipart upload; returns (log offset, backup id, runner pid, pg_dump pid).
sub frozen_mid_upload {
	my ($what) = @_;
	my $offset = -s $node->logfile;
	my $id = RippleTest::Cluster::backup_now($node, 'app');
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT coalesce((SELECT bytes_stored >= 11 * 1024 * 1024 FROM ripple_backup.progress WHERE backup_id = $id), false)",
		't', 120), 't', "$what: two parts of backup $id are handed to the multipart upload");
	$s3->{h}->signal('STOP');
	my $runner = $node->safe_psql('postgres', "SELECT pid FROM ripple_backup.progress WHERE backup_id = $id");
	my $kids = RippleTest::Cluster::children_of($runner);
	my ($pg_dump) = grep { $kids->{$_} eq 'pg_dump' } keys %$kids;
	ok($pg_dump, "$what: the runner $runner has its pg_dump $pg_dump");
	return ($offset, $id, $runner, $pg_dump);
}

# Runs one backup, freezes its upload, kills S3, stops the runner with
# $stop->($pid); checks the outcome.
sub stopped_in_cleanup {
	my ($what, $stop) = @_;
	$s3->start unless $s3->is_running;
	my ($offset, $id, $runner, $pg_dump) = frozen_mid_upload($what);
	$s3->stop;
	$stop->($runner);

	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT status FROM ripple_backup.backups WHERE id = $id", 'failed', 90),
		'failed', "$what: the backup failed");
	my $row = RippleTest::Cluster::backup_row($node, $id);
	like($row->{error}, qr/cancel|terminat/i, "$what: the error gives the reason: $row->{error}");
	my $state = '';
	for (1 .. 100) {
		$state = alive_or_zombie($pg_dump);
		last if $state eq '';
		usleep(100_000);
	}
	is($state, '', "$what: pg_dump $pg_dump is gone and reaped (ps state '$state': no process, no zombie)");
	is(alive_or_zombie($runner), '', "$what: the runner exited");
	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/could not abort the multipart upload/, "$what: the abort was tried and its failure logged");
	unlike($log, qr/exited without recording a result/, "$what: the runner recorded its own result");
	pending_abort_recorded($what, $id, $log);

	$s3->start;
	my @dumps = grep { !/\.metadata\.json$/ } $s3->list_keys('cleanup/');
	is_deeply(\@dumps, [], "$what: nothing in the bucket lists as a backup");
	return $id;
}

stopped_in_cleanup('kill -TERM', sub { kill 'TERM', $_[0] });
stopped_in_cleanup('pg_terminate_backend',
	sub { $node->safe_psql('postgres', "SELECT pg_terminate_backend($_[0])") });

# --- pg_dump killed mid-upload, S3 up: s3rver refuses the abort (405) -----------------
{
	my $what = 'abort refused';
	my ($offset, $id, $runner, $pg_dump) = frozen_mid_upload($what);
	kill 'KILL', $pg_dump;
	$s3->{h}->signal('CONT');
	is(RippleTest::Cluster::wait_backup($node, $id), 'failed', "$what: the backup failed");
	like(RippleTest::Cluster::backup_row($node, $id)->{error}, qr/pg_dump/, "$what: because of pg_dump");
	my $log = slurp_file($node->logfile, $offset);
	like($log, qr/cannot abort multipart uploads \(405\); the parts uploaded for \S+ \(upload id \S+\) remain/,
		"$what: the server refused the abort (405), logged with the upload id");
	pending_abort_recorded($what, $id, $log);
	my @dumps = grep { !/\.metadata\.json$/ } $s3->list_keys('cleanup/');
	is_deeply(\@dumps, [], "$what: nothing in the bucket lists as a backup");
}

# and the next backup succeeds
my $id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the next backup succeeds');

done_testing();
