-- 40_jobs: backup schedules in SQL (ripple_backup_schedule, _unschedule, _alter_job),
-- their validation errors and privileges, and the default nightly job.  Firing is
-- tested with a live launcher in test/t/031_schedule.pl.
SET timezone = 'UTC';
\set VERBOSITY default

-- CREATE EXTENSION made the nightly job: 02:00 UTC, the catalog database
SELECT job_name, schedule, timezone, dbname, active, last_run, last_status
  FROM ripple_backup.jobs ORDER BY jobid;
SELECT next_run = ripple_backup_next_run('0 2 * * *', now(), 'UTC') AS nightly_next_run
  FROM ripple_backup.jobs WHERE job_name = 'nightly';
\d ripple_backup.jobs
\d ripple_backup.job_runs

-- create: returns the job id, next_run is the next fire time
SELECT ripple_backup_schedule('weekly', '30 3 * * sun', timezone => 'Europe/Berlin') AS weekly \gset
SELECT :weekly > 0 AS has_id;
SELECT job_name, schedule, timezone, dbname, active,
       next_run = ripple_backup_next_run('30 3 * * sun', now(), 'Europe/Berlin') AS next_run_ok
  FROM ripple_backup.jobs WHERE jobid = :weekly;

-- the same name again updates the job (same id)
SELECT ripple_backup_schedule('weekly', '@monthly', 'postgres') = :weekly AS same_id;
SELECT job_name, schedule, timezone, dbname,
       next_run = ripple_backup_next_run('@monthly', now(), 'UTC') AS next_run_ok
  FROM ripple_backup.jobs WHERE jobid = :weekly;
SELECT count(*) AS jobs FROM ripple_backup.jobs;

-- alter: only what is given changes; next_run follows
SELECT ripple_backup_alter_job('weekly', schedule => '0 4 * * *', timezone => 'America/New_York');
SELECT schedule, timezone, active,
       next_run = ripple_backup_next_run('0 4 * * *', now(), 'America/New_York') AS next_run_ok
  FROM ripple_backup.jobs WHERE jobid = :weekly;
SELECT ripple_backup_alter_job('weekly', active => false);
SELECT schedule, timezone, active FROM ripple_backup.jobs WHERE jobid = :weekly;

-- errors: SQLSTATE 22023 with the pointed message, 3D000 for an unknown database
CREATE FUNCTION pg_temp.error_of(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
SELECT pg_temp.error_of(s) AS error FROM (VALUES
	($$SELECT ripple_backup_schedule('bad', '61 * * * *')$$),
	($$SELECT ripple_backup_schedule('bad', '* * * *')$$),
	($$SELECT ripple_backup_schedule('bad', '0 2 * * *', timezone => 'Mars/Olympus_Mons')$$),
	($$SELECT ripple_backup_schedule('bad', '0 2 * * *', 'no_such_database')$$),
	($$SELECT ripple_backup_schedule('bad', NULL)$$),
	($$SELECT ripple_backup_schedule(NULL, '* * * * *')$$),
	($$SELECT ripple_backup_alter_job('weekly', schedule => '0 0 30 2 *')$$),
	($$SELECT ripple_backup_alter_job('weekly', timezone => 'Not/AZone')$$),
	($$SELECT ripple_backup_alter_job('weekly', dbname => 'no_such_database')$$),
	($$SELECT ripple_backup_alter_job('no such job', active => true)$$)) v(s);
-- with their hints
\set SHOW_CONTEXT never
SELECT ripple_backup_schedule('bad', '0 2 * * *', timezone => 'Mars/Olympus_Mons');
SELECT ripple_backup_schedule('bad', '0 2 * * *', 'no_such_database');
SELECT ripple_backup_alter_job('no such job', active => true);
\set SHOW_CONTEXT errors
-- nothing changed by the failed calls
SELECT count(*) AS jobs FROM ripple_backup.jobs WHERE job_name = 'bad';
SELECT schedule, timezone, dbname, active FROM ripple_backup.jobs WHERE jobid = :weekly;

-- unschedule: true once, then false
SELECT ripple_backup_unschedule('weekly');
SELECT ripple_backup_unschedule('weekly');
SELECT count(*) AS jobs FROM ripple_backup.jobs WHERE jobid = :weekly;

-- privileges: the acting functions and the tables are not for PUBLIC
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'ripple_backup'
 WHERE p.proname IN ('ripple_backup_schedule', 'ripple_backup_unschedule', 'ripple_backup_alter_job',
                     'run_due_jobs', 'prune_history', 'wake_launcher_at_commit', 'job_next_run')
 ORDER BY p.proname;
CREATE ROLE regress_ripple_jobs_nobody;
SET ROLE regress_ripple_jobs_nobody;
SELECT ripple_backup_schedule('mine', '* * * * *');
SELECT ripple_backup_unschedule('nightly');
SELECT ripple_backup_alter_job('nightly', active => false);
RESET ROLE;
GRANT USAGE ON SCHEMA ripple_backup TO regress_ripple_jobs_nobody;
SET ROLE regress_ripple_jobs_nobody;
SELECT count(*) FROM ripple_backup.jobs;
RESET ROLE;
REVOKE ALL ON SCHEMA ripple_backup FROM regress_ripple_jobs_nobody;
DROP ROLE regress_ripple_jobs_nobody;

-- history pruning: old skips and failed backups go, succeeded backups and recent rows stay
SELECT ripple_backup_schedule('pruned', '0 0 1 1 *') AS pruned \gset
INSERT INTO ripple_backup.job_runs (jobid, scheduled_for, outcome, detail, recorded_at)
VALUES (:pruned, now() - interval '100 days', 'skipped', 'old', now() - interval '100 days'),
       (:pruned, now() - interval '1 day', 'skipped', 'recent', now() - interval '1 day');
INSERT INTO ripple_backup.backups (dbname, status, error, queued_at, finished_at, jobid, backup_type)
VALUES ('postgres', 'failed', 'old failure', now() - interval '100 days', now() - interval '100 days', :pruned, 'scheduled'),
       ('postgres', 'failed', 'recent failure', now() - interval '1 day', now() - interval '1 day', :pruned, 'scheduled');
INSERT INTO ripple_backup.backups (dbname, status, queued_at, finished_at, size_bytes, sha256, location, jobid, backup_type)
VALUES ('postgres', 'succeeded', now() - interval '100 days', now() - interval '100 days', 1,
        repeat('0', 64), 'file:///nowhere', :pruned, 'scheduled');
SELECT ripple_backup.prune_history(90);
SELECT detail FROM ripple_backup.job_runs WHERE jobid = :pruned ORDER BY detail;
SELECT status, coalesce(error, '-') AS error FROM ripple_backup.backups WHERE jobid = :pruned ORDER BY status, error;
-- unscheduling keeps the job's backups, without their job id
SELECT ripple_backup_unschedule('pruned');
SELECT count(*) AS orphans FROM ripple_backup.backups WHERE backup_type = 'scheduled' AND jobid IS NULL;
DELETE FROM ripple_backup.backups WHERE backup_type = 'scheduled' AND jobid IS NULL;

-- firing rules of ripple_backup.run_due_jobs(now, missed_before), called by the
-- launcher; here in one transaction rolled back, which the live launcher never sees
BEGIN;
SELECT ripple_backup_schedule('due', '*/5 * * * *') AS due,
       ripple_backup_schedule('busy', '*/5 * * * *') AS busy,
       ripple_backup_schedule('broken', '*/5 * * * *') AS broken,
       ripple_backup_schedule('missed', '*/5 * * * *') AS missed,
       ripple_backup_schedule('later', '*/5 * * * *') AS later \gset
UPDATE ripple_backup.jobs SET next_run = '2026-01-01 00:05+00' WHERE jobid IN (:due, :busy, :broken);
UPDATE ripple_backup.jobs SET next_run = '2026-01-01 00:00+00' WHERE jobid = :missed;
UPDATE ripple_backup.jobs SET next_run = '2026-01-01 00:15+00' WHERE jobid = :later;
UPDATE ripple_backup.jobs SET active = false WHERE job_name = 'nightly';
-- busy: its previous backup is still running; broken: its zone is gone
INSERT INTO ripple_backup.backups (dbname, status, backup_type, jobid) VALUES ('postgres', 'running', 'scheduled', :busy);
UPDATE ripple_backup.jobs SET timezone = 'No/Such_Zone' WHERE jobid = :broken;
-- at 00:10:30, with fires before 00:01 missed during downtime (catch_up off)
SELECT ripple_backup.run_due_jobs('2026-01-01 00:10:30+00', '2026-01-01 00:01+00') AS queued;
SELECT job_name, active, next_run, last_run, last_status, last_backup_id IS NOT NULL AS has_backup
  FROM ripple_backup.jobs WHERE jobid IN (:due, :busy, :broken, :missed, :later) ORDER BY jobid;
SELECT j.job_name, r.scheduled_for, r.outcome, r.backup_id IS NOT NULL AS has_backup, r.detail
  FROM ripple_backup.job_runs r JOIN ripple_backup.jobs j USING (jobid) ORDER BY r.id;
SELECT b.dbname, b.backup_type, b.label, b.status, b.jobid = :due AS jobs_backup
  FROM ripple_backup.backups b JOIN ripple_backup.jobs j ON j.last_backup_id = b.id WHERE j.jobid = :due;
-- at the same time again: nothing more (one fire per fire time)
SELECT ripple_backup.run_due_jobs('2026-01-01 00:10:30+00', NULL) AS queued;
-- the job's last_status follows its backup
UPDATE ripple_backup.backups SET status = 'running' WHERE jobid = :due;
SELECT last_status FROM ripple_backup.jobs WHERE jobid = :due;
ROLLBACK;

-- a job's time zone is anything SET TimeZone accepts: the POSIX zone UTC+3 (three
-- hours west of UTC, as in SET TimeZone) fires at 04:00 on its own wall clock
SELECT ripple_backup_schedule('posix', '0 4 * * *', timezone => 'UTC+3') > 0 AS posix_zone;
SELECT timezone, (next_run AT TIME ZONE 'UTC+3')::time AS local_fire_time,
       next_run = ripple_backup_next_run('0 4 * * *', now(), 'UTC+3') AS next_run_ok,
       extract(minute FROM next_run AT TIME ZONE 'UTC') = 0
         AND extract(hour FROM next_run AT TIME ZONE 'UTC') = 7 AS seven_utc
  FROM ripple_backup.jobs WHERE job_name = 'posix';
SELECT ripple_backup_alter_job('posix', timezone => 'EST5EDT');
SELECT timezone FROM ripple_backup.jobs WHERE job_name = 'posix';
SELECT ripple_backup_unschedule('posix');
