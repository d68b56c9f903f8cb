# 050_verify_cancel.pl — a restore verify that is interrupted leaves nothing
# behind: no scratch database and no temporary file in base/pgsql_tmp.
#   - the verifier terminated (pg_terminate_backend) during the restore;
#   - the caller's timeout running out during the restore;
#   - the verifier killed with SIGKILL (the postmaster restarts every process);
#   - the server stopped with -m immediate during the restore, then started:
#     after a crash PostgreSQL removes pgsql_tmp* files itself and the launcher,
#     at start, drops the scratch databases that no running verifier owns;
#   - a launcher restart (the server running on): only the scratch databases and
#     temporary files of processes that are gone are removed.
# The restore is made slow on purpose: a CHECK constraint that sleeps 5 ms a row.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(usleep);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('cancel', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\nripple_backup.drill_schedule = ''\n"
	  . "restart_after_crash = on\n");    # the default outside the test framework

# restoring 3000 rows takes at least 15 s
$node->safe_psql('postgres', 'CREATE DATABASE slow');
RippleTest::Cluster::create_slow_table($node, 'slow', 3000);
my $id = RippleTest::Cluster::backup_now($node, 'slow');
is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', 'backup succeeded');

my $scratch_like = "datname LIKE 'ripple\\_backup\\_verify\\_%'";

# "dbs=<scratch databases> files=<entries of base/pgsql_tmp>"
sub leftovers {
	my $dbs = $node->safe_psql('postgres',
		"SELECT coalesce(string_agg(datname, ' ' ORDER BY datname), '') FROM pg_database WHERE $scratch_like");
	my @files = map { s{.*/}{}r } glob($node->data_dir . '/base/pgsql_tmp/*');
	return "dbs=$dbs files=" . join(' ', sort @files);
}

sub start_verify {
	my ($timeout) = @_;
	my ($out, $err) = (\my $o, \my $e);
	($$out, $$err) = ('', '');
	my $h = IPC::Run::start(
		[ $node->installed_command('psql'), '-XAtq', '-d', $node->connstr('postgres'),
		  '-c', "SELECT ripple_backup_verify($id, 'restore', timeout => '$timeout')" ],
		'>', $out, '2>', $err);
	return { h => $h, out => $out, err => $err };
}

# Waits until pg_restore is connected to a scratch database; returns the verifier's pid.
sub wait_restoring {
	my $n = RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE $scratch_like", 't', 60);
	die 'no restore started' unless $n eq 't';
	return $node->safe_psql('postgres',
		"SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup verifier'");
}

# Waits until the server accepts connections again (after a crash restart).
sub wait_ready {
	for (1 .. 600) {
		return 1 if IPC::Run::run([ $node->installed_command('pg_isready'), '-q',
			'-h', $node->host, '-p', $node->port ]);
		usleep(100_000);
	}
	return 0;
}

sub wait_no_verifier {
	return RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup verifier'", '0', 60);
}

# the restore started: a scratch database and a temporary copy of the archive exist
sub check_restoring {
	my ($what) = @_;
	like(leftovers(), qr/^dbs=ripple_backup_verify_\S+ files=\S/,
		"$what: during the restore a scratch database and a temporary file exist");
}

# --- pg_terminate_backend of the verifier ---------------------------------------------
my $v = start_verify('5 minutes');
my $pid = wait_restoring();
check_restoring('terminate');
is($node->safe_psql('postgres', "SELECT pg_terminate_backend($pid)"), 't', 'the verifier is terminated');
$v->{h}->finish;
isnt(${ $v->{out} }, "verified\n", 'terminate: the verify does not report verified');
is(wait_no_verifier(), '0', 'terminate: the verifier exited');
is(leftovers(), 'dbs= files=', 'terminate: no scratch database, no temporary file');

# --- the caller's timeout ------------------------------------------------------------
$v = start_verify('4 seconds');
wait_restoring();
check_restoring('timeout');
$v->{h}->finish;
like(${ $v->{err} }, qr/verification of backup $id did not finish within the timeout/,
	'timeout: the caller gets the timeout error');
is(leftovers(), 'dbs= files=', 'timeout: when the call returns, no scratch database, no temporary file');
is(wait_no_verifier(), '0', 'timeout: the verifier exited');

# After a restart during a restore: the launcher runs and has removed the leftovers.
sub check_restarted {
	my ($what, $log_offset) = @_;
	is(RippleTest::Cluster::poll_value($node, 'postgres',
			"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'", '1'),
		'1', "$what: the launcher runs again");
	is(RippleTest::Cluster::poll_value($node, 'postgres',
			"SELECT count(*) FROM pg_database WHERE $scratch_like", '0', 30),
		'0', "$what: the scratch database is dropped after the launcher started");
	is(leftovers(), 'dbs= files=', "$what: no scratch database, no temporary file");
	ok($node->log_contains('removed what interrupted restore verifies left behind: 1 scratch database\(s\)',
			$log_offset),
		"$what: the launcher says it dropped the scratch database");
}

# --- SIGKILL of the verifier: the postmaster restarts everything ------------------------
$v = start_verify('5 minutes');
$pid = wait_restoring();
check_restoring('SIGKILL');
my $log_offset = -s $node->logfile;
kill 'KILL', $pid;
$v->{h}->finish;
ok(wait_ready(), 'SIGKILL: the server is back after the crash restart');
check_restarted('SIGKILL', $log_offset);

# --- immediate shutdown during the restore ---------------------------------------------
$v = start_verify('5 minutes');
wait_restoring();
check_restoring('immediate stop');
$log_offset = -s $node->logfile;
$node->stop('immediate');
$v->{h}->finish;
$node->start;
check_restarted('immediate stop', $log_offset);

# --- a launcher restart drops only what no running process owns -----------------------
# (the server keeps running, so PostgreSQL's own start-up cleanup does not run)
my $session = $node->background_psql('postgres');
my $live = $session->query_safe('SELECT pg_backend_pid()');
my $dead = 4000000;
$dead++ while -e "/proc/$dead";
my $tmpdir = $node->data_dir . '/base/pgsql_tmp';
mkdir $tmpdir;
for my $p ($live, $dead) {
	$node->safe_psql('postgres', "CREATE DATABASE ripple_backup_verify_${id}_$p");
	open my $fh, '>', "$tmpdir/pgsql_tmp_ripple_backup_verify_${p}_AbC123" or die;
	close $fh;
}
$node->safe_psql('postgres', 'CREATE DATABASE ripple_backup_verify_notes');
my $launcher = $node->safe_psql('postgres',
	"SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'");
$log_offset = -s $node->logfile;
$node->safe_psql('postgres', "SELECT pg_terminate_backend($launcher)");
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher' AND pid <> $launcher",
		'1', 60),
	'1', 'a new launcher started');
is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) FROM pg_database WHERE datname = 'ripple_backup_verify_${id}_$dead'", '0', 30),
	'0', 'launcher restart: the scratch database of a gone process is dropped');
is(leftovers(), "dbs=ripple_backup_verify_${id}_$live ripple_backup_verify_notes"
	  . " files=pgsql_tmp_ripple_backup_verify_${live}_AbC123",
	'launcher restart: what a running process owns, and other names, are kept; the gone one\'s file is removed');
ok($node->log_contains('removed what interrupted restore verifies left behind: 1 scratch database\(s\), 1 temporary file\(s\)', $log_offset),
	'launcher restart: the log says what was removed');
$session->quit;
$node->safe_psql('postgres', "DROP DATABASE ripple_backup_verify_${id}_$live");
$node->safe_psql('postgres', 'DROP DATABASE ripple_backup_verify_notes');
unlink "$tmpdir/pgsql_tmp_ripple_backup_verify_${live}_AbC123" or die;

# and the backup still verifies
is($node->safe_psql('postgres', "SELECT ripple_backup_verify($id, 'restore')"), 'verified',
	'after all that the backup verifies at restore level');
is(leftovers(), 'dbs= files=', 'and leaves nothing behind');

$node->stop;
done_testing();
