# 031_schedule.pl — scheduled jobs with a live launcher: a job scheduled for the
# coming minute fires within 2 s of its time and makes a 'scheduled' backup with
# its job id that succeeds; a job altered in SQL moves its next_run and fires at
# the new time without a restart; a fire while the job's previous backup is still
# running (pg_dump blocked by a lock) is skipped and recorded; ripple_backup.catch_up.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RippleTest::Cluster;
use Test::More;

my $dir = PostgreSQL::Test::Utils::tempdir('backups');
my $node = RippleTest::Cluster->new_node('sched', destination => "file://$dir", max_workers => 4);
RippleTest::Cluster::create_app_db($node, 'app', 2000);
$node->safe_psql('postgres', 'CREATE DATABASE other');

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub launcher_pid { return sql("SELECT pid FROM pg_stat_activity WHERE backend_type = 'ripple_backup launcher'"); }

my $launcher = launcher_pid();
like($launcher, qr/^\d+$/, 'the launcher runs');

# leave at least 10 s before the coming minute, so the set-up ends before it
my $secs = sql("SELECT extract(second FROM now())::int");
sleep(61 - $secs) if $secs > 48;

# the coming minute (UTC) as a cron schedule
my ($min, $hour) = split /\|/, sql("SELECT extract(minute FROM m)::int, extract(hour FROM m)::int
	FROM (SELECT date_trunc('minute', now() AT TIME ZONE 'UTC') + interval '1 minute' AS m) s");
my $coming = "$min $hour * * *";
my $fire_at = sql("SELECT ripple_backup_next_run('$coming')");

# --- jobs ------------------------------------------------------------------------------
my $soon = sql("SELECT ripple_backup_schedule('soon', '$coming', 'other')");
like($soon, qr/^\d+$/, "job 'soon' at '$coming' has an id");
is(sql("SELECT next_run = '$fire_at' FROM ripple_backup.jobs WHERE jobid = $soon"), 't',
	'its next_run is the coming minute');

# a job far in the future, then altered to the coming minute: next_run moves
my $moved = sql("SELECT ripple_backup_schedule('moved', '0 0 1 1 *', 'other')");
is(sql("SELECT next_run > now() + interval '1 day' FROM ripple_backup.jobs WHERE jobid = $moved"), 't',
	"job 'moved' first fires on 1 January");
sql("SELECT ripple_backup_alter_job('moved', schedule => '$coming')");
is(sql("SELECT next_run = '$fire_at' FROM ripple_backup.jobs WHERE jobid = $moved"), 't',
	"altered in SQL, job 'moved' has its next_run in the coming minute");

# every minute, on app, whose tables are locked: its first backup cannot finish
my $bg = $node->background_psql('app', on_error_stop => 1);
$bg->query_safe('BEGIN; LOCK TABLE accounts IN ACCESS EXCLUSIVE MODE;');
my $every = sql("SELECT ripple_backup_schedule('every', '* * * * *', 'app')");
my $every_first = sql("SELECT next_run FROM ripple_backup.jobs WHERE jobid = $every");
is($every_first, $fire_at, "job 'every' first fires in the coming minute too");

# --- the coming minute: 'soon' and 'moved' fire and succeed ----------------------------
for my $job ([ 'soon', $soon ], [ 'moved', $moved ]) {
	my ($name, $jobid) = @$job;
	my $id = RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT count(*) > 0 FROM ripple_backup.backups WHERE jobid = $jobid", 't', 90);
	is($id, 't', "job '$name' made a backup");
	$id = sql("SELECT id FROM ripple_backup.backups WHERE jobid = $jobid");
	is(sql("SELECT count(*) FROM ripple_backup.backups WHERE jobid = $jobid"), '1', '... exactly one');
	my $delay = sql("SELECT extract(epoch FROM queued_at - '$fire_at'::timestamptz) FROM ripple_backup.backups WHERE id = $id");
	ok($delay >= 0 && $delay < 2, "... queued ${delay} s after its fire time (0 to 2 s)");
	is(RippleTest::Cluster::wait_backup($node, $id), 'succeeded', '... which succeeded');
	my $row = RippleTest::Cluster::backup_row($node, $id);
	is($row->{backup_type}, 'scheduled', '... marked scheduled');
	is($row->{dbname}, 'other', '... of the job\'s database');
	is($row->{label}, $name, '... labelled with the job name');
	is(sql("SELECT outcome || ' ' || backup_id || ' ' || (scheduled_for = '$fire_at') FROM ripple_backup.job_runs WHERE jobid = $jobid"),
		"started $id true", '... and recorded in job_runs');
	is(RippleTest::Cluster::poll_value($node, 'postgres',
		"SELECT last_status FROM ripple_backup.jobs WHERE jobid = $jobid", 'succeeded', 10),
		'succeeded', "the job's last_status follows its backup");
	is(sql("SELECT last_run = '$fire_at' AND next_run = '$fire_at'::timestamptz + interval '1 day' FROM ripple_backup.jobs WHERE jobid = $jobid"),
		't', "last_run is the fire time, next_run tomorrow");
}

# --- 'every': its first backup blocks, the next fire is skipped ------------------------
my $blocked = sql("SELECT id FROM ripple_backup.backups WHERE jobid = $every");
like($blocked, qr/^\d+$/, "job 'every' made its first backup");
is(RippleTest::Cluster::poll_value($node, 'app',
	"SELECT count(*) > 0 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name = 'ripple_backup $blocked'",
	't', 30), 't', 'its pg_dump waits on the lock');
my $skip = RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) FROM ripple_backup.job_runs WHERE jobid = $every AND outcome = 'skipped'", '1', 75);
is($skip, '1', 'the next minute\'s fire was skipped');
is(sql("SELECT detail || ' / ' || (scheduled_for = '$every_first'::timestamptz + interval '1 minute') FROM ripple_backup.job_runs WHERE jobid = $every AND outcome = 'skipped'"),
	'skipped: previous run still running / true', '... recorded with its reason and fire time');
is(sql("SELECT last_status FROM ripple_backup.jobs WHERE jobid = $every"), 'skipped: previous run still running',
	"the job's last_status says so");
is(sql("SELECT count(*) FROM ripple_backup.backups WHERE jobid = $every"), '1', 'no second backup was queued');
sql("SELECT ripple_backup_alter_job('every', active => false)");
$bg->query_safe('ROLLBACK');
$bg->quit;
is(RippleTest::Cluster::wait_backup($node, $blocked), 'succeeded', 'the blocked backup succeeds once the lock is gone');
is(sql("SELECT count(*) FROM ripple_backup.backups WHERE jobid = $every"), '1', 'an inactive job fires no more');

is(launcher_pid(), $launcher, 'all of it without a launcher restart');
like(slurp_file($node->logfile), qr/job "every" skipped its fire of .*: previous run still running/,
	'the skip is logged');

# --- catch-up: fires missed while the server was down ---------------------------------
# A next_run a few seconds ahead, then the server down until it has passed.
sub miss_fires {
	my ($jobs, $conf) = @_;
	sql("UPDATE ripple_backup.jobs SET active = (job_name IN ($jobs)),
		next_run = date_trunc('second', now()) + interval '4 seconds'");
	my $missed = sql("SELECT DISTINCT next_run FROM ripple_backup.jobs WHERE job_name IN ($jobs)");
	$node->stop('fast');
	$node->append_conf('postgresql.conf', "$conf\n");
	sleep 5;
	$node->start;
	return $missed;
}
my $before = sql("SELECT count(*) FROM ripple_backup.backups WHERE jobid IN ($soon, $moved)");
my $missed = miss_fires("'soon', 'moved'", 'ripple_backup.catch_up = off');
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) FROM ripple_backup.job_runs WHERE scheduled_for = '$missed' AND detail LIKE 'skipped: missed while the server was down%'", '2', 30),
	'2', 'catch_up off: both missed fires are recorded as skipped');
is(sql("SELECT count(*) FROM ripple_backup.jobs WHERE job_name IN ('soon', 'moved') AND next_run > now()"), '2',
	'... and their next_run moved to the future');
is(sql("SELECT count(*) FROM ripple_backup.backups WHERE jobid IN ($soon, $moved)"), $before, '... without a backup');

$missed = miss_fires("'soon'", 'ripple_backup.catch_up = on');
is(RippleTest::Cluster::poll_value($node, 'postgres',
	"SELECT count(*) FROM ripple_backup.job_runs WHERE jobid = $soon AND scheduled_for = '$missed' AND outcome = 'started'", '1', 30),
	'1', 'catch_up on: the missed fire runs at start-up');
my $caught = sql("SELECT backup_id FROM ripple_backup.job_runs WHERE jobid = $soon AND scheduled_for = '$missed'");
is(RippleTest::Cluster::wait_backup($node, $caught), 'succeeded', '... and its backup succeeds');
is(sql("SELECT count(*) FROM ripple_backup.job_runs WHERE jobid = $soon AND scheduled_for >= '$missed'"), '1', '... once only');
is(sql("SELECT next_run > now() + interval '1 hour' FROM ripple_backup.jobs WHERE jobid = $soon"), 't',
	'... and the job waits for its next fire tomorrow');

$node->stop;
done_testing();
