# 116_health_wal.pl — the "wal archive" row of ripple_backup_health() on a cluster
# that archives with archive_library = 'ripple_backup' to the S3 test server, its
# pg_wal a symlink to another file system (/dev/shm when it is one):
#   - archiving works: ok, the RPO exposure 0 once nothing is written after the
#     newest archived segment, and small (under archive_timeout) otherwise;
#   - pg_wal's free space and size are those of the file system the symlink leads
#     to (statvfs of the target, not of the data directory's), and the WAL waiting
#     is the .ready files plus the current segment;
#   - ripple_backup.pg_wal_min_free above the free share: critical; between half
#     and all of it: warning;
#   - S3 stopped: the files wait (.ready), the failures make the row a warning,
#     the exposure grows with time, and past ripple_backup.wal_rpo_target (20 s
#     here) the row is critical with "RPO breached";
#   - S3 back: everything is archived and the row is ok again;
#   - ripple_backup_metrics() has the row's status, exposure, WAL waiting and free
#     space (none of them on a server that does not archive);
#   - a server that does not archive: one row, ok, "not archiving: archive_mode is
#     off", no ERROR.
use strict;
use warnings;
use File::Path ();
use File::Temp ();
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $s3 = RippleTest::S3Server->new;
# pg_wal on another file system when the machine has one to offer (a tmpfs)
my ($shm_dev) = (stat('/dev/shm'))[0];
my ($tmp_dev) = (stat(PostgreSQL::Test::Utils::tempdir()))[0];
my $other_fs = -d '/dev/shm' && -w '/dev/shm' && defined $shm_dev && $shm_dev != $tmp_dev;
my $waldir_parent = File::Temp::tempdir('ripple_wal_XXXX', DIR => $other_fs ? '/dev/shm' : undef,
	TMPDIR => !$other_fs, CLEANUP => 1);
note "pg_wal under $waldir_parent" . ($other_fs ? ' (another file system)' : ' (same file system)');
my $node = RippleTest::Cluster->new_node('healthwal', s3 => $s3, prefix => 'pitr',
	init => { allows_streaming => 1, extra => [ "--waldir=$waldir_parent/pg_wal" ] },
	conf => "archive_mode = on\n"
	  . "archive_library = 'ripple_backup'\n"
	  . "archive_timeout = '5s'\n"
	  . "ripple_backup.wal_rpo_target = '20s'\n"
	  . "ripple_backup.s3_request_timeout = '4s'\n"
	  . "ripple_backup.s3_breaker_open_time = '2s'\n"
	  . "ripple_backup.verify_after_backup = off\n");

# pg_wal outside the test's directory: stop the server before File::Temp removes it,
# also when the test dies (this END block runs before the modules' own)
END {
	local $?;	# the exit status of the test, which pg_ctl would overwrite
	$node->stop('immediate', fail_ok => 1) if $node && defined $node->{_pid};
	File::Path::rmtree($waldir_parent) if $waldir_parent && -d $waldir_parent;
}

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

# The wal archive row: { status, rpo (seconds), target, failures, detail }.
sub wal_row {
	my $out = sqlv("SELECT status, coalesce(extract(epoch FROM rpo)::text, ''),"
		  . " coalesce(extract(epoch FROM rpo_target)::text, ''), failures_since_success, detail"
		  . " FROM ripple_backup_health() WHERE component = 'wal archive'");
	my @v = split /\|/, $out, 5;
	return { status => $v[0], rpo => $v[1], target => $v[2], failures => $v[3], detail => $v[4] // '' };
}

sub switch_segment {
	sqlv("INSERT INTO t SELECT g FROM generate_series(1, 100) g");
	return sqlv("SELECT pg_walfile_name(pg_current_wal_lsn()) FROM pg_switch_wal()");
}

sub fs_of {
	my ($path) = @_;
	my ($blocks, $bsize, $avail) = `stat -f -L -c '%b %S %a' '$path'` =~ /(\d+) (\d+) (\d+)/;
	return ($blocks * $bsize, $avail * $bsize);
}

sqlv('CREATE TABLE t (id int)');
ok(-l $node->data_dir . '/pg_wal', 'pg_wal is a symlink');

# --- archiving works: ok ---------------------------------------------------------------
my $seg = switch_segment();
ok(wait_for("$seg archived", sub {
	sqlv("SELECT coalesce(last_archived_wal >= '$seg', false) FROM ripple_backup.wal_archive") eq 't' }),
	'a switched segment is archived');
is(sqlv("SELECT count(*) FROM ripple_backup_health() WHERE component = 'wal archive' AND dbname IS NULL"), '1',
	'one wal archive row, without a database');
my $r;
ok(wait_for('an ok row', sub { $r = wal_row(); $r->{status} eq 'ok' }, 60), 'archiving works: the row is ok')
  or diag explain $r;
like($r->{detail}, qr/^WAL archived up to [0-9A-F]{24}/, 'its detail says up to which file');
cmp_ok($r->{target}, '==', 20, 'rpo_target is ripple_backup.wal_rpo_target');
cmp_ok($r->{rpo}, '<', 10, "the exposure is small ($r->{rpo} s; archive_timeout is 5 s)");
my $metrics = sqlv('SELECT ripple_backup_metrics()');
like($metrics, qr/^ripple_backup_wal_archive_health 0$/m, 'metrics: ripple_backup_wal_archive_health 0');
like($metrics, qr/^ripple_backup_wal_archive_rpo_seconds [\d.e+-]+$/m, 'metrics: the exposure');
like($metrics, qr/^ripple_backup_wal_pending_bytes \d+$/m, 'metrics: the WAL waiting');
like($metrics, qr/^ripple_backup_pg_wal_free_bytes \d+$/m, 'metrics: pg_wal\'s free space');
# with nothing written after the newest archived segment, nothing is at risk: 0
ok(wait_for('a moment with nothing unarchived', sub {
	sqlv("SELECT h.insert_lsn - h.archived_upto <= 40 AND h.pending_count = 0 AND h.unarchived_since IS NULL"
		  . " FROM ripple_backup.wal_archive_health() h") eq 't'
		and wal_row()->{rpo} == 0;
}, 90), 'nothing written since the newest archived segment ended: exposure 0');
# written since: the exposure is bounded by archive_timeout, with unarchived_since set
sqlv("INSERT INTO t VALUES (1)");
is(sqlv("SELECT h.insert_lsn - h.archived_upto > 40 AND h.unarchived_since IS NOT NULL"
	  . " AND h.unarchived_since >= now() - interval '5 s 500 ms' FROM ripple_backup.wal_archive_health() h"), 't',
	'WAL written into the current segment: at risk since at most archive_timeout ago');

# --- pg_wal's file system ----------------------------------------------------------------
my ($size, $free) = fs_of($node->data_dir . '/pg_wal/');
my ($h_free, $h_size, $h_pct) = split /\|/, sqlv(
	"SELECT pg_wal_free_bytes, pg_wal_size_bytes, round(100.0 * pg_wal_free_bytes / pg_wal_size_bytes, 3)"
	  . " FROM ripple_backup.wal_archive_health()");
is($h_size, $size, 'the size is that of the file system pg_wal leads to');
cmp_ok(abs($h_free - $free), '<', 0.05 * $size + 64 * 1024 * 1024, "and so is the free space ($h_free, stat says $free)");
if ($other_fs) {
	my ($dsize) = fs_of($node->data_dir);
	isnt($h_size, $dsize, 'not the data directory\'s file system (the symlink is followed)');
}
else {
	pass('pg_wal is on the data directory\'s file system here: nothing else to tell apart');
}
# the free-space rule, by the share that is free now
$node->safe_psql('postgres', sprintf("ALTER SYSTEM SET ripple_backup.pg_wal_min_free = %.3f", $h_pct + 0.5 > 100 ? 100 : $h_pct + 0.5));
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok(wait_for('critical by free space', sub { $r = wal_row(); $r->{status} eq 'critical' }, 30),
	'free share below pg_wal_min_free: critical');
like($r->{detail}, qr/the file system of pg_wal has .* free \([\d.]+%\), less than pg_wal_min_free/, '... saying why');
$node->safe_psql('postgres', sprintf("ALTER SYSTEM SET ripple_backup.pg_wal_min_free = %.3f", $h_pct * 0.75));
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok(wait_for('warning by free space', sub { $r = wal_row(); $r->{status} eq 'warning' }, 30),
	'free share below twice pg_wal_min_free: warning');
like($r->{detail}, qr/less than twice pg_wal_min_free/, '... saying why');
$node->safe_psql('postgres', 'ALTER SYSTEM RESET ripple_backup.pg_wal_min_free');
$node->safe_psql('postgres', 'SELECT pg_reload_conf()');
ok(wait_for('ok again', sub { wal_row()->{status} eq 'ok' }, 30), 'back to the default (5%): ok');

# --- S3 stopped: pending, failing, the exposure grows, then critical -------------------
$s3->stop;
my $t_stop = time;
my @outage = map { switch_segment() } 1 .. 2;
ok(wait_for('failures', sub { $r = wal_row(); $r->{failures} > 0 }, 60), 'archiving fails while S3 is down');
is($r->{status}, 'warning', 'failing: a warning before the target passes') or diag explain $r;
like($r->{detail}, qr/archiving has failed \d+ time\(s\) in a row since .*: /, '... naming the streak and its error');
my ($pc, $pb) = split /\|/, sqlv('SELECT pending_count, pending_bytes FROM ripple_backup.wal_archive_health()');
my $segsize = sqlv("SELECT setting::bigint * 1 FROM pg_settings WHERE name = 'wal_segment_size'");
cmp_ok($pc, '>=', 2, "the switched segments wait ($pc .ready)");
cmp_ok($pb, '>=', $pc * $segsize, "pending bytes count them whole ($pb >= $pc x $segsize)");
cmp_ok($pb, '<', ($pc + 1) * $segsize, '... plus at most one current segment');
like($r->{detail}, qr/$pc file\(s\), [\d.]+ [kMG]?B of WAL waiting for the archiver/, 'the detail shows the WAL waiting');
my $rpo1 = $r->{rpo};
sleep 3;
my $rpo2 = wal_row()->{rpo};
cmp_ok($rpo2, '>', $rpo1, "the exposure grows while nothing is archived ($rpo1 s, then $rpo2 s)");
ok(wait_for('critical', sub { $r = wal_row(); $r->{status} eq 'critical' }, 120), 'past wal_rpo_target: critical');
like($r->{detail}, qr/^RPO breached: WAL written \S+ ago is not archived yet, the target is 00:00:20/,
	'... "RPO breached", first');
like(sqlv('SELECT ripple_backup_metrics()'), qr/^ripple_backup_wal_archive_health 2$/m,
	'metrics: ripple_backup_wal_archive_health 2');
my $elapsed = time - $t_stop;
cmp_ok($r->{rpo}, '>', 20, "the exposure is past the target ($r->{rpo} s)");
cmp_ok($r->{rpo}, '<=', $elapsed + 6, sprintf('and no more than the outage plus archive_timeout (%.1f s)', $elapsed));
note sprintf('critical %.1f s after S3 stopped', $elapsed);

# --- S3 back: archived, ok ---------------------------------------------------------------
$s3->start;
my $last = switch_segment();
ok(wait_for('catch-up', sub {
	sqlv("SELECT pending_count = 0 AND last_archived_wal >= '$last' FROM ripple_backup.wal_archive") eq 't' }, 240),
	'with S3 back, everything is archived');
ok(wait_for('ok', sub { $r = wal_row(); $r->{status} eq 'ok' }, 60), 'and the row is ok again') or diag explain $r;
is($r->{failures}, '0', 'no failure since the last success');
my $log = slurp_file($node->logfile);
unlike($log, qr/ERROR:.*wal_archive|PANIC:|terminated by signal/, 'no ERROR from the health check, no crash');
$node->stop;

# --- a server that does not archive ----------------------------------------------------
my $plain = RippleTest::Cluster->new_node('healthplain', s3 => $s3, prefix => 'plain');
is($plain->safe_psql('postgres',
	"SELECT status || ' | ' || detail || ' | ' || (rpo IS NULL)::text FROM ripple_backup_health() WHERE component = 'wal archive'"),
	'ok | not archiving: archive_mode is off | true', 'archive_mode off: ok, "not archiving", no RPO');
unlike($plain->safe_psql('postgres', 'SELECT ripple_backup_metrics()'), qr/ripple_backup_wal_|ripple_backup_pg_wal_/,
	'and no WAL archive metrics');
$plain->stop;

done_testing();
