# 033_schedule_dump.pl — the jobs survive pg_dump and pg_restore of the catalog
# database: the DBA's jobs and their backups come back, and the nightly job that
# CREATE EXTENSION makes is not inserted twice.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $work = PostgreSQL::Test::Utils::tempdir('work');
my $node = RippleTest::Cluster->new_node('dump', destination => "file://$dir",
	database => 'cat', no_start => 1);
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE cat');
$node->safe_psql('cat', 'CREATE EXTENSION ripple_backup');
my $jobid = $node->safe_psql('cat', "SELECT ripple_backup_schedule('hourly', '\@hourly', 'postgres', 'Europe/Berlin')");
$node->safe_psql('cat', q{
	INSERT INTO ripple_backup.backups (dbname, status, error, backup_type, jobid)
	SELECT 'postgres', 'failed', 'a failure', 'scheduled', jobid FROM ripple_backup.jobs WHERE job_name = 'hourly';
	INSERT INTO ripple_backup.job_runs (jobid, scheduled_for, outcome, detail)
	SELECT jobid, now(), 'skipped', 'a skip' FROM ripple_backup.jobs WHERE job_name = 'hourly'});
my $before = $node->safe_psql('cat',
	'SELECT job_name, schedule, timezone, dbname, next_run FROM ripple_backup.jobs ORDER BY job_name');

command_ok([ 'pg_dump', '-Fc', '-f', "$work/cat.dump", $node->connstr('cat') ], 'pg_dump of the catalog database');
# the launcher may be connected to it
$node->safe_psql('postgres', 'DROP DATABASE cat WITH (FORCE)');
$node->safe_psql('postgres', 'CREATE DATABASE cat');
my ($stdout, $stderr);
my $ok = IPC::Run::run([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('cat'), "$work/cat.dump" ],
	'>', \$stdout, '2>', \$stderr);
ok($ok, 'pg_restore without an error') or diag($stderr);
is($node->safe_psql('cat', 'SELECT job_name, schedule, timezone, dbname, next_run FROM ripple_backup.jobs ORDER BY job_name'),
	$before, 'the jobs are back, nightly once');
is($node->safe_psql('cat', "SELECT jobid FROM ripple_backup.jobs WHERE job_name = 'hourly'"), $jobid, 'with their ids');
is($node->safe_psql('cat', "SELECT count(*) FROM ripple_backup.backups WHERE jobid = $jobid"), '1', 'their backups');
is($node->safe_psql('cat', "SELECT detail FROM ripple_backup.job_runs WHERE jobid = $jobid"), 'a skip', 'and their fires');
my $next = $node->safe_psql('cat', "SELECT ripple_backup_schedule('after-restore', '\@daily')");
ok($next > $jobid, 'a new job gets a fresh id');

$node->stop;
done_testing();
