# 105_runner_exit_reason.pl — a backup runner that ends without storing a result
# always leaves a reason and a log line.  Made deterministic: the postmaster is
# frozen (SIGSTOP) while a transaction queues a backup and waits on it (the
# launcher registers the runner, which cannot start), the transaction rolls back
# (the launcher asks for the runner to be stopped), and the postmaster goes on
# (SIGCONT): the runner never starts.  The launcher logs that backup's failure with
# the reason "stopped before it started" (before, nothing was logged at all), and
# the next backup succeeds.
use strict;
use warnings;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;
use Time::HiRes qw(usleep);

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('exit', destination => "file://$dir",
	conf => "ripple_backup.verify_after_backup = off\n");
RippleTest::Cluster::create_app_db($node, 'app', 500);
my $offset = -s $node->logfile;

my ($in, $out, $err) = ('', '', '');
my $h = IPC::Run::start([ 'psql', '-X', '-At', '-v', 'ON_ERROR_STOP=0', '-d', $node->connstr('postgres') ],
	'<', \$in, '>', \$out, '2>', \$err);
$in .= "BEGIN;\nSELECT ripple_backup_now('app');\n";
$h->pump until $out =~ /^(\d+)$/m;
my ($id) = $out =~ /^(\d+)$/m;
my $pm = $node->safe_psql('postgres', 'SELECT 1') && do {
	open my $fh, '<', $node->data_dir . '/postmaster.pid' or die;
	my $p = <$fh>;
	chomp $p;
	$p;
};
kill 'STOP', $pm;
# the wait hands the request to the launcher, which registers a runner that cannot start
$in .= "SELECT ripple_backup_wait($id, '2 s');\nROLLBACK;\nSELECT 'rolled back';\n";
$h->pump until $out =~ /^rolled back$/m;
sleep 2;    # the launcher has seen the rollback and asked for the runner to stop
kill 'CONT', $pm;
$in .= "\\q\n";
$h->finish;

my $found = 0;
for (1 .. 300) {
	if (slurp_file($node->logfile, $offset) =~ /ripple_backup: backup $id failed\n.*DETAIL:\s+the backup runner stopped before it started/) {
		$found = 1;
		last;
	}
	usleep(100_000);
}
ok($found, "the launcher logs why backup $id ended without a result")
  or diag slurp_file($node->logfile, $offset);
unlike(slurp_file($node->logfile, $offset), qr/exited without recording a result/, 'never the bare "exited without recording a result"');

my $next = RippleTest::Cluster::backup_now($node, 'app');
is(RippleTest::Cluster::wait_backup($node, $next), 'succeeded', 'the next backup succeeds');
done_testing();
