# 112_restore_pitr.pl — point-in-time recovery with the CLI alone.  A cluster
# archives WAL with archive_library = 'ripple_backup' (encrypted from after its
# base backup on); a base backup through SQL; rows inserted in batches with a
# target time, a restore point and a WAL position noted between them; the cluster
# is destroyed; `ripple-backup restore-pitr` (--target-time, --target-name,
# --target-lsn) restores into new directories, and each restored server, started
# with --start, has exactly the rows before its target.  Then a restore that
# promotes, writes rows on timeline 2 (archived with its .history file under a new
# incarnation), is destroyed in turn, and restore-pitr --latest recovers them.
# wal-fetch: a missing file exits 1 and leaves nothing; an encrypted file without
# its key and a tampered object fail with exit codes above 125 and leave nothing.
# Refusals: a non-empty --pgdata, a target before every base backup.
use strict;
use warnings;
use File::Path qw(rmtree);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use RippleTest::S3Server;
use Test::More;
use Time::HiRes qw(time usleep);

my $cli_bin = "$ENV{RIPPLE_SRC}/src/cli/ripple-backup";
my $s3 = RippleTest::S3Server->new(bucket => 'backups');
my $node = RippleTest::Cluster->new_node('origin', s3 => $s3, prefix => 'pitr',
	init => { allows_streaming => 1 },
	conf => "archive_mode = on\narchive_library = 'ripple_backup'\n"
	  . "ripple_backup.verify_after_backup = off\n");
my $work = $node->basedir;
my $cred = "$work/aws_credentials";
my $sysid = $node->safe_psql('postgres', 'SELECT system_identifier FROM pg_control_system()');
sub sql { return $node->safe_psql('postgres', $_[0]); }

# the key file the WAL is encrypted with from after the base backup on
my $keyfile = "$work/wal.key";
{
	open(my $kf, '>', $keyfile) or die;
	print $kf join('', map { sprintf '%02x', int(rand(256)) } 1 .. 32), "\n";
	close($kf);
	chmod(0600, $keyfile);
}

# the CLI's configuration: a file, as an operator would write it (no secret in it)
my $config = "$work/ripple-backup.conf";
sub write_config {
	my ($path, $with_key) = @_;
	open(my $fh, '>', $path) or die;
	print $fh "destination = 's3://backups/pitr'\ns3_endpoint = '" . $s3->endpoint . "'\n"
	  . "s3_uri_style = 'path'\ns3_region = 'us-east-1'\ns3_credentials_file = '$cred'\n";
	print $fh "encryption_key_file = '$keyfile'\n" if $with_key;
	close($fh);
}
write_config($config, 1);
my $config_nokey = "$work/ripple-backup-nokey.conf";
write_config($config_nokey, 0);

# Runs the CLI with no AWS variables in its environment: the config file is all.
sub cli {
	my ($out, $err) = ('', '');
	local %ENV = %ENV;
	delete $ENV{$_} for grep { /^(AWS_|RIPPLE_BACKUP_)/ } keys %ENV;
	$ENV{HOME} = $work;
	IPC::Run::run([ $cli_bin, @_ ], '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

sub wait_archived {
	my ($n, $seg) = @_;
	return $n->poll_query_until('postgres',
		"SELECT last_archived_wal IS NOT NULL AND last_archived_wal >= '$seg' FROM pg_stat_archiver");
}

# --- the history to recover ---------------------------------------------------------------
sql("CREATE TABLE t (id int PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())");
my $base = sql("SELECT ripple_backup_base_backup('pitr test')");
is(RippleTest::Cluster::wait_backup($node, $base), 'succeeded', 'the base backup succeeded')
  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $base"));
my $before_base = sql("SELECT to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || '+00'"
	  . " FROM ripple_backup.backups WHERE id = $base");
# WAL archived from here on is encrypted
sql("ALTER SYSTEM SET ripple_backup.encryption_key_file = '$keyfile'");
sql('SELECT pg_reload_conf()');
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.encryption_key_file', $keyfile);
sleep 2;    # the base backup's end (its metadata has whole seconds) is behind us

sub insert_batch {
	my ($from, $to) = @_;
	for my $i ($from .. $to) {
		sql("INSERT INTO t (id) VALUES ($i)");
		usleep(20_000);
	}
}
my $now_sql = "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'";
insert_batch(1, 5);
usleep(300_000);
my $target_time = sql($now_sql);
usleep(300_000);
insert_batch(6, 10);
sql("SELECT pg_create_restore_point('after_ten')");
insert_batch(11, 15);
my $target_lsn = sql('SELECT pg_current_wal_insert_lsn()');
insert_batch(16, 20);
my $seg = sql('SELECT pg_walfile_name(pg_current_wal_lsn())');
sql('SELECT pg_switch_wal()');
ok(wait_archived($node, $seg), "the WAL up to $seg is archived");
my @keys = $s3->list_keys("pitr/$sysid/", 'backups');
my ($enc_key) = grep { m{/wal/00000001/\Q$seg\E\.zst$} } @keys;
ok(defined $enc_key, "the segment $seg is stored under wal/00000001/");

# --- the cluster is lost -------------------------------------------------------------------
my $origin_dir = $node->data_dir;
$node->stop;
rmtree($origin_dir);
ok(!-e $origin_dir, 'the original data directory is gone');

# --- refusals ---------------------------------------------------------------------------------
my $scratch = "$work/not-empty";
mkdir $scratch;
open(my $tf, '>', "$scratch/file") or die;
close($tf);
my ($rc, $out, $err) = cli('restore-pitr', '--config', $config, '--pgdata', $scratch, '--latest');
isnt($rc, 0, 'restore-pitr into a non-empty directory is refused');
like($err, qr/data directory "\Q$scratch\E" exists and is not empty/, '... saying so');
($rc, $out, $err) = cli('restore-pitr', '--config', $config, '--pgdata', "$work/too-early",
	'--target-time', '2000-01-01 00:00:00+00');
is($rc, 3, 'a target before every base backup: exit 3');
like($err, qr/no base backup ends before the target/, '... saying no base backup ends before it');
ok(!-e "$work/too-early", '... and nothing is created');
($rc, $out, $err) = cli('restore-pitr', '--config', $config, '--pgdata', "$work/no-zone",
	'--target-time', '2026-12-03 10:00:00');
is($rc, 2, 'a target time without a zone is a usage error');
like($err, qr/has no time zone/, '... saying so');

# --- restore to a time ------------------------------------------------------------------------
# Restores into a new node's directory with --start and waits until replay is paused
# at the target (or, with promote, until it has finished); returns the node.
sub restore_to {
	my ($name, @target) = @_;
	my $r = PostgreSQL::Test::Cluster->new($name);
	my $t0 = time;
	my ($src, $sout, $serr) = cli('restore-pitr', '--config', $config, '--pgdata', $r->data_dir,
		@target, '--start', '--port', $r->port);
	is($src, 0, "restore-pitr @target exits 0") or diag("$sout\n$serr");
	like($sout, qr/^restoring base backup $base taken /m, "... it chose base backup $base");
	unlike($serr, qr/warning/i, '... with no warning (the WAL metadata objects are not taken for backups)');
	my $promote = grep { $_ eq 'promote' || $_ eq '--latest' } @target;
	my $done = $promote
	  ? $r->poll_query_until('postgres', 'SELECT NOT pg_is_in_recovery()')
	  : $r->poll_query_until('postgres', "SELECT pg_get_wal_replay_pause_state() = 'paused'");
	ok($done, $promote ? '... recovery ended and the server was promoted' : '... replay paused at the target');
	diag(sprintf('restore-pitr %s: %.1f s from the command to the target', "@target", time - $t0));
	return ($r, $sout);
}

my ($r, $rout) = restore_to('by_time', '--target-time', $target_time);
is($r->safe_psql('postgres', 'SELECT count(*), min(id), max(id) FROM t'), '5|1|5',
	"--target-time $target_time: exactly the 5 rows before the target");
ok(-f $r->data_dir . '/recovery.signal', 'recovery.signal was written');
is((stat($r->data_dir))[2] & 07777, 0700, 'the data directory has mode 0700');
my $auto = slurp_file($r->data_dir . '/postgresql.auto.conf');
like($auto, qr{^restore_command = '\S+/ripple-backup wal-fetch %f %p --system-identifier $sysid --config \S+ripple-backup\.conf }m,
	'restore_command runs ripple-backup wal-fetch with the system identifier and the config file');
like($auto, qr/^recovery_target_time = '\Q$target_time\E'$/m, 'recovery_target_time is the target');
like($auto, qr/^recovery_target_timeline = 'latest'$/m, "recovery_target_timeline = 'latest'");
like($auto, qr/^recovery_target_action = 'pause'$/m, "recovery_target_action = 'pause' by default");
unlike($auto, qr/S3RVER|aws_access_key_id|aws_secret_access_key/i, 'no credential in the recovery settings');
like(slurp_file($r->data_dir . '/restore-pitr-server.log'), qr/restored log file "[0-9A-F]{24}" from archive/,
	'the server restored WAL from the archive through wal-fetch (its log, written by pg_ctl -l)');
$r->stop;

# --- restore to a named restore point, to a WAL position -------------------------------------
($r) = restore_to('by_name', '--target-name', 'after_ten');
is($r->safe_psql('postgres', 'SELECT count(*), max(id) FROM t'), '10|10',
	'--target-name after_ten: exactly the 10 rows before the restore point');
$r->stop;
($r) = restore_to('by_lsn', '--target-lsn', $target_lsn);
is($r->safe_psql('postgres', 'SELECT count(*), max(id) FROM t'), '15|15',
	"--target-lsn $target_lsn: exactly the 15 rows before the position");
$r->stop;

# --- promote, write on timeline 2, lose it, recover it with --latest -------------------------
my $r1;
($r1) = restore_to('promoted', '--target-time', $target_time, '--target-action', 'promote');
is($r1->safe_psql('postgres', 'SELECT count(*) FROM t'), '5', 'the promoted server has the 5 rows');
is($r1->safe_psql('postgres', 'SELECT timeline_id FROM pg_control_checkpoint()') >= 1 ? 1 : 0, 1,
	'it is running');
$r1->safe_psql('postgres', 'INSERT INTO t (id) SELECT g FROM generate_series(101, 105) g');
my $seg2 = $r1->safe_psql('postgres', 'SELECT pg_walfile_name(pg_current_wal_lsn())');
like($seg2, qr/^00000002/, "the promoted server writes timeline 2 ($seg2)");
$r1->safe_psql('postgres', 'SELECT pg_switch_wal()');
ok(wait_archived($r1, $seg2), "it archives $seg2 (under its new incarnation)");
my @keys2 = $s3->list_keys("pitr/$sysid/", 'backups');
my ($hist) = grep { m{/wal/00000002/00000002\.history\.zst$} } @keys2;
ok(defined $hist, '00000002.history is archived');
my ($inc_a) = $enc_key =~ m{^pitr/\d+/([0-9a-f]{16})/};
my ($inc_b) = defined $hist ? $hist =~ m{^pitr/\d+/([0-9a-f]{16})/} : ('');
isnt($inc_b, $inc_a, "timeline 2 is archived under a new incarnation ($inc_b, not $inc_a)");
my $r1_dir = $r1->data_dir;
$r1->stop;
rmtree($r1_dir);

my ($r2) = restore_to('latest', '--latest');
is($r2->safe_psql('postgres', 'SELECT count(*), count(*) FILTER (WHERE id > 100), max(id) FROM t'), '10|5|105',
	'--latest: the 5 rows of timeline 1 before the branch and the 5 rows written on timeline 2');
like(slurp_file($r2->data_dir . '/restore-pitr-server.log'), qr/restored log file "00000002\.history" from archive/,
	'the .history file was fetched and used');
$r2->stop;

# --- wal-fetch by itself ------------------------------------------------------------------------
my $dest = "$work/walfetch";
mkdir $dest;
($rc, $out, $err) = cli('wal-fetch', '000000010000000000000099', "$dest/RECOVERYXLOG",
	'--system-identifier', $sysid, '--config', $config);
is($rc, 1, 'wal-fetch of a file that is not archived exits 1');
like($err, qr/^ripple-backup: WAL file "000000010000000000000099" is not archived under system identifier $sysid/,
	'... saying it is not archived');
is(scalar(() = $err =~ /\n/g), 1, '... in one line');
($rc, $out, $err) = cli('wal-fetch', $seg, "$dest/RECOVERYXLOG", '--system-identifier', $sysid,
	'--config', $config);
is($rc, 0, "wal-fetch of $seg exits 0") or diag($err);
is(-s "$dest/RECOVERYXLOG", 16 * 1024 * 1024, '... and writes the whole segment');
unlink "$dest/RECOVERYXLOG";
($rc, $out, $err) = cli('wal-fetch', $seg, "$dest/RECOVERYXLOG", '--system-identifier', $sysid,
	'--config', $config_nokey);
is($rc, 201, 'wal-fetch of an encrypted file without its key exits 201 (above 125: recovery stops)');
like($err, qr/is encrypted with key [0-9a-f]{16}, which no configured key file holds/, '... naming the key');
ok(!-e "$dest/RECOVERYXLOG", '... and leaves no file');
($rc, $out, $err) = cli('wal-fetch', $seg, "$dest/RECOVERYXLOG", '--incarnation', 'nothex',
	'--config', $config, '--system-identifier', $sysid);
is($rc, 202, 'an invalid --incarnation exits 202');

# a tampered object: one byte of the stored segment changed
ok($s3->fetch_object($enc_key, "$work/seg.zst", 'backups'), 'awscli reads the stored segment');
{
	open(my $fh, '+<:raw', "$work/seg.zst") or die;
	seek($fh, 200, 0);
	read($fh, my $byte, 1);
	seek($fh, 200, 0);
	print $fh chr(ord($byte) ^ 0x55);
	close($fh);
}
my ($arc) = $s3->aws('s3', 'cp', "$work/seg.zst", "s3://backups/$enc_key");
is($arc, 0, 'the stored segment is overwritten with a changed byte');
($rc, $out, $err) = cli('wal-fetch', $seg, "$dest/RECOVERYXLOG", '--system-identifier', $sysid,
	'--config', $config);
is($rc, 204, 'wal-fetch of the tampered object exits 204 (integrity)');
like($err, qr/does not match its metadata/, '... saying it does not match its metadata');
opendir(my $dh, $dest) or die;
my @left = grep { !/^\.\.?$/ } readdir($dh);
closedir($dh);
is_deeply(\@left, [], '... and leaves no file, temporary or not');

# a tampered base backup: restore-pitr fails and leaves no data directory
my ($base_key) = grep { m{/base/\d{8}T\d{6}Z-$base\.tar\.zst$} } @keys;
ok($s3->fetch_object($base_key, "$work/base.tar.zst", 'backups'), 'awscli reads the base backup');
{
	open(my $fh, '+<:raw', "$work/base.tar.zst") or die;
	seek($fh, 5000, 0);
	read($fh, my $byte, 1);
	seek($fh, 5000, 0);
	print $fh chr(ord($byte) ^ 0x55);
	close($fh);
}
($arc) = $s3->aws('s3', 'cp', "$work/base.tar.zst", "s3://backups/$base_key");
is($arc, 0, 'the base backup object is overwritten with a changed byte');
($rc, $out, $err) = cli('restore-pitr', '--config', $config, '--pgdata', "$work/from-tampered", '--latest');
is($rc, 4, 'restore-pitr of a tampered base backup exits 4');
like($err, qr/checksum mismatch for backup $base /, '... saying the checksum does not match') or diag($err);
ok(!-e "$work/from-tampered", '... and leaves no data directory');

done_testing();
