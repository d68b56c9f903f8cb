# 118_wal_archive_restart.pl — restarts in the middle of WAL archiving, and the
# archiver's shutdown while S3 is out.
#
# A backlog of segments (.ready while S3 was down; some full of random bytes, so
# that their objects are megabytes and their upload takes a while) is being
# archived when the server is stopped: twice with -m immediate (the archiver is
# killed mid-upload) and once with -m fast.  After the restarts every segment is
# archived exactly once with its content: each object decompresses to the SHA-256
# of the segment saved before, its metadata names that SHA-256, nothing else is
# under the prefix, no object was uploaded twice except one in flight at each
# kill, and no WARNING of different content.  Then the shutdown during an outage:
# PostgreSQL waits for the archiver's last cycle, so a module that sits through
# S3 retries delays `pg_ctl stop`; with S3 refused (server killed) and with S3
# stalled (server frozen, ripple_backup.s3_request_timeout at its default of two
# minutes) `pg_ctl stop -m fast` must return within a bound, the files stay .ready
# and are archived after the next start.
use strict;
use warnings;
use Digest::SHA;
use IPC::Run qw(run);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $s3 = RippleTest::S3Server->new(record => 1);
my $bucket = $s3->bucket;
my $node = RippleTest::Cluster->new_node('walrst', s3 => $s3, prefix => 'rst',
	conf => "archive_mode = on\n"
	  . "archive_library = 'ripple_backup'\n"
	  . "wal_level = replica\n"
	  . "max_wal_size = '2GB'\n"
	  . "ripple_backup.s3_breaker_open_time = '2s'\n"
	  . "ripple_backup.verify_after_backup = off\n");
my $tmp = $node->basedir;
my $status = $node->data_dir . '/pg_wal/archive_status';

sub sqlv { $node->safe_psql('postgres', $_[0]) }

sub wait_for {
	my ($what, $cond, $timeout) = @_;
	my $deadline = time + ($timeout // 180);
	while (time < $deadline) {
		return 1 if $cond->();
		usleep(100_000);
	}
	diag("timed out waiting for $what");
	return 0;
}

sub sha { return Digest::SHA->new(256)->addfile($_[0])->hexdigest; }
sub archived_count { return sqlv('SELECT archived_count FROM pg_stat_archiver'); }
sub ready_files { opendir(my $d, $status) or die; my @r = grep { /\.ready$/ } readdir $d; closedir $d; return @r; }

# pg_ctl stop in the given mode, with a long timeout of its own; returns the seconds it took.
sub timed_stop {
	my ($mode) = @_;
	my $t0 = time;
	my ($out, $err);
	run([ 'pg_ctl', '-D', $node->data_dir, '-m', $mode, '-t', '600', '-w', 'stop' ], '>', \$out, '2>', \$err)
	  or die "pg_ctl stop -m $mode failed: $err";
	$node->_update_pid(0);
	return time - $t0;
}

ok(wait_for('the incarnation', sub { sqlv('SELECT count(*) FROM ripple_backup.incarnation') eq '1' }, 60),
	'the launcher drew the incarnation');
my $inc = sqlv('SELECT incarnation_id FROM ripple_backup.incarnation');
my $sysid = sqlv('SELECT system_identifier FROM pg_control_system()');
my $walprefix = "rst/$sysid/$inc/wal/00000001";
sqlv('CREATE TABLE t (id int, v text); CREATE TABLE r (b bytea)');
sqlv('ALTER TABLE r ALTER COLUMN b SET STORAGE EXTERNAL');
my $first = sqlv("INSERT INTO t VALUES (0, 'a'); SELECT pg_walfile_name(pg_current_wal_lsn())");
sqlv('SELECT pg_switch_wal()');
ok(wait_for("$first archived", sub { sqlv("SELECT last_archived_wal >= '$first' FROM pg_stat_archiver") eq 't' }),
	'archiving works before the backlog');

# --- a backlog while S3 is down ------------------------------------------------------
$s3->stop;
my (@backlog, %segsha);
for my $i (1 .. 36) {
	# every third segment carries 6 MiB of random bytes (stored uncompressed: EXTERNAL)
	my $fill = $i % 3 == 0
	  ? "INSERT INTO r SELECT decode(string_agg(md5(random()::text), ''), 'hex') FROM generate_series(1, 393216);"
	  : "INSERT INTO t VALUES ($i, 'x');";
	my $seg = sqlv("$fill SELECT pg_walfile_name(pg_current_wal_lsn())");
	sqlv('SELECT pg_switch_wal()');
	push @backlog, $seg;
}
for my $seg (@backlog) {
	$segsha{$seg} = sha($node->data_dir . "/pg_wal/$seg");
}
my %uniq = map { $_ => 1 } @backlog;
is(scalar(keys %uniq), 36, '36 distinct segments switched while S3 is down');
cmp_ok(scalar(grep { -e "$status/$_.ready" } @backlog), '>=', 35, 'and they are .ready');

# --- restarts while the backlog is archived ------------------------------------------
my $kills = 0;
$s3->start;
for my $mode ('immediate', 'immediate', 'fast') {
	my $n0 = archived_count();
	sqlv('SELECT pg_switch_wal()');		# wakes the archiver
	ok(wait_for("archiving under way before the $mode stop", sub { archived_count() >= $n0 + 4 }, 240),
		"some of the backlog is archived, then a $mode stop");
	my $secs = timed_stop($mode);
	$kills++ if $mode eq 'immediate';
	diag(sprintf('pg_ctl stop -m %s in the middle of archiving: %.1f s, %d files .ready', $mode, $secs, scalar(ready_files())));
	$node->start;
}
# (not pg_stat_archiver: what the archiver's last pass at a shutdown archives is
# counted after the checkpointer wrote the statistics, so it is lost)
ok(wait_for('nothing .ready', sub { !grep { my $r = $_; grep { "$_.ready" eq $r } @backlog } ready_files() }, 300),
	'after the restarts no segment of the backlog is .ready');

# --- every segment once, with its content ----------------------------------------------
my $dl = "$tmp/archived";
my ($rc, $out, $err) = $s3->aws('s3', 'cp', '--recursive', '--quiet', "s3://$bucket/$walprefix/", $dl);
is($rc, 0, 'the archive reads back with awscli') or diag($err);
my ($good, $meta_good) = (0, 0);
for my $seg (@backlog) {
	my $plain;
	run([ 'zstd', '-q', '-d', '-c', "$dl/$seg.zst" ], '>', \$plain, '2>', \my $zerr);
	$good++ if defined $plain && Digest::SHA::sha256_hex($plain) eq $segsha{$seg};
	my $meta = -e "$dl/$seg.zst.metadata.json" ? slurp_file("$dl/$seg.zst.metadata.json") : '';
	$meta_good++ if $meta =~ /"original_sha256":"$segsha{$seg}"/;
}
is($good, 36, 'every segment of the backlog decompresses to the SHA-256 saved before the restarts');
is($meta_good, 36, 'and its metadata names that SHA-256');
my @keys = $s3->list_keys("$walprefix/");
my @stray = grep { !m{/[0-9A-F]{24}\.zst(\.metadata\.json)?$} } @keys;
is(join(',', @stray), '', 'nothing else under the prefix');
my %objects = map { $_ => 1 } grep { /\.zst$/ } @keys;
my %metas = map { $_ => 1 } grep { /\.metadata\.json$/ } @keys;
is(scalar(grep { !$objects{s/\.metadata\.json$//r} } keys %metas) + scalar(grep { !$metas{"$_.metadata.json"} } keys %objects), 0,
	'every object has its metadata and every metadata its object');
my %puts;
for my $req ($s3->requests) {
	next unless $req->{url} =~ m{^/\Q$bucket\E/\Q$walprefix\E/([0-9A-F]{24})\.zst(\?.*)?$};
	my ($seg, $q) = ($1, $2 // '');
	# one store = a PUT of the whole object, or the start of a multipart upload
	$puts{$seg}++ if ($req->{method} eq 'PUT' && $q !~ /partNumber=/) || ($req->{method} eq 'POST' && $q =~ /uploads/);
}
my @twice = grep { ($puts{$_} // 0) > 1 } @backlog;
cmp_ok(scalar(@twice), '<=', $kills, 'no segment uploaded twice, but for one in flight at each kill')
  or diag('uploaded more than once: ' . join(', ', map { "$_ ($puts{$_})" } @twice));
is(scalar(grep { !$puts{$_} } @backlog), 0, 'every segment of the backlog was uploaded');
my $log = slurp_file($node->logfile);
unlike($log, qr/different content/, 'no WARNING of different content');
unlike($log, qr/PANIC:|terminated by signal 11/, 'no crash');
my @already = $log =~ /WAL file "([0-9A-F]{24})" was already archived with the same content/g;
diag(sprintf('%d uploaded twice (%s); %d found already archived after a restart (%s)',
	scalar(@twice), join(' ', @twice), scalar(@already), join(' ', @already)));

# --- shutdown while S3 is refused, then stalled ----------------------------------------
sub shutdown_during {
	my ($what, $fault, $heal) = @_;
	my $f0 = sqlv('SELECT failed_count FROM pg_stat_archiver');
	$fault->();
	my @segs;
	for my $i (1 .. 3) {
		push @segs, sqlv("INSERT INTO t VALUES ($i, 'o'); SELECT pg_walfile_name(pg_current_wal_lsn())");
		sqlv('SELECT pg_switch_wal()');
	}
	my %shas = map { $_ => sha($node->data_dir . "/pg_wal/$_") } @segs;
	# the archiver is busy with the first of them (failing, or waiting on S3)
	usleep(1_500_000);
	my $secs = timed_stop('fast');
	diag(sprintf('pg_ctl stop -m fast with S3 %s: %.1f s', $what, $secs));
	cmp_ok($secs, '<', 45, "with S3 $what the fast shutdown takes less than 45 s, not the S3 client's retries");
	is(scalar(grep { -e "$status/$_.ready" } @segs), 3, 'the segments it could not archive stay .ready');
	$heal->();
	$node->start;
	ok(wait_for("$what: archived after the start", sub { !grep { -e "$status/$_.ready" } @segs }, 240),
		"with S3 back they are archived after the start");
	my $ok = 0;
	for my $seg (@segs) {
		my $plain;
		$ok++ if $s3->fetch_object("$walprefix/$seg.zst", "$tmp/o.zst")
		  && run([ 'zstd', '-q', '-d', '-c', "$tmp/o.zst" ], '>', \$plain)
		  && Digest::SHA::sha256_hex($plain) eq $shas{$seg};
	}
	is($ok, 3, 'with their content');
	return $secs;
}

my $pos = -s $node->logfile;
shutdown_during('refused (server down)', sub { $s3->stop }, sub { $s3->start });
like(substr(slurp_file($node->logfile), $pos), qr/could not archive WAL file/, 'the archiver was failing when it was stopped');
$pos = -s $node->logfile;
shutdown_during('stalled (server frozen)', sub { $s3->{h}->signal('STOP') }, sub { $s3->{h}->signal('CONT') });
unlike(slurp_file($node->logfile), qr/different content|PANIC:/, 'no different content, no crash');

$node->stop;
done_testing();
