# 120_base_backup_drill.pl — the restore drill of a physical base backup:
# ripple_backup_verify(id, 'restore') on a base backup streams it into a scratch data
# directory beside the data directory (ripple_backup.drill_directory's default),
# runs pg_verifybackup, fetches the WAL from the archive (archive_library =
# 'ripple_backup'), starts a throwaway copy with pg_ctl that replays it, runs
# pg_amcheck, and records the measured steps; the live cluster is untouched (no
# object archived by the copy, no new incarnation or timeline, no scratch directory
# and no postgres process left).  A missing WAL segment, a corrupted base backup,
# an unset drill directory, the archive level and a drill stopped by its timeout
# fail clearly and leave nothing behind; a verifier killed with SIGKILL leaves its
# copy running, which the launcher's start-up cleanup stops and removes; a scheduled
# drill takes the base backup and obeys drill_timeout; WAL archived encrypted is
# decrypted with the server's keys (and without them the drill fails saying so).
use strict;
use warnings;
use File::Copy qw(copy move);
use File::Find;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dest = PostgreSQL::Test::Utils::tempdir('dest');
my $node = RippleTest::Cluster->new_node('main', destination => "file://$dest",
	init => { allows_streaming => 1 },
	conf => "archive_mode = on\narchive_library = 'ripple_backup'\n"
	  . "ripple_backup.verify_after_backup = off\nripple_backup.drill_schedule = ''\n"
	  . "restart_after_crash = on\n");    # the default outside the test framework
sub sql { return $node->safe_psql('postgres', $_[0]); }
my $sysid = sql('SELECT system_identifier FROM pg_control_system()');
my $incarnation = sql('SELECT incarnation_id FROM ripple_backup.incarnation');

# the default drill directory: beside the data directory, never inside it
(my $parent = $node->data_dir) =~ s{/[^/]+$}{};
my $drill_dir = "$parent/ripple_backup_drill";
is(sql('SHOW ripple_backup.drill_directory'), $drill_dir,
	'ripple_backup.drill_directory defaults to ripple_backup_drill beside the data directory');
my ($rc, $out, $err) = $node->psql('postgres',
	"ALTER SYSTEM SET ripple_backup.drill_directory = '" . $node->data_dir . "/drill'");
like($err, qr/must not be inside the data directory/, 'a drill directory inside the data directory is refused');

my $expected = RippleTest::Cluster::create_app_db($node, 'app', 3000);
my $id = sql("SELECT ripple_backup_base_backup('drill')");
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'the base backup succeeded')
  or diag(sql("SELECT error FROM ripple_backup.backups WHERE id = $id"));
my ($start_lsn, $stop_lsn, $location) = split /\|/,
  sql("SELECT start_lsn, stop_lsn, location FROM ripple_backup.backups WHERE id = $id");
(my $object = $location) =~ s{^file://}{};
ok(-f $object, "the base backup object is at $object");

# writes after the backup, archived
$node->safe_psql('app', 'CREATE TABLE after_base AS SELECT g AS n FROM generate_series(1, 777) g');
my $after_lsn = sql('SELECT pg_current_wal_lsn()');
my $seg = sql('SELECT pg_walfile_name(pg_current_wal_lsn())');
sql('SELECT pg_switch_wal()');
$node->poll_query_until('postgres', "SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")
  or BAIL_OUT('the segment was not archived');

my $wal_dir = "$dest/$sysid/$incarnation/wal";
# the WAL objects of every incarnation (verify records beside the base backup change)
sub archived { my @f; find(sub { push @f, $File::Find::name if -f $_ && $File::Find::name =~ m{/wal/} }, "$dest/$sysid"); return sort @f; }
sub drill_processes {
	return grep { /\Q$drill_dir\E/ } split /\n/, `ps -eo pid=,args= 2>/dev/null`;
}
sub drill_dir_entries { opendir(my $d, $drill_dir) or return (); return grep { !/^\.\.?$/ } readdir $d; }
# a process that runs (a zombie that init has not reaped yet does not)
sub alive {
	my ($pid) = @_;
	return 0 unless kill(0, $pid);
	open(my $fh, '<', "/proc/$pid/stat") or return 0;
	my $stat = <$fh>;
	return $stat !~ /\) Z /;
}
sub wait_log {
	my ($re, $from) = @_;
	for (1 .. 600) {
		return 1 if slurp_file($node->logfile, $from) =~ $re;
		select(undef, undef, undef, 0.1);
	}
	return 0;
}
# the copy's socket directories of their own (the drill directory's path here is too
# long for a socket address): those of other runs are not this test's to judge
sub socket_dirs { return sort glob('/tmp/ripple_backup_drill_*'); }
my @socket_dirs_before = socket_dirs();
my @archived_before = archived();
my $archived_count = sql('SELECT archived_count FROM pg_stat_archiver');

# --- the drill passes ---------------------------------------------------------------
my $offset = -s $node->logfile;
is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')"), 'verified',
	'ripple_backup_verify(id, restore) of the base backup: verified')
  or diag(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"));
my ($status, $level, $seconds, $details_text) = split /\|/,
  sql("SELECT verify_status, verify_level, restore_seconds, verify_details FROM ripple_backup.backups WHERE id = $id");
is("$status $level", 'verified restore', 'catalog: verified at level restore');
ok($seconds > 0, "catalog: restore_seconds measured ($seconds s)");
my $details = decode_json($details_text);
note("drill details: $details_text");
is($details->{pg_verifybackup}, 'passed', 'pg_verifybackup passed on the unpacked backup');
is($details->{pg_amcheck}, 'passed', 'pg_amcheck passed on the restored copy');
ok($details->{wal_files} >= 2, "WAL fetched from the archive: $details->{wal_files} segments");
ok($details->{unpack_seconds} > 0 && $details->{replay_seconds} > 0 && $details->{wal_fetch_seconds} > 0,
	'each step measured: unpack, WAL fetch, replay');
ok(abs($seconds - ($details->{unpack_seconds} + $details->{wal_fetch_seconds} + $details->{replay_seconds})) < 0.01,
	'restore_seconds = unpack + WAL fetch + replay');
is(sql("SELECT '$details->{replayed_lsn}'::pg_lsn >= '$after_lsn'::pg_lsn AND '$details->{replayed_lsn}'::pg_lsn >= stop_lsn"
	  . " FROM ripple_backup.backups WHERE id = $id"), 't',
	"the copy replayed to $details->{replayed_lsn}: past the stop LSN and the writes after the backup");
ok(defined $details->{replayed_time}, "the last replayed transaction's time is recorded ($details->{replayed_time})");
ok($node->log_contains("base backup $id verified by a restore drill", $offset), 'the log says so with the times');

# --- the live cluster is untouched ----------------------------------------------------
is_deeply([ archived() ], \@archived_before, 'no object was added to the archive prefix (the copy archives nothing)');
ok(!-d "$wal_dir/00000002", 'no timeline 2 under the live incarnation');
is(sql('SELECT count(*) FROM ripple_backup.incarnation'), '1', 'no new incarnation in the catalog');
opendir(my $sd, "$dest/$sysid") or die;
is(scalar(grep { !/^\./ } readdir $sd), 1, 'one incarnation directory under the system identifier');
closedir $sd;
is(sql('SELECT archived_count FROM pg_stat_archiver'), $archived_count, 'the live archiver archived nothing meanwhile');
is(sql('SELECT timeline_id FROM pg_control_checkpoint()'), '1', 'the live cluster is still on timeline 1');
is_deeply([ drill_dir_entries() ], [], 'the scratch directory is removed');
is(scalar(drill_processes()), 0, 'no postgres process of the copy is left');

# --- the archive level is refused ------------------------------------------------------
($rc, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'archive')");
like($err, qr/physical base backup and can be verified at checksum or restore level only/,
	'the archive level of a base backup is refused');

# --- a missing WAL segment fails the drill clearly --------------------------------------
my $first_seg = sql("SELECT pg_walfile_name('$start_lsn')");
my $seg_obj = "$wal_dir/00000001/$first_seg.zst";
ok(-f $seg_obj, "the backup's first segment $first_seg is archived");
move($seg_obj, "$seg_obj.aside") or die;
is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')"), 'failed',
	'with the first WAL segment\'s object gone (its metadata left) the drill fails');
like(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/^could not fetch WAL file $first_seg from the archive: .* is missing though its metadata exists/,
	'... saying so');
move("$seg_obj.metadata.json", "$seg_obj.metadata.json.aside") or die;
is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')"), 'failed',
	'with the first WAL segment missing from the archive the drill fails');
like(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/^WAL file $first_seg is missing from the archive: the base backup needs every segment from $first_seg through [0-9A-F]{24} \(its stop LSN \Q$stop_lsn\E\)/,
	'... saying which segment is missing and which it needs');
is(sql("SELECT verify_details->>'pg_verifybackup' FROM ripple_backup.backups WHERE id = $id"), 'passed',
	'... after pg_verifybackup passed (its details are recorded)');
move("$seg_obj.aside", $seg_obj) or die;
move("$seg_obj.metadata.json.aside", "$seg_obj.metadata.json") or die;
is_deeply([ drill_dir_entries() ], [], '... and its scratch directory is removed');

# --- a corrupted base backup fails --------------------------------------------------
copy($object, "$object.good") or die;
{
	open(my $fh, '+<:raw', $object) or die;
	seek($fh, int((-s $object) / 2), 0);
	read($fh, my $b, 1);
	seek($fh, int((-s $object) / 2), 0);
	print $fh chr(ord($b) ^ 0xff);
	close($fh);
}
is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')"), 'failed',
	'a corrupted base backup object fails the drill');
like(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/^restore refused: checksum mismatch for file:/, '... with a checksum mismatch');
is(sql("SELECT restore_seconds IS NOT NULL FROM ripple_backup.backups WHERE id = $id"), 't',
	'... (the earlier drill\'s restore time is kept)');
move("$object.good", $object) or die;
is_deeply([ drill_dir_entries() ], [], '... and its scratch directory is removed');
is(scalar(drill_processes()), 0, '... and no copy was started');

# --- an unset drill directory is refused clearly ------------------------------------------
sql("ALTER SYSTEM SET ripple_backup.drill_directory = ''");
sql('SELECT pg_reload_conf()');
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.drill_directory', '');
is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '1 min')"), 'failed',
	'with ripple_backup.drill_directory unset the drill fails');
like(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/restore drill of a base backup impossible: ripple_backup.drill_directory is not set/, '... saying so');
sql("ALTER SYSTEM SET ripple_backup.drill_directory = '/proc/ripple_backup_drill'");
sql('SELECT pg_reload_conf()');
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.drill_directory', '/proc/ripple_backup_drill');
is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '1 min')"), 'failed',
	'with a drill directory that cannot be created the drill fails');
like(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
	qr/could not create the drill directory "\/proc\/ripple_backup_drill"/, '... naming it');
sql('ALTER SYSTEM RESET ripple_backup.drill_directory');
sql('SELECT pg_reload_conf()');
RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.drill_directory', $drill_dir);

# --- and it passes again: nothing of the failures stayed in the way -----------------------
is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')"), 'verified',
	'the drill passes again after the failures');
is_deeply([ archived() ], \@archived_before, 'still no object added by any copy');
is(scalar(drill_processes()), 0, 'no postgres process of a copy is left');
is(RippleTest::Cluster::count_rows($node, 'app', $expected)->{'public.accounts'}, 3000,
	'the live cluster\'s data is as it was');

# --- a drill stopped by its timeout leaves nothing behind --------------------------------
# 20 more segments to fetch and replay make the drill last well beyond 1 s
for (1 .. 20) {
	$node->safe_psql('app', 'INSERT INTO after_base VALUES (0)');
	$seg = sql('SELECT pg_walfile_name(pg_current_wal_lsn())');
	sql('SELECT pg_switch_wal()');
}
$node->poll_query_until('postgres', "SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")
  or BAIL_OUT('the segments were not archived');
($rc, $out, $err) = $node->psql('postgres', "SELECT ripple_backup_verify($id, 'restore', timeout => '1 s')");
like($err, qr/did not finish within the timeout/, 'a drill stopped by its timeout fails');
is_deeply([ drill_dir_entries() ], [], '... its scratch directory is removed');
is(scalar(drill_processes()), 0, '... and no postgres process of the copy is left');
is(sql("SELECT verify_status FROM ripple_backup.backups WHERE id = $id"), 'verified',
	'... and the verify status is unchanged');

# --- a verifier killed outright: the launcher's start-up cleanup stops its copy -----------
{
	my ($o, $e) = ('', '');
	my $h = IPC::Run::start([ 'psql', '-X', '-d', $node->connstr('postgres'), '-c',
			"SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')" ],
		'<', \undef, '>', \$o, '2>', \$e);
	# the copy's postmaster, once postmaster.pid names it
	my ($copy_pid, $verifier);
	for (1 .. 3000) {
		for my $pidfile (glob("$drill_dir/drill_*_*/data/postmaster.pid")) {
			open(my $pf, '<', $pidfile) or next;
			my $p = <$pf>;
			next unless defined $p && $p =~ /^(\d+)$/ && alive($1);
			$copy_pid = $1;
			($verifier) = $pidfile =~ m{/drill_\d+_(\d+)/data/};
		}
		last if $copy_pid;
		select(undef, undef, undef, 0.02);
	}
	ok($copy_pid, 'the copy of a running drill is seen');
	$offset = -s $node->logfile;
	kill 'KILL', $verifier;
	$h->finish;
	ok(alive($copy_pid), "the copy (pid $copy_pid) outlives its verifier (pid $verifier) killed with SIGKILL");
	my $back = 0;
	for (1 .. 600) {
		my $r = eval { ($node->psql('postgres', 'SELECT 1'))[0] };
		if (defined $r && $r == 0) { $back = 1; last; }
		select(undef, undef, undef, 0.1);
	}
	ok($back, 'the server is back after the crash restart');
	ok(wait_log(qr/removed what interrupted restore verifies left behind: \d+ scratch database\(s\), \d+ temporary file\(s\), 1 drill directory/, $offset),
		'the launcher\'s start-up cleanup removed the drill directory');
	ok(!alive($copy_pid), '... and stopped the copy left running');
	is_deeply([ drill_dir_entries() ], [], '... nothing is left in the drill directory');
	is(scalar(drill_processes()), 0, '... and no postgres process of a copy is left');
	is_deeply([ socket_dirs() ], \@socket_dirs_before, '... nor the copy\'s socket directory under /tmp');
}

# --- a scheduled drill takes the latest base backup too, and obeys drill_timeout ---------
$offset = -s $node->logfile;
sql("ALTER SYSTEM SET ripple_backup.drill_timeout = '1s'");
sql("ALTER SYSTEM SET ripple_backup.drill_schedule = '* * * * *'");
sql('SELECT pg_reload_conf()');
my $drilled = RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT verify_status FROM ripple_backup.backups WHERE id = $id", 'failed', 150);
sql("ALTER SYSTEM SET ripple_backup.drill_schedule = ''");
sql('SELECT pg_reload_conf()');
ok($node->log_contains("restore drill of base backup $id started", $offset),
	'the scheduled drill started for the latest base backup');
is($drilled, 'failed', 'the scheduled drill that ran out of time is recorded as failed');
like(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"), qr/did not finish within 1 s/,
	'... because it did not finish within drill_timeout');
ok($node->poll_query_until('postgres',
		"SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'ripple_backup verifier'"),
	'... and its verifier is gone');
is_deeply([ drill_dir_entries() ], [], '... its scratch directory is removed');
is(scalar(drill_processes()), 0, '... and no postgres process of the copy is left');
is_deeply([ grep { !m{/00000001/} } archived() ], [], 'no copy ever archived anything (only timeline 1 from the live server)');

# --- WAL archived encrypted: the drill decrypts it with the server's key ring ------------
# (base backups are not encrypted yet; the segments written after the key is set are)
{
	sql('ALTER SYSTEM RESET ripple_backup.drill_timeout');
	my $keyfile = $node->basedir . '/wal.key';
	open(my $kf, '>', $keyfile) or die;
	print $kf join('', map { sprintf '%02x', int(rand(256)) } 1 .. 32), "\n";
	close($kf);
	chmod(0600, $keyfile);
	sql("ALTER SYSTEM SET ripple_backup.encryption_key_file = '$keyfile'");
	sql('SELECT pg_reload_conf()');
	RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.encryption_key_file', $keyfile);
	$node->safe_psql('app', 'CREATE TABLE encrypted_wal AS SELECT g FROM generate_series(1, 100) g');
	my $enc_lsn = sql('SELECT pg_current_wal_lsn()');
	$seg = sql('SELECT pg_walfile_name(pg_current_wal_lsn())');
	sql('SELECT pg_switch_wal()');
	$node->poll_query_until('postgres', "SELECT last_archived_wal >= '$seg' FROM pg_stat_archiver")
	  or BAIL_OUT('the encrypted segment was not archived');
	my $meta = decode_json(slurp_file("$wal_dir/00000001/$seg.zst.metadata.json"));
	isnt($meta->{encryption} // 'none', 'none', "segment $seg is archived encrypted");
	is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')"), 'verified',
		'the drill over encrypted WAL passes')
	  or diag(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"));
	is(sql("SELECT (verify_details->>'replayed_lsn')::pg_lsn >= '$enc_lsn' FROM ripple_backup.backups WHERE id = $id"), 't',
		'... and replayed the encrypted segment');
	sql('ALTER SYSTEM RESET ripple_backup.encryption_key_file');
	sql('SELECT pg_reload_conf()');
	RippleTest::Cluster::poll_value($node, 'postgres', 'SHOW ripple_backup.encryption_key_file', '');
	is(sql("SELECT ripple_backup_verify($id, 'restore', timeout => '10 min')"), 'failed',
		'without the key the drill fails');
	like(sql("SELECT verify_error FROM ripple_backup.backups WHERE id = $id"),
		qr/^could not fetch WAL file $seg from the archive: .*key/, '... at the encrypted segment, saying a key is needed');
	is_deeply([ drill_dir_entries() ], [], '... and its scratch directory is removed');
	is(scalar(drill_processes()), 0, '... and no postgres process of a copy is left');
}
is_deeply([ socket_dirs() ], \@socket_dirs_before, 'no socket directory of a copy is left under /tmp');

done_testing();
