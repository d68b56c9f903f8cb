# 032_schedule_standby.pl — scheduled jobs on a standby: nothing fires there (and a
# job cannot be scheduled there); a fire that fell due while the server was a
# standby runs once after promotion (ripple_backup.catch_up, default on).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $primary = RippleTest::Cluster->new_node('primary', destination => "file://$dir",
	init => { allows_streaming => 1 });
my $jobid = $primary->safe_psql('postgres', "SELECT ripple_backup_schedule('yearly', '0 0 1 1 *')");
like($jobid, qr/^\d+$/, 'a job on the primary');

# history older than ripple_backup.history_days (90): pruned by the launcher that
# starts at promotion (it prunes at its first look, then about hourly)
$primary->safe_psql('postgres', q{
	INSERT INTO ripple_backup.backups (dbname, status, error, queued_at, finished_at)
	VALUES ('postgres', 'failed', 'an old failure', now() - interval '100 days', now() - interval '100 days'),
	       ('postgres', 'failed', 'a recent failure', now() - interval '1 day', now() - interval '1 day');
	INSERT INTO ripple_backup.job_runs (jobid, scheduled_for, outcome, detail, recorded_at)
	SELECT jobid, now() - interval '100 days', 'skipped', 'an old skip', now() - interval '100 days'
	  FROM ripple_backup.jobs WHERE job_name = 'yearly'});
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# the job falls due a few seconds from now; the primary goes away before that
$primary->safe_psql('postgres',
	"UPDATE ripple_backup.jobs SET next_run = date_trunc('second', now()) + interval '5 seconds' WHERE jobid = $jobid");
my $due = $primary->safe_psql('postgres', "SELECT next_run FROM ripple_backup.jobs WHERE jobid = $jobid");
$primary->wait_for_catchup($standby);
$primary->stop('fast');

is($standby->safe_psql('postgres', 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');
my ($rc, $out, $err) = $standby->psql('postgres', "SELECT ripple_backup_schedule('other', '* * * * *')");
isnt($rc, 0, 'ripple_backup_schedule() fails on the standby');
like($err, qr/read-only transaction/, '... a read-only transaction');

# wait until the fire time has passed on the standby: nothing fires there
my $passed = RippleTest::Cluster::poll_value($standby, 'postgres', "SELECT now() > '$due'::timestamptz + interval '2 seconds'", 't', 20);
is($passed, 't', 'the fire time has passed');
is($standby->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.backups WHERE jobid = $jobid"), '0',
	'nothing fired on the standby');
is($standby->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.job_runs WHERE jobid = $jobid AND scheduled_for >= '$due'"), '0',
	'no fire recorded');

$standby->promote;
is(RippleTest::Cluster::poll_value($standby, 'postgres',
	"SELECT count(*) FROM ripple_backup.job_runs WHERE jobid = $jobid AND outcome = 'started' AND scheduled_for = '$due'", '1', 30),
	'1', 'after promotion the missed fire runs');
my $id = $standby->safe_psql('postgres', "SELECT backup_id FROM ripple_backup.job_runs WHERE jobid = $jobid");
is(RippleTest::Cluster::wait_backup($standby, $id), 'succeeded', '... and its backup succeeds');
is($standby->safe_psql('postgres', "SELECT backup_type || ' ' || jobid FROM ripple_backup.backups WHERE id = $id"),
	"scheduled $jobid", '... a scheduled backup of the job');
is($standby->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.backups WHERE jobid = $jobid"), '1', '... once');
is($standby->safe_psql('postgres', "SELECT next_run > now() + interval '1 day' FROM ripple_backup.jobs WHERE jobid = $jobid"),
	't', 'the job waits for its next fire (1 January)');

is($standby->safe_psql('postgres', "SELECT string_agg(error, ', ' ORDER BY error) FROM ripple_backup.backups WHERE status = 'failed'"),
	'a recent failure', 'the failed backup older than 90 days was pruned, the recent one kept');
is($standby->safe_psql('postgres', "SELECT count(*) FROM ripple_backup.job_runs WHERE detail = 'an old skip'"), '0',
	'the old skip was pruned');
like(slurp_file($standby->logfile), qr/pruned 2 record\(s\) of skipped fires, failed backups and notifications older than 90 days/,
	'the pruning is logged');

$standby->stop;
done_testing();
