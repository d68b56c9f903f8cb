# 110_wal_archive.pl — WAL archiving as an archive module (archive_library =
# 'ripple_backup') to the S3 test server.  A switched segment arrives as
# <prefix>/<sysid>/<incarnation>/wal/<timeline>/<file>.zst, which stock `zstd -d`
# turns back into the segment byte for byte, with a metadata object of both
# SHA-256s; archiving the same segment again succeeds without a WARNING; an
# object of other content under the next segment's name makes the archiver keep
# failing with a WARNING that names both checksums, pg_stat_archiver counting the
# failures and the segment kept; an S3 outage keeps the segments .ready, with no
# ERROR or crash, and they all arrive once S3 is back; with encryption_key_file
# the object is encrypted and decrypts (core tool) to the segment, and a key file
# that cannot be used stores nothing until it is fixed; a promoted standby
# archives its .history file under the new timeline; with no destination the log
# says archiving is not configured; a server with no published incarnation (no
# CREATE EXTENSION) fails with a WARNING that says so.  Measures the rate of 50
# switched segments and the lag under a short pgbench.
use strict;
use warnings;
use Digest::SHA;
use File::Copy qw(copy);
use IPC::Run qw(run);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $src = $ENV{RIPPLE_SRC} // '.';
my $tool = "$src/build/tools/encrypt_tool";
my $s3 = RippleTest::S3Server->new;
my $bucket = $s3->bucket;
my $node = RippleTest::Cluster->new_node('walarc', s3 => $s3, prefix => 'pitr',
	init => { allows_streaming => 1 },
	conf => "archive_mode = on\n"
	  . "archive_library = 'ripple_backup'\n"
	  . "ripple_backup.s3_request_timeout = '4s'\n"
	  . "ripple_backup.s3_breaker_open_time = '2s'\n"
	  . "ripple_backup.verify_after_backup = off\n");
my $tmp = $node->basedir;

sub sqlv { $node->safe_psql('postgres', $_[0]) }

sub wait_for {
	my ($what, $cond, $timeout) = @_;
	my $deadline = time + ($timeout // 180);
	while (time < $deadline) {
		return 1 if $cond->();
		usleep(200_000);
	}
	diag("timed out waiting for $what");
	return 0;
}

sub log_since { my $c = slurp_file($node->logfile); return substr($c, $_[0]); }
sub log_pos { return -s $node->logfile; }

sub sha { return Digest::SHA->new(256)->addfile($_[0])->hexdigest; }

sub slurp_bin {
	open my $fh, '<:raw', $_[0] or die "$_[0]: $!";
	local $/;
	my $d = <$fh>;
	close $fh;
	return $d;
}

# Writes some WAL and switches; returns the name of the segment switched away from.
sub switch_segment {
	my $seg = sqlv("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 100) g;"
		  . " SELECT pg_walfile_name(pg_current_wal_lsn())");
	sqlv('SELECT pg_switch_wal()');
	return $seg;
}

sub archived_count { return sqlv('SELECT archived_count FROM pg_stat_archiver'); }
sub is_archived {
	my ($seg) = @_;
	return sqlv("SELECT last_archived_wal IS NOT NULL AND last_archived_wal >= '$seg' FROM pg_stat_archiver") eq 't';
}

# The incarnation is part of every key: the launcher publishes it once it runs.
ok(wait_for('the incarnation', sub { sqlv('SELECT count(*) FROM ripple_backup.incarnation') eq '1' }, 60),
	'the launcher drew the incarnation');
my $inc = sqlv('SELECT incarnation_id FROM ripple_backup.incarnation');
my $sysid = sqlv('SELECT system_identifier FROM pg_control_system()');
my $walprefix = "pitr/$sysid/$inc/wal";
sqlv('CREATE TABLE t (id int, v text)');

# --- one segment: stored, read back with awscli and stock zstd ----------------------
my $seg = switch_segment();
ok(wait_for("$seg archived", sub { is_archived($seg) }), "pg_stat_archiver shows $seg archived");
my $segcopy = "$tmp/$seg.orig";
copy($node->data_dir . "/pg_wal/$seg", $segcopy) or die "copy: $!";
my $key = "$walprefix/00000001/$seg.zst";
ok($s3->fetch_object($key, "$tmp/$seg.zst"), "the object is at $key");
is(substr(slurp_bin("$tmp/$seg.zst"), 0, 4), "\x28\xb5\x2f\xfd", 'the object is a zstd frame');
ok(run([ 'zstd', '-q', '-d', '-f', "$tmp/$seg.zst", '-o', "$tmp/$seg.plain" ]), 'stock zstd -d decompresses it');
ok(slurp_bin("$tmp/$seg.plain") eq slurp_bin($segcopy), 'the decompressed object is the segment byte for byte');
cmp_ok(-s "$tmp/$seg.zst", '<', -s $segcopy, 'and smaller than the segment');
ok($s3->fetch_object("$key.metadata.json", "$tmp/meta.json"), 'the metadata object is beside it');
my $meta = slurp_file("$tmp/meta.json");
my ($seg_sha, $obj_sha) = (sha($segcopy), sha("$tmp/$seg.zst"));
like($meta, qr/"original_sha256":"$seg_sha"/, 'the metadata names the SHA-256 of the segment');
like($meta, qr/"stored_sha256":"$obj_sha"/, 'and the SHA-256 of the stored bytes');
like($meta, qr/"encryption":null/, 'and no encryption');
my $row = sqlv("SELECT archived_count >= 1, last_archived_wal, failed_count, pending_count,"
	  . " enabled, pg_archived_count >= 1 FROM ripple_backup.wal_archive");
is($row, "t|$seg|0|0|t|t", 'ripple_backup.wal_archive shows it beside pg_stat_archiver');
# the rate: WAL bytes over the time the calls that stored them took, so at least the
# bytes over the time since the server started, at most the bytes over the last call's time
my ($bps, $low, $high) = split /\|/, sqlv("SELECT bytes_per_second, original_bytes"
	  . " / extract(epoch FROM now() - pg_postmaster_start_time()), original_bytes / last_archive_seconds"
	  . " FROM ripple_backup.wal_archive");
cmp_ok($bps, '>', 0, "bytes_per_second is a rate ($bps)");
cmp_ok($bps, '>=', $low, "at least the WAL archived per second since the start ($low)");
cmp_ok($bps, '<=', $high * 1.0001, "at most the bytes over the last call's time ($high)");

# --- the same segment again: success, no WARNING -------------------------------------
my $pos = log_pos();
my $status = $node->data_dir . '/pg_wal/archive_status';
rename("$status/$seg.done", "$status/$seg.ready") or die "rename: $!";
my $next = switch_segment();	# wakes the archiver, which takes the oldest .ready first
ok(wait_for("$next archived", sub { is_archived($next) }), 'the archiver goes on past the re-archived segment');
ok(-e "$status/$seg.done", 'the segment archived twice is done');
my $log = log_since($pos);
like($log, qr/WAL file "$seg" was already archived with the same content/, 'logged as already archived');
unlike($log, qr/WARNING/, 'no WARNING');
is(sqlv('SELECT already_archived_count FROM ripple_backup.wal_archive'), '1', 'counted as already archived');

# --- other content under the next segment's name: false, a WARNING naming both ---------
# (after a write: at a segment boundary pg_walfile_name names the previous segment)
my $victim = sqlv("INSERT INTO t VALUES (0, 'y'); SELECT pg_walfile_name(pg_current_wal_lsn())");
RippleTest::S3Server::make_file("$tmp/other", 1, 42);
my $other_sha = sha("$tmp/other");
run([ 'zstd', '-q', '-f', "$tmp/other", '-o', "$tmp/other.zst" ]) or die 'zstd';
my ($rc) = $s3->aws('s3', 'cp', "$tmp/other.zst", "s3://$bucket/$walprefix/00000001/$victim.zst");
is($rc, 0, 'an object of other content is put under the name of the next segment');
my $failed0 = sqlv('SELECT failed_count FROM pg_stat_archiver');
$pos = log_pos();
is(switch_segment(), $victim, "$victim is switched");
ok(wait_for('failures', sub { sqlv('SELECT failed_count FROM pg_stat_archiver') >= $failed0 + 2 }),
	'the archiver keeps failing: pg_stat_archiver.failed_count rises');
my $victim_sha = sha($node->data_dir . "/pg_wal/$victim");
$log = log_since($pos);
like($log, qr/WARNING:.*could not archive WAL file "$victim"/, 'a WARNING names the file');
like($log, qr/the archived file has SHA-256 $other_sha, this one has SHA-256 $victim_sha/,
	'and both checksums');
unlike($log, qr/ERROR:|FATAL:|PANIC:/, 'no ERROR');
ok(-e "$status/$victim.ready" && -e $node->data_dir . "/pg_wal/$victim", 'the segment is kept, .ready');
is(sqlv('SELECT last_failed_wal, last_error LIKE \'%different content%\' FROM ripple_backup.wal_archive'),
	"$victim|t", 'ripple_backup.wal_archive shows the last failure and its error');
($rc) = $s3->aws('s3', 'rm', "s3://$bucket/$walprefix/00000001/$victim.zst");
my $after = switch_segment();
ok(wait_for("$after archived", sub { is_archived($after) }), 'with the other object gone, archiving goes on');

# --- an S3 outage: segments stay .ready, no ERROR, all arrive afterwards ---------------
$s3->stop;
$pos = log_pos();
my $failed1 = sqlv('SELECT failed_count FROM pg_stat_archiver');
my @outage = map { switch_segment() } 1 .. 3;
ok(wait_for('failures during the outage', sub { sqlv('SELECT failed_count FROM pg_stat_archiver') > $failed1 }),
	'archiving fails while S3 is down');
ok((grep { -e "$status/$_.ready" } @outage) == 3, 'the three segments stay .ready in pg_wal/archive_status');
my $tick = 0;
ok(wait_for('the breaker', sub {
	push @outage, switch_segment() if ++$tick % 25 == 0;	# wakes the archiver again
	return sqlv("SELECT count(*) FROM ripple_backup.destinations WHERE state <> 'closed'") eq '1';
}, 120), 'the endpoint\'s shared circuit breaker opens (ripple_backup.destinations)');
ok(wait_for('failing fast', sub {
	push @outage, switch_segment() if ++$tick % 25 == 0;
	return log_since($pos) =~ /could not archive WAL file.*?DETAIL:.*circuit breaker open after \d+ consecutive failures, failing fast/s;
}, 120), 'and the archiver fails fast while it is open, the breaker named in the WARNING');
cmp_ok(sqlv('SELECT pending_count FROM ripple_backup.wal_archive'), '>=', 3, 'ripple_backup.wal_archive counts them pending');
$log = log_since($pos);
like($log, qr/WARNING:.*could not archive WAL file/, 'a WARNING for each failure');
unlike($log, qr/ERROR:|FATAL:|PANIC:|terminated by signal/, 'no ERROR and no crash of the archiver');
$s3->start;
my $last = switch_segment();	# wakes the archiver
ok(wait_for('catch-up', sub { is_archived($last) }, 240), 'with S3 back, archiving catches up');
my %keys = map { $_ => 1 } $s3->list_keys("$walprefix/00000001/");
is(scalar(grep { $keys{"$walprefix/00000001/$_.zst"} } @outage, $last), scalar(@outage) + 1, 'every segment of the outage arrived');

# --- a key file that cannot be used: the file is not stored, never unencrypted ---------
my $badkey = "$tmp/bad.key";
open my $bk, '>', $badkey or die;
print $bk join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32), "\n";
close $bk;
chmod 0644, $badkey;
sqlv("ALTER SYSTEM SET ripple_backup.encryption_key_file = '$badkey'");
sqlv('SELECT pg_reload_conf()');
usleep(500_000);
$pos = log_pos();
my $refused = switch_segment();
ok(wait_for('the refusal', sub {
	log_since($pos) =~ /could not archive WAL file "$refused".*?DETAIL:\s+ripple_backup.encryption_key_file refused, nothing is stored unencrypted: .*bad\.key/s }, 60),
	'a key file others can read: a WARNING names the setting and the file');
ok(!(grep { $_ eq "$walprefix/00000001/$refused.zst" } $s3->list_keys("$walprefix/00000001/")),
	'and nothing is stored');
ok(-e "$status/$refused.ready", 'the segment stays .ready');
chmod 0600, $badkey;
my $fixed = switch_segment();
ok(wait_for("$fixed archived", sub { is_archived($fixed) }), 'with the key file fixed it is archived');
ok($s3->fetch_object("$walprefix/00000001/$refused.zst", "$tmp/refused.obj")
	  && substr(slurp_bin("$tmp/refused.obj"), 0, 8) eq 'RIPBKENC', 'encrypted');
sqlv('ALTER SYSTEM RESET ripple_backup.encryption_key_file');
sqlv('SELECT pg_reload_conf()');

# --- encryption ------------------------------------------------------------------------
SKIP: {
	skip 'encrypt_tool is not built (make tools)', 5 unless -x $tool;
	my $keyfile = "$tmp/wal.key";
	open my $kf, '>', $keyfile or die;
	print $kf join('', map { sprintf('%02x', int(rand(256))) } 1 .. 32), "\n";
	close $kf;
	chmod 0600, $keyfile;
	sqlv("ALTER SYSTEM SET ripple_backup.encryption_key_file = '$keyfile'");
	sqlv('SELECT pg_reload_conf()');
	usleep(500_000);
	my $enc = switch_segment();
	ok(wait_for("$enc archived", sub { is_archived($enc) }), 'an encrypted segment is archived');
	copy($node->data_dir . "/pg_wal/$enc", "$tmp/$enc.orig") or die "copy: $!";
	ok($s3->fetch_object("$walprefix/00000001/$enc.zst", "$tmp/$enc.obj"), 'read back');
	is(substr(slurp_bin("$tmp/$enc.obj"), 0, 8), 'RIPBKENC', 'the object is encrypted, not a zstd frame');
	my $plain;
	run([ $tool, 'decrypt', $keyfile ], '<', "$tmp/$enc.obj", '|', [ 'zstd', '-q', '-d', '-c' ], '>', \$plain);
	ok(defined $plain && $plain eq slurp_bin("$tmp/$enc.orig"), 'decrypted and decompressed it is the segment');
	($rc) = $s3->aws('s3', 'cp', "s3://$bucket/$walprefix/00000001/$enc.zst.metadata.json", "$tmp/enc.json");
	like(slurp_file("$tmp/enc.json"), qr/"encryption":"xchacha20poly1305-secretstream-v1","key_id":"[0-9a-f]{16}"/,
		'the metadata names the encryption and the key id');
	sqlv('ALTER SYSTEM RESET ripple_backup.encryption_key_file');
	sqlv('SELECT pg_reload_conf()');
}

# --- the archive rate: 50 switched segments -------------------------------------------
my $n0 = archived_count();
my $t0 = time;
sqlv("DO \$\$ BEGIN FOR i IN 1..50 LOOP INSERT INTO t VALUES (i, 'x'); PERFORM pg_switch_wal(); END LOOP; END \$\$");
ok(wait_for('50 segments', sub { archived_count() >= $n0 + 50 }, 600), '50 segments are archived');
my $secs = time - $t0;
diag(sprintf('archive rate: 50 segments in %.1f s = %.1f segments/s', $secs, 50 / $secs));

# --- under a short pgbench write load: segments archived per second, and the lag ----
$node->command_ok([ 'pgbench', '-i', '-q', '-s', '5', '-p', $node->port, '-h', $node->host, 'postgres' ],
	'pgbench -i -s 5');
my ($a0, $l0) = (archived_count(), sqlv('SELECT pg_current_wal_lsn()'));
$t0 = time;
$node->command_ok([ 'pgbench', '-c', '4', '-T', '15', '-n', '-p', $node->port, '-h', $node->host, 'postgres' ],
	'pgbench -c 4 -T 15');
my $bench_secs = time - $t0;
my $produced = sqlv("SELECT round((pg_current_wal_lsn() - '$l0') / 16777216.0, 1)");
my $pend = sqlv('SELECT pending_count FROM ripple_backup.wal_archive');
my $done_during = archived_count() - $a0;
my $end = switch_segment();
ok(wait_for('catch-up after pgbench', sub { is_archived($end) }, 300), 'every segment of the pgbench run is archived');
diag(sprintf('pgbench -c 4 -T 15 (scale 5): %.1f segments of WAL written in %.1f s; %d archived meanwhile (%.1f/s), %d pending at its end; caught up %.1f s later',
	$produced, $bench_secs, $done_during, $done_during / $bench_secs, $pend, time - $t0 - $bench_secs));

# --- no destination: "not configured", a clear log line, the WAL kept ------------------
$pos = log_pos();
sqlv("ALTER SYSTEM SET ripple_backup.destination = ''");
sqlv('SELECT pg_reload_conf()');
usleep(500_000);
my $kept = switch_segment();
ok(wait_for('the log line', sub { log_since($pos) =~ /ripple_backup cannot archive WAL: ripple_backup.destination is not set/ }, 60),
	'with no destination the log says archiving is not configured');
ok(-e "$status/$kept.ready", 'and the segment stays .ready');
sqlv('ALTER SYSTEM RESET ripple_backup.destination');
sqlv('SELECT pg_reload_conf()');
usleep(500_000);
my $again = switch_segment();
ok(wait_for("$kept archived", sub { is_archived($again) }, 120), 'with the destination back both are archived');

# --- a promoted standby archives its .history file under the new timeline ---------------
$node->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('walstandby');
$standby->init_from_backup($node, 'base', has_streaming => 1);
$standby->start;
$standby->promote;
my $sinc;
ok(wait_for('the standby\'s incarnation', sub {
	$sinc = $standby->safe_psql('postgres', 'SELECT incarnation_id FROM ripple_backup.incarnation WHERE timeline = 2');
	return $sinc ne '';
}, 120), 'the promoted standby draws an incarnation for timeline 2');
isnt($sinc, $inc, 'a new incarnation');
ok(wait_for('the history file', sub {
	$standby->safe_psql('postgres', "SELECT last_archived_wal FROM pg_stat_archiver") eq '00000002.history'
	  || grep { $_ eq "pitr/$sysid/$sinc/wal/00000002/00000002.history.zst" } $s3->list_keys("pitr/$sysid/$sinc/wal/");
}, 180), 'the history file is archived');
ok((grep { $_ eq "pitr/$sysid/$sinc/wal/00000002/00000002.history.zst" } $s3->list_keys("pitr/$sysid/$sinc/wal/")),
	'under the new incarnation and timeline 2');
ok($s3->fetch_object("pitr/$sysid/$sinc/wal/00000002/00000002.history.zst", "$tmp/h.zst")
	  && run([ 'zstd', '-q', '-d', '-c', "$tmp/h.zst" ], '>', \my $hist), 'it decompresses');
is($hist, slurp_file($standby->data_dir . '/pg_wal/00000002.history'), 'to the history file');
$standby->stop;

$node->stop;

# --- a server whose launcher has published no incarnation (no CREATE EXTENSION) ---------
my $bare = RippleTest::Cluster->new_node('walbare', s3 => $s3, prefix => 'bare', extension => 0,
	conf => "wal_level = replica\narchive_mode = on\narchive_library = 'ripple_backup'\n");
$bare->safe_psql('postgres', 'CREATE TABLE x AS SELECT 1 AS a');
$bare->safe_psql('postgres', 'SELECT pg_switch_wal()');
ok(wait_for('a failure', sub { $bare->safe_psql('postgres', 'SELECT failed_count FROM pg_stat_archiver') > 0 }, 60),
	'without an incarnation archiving fails (and is retried)');
like(slurp_file($bare->logfile), qr/WARNING:.*could not archive WAL file.*?DETAIL:\s+the server's incarnation \(part of every key\) is not published yet/s,
	'the WARNING says why');
unlike(slurp_file($bare->logfile), qr/PANIC:|terminated by signal/, 'no crash');
is(join(',', $s3->list_keys('bare/')), '', 'nothing is stored');
$bare->stop;
done_testing();
