# 076_postmaster_crash.pl — the postmaster crashes (pg_ctl -m immediate stop) while
# a backup's multipart upload to S3 is in progress, then starts again.  After the
# restart the catalog row of the interrupted backup is 'failed' with "interrupted by
# server restart" (never left 'running'), the launcher logs it, pg_dump is gone (no
# orphan process), nothing in the bucket lists as a backup, the multipart upload the
# runner had open is recorded in ripple_backup.pending_aborts (bucket, key, upload
# id) so that the retention sweep aborts it, and the next backup succeeds.
#
# The upload is held mid-way deterministically: once two parts have been handed to
# the multipart upload, the S3 server is frozen (SIGSTOP), so nothing finishes
# before the crash; it is thawed (SIGCONT) after the restart.
#
# Time to detect: the interrupted row is failed by the launcher's first look at the
# catalog after the restart (bounded by the launcher's start, a few seconds).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(usleep time);

my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('crash', s3 => $s3, prefix => 'crash',
	conf => "ripple_backup.compression = 'none'\nripple_backup.s3_part_size = 5\n");
$node->safe_psql('postgres', 'CREATE DATABASE app');
# about 75 MB of table data: far more than the parts in flight and the pipe hold
$node->safe_psql('app',
	"CREATE TABLE big AS SELECT g AS id, repeat(md5(g::text), 8) AS payload FROM generate_series(1, 300000) g");

sub ps_state {
	my ($pid) = @_;
	my $stat = `ps -o stat= -p $pid 2>/dev/null`;
	$stat =~ s/\s+//g;
	return $stat;
}

my $offset = -s $node->logfile;
my $id = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT coalesce((SELECT bytes_stored >= 11 * 1024 * 1024 FROM ripple_backup.progress WHERE backup_id = $id), false)",
	't', 120), 't', "two parts of backup $id are handed to the multipart upload");
$s3->{h}->signal('STOP');
my $runner = $node->safe_psql('postgres', "SELECT pid FROM ripple_backup.progress WHERE backup_id = $id");
my $kids = RippleTest::Cluster::children_of($runner);
my ($pg_dump) = grep { $kids->{$_} eq 'pg_dump' } keys %$kids;
ok($pg_dump, "the runner $runner has its pg_dump $pg_dump");

# (-f, not glob: a pattern without wildcards comes back whether or not the file exists)
ok(-f $node->data_dir . "/pg_stat_tmp/ripple_backup_uploads/$id", 'the runner noted its open multipart upload');

# --- the crash -------------------------------------------------------------------------
$node->stop('immediate');
my $state = '';
my $t0 = time;
for (1 .. 300) {
	$state = ps_state($pg_dump);
	last if $state eq '';
	usleep(100_000);
}
is($state, '', sprintf('pg_dump %d is gone after the crash (ps state "%s", %.1f s)', $pg_dump, $state, time - $t0));
is(ps_state($runner), '', 'the runner is gone');

$t0 = time;
$node->start;
$s3->{h}->signal('CONT');
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT status FROM ripple_backup.backups WHERE id = $id", 'failed', 60),
	'failed', 'after the restart the interrupted backup is failed');
my $detect = time - $t0;
note sprintf('time to detect after the start: %.1f s', $detect);
ok($detect < 60, sprintf('within a minute of the start (%.1f s)', $detect));
my $row = RippleTest::Cluster::backup_row($node, $id);
is($row->{error}, 'interrupted by server restart', 'with the error "interrupted by server restart"');
is($row->{location}, undef, 'no location');
is($row->{sha256}, undef, 'no checksum');
is($node->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.backups WHERE status = 'running'"), '0',
	'nothing stays running');
my $log = slurp_file($node->logfile, $offset);
like($log, qr/backup\(s\) left running were marked failed: interrupted by server restart/, 'the launcher logged it');

# the multipart upload the crash left open is recorded for the sweep
my $pa = RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT bucket || '|' || object_key || '|' || (upload_id ~ '\\S') FROM ripple_backup.pending_aborts WHERE backup_id = $id",
	"backups|$row->{object_key}|true", 30);
like($pa, qr{^backups\|crash/\S+/app/\d{8}T\d{6}Z-$id\.dump\|true$},
	"the open multipart upload is recorded in ripple_backup.pending_aborts: $pa");
like(slurp_file($node->logfile, $offset),
	qr/backup $id left a multipart upload open when the server stopped: bucket "backups", key "crash\/[^"]+", upload id "[^"]+"/,
	'and the log names it');

my $notes = $node->data_dir . '/pg_stat_tmp/ripple_backup_uploads';
is(join(',', glob("$notes/*")), '', 'the note of the open upload is removed once recorded');

my @dumps = grep { !/\.metadata\.json$/ } $s3->list_keys('crash/');
is_deeply(\@dumps, [], 'nothing in the bucket lists as a backup');
is(scalar(grep { /\.metadata\.json$/ } $s3->list_keys('crash/')), 0, 'and no metadata either');

# --- the next backup succeeds, and leaves no upload record ---------------------------
my $next = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $next), 'succeeded', 'the next backup succeeds');
is($node->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.pending_aborts WHERE backup_id = $next"), '0',
	'a backup that completes its upload leaves nothing to abort');
is(join(',', glob("$notes/*")), '', 'and no note');
# a restart without a crash records nothing more
$node->restart;
is($node->safe_psql('postgres', 'SELECT count(*) FROM ripple_backup.pending_aborts'), '1',
	'a clean restart after finished uploads records no upload');

done_testing();
