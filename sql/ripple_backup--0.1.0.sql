-- ripple_backup 0.1.0 install script: the backup catalog (schema ripple_backup),
-- the SQL interface (in the extension's schema) and the progress view.
\echo Use "CREATE EXTENSION ripple_backup" to load this file. \quit

-- The catalog lives in one database (ripple_backup.database): refuse any other,
-- with a hint, before creating anything.
CREATE FUNCTION @extschema@.ripple_backup_assert_catalog_database() RETURNS void
	AS 'MODULE_PATHNAME', 'ripple_backup_assert_catalog_database'
	LANGUAGE C;
SELECT @extschema@.ripple_backup_assert_catalog_database();
DROP FUNCTION @extschema@.ripple_backup_assert_catalog_database();

CREATE SCHEMA ripple_backup;
COMMENT ON SCHEMA ripple_backup IS 'catalog of the backups taken by ripple_backup';

-- Backup schedules (their functions and the scheduler: "scheduled jobs" below).
CREATE TABLE ripple_backup.jobs (
	jobid			bigserial PRIMARY KEY,
	job_name		text NOT NULL UNIQUE
					CONSTRAINT jobs_job_name_length CHECK (octet_length(job_name) BETWEEN 1 AND 63),
	schedule		text NOT NULL,
	timezone		text NOT NULL DEFAULT 'UTC',
	dbname			name NOT NULL,
	active			boolean NOT NULL DEFAULT true,
	next_run		timestamptz,
	last_run		timestamptz,
	last_status		text,
	last_backup_id	bigint,
	created_at		timestamptz NOT NULL DEFAULT pg_catalog.now(),
	heartbeat_url	text			-- this job's dead-man's switch; NULL = ripple_backup.heartbeat_url
);
CREATE INDEX jobs_next_run ON ripple_backup.jobs (next_run) WHERE active;
COMMENT ON TABLE ripple_backup.jobs IS 'backup schedules: one cron schedule, time zone and database per job';
COMMENT ON COLUMN ripple_backup.jobs.last_status IS 'outcome of the latest fire: the status of its backup, or why it was skipped';

CREATE TABLE ripple_backup.backups (
	id					bigserial PRIMARY KEY,
	dbname				name NOT NULL,
	backup_type			text NOT NULL DEFAULT 'manual'
						CHECK (backup_type IN ('manual', 'scheduled')),
	label				text,
	status				text NOT NULL DEFAULT 'queued'
						CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'expired')),
	queued_at			timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	started_at			timestamptz,
	finished_at			timestamptz,
	size_bytes			bigint CHECK (size_bytes >= 0),
	sha256				text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	location			text,
	error				text,
	object_key			text,
	compression			text CHECK (compression IN ('zstd', 'gzip', 'none')),
	-- client-side encryption of the stored object (docs/encryption-format.md):
	-- the algorithm name or 'none', and the key's id (never the key)
	encryption			text CHECK (encryption IN ('xchacha20poly1305-secretstream-v1', 'none')),
	key_id				text CHECK (key_id ~ '^[0-9a-f]{16}$'),
	system_identifier	numeric(20, 0),
	duration			interval,
	uncompressed_bytes	bigint,
	requested_by		name,
	pid					integer,
	-- the outcome of the latest verification
	verify_status		text NOT NULL DEFAULT 'unverified'
						CHECK (verify_status IN ('unverified', 'pending', 'verified', 'failed')),
	verify_level		text CHECK (verify_level IN ('checksum', 'archive', 'restore')),
	verified_at			timestamptz,
	restore_seconds		double precision CHECK (restore_seconds >= 0),
	verify_error		text,
	-- the job whose fire made this backup ('scheduled')
	jobid				bigint REFERENCES ripple_backup.jobs (jobid) ON DELETE SET NULL,
	-- the server that took it (src/backend/incarnation.c)
	incarnation			text,
	timeline			integer,
	-- retention (src/backend/retention.c): never deleted when pinned; the row stays when expired
	pinned				boolean NOT NULL DEFAULT false,
	expired_at			timestamptz,
	-- backup-level retries (src/backend/backup_retry.c): the attempt running or
	-- last run (from 1), the errors of the attempts before it, and while queued
	-- for a retry the time before which it is not started
	attempt				integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
	previous_errors		text[],
	retry_at			timestamptz,
	CONSTRAINT backups_error_iff_failed CHECK ((status = 'failed') = (error IS NOT NULL)),
	CONSTRAINT backups_key_id_iff_encrypted CHECK
		((key_id IS NOT NULL) = (encryption IS NOT NULL AND encryption <> 'none')),
	CONSTRAINT backups_succeeded_complete CHECK (status <> 'succeeded'
		OR (size_bytes IS NOT NULL AND sha256 IS NOT NULL AND location IS NOT NULL))
);
CREATE INDEX backups_status_queued_at ON ripple_backup.backups (status, queued_at);
CREATE INDEX backups_dbname_finished_at ON ripple_backup.backups (dbname, finished_at);
CREATE INDEX backups_jobid_status ON ripple_backup.backups (jobid, status) WHERE jobid IS NOT NULL;
COMMENT ON TABLE ripple_backup.backups IS 'one row per backup: queued, running, succeeded, failed, or expired (deleted by retention)';
COMMENT ON COLUMN ripple_backup.backups.location IS 'full URL of the stored object';
COMMENT ON COLUMN ripple_backup.backups.sha256 IS 'SHA-256 (hex) of the stored, compressed bytes';
COMMENT ON COLUMN ripple_backup.backups.verify_status IS 'unverified, pending (verify-after-backup queued, waiting for a worker slot), verified or failed (the latest verification)';
COMMENT ON COLUMN ripple_backup.backups.restore_seconds IS 'wall time of the latest restore drill into a scratch database (the measured RTO)';
COMMENT ON COLUMN ripple_backup.backups.incarnation IS 'incarnation id of the server that took the backup (in its object key)';
COMMENT ON COLUMN ripple_backup.backups.pinned IS 'retention never deletes a pinned backup (ripple_backup_pin)';
COMMENT ON COLUMN ripple_backup.backups.expired_at IS 'when retention deleted the objects (status expired)';

CREATE TABLE ripple_backup.backup_tables (
	backup_id	bigint NOT NULL REFERENCES ripple_backup.backups (id) ON DELETE CASCADE,
	schema_name	name NOT NULL,
	table_name	name NOT NULL,
	row_count	bigint NOT NULL CHECK (row_count >= 0),
	PRIMARY KEY (backup_id, schema_name, table_name)
);
COMMENT ON TABLE ripple_backup.backup_tables IS 'per-table row counts of each succeeded backup, counted in the dump';

SELECT pg_catalog.pg_extension_config_dump('ripple_backup.backups', '');
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.backups_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.backup_tables', '');

-- Physical base backups (src/core/base_backup.c, docs/pitr.md): a row of kind
-- 'physical' covers the whole cluster, so its dbname is NULL; every view and
-- function that speaks of a database's backups matches on dbname and so never
-- counts one as a logical backup of a database.
ALTER TABLE ripple_backup.backups
	ALTER COLUMN dbname DROP NOT NULL,
	ADD COLUMN kind text NOT NULL DEFAULT 'logical' CHECK (kind IN ('logical', 'physical')),
	ADD COLUMN start_lsn pg_lsn,
	ADD COLUMN stop_lsn pg_lsn,
	ADD COLUMN backup_label text,
	ADD CONSTRAINT backups_dbname_iff_logical CHECK ((kind = 'logical') = (dbname IS NOT NULL));
COMMENT ON COLUMN ripple_backup.backups.kind IS 'logical (pg_dump of one database) or physical (pg_basebackup of the cluster; dbname NULL)';
COMMENT ON COLUMN ripple_backup.backups.start_lsn IS 'physical: START WAL LOCATION of its backup_label';
COMMENT ON COLUMN ripple_backup.backups.stop_lsn IS 'physical: the end of the WAL the backup needs (End-LSN of its backup_manifest)';
COMMENT ON COLUMN ripple_backup.backups.backup_label IS 'physical: the text of its backup_label file';
-- The restore drill of a base backup (src/core/base_drill.c) measures more than
-- restore_seconds: its steps, how far the copy replayed, and the checks it ran.
ALTER TABLE ripple_backup.backups ADD COLUMN verify_details jsonb;
COMMENT ON COLUMN ripple_backup.backups.verify_details IS 'physical: the latest restore drill''s steps (unpack_seconds, wal_fetch_seconds, wal_files, replay_seconds), replayed_lsn and replayed_time, and the pg_verifybackup and pg_amcheck outcomes';

-- Queues a physical base backup of the cluster; superusers and roles with the
-- REPLICATION attribute only (checked in C), beside EXECUTE.
CREATE FUNCTION @extschema@.ripple_backup_base_backup(label text DEFAULT NULL)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'ripple_backup_base_backup'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_base_backup(text) IS 'queue a physical base backup of the cluster; returns its id';
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_base_backup(text) FROM PUBLIC;
-- A job of kind 'physical' takes base backups (ripple_backup_schedule(..., kind =>
-- 'physical')); like its backups it has no database.
ALTER TABLE ripple_backup.jobs
	ALTER COLUMN dbname DROP NOT NULL,
	ADD COLUMN kind text NOT NULL DEFAULT 'logical' CHECK (kind IN ('logical', 'physical')),
	ADD CONSTRAINT jobs_dbname_iff_logical CHECK ((kind = 'logical') = (dbname IS NOT NULL));
COMMENT ON COLUMN ripple_backup.jobs.kind IS 'logical (pg_dump of dbname) or physical (base backup of the cluster; dbname NULL)';

-- Queues a backup of a database; the launcher starts it when the transaction commits.
-- With wait => true it waits (up to timeout) for the backup, returns its id when it
-- succeeded and raises an ERROR with the backup's error when it failed, so that a
-- script under ON_ERROR_STOP stops there.
CREATE FUNCTION @extschema@.ripple_backup_now(dbname name DEFAULT pg_catalog.current_database(),
											  label text DEFAULT NULL,
											  wait boolean DEFAULT false,
											  timeout interval DEFAULT '10 minutes')
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'ripple_backup_now'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_now(name, text, boolean, interval) IS 'queue a backup of a database (wait => true: and wait for it, raising its error when it fails); returns its id';

-- Waits until a backup has succeeded or failed and returns which.
CREATE FUNCTION @extschema@.ripple_backup_wait(backup_id bigint,
											   timeout interval DEFAULT '10 minutes')
	RETURNS text
	AS 'MODULE_PATHNAME', 'ripple_backup_wait'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_wait(bigint, interval) IS 'wait for a backup to finish; returns succeeded or failed';

-- Whether the calling role (SET ROLE included, not the owner a SECURITY DEFINER
-- function runs as) may connect to a database or owns it; the second raises 42501
-- when not (for ripple_backup_stats and the job functions; ripple_backup_now()
-- makes the same check in C).
CREATE FUNCTION ripple_backup.caller_may_connect(dbname name) RETURNS boolean
	AS 'MODULE_PATHNAME', 'ripple_backup_caller_may_connect'
	LANGUAGE C STABLE STRICT;
-- (dbname NULL: the whole cluster, a base backup's: superuser or REPLICATION)
CREATE FUNCTION ripple_backup.require_caller_may_connect(dbname name) RETURNS void
	AS 'MODULE_PATHNAME', 'ripple_backup_require_caller_may_connect'
	LANGUAGE C STABLE;

-- Per-table row counts of one backup, with the backup's id and database: of backup_id,
-- else of the latest succeeded backup of dbname, else of the latest succeeded one the
-- calling role may see; only of databases the calling role may connect to or owns.
CREATE TYPE ripple_backup.table_count AS (
	backup_id	bigint,
	dbname		name,
	schema_name	name,
	table_name	name,
	row_count	bigint
);
CREATE FUNCTION @extschema@.ripple_backup_stats(backup_id bigint DEFAULT NULL, dbname name DEFAULT NULL)
	RETURNS SETOF ripple_backup.table_count
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	wanted bigint := backup_id;
	wanted_db name := dbname;
	st text;
	db name;
BEGIN
	IF wanted IS NULL THEN
		IF wanted_db IS NOT NULL THEN
			PERFORM ripple_backup.require_caller_may_connect(wanted_db);
		END IF;
		SELECT b.id, b.dbname INTO wanted, db FROM ripple_backup.backups b
		 WHERE b.status = 'succeeded' AND ripple_backup.caller_may_connect(b.dbname)
		   AND (wanted_db IS NULL OR b.dbname = wanted_db)
		 ORDER BY b.finished_at DESC, b.id DESC LIMIT 1;
		IF wanted IS NULL AND wanted_db IS NOT NULL THEN
			RAISE EXCEPTION 'no backup of database "%" has succeeded yet', wanted_db
				USING ERRCODE = 'no_data_found',
					  HINT = format('Take one with SELECT ripple_backup_now(%L).', wanted_db);
		ELSIF wanted IS NULL THEN
			RAISE EXCEPTION 'no backup has succeeded yet'
				USING ERRCODE = 'no_data_found',
					  DETAIL = 'Only backups of databases the calling role may connect to are considered.',
					  HINT = 'Take one with SELECT ripple_backup_now().';
		END IF;
	ELSE
		SELECT b.status, b.dbname INTO st, db FROM ripple_backup.backups b WHERE b.id = wanted;
		IF st IS NULL THEN
			RAISE EXCEPTION 'backup % does not exist', wanted
				USING ERRCODE = 'undefined_object';
		END IF;
		PERFORM ripple_backup.require_caller_may_connect(db);
		IF wanted_db IS NOT NULL AND wanted_db <> db THEN
			RAISE EXCEPTION 'backup % is not a backup of database "%"', wanted, wanted_db
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = format('It is a backup of database "%s".', db);
		END IF;
		IF st <> 'succeeded' THEN
			RAISE EXCEPTION 'backup % has no row counts', wanted
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = format('Its status is %s; row counts are recorded when a backup succeeds.', st);
		END IF;
	END IF;
	RETURN QUERY
		SELECT t.backup_id, db, t.schema_name, t.table_name, t.row_count
		  FROM ripple_backup.backup_tables t
		 WHERE t.backup_id = wanted
		 ORDER BY t.schema_name, t.table_name;
END
$$;
COMMENT ON FUNCTION @extschema@.ripple_backup_stats(bigint, name) IS 'per-table row counts of a backup, with its id and database (the latest succeeded one, of dbname when given, by default)';

-- The backups running now, from shared memory.
CREATE FUNCTION @extschema@.ripple_backup_progress(
		OUT backup_id bigint, OUT dbname name, OUT pid integer, OUT phase text,
		OUT started_at timestamptz, OUT bytes_read bigint, OUT bytes_stored bigint,
		OUT elapsed interval, OUT rate_bytes_per_second double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'ripple_backup_progress'
	LANGUAGE C VOLATILE;

CREATE VIEW ripple_backup.progress AS
	SELECT * FROM @extschema@.ripple_backup_progress();
COMMENT ON VIEW ripple_backup.progress IS 'running backups: bytes read from pg_dump, bytes stored, elapsed time and rate';

-- The backups for people: newest first, sizes as pg_size_pretty prints them.
CREATE VIEW ripple_backup.summary AS
	SELECT b.id, b.dbname, b.status, b.label,
		   coalesce(b.finished_at, b.started_at, b.queued_at) AS taken_at,
		   date_trunc('second', pg_catalog.now() - coalesce(b.finished_at, b.started_at, b.queued_at)) AS age,
		   b.duration,
		   pg_catalog.pg_size_pretty(b.size_bytes) AS size,
		   pg_catalog.pg_size_pretty(b.uncompressed_bytes) AS archive_size,
		   b.compression,
		   CASE WHEN b.size_bytes > 0 AND b.uncompressed_bytes IS NOT NULL
				THEN round(b.uncompressed_bytes::numeric / b.size_bytes, 2) END AS compression_ratio,
		   b.verify_status, b.verify_level, b.verified_at,
		   (SELECT sum(t.row_count) FROM ripple_backup.backup_tables t WHERE t.backup_id = b.id)::bigint AS rows,
		   b.error
	  FROM ripple_backup.backups b
	 ORDER BY coalesce(b.finished_at, b.started_at, b.queued_at) DESC, b.id DESC;
COMMENT ON VIEW ripple_backup.summary IS 'one row per backup, newest first: human sizes (pg_size_pretty), duration, compression ratio (archive size / stored size), verify status and age';

REVOKE ALL ON FUNCTION @extschema@.ripple_backup_now(name, text, boolean, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_wait(bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_stats(bigint, name) FROM PUBLIC;
-- the running backups' databases and pids: granted like the catalog (README)
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_progress() FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.caller_may_connect(name) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.require_caller_may_connect(name) FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ripple_backup FROM PUBLIC;

-- ==== cron schedules (src/backend/schedule_sql.c) ====================================
-- The first time a cron schedule fires strictly after `after`, read on the wall clock
-- of an IANA time zone.  It only computes, so PUBLIC may call it.
CREATE FUNCTION @extschema@.ripple_backup_next_run(
		schedule text, after timestamptz DEFAULT now(), timezone text DEFAULT 'UTC')
	RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'ripple_backup_next_run'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ripple_backup_next_run(text, timestamptz, text) IS
	'next fire time of a cron schedule after a given time, in a time zone (DST-aware)';

-- ==== verification (src/backend/verifier.c, verify_sql.c, src/core/verify.c) ===========
-- Proves a backup (the latest succeeded one when NULL) in a background worker and
-- waits for it: checksum (SHA-256 and size of the stored object against the catalog
-- and its metadata), archive (also pg_restore --list), restore (also a restore into
-- ripple_backup_verify_<id>_<verifier pid>, row counts compared, then dropped).  The restore and the
-- counting run as the unprivileged role ripple_backup.verify_role (a cluster-wide
-- role, so the verifier creates it on first use rather than this script).
CREATE FUNCTION @extschema@.ripple_backup_verify(backup_id bigint DEFAULT NULL,
												 level text DEFAULT 'checksum',
												 timeout interval DEFAULT '1 hour',
												 force boolean DEFAULT false)
	RETURNS text
	AS 'MODULE_PATHNAME', 'ripple_backup_verify'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_verify(bigint, text, interval, boolean) IS
	'verify a backup at checksum, archive or restore level; returns verified or failed';
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_verify(bigint, text, interval, boolean) FROM PUBLIC;

-- ==== scheduled jobs (src/backend/jobs_sql.c, scheduler.c) ==============================
-- Backups on cron schedules, kept in SQL as pg_cron users are used to.  The launcher
-- fires each due active job once per fire time (ripple_backup.run_due_jobs) and sleeps
-- until the earliest next_run; the functions below wake it when the jobs change.

-- Every fire of a job: the backup it started, or why it was skipped.
CREATE TABLE ripple_backup.job_runs (
	id				bigserial PRIMARY KEY,
	jobid			bigint NOT NULL REFERENCES ripple_backup.jobs (jobid) ON DELETE CASCADE,
	scheduled_for	timestamptz NOT NULL,
	outcome			text NOT NULL CHECK (outcome IN ('started', 'skipped', 'error')),
	backup_id		bigint REFERENCES ripple_backup.backups (id) ON DELETE SET NULL,
	detail			text,
	recorded_at		timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
CREATE INDEX job_runs_jobid_scheduled_for ON ripple_backup.job_runs (jobid, scheduled_for);
CREATE INDEX job_runs_recorded_at ON ripple_backup.job_runs (recorded_at);
COMMENT ON TABLE ripple_backup.job_runs IS 'each fire of a job: started (with its backup) or skipped (with the reason)';

-- The nightly job is made by CREATE EXTENSION itself: a restore must not insert it twice.
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.jobs', 'WHERE job_name <> ''nightly''');
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.jobs_jobid_seq', '');
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.job_runs', '');
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.job_runs_id_seq', '');

-- A job's last_status follows the status of the backup of its latest fire.
CREATE FUNCTION ripple_backup.job_backup_status() RETURNS trigger
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE ripple_backup.jobs j SET last_status = NEW.status
	 WHERE j.jobid = NEW.jobid AND j.last_backup_id = NEW.id;
	RETURN NULL;
END
$$;
CREATE TRIGGER backups_job_status AFTER UPDATE OF status ON ripple_backup.backups
	FOR EACH ROW WHEN (NEW.jobid IS NOT NULL AND NEW.status IS DISTINCT FROM OLD.status)
	EXECUTE FUNCTION ripple_backup.job_backup_status();

-- Sets the launcher's latch when the calling transaction commits.
CREATE FUNCTION ripple_backup.wake_launcher_at_commit() RETURNS void
	AS 'MODULE_PATHNAME', 'ripple_backup_wake_launcher_at_commit'
	LANGUAGE C VOLATILE;

-- Checks a job's settings (22023 for a bad schedule or zone, 3D000 for an unknown
-- database, 42501 for a database the calling role may not connect to) and returns
-- its next fire time after now.
CREATE FUNCTION ripple_backup.job_next_run(schedule text, timezone text, dbname name)
	RETURNS timestamptz
	LANGUAGE plpgsql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- dbname NULL: a physical job (the caller must be allowed base backups)
	IF schedule IS NULL OR timezone IS NULL THEN
		RAISE EXCEPTION 'the schedule, time zone and database of a job must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF dbname IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database d WHERE d.datname = dbname) THEN
		RAISE EXCEPTION 'database "%" does not exist', dbname
			USING ERRCODE = 'invalid_catalog_name',
				  HINT = 'A job backs up an existing database of this server.';
	END IF;
	PERFORM ripple_backup.require_caller_may_connect(dbname);
	RETURN @extschema@.ripple_backup_next_run(schedule, pg_catalog.now(), timezone);
END
$$;

-- Creates a job, or updates the job of that name; returns its id.
CREATE FUNCTION @extschema@.ripple_backup_schedule(job_name text, schedule text,
		dbname name DEFAULT pg_catalog.current_database(), timezone text DEFAULT 'UTC',
		kind text DEFAULT 'logical')
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	next timestamptz;
	id bigint;
	old_db name;
BEGIN
	IF job_name IS NULL THEN
		RAISE EXCEPTION 'job name must not be null' USING ERRCODE = 'null_value_not_allowed';
	ELSIF job_name = '' THEN
		RAISE EXCEPTION 'job name must not be empty' USING ERRCODE = 'invalid_parameter_value';
	ELSIF octet_length(job_name) > 63 THEN
		-- like an identifier; the name is also the label of the job's backups
		RAISE EXCEPTION 'job name is too long' USING ERRCODE = 'invalid_parameter_value',
			DETAIL = format('A job name has at most 63 bytes; this one has %s.', octet_length(job_name));
	END IF;
	IF kind IS NULL OR kind NOT IN ('logical', 'physical') THEN
		RAISE EXCEPTION 'invalid backup kind "%"', kind USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use logical (pg_dump of a database) or physical (base backup of the cluster).';
	ELSIF kind = 'logical' AND dbname IS NULL THEN
		RAISE EXCEPTION 'the schedule, time zone and database of a job must not be null'
			USING ERRCODE = 'null_value_not_allowed';
	ELSIF kind = 'physical' THEN
		dbname := NULL;			-- a base backup covers the cluster
	END IF;
	next := ripple_backup.job_next_run(schedule, timezone, dbname);
	-- replacing a job is acting on the database it backed up, too
	SELECT x.dbname INTO old_db FROM ripple_backup.jobs x
	 WHERE x.job_name = ripple_backup_schedule.job_name;
	IF FOUND THEN
		PERFORM ripple_backup.require_caller_may_connect(old_db);
	END IF;
	INSERT INTO ripple_backup.jobs AS j (job_name, schedule, timezone, dbname, next_run, kind)
		VALUES (job_name, schedule, timezone, dbname, next, kind)
		ON CONFLICT ON CONSTRAINT jobs_job_name_key DO UPDATE
		SET schedule = EXCLUDED.schedule, timezone = EXCLUDED.timezone,
			dbname = EXCLUDED.dbname, next_run = EXCLUDED.next_run, kind = EXCLUDED.kind
		RETURNING j.jobid INTO id;
	PERFORM ripple_backup.wake_launcher_at_commit();
	RETURN id;
END
$$;
COMMENT ON FUNCTION @extschema@.ripple_backup_schedule(text, text, name, text, text) IS
	'create a backup job on a cron schedule, or update the job of that name; returns its id';

-- Drops a job; false when there is none of that name.
CREATE FUNCTION @extschema@.ripple_backup_unschedule(job_name text)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	db name;
BEGIN
	DELETE FROM ripple_backup.jobs j WHERE j.job_name = ripple_backup_unschedule.job_name
		RETURNING j.dbname INTO db;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	PERFORM ripple_backup.require_caller_may_connect(db);	-- an error undoes the delete
	PERFORM ripple_backup.wake_launcher_at_commit();
	RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.ripple_backup_unschedule(text) IS 'drop a backup job; false when none has that name';

-- Changes the given settings of a job (NULL keeps one) and recomputes its next_run.
CREATE FUNCTION @extschema@.ripple_backup_alter_job(job_name text, schedule text DEFAULT NULL,
		timezone text DEFAULT NULL, active boolean DEFAULT NULL, dbname name DEFAULT NULL,
		heartbeat_url text DEFAULT NULL)
	RETURNS void
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j ripple_backup.jobs;
BEGIN
	SELECT * INTO j FROM ripple_backup.jobs x
	 WHERE x.job_name = ripple_backup_alter_job.job_name FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'job "%" does not exist', ripple_backup_alter_job.job_name
			USING ERRCODE = 'undefined_object',
				  HINT = 'The jobs are listed in ripple_backup.jobs.';
	END IF;
	PERFORM ripple_backup.require_caller_may_connect(j.dbname);
	j.schedule := coalesce(ripple_backup_alter_job.schedule, j.schedule);
	j.timezone := coalesce(ripple_backup_alter_job.timezone, j.timezone);
	j.dbname := coalesce(ripple_backup_alter_job.dbname, j.dbname);
	j.active := coalesce(ripple_backup_alter_job.active, j.active);
	-- the job's own heartbeat check ('' = back to ripple_backup.heartbeat_url); the
	-- URL is never repeated in an error: its path is the check's token
	IF ripple_backup_alter_job.heartbeat_url = '' THEN
		j.heartbeat_url := NULL;
	ELSIF ripple_backup_alter_job.heartbeat_url IS NOT NULL THEN
		IF ripple_backup_alter_job.heartbeat_url !~ '^https?://[^/?#@[:space:]]+([/?#][^[:space:]]*)?$' THEN
			RAISE EXCEPTION 'invalid heartbeat URL'
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = 'A heartbeat URL is http://host/path or https://host/path, without spaces or a user name.';
		END IF;
		j.heartbeat_url := ripple_backup_alter_job.heartbeat_url;
	END IF;
	UPDATE ripple_backup.jobs x
	   SET schedule = j.schedule, timezone = j.timezone, dbname = j.dbname, active = j.active,
		   heartbeat_url = j.heartbeat_url,
		   next_run = ripple_backup.job_next_run(j.schedule, j.timezone, j.dbname)
	 WHERE x.jobid = j.jobid;
	PERFORM ripple_backup.wake_launcher_at_commit();
END
$$;
COMMENT ON FUNCTION @extschema@.ripple_backup_alter_job(text, text, text, boolean, name, text) IS
	'change the schedule, time zone, database, activity or heartbeat URL of a backup job';

-- Called by the launcher: fires every active job due at `now` (a queued 'scheduled'
-- backup, or a skip when its previous backup is still queued or running) and moves
-- its next_run past `now`, so a fire missed during downtime runs once.  Jobs due
-- before `missed_before` are only moved, not fired (ripple_backup.catch_up = off).
-- Returns the number of backups queued.
CREATE FUNCTION ripple_backup.run_due_jobs(now timestamptz, missed_before timestamptz)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j ripple_backup.jobs;
	bid bigint;
	queued integer := 0;
	msg text;
BEGIN
	FOR j IN SELECT * FROM ripple_backup.jobs x
			  WHERE x.active AND x.next_run <= run_due_jobs.now
			  ORDER BY x.next_run, x.jobid FOR UPDATE SKIP LOCKED
	LOOP
		BEGIN
			IF missed_before IS NOT NULL AND j.next_run < missed_before THEN
				INSERT INTO ripple_backup.job_runs (jobid, scheduled_for, outcome, detail)
					VALUES (j.jobid, j.next_run, 'skipped',
							'skipped: missed while the server was down (ripple_backup.catch_up is off)');
				UPDATE ripple_backup.jobs x
				   SET next_run = @extschema@.ripple_backup_next_run(j.schedule, run_due_jobs.now, j.timezone),
					   last_run = j.next_run, last_backup_id = NULL,
					   last_status = 'skipped: missed while the server was down (ripple_backup.catch_up is off)'
				 WHERE x.jobid = j.jobid;
			ELSIF EXISTS (SELECT 1 FROM ripple_backup.backups b
						   WHERE b.jobid = j.jobid AND b.status IN ('queued', 'running')) THEN
				INSERT INTO ripple_backup.job_runs (jobid, scheduled_for, outcome, detail)
					VALUES (j.jobid, j.next_run, 'skipped', 'skipped: previous run still running');
				UPDATE ripple_backup.jobs x
				   SET next_run = @extschema@.ripple_backup_next_run(j.schedule, run_due_jobs.now, j.timezone),
					   last_run = j.next_run, last_status = 'skipped: previous run still running',
					   last_backup_id = NULL
				 WHERE x.jobid = j.jobid;
				RAISE LOG 'ripple_backup: job "%" skipped its fire of %: previous run still running',
					j.job_name, j.next_run;
			ELSE
				INSERT INTO ripple_backup.backups (dbname, kind, backup_type, label, jobid, requested_by)
					VALUES (j.dbname, j.kind, 'scheduled', j.job_name, j.jobid, 'job ' || j.job_name)
					RETURNING id INTO bid;
				INSERT INTO ripple_backup.job_runs (jobid, scheduled_for, outcome, backup_id)
					VALUES (j.jobid, j.next_run, 'started', bid);
				UPDATE ripple_backup.jobs x
				   SET next_run = @extschema@.ripple_backup_next_run(j.schedule, run_due_jobs.now, j.timezone),
					   last_run = j.next_run, last_status = 'queued', last_backup_id = bid
				 WHERE x.jobid = j.jobid;
				queued := queued + 1;
			END IF;
		EXCEPTION WHEN OTHERS THEN
			-- a job that cannot fire (its zone file gone, say) must not stop the others
			GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
			INSERT INTO ripple_backup.job_runs (jobid, scheduled_for, outcome, detail)
				VALUES (j.jobid, j.next_run, 'error', msg);
			UPDATE ripple_backup.jobs x SET active = false, last_status = 'error: ' || msg
			 WHERE x.jobid = j.jobid;
			RAISE LOG 'ripple_backup: job "%" was deactivated: %', j.job_name, msg;
		END;
	END LOOP;
	RETURN queued;
END
$$;

-- Called by the launcher about once an hour: forgets fires, failed backups and notifications older
-- than `days` days (never the rows of backups that succeeded).
CREATE FUNCTION ripple_backup.prune_history(days integer)
	RETURNS bigint
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cutoff timestamptz := pg_catalog.now() - pg_catalog.make_interval(days => days);
	n bigint;
	m bigint;
BEGIN
	DELETE FROM ripple_backup.job_runs r WHERE r.recorded_at < cutoff;
	GET DIAGNOSTICS n = ROW_COUNT;
	DELETE FROM ripple_backup.backups b
	 WHERE b.status = 'failed' AND coalesce(b.finished_at, b.queued_at) < cutoff;
	GET DIAGNOSTICS m = ROW_COUNT;
	n := n + m;
	DELETE FROM ripple_backup.notifications x WHERE coalesce(x.sent_at, x.queued_at) < cutoff;
	GET DIAGNOSTICS m = ROW_COUNT;
	RETURN n + m;
END
$$;

REVOKE ALL ON FUNCTION @extschema@.ripple_backup_schedule(text, text, name, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_unschedule(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_alter_job(text, text, text, boolean, name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.job_backup_status() FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.wake_launcher_at_commit() FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.job_next_run(text, text, name) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.run_due_jobs(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.prune_history(integer) FROM PUBLIC;
REVOKE ALL ON ripple_backup.jobs, ripple_backup.job_runs FROM PUBLIC;

-- The product's default: a nightly backup of the catalog database at 02:00 UTC.
SELECT @extschema@.ripple_backup_schedule('nightly', '0 2 * * *', pg_catalog.current_database(), 'UTC');

-- ==== server incarnation (src/backend/incarnation.c) ======================================
-- Servers that share a system identifier (a promoted standby and its old primary, clones
-- of one base backup) keep apart by the incarnation in every object key:
-- <prefix>/<system identifier>/<incarnation>/<dbname>/<second>-<id>.dump.zst.  The launcher
-- draws a random id the first time it runs as a primary on a timeline (so a promoted
-- standby draws its own) and is the only writer of this one-row table.  Not dumped: a
-- logical restore elsewhere is another server and draws its own.
CREATE TABLE ripple_backup.incarnation (
	singleton				boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	incarnation_id			text NOT NULL CHECK (incarnation_id ~ '^[0-9a-f]{16}$'),
	timeline				integer NOT NULL CHECK (timeline > 0),
	system_identifier		numeric(20, 0) NOT NULL,
	previous_incarnation_id	text,
	began_at				timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE ripple_backup.incarnation IS
	'the incarnation id this server''s backups carry (drawn for each timeline the server runs on as a primary)';

REVOKE ALL ON ripple_backup.incarnation FROM PUBLIC;

-- ==== multipart uploads left behind (src/backend/launcher.c, runner.c) ====================
-- A failed backup aborts its multipart upload; when the abort fails too (the server
-- cannot be reached, the circuit breaker is open, or the server refuses it: s3rver
-- answers 405), the parts stay in the bucket without listing as an object.  The
-- launcher records each such upload here so that a later sweep can abort it.
CREATE TABLE ripple_backup.pending_aborts (
	bucket			text NOT NULL,
	object_key		text NOT NULL,
	upload_id		text NOT NULL,
	backup_id		bigint,
	reason			text NOT NULL,
	recorded_at		timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	PRIMARY KEY (bucket, object_key, upload_id)
);
COMMENT ON TABLE ripple_backup.pending_aborts IS
	'multipart uploads of failed backups that could not be aborted: their parts remain until aborted';
COMMENT ON COLUMN ripple_backup.pending_aborts.object_key IS 'key in the bucket (with the destination prefix)';
COMMENT ON COLUMN ripple_backup.pending_aborts.reason IS 'why the abort failed';
REVOKE ALL ON ripple_backup.pending_aborts FROM PUBLIC;

-- ==== retention (src/backend/retention.c, retention_sql.c, src/core/retention_policy.c) ===
-- Retention deletes the objects of old backups; their rows stay, marked 'expired', so
-- history and charts keep them.  A pinned backup is never deleted.

-- Applies retention now to this server's own backups; with dry_run only says what it
-- would delete and why it keeps the others.  Rows of orphaned objects have no
-- backup_id (the reason names the key).
CREATE FUNCTION @extschema@.ripple_backup_prune(dry_run boolean DEFAULT false)
	RETURNS TABLE (backup_id bigint, dbname name, finished_at timestamptz, action text, reason text)
	AS 'MODULE_PATHNAME', 'ripple_backup_prune'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_prune(boolean) IS
	'apply retention now (or, with dry_run, show what it would delete and why it keeps the rest)';

-- Pins (or unpins) a succeeded backup: retention never deletes it.  Also stores a pin
-- marker object "<dump key>.pinned" beside it, from which ripple-backup prune learns it.
CREATE FUNCTION @extschema@.ripple_backup_pin(backup_id bigint, pinned boolean DEFAULT true)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'ripple_backup_pin'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_pin(bigint, boolean) IS
	'pin a backup so that retention keeps it (pinned => false unpins)';
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_prune(boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_pin(bigint, boolean) FROM PUBLIC;

-- ==== notifications, health and metrics (src/backend/notify_*.c, notifier.c, rpo_check.c) ====
-- Every notification, one row per channel: queued as 'pending' in the transaction that
-- records its event, then sent by the notifier worker (never by a backup) and marked
-- 'sent' or 'failed' with the error.  No URL, address or secret is stored here.
-- Heartbeat rows carry backup.started (the /start signal), backup.succeeded or
-- backup.failed.  Pruned with ripple_backup.history_days.
CREATE TABLE ripple_backup.notifications (
	id			bigserial PRIMARY KEY,
	backup_id	bigint REFERENCES ripple_backup.backups (id) ON DELETE SET NULL,
	dbname		name,
	channel		text NOT NULL CHECK (channel IN ('email', 'webhook', 'heartbeat')),
	event		text NOT NULL,
	queued_at	timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	sent_at		timestamptz,
	status		text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
	error		text,
	CONSTRAINT notifications_error_iff_failed CHECK ((status = 'failed') = (error IS NOT NULL))
);
CREATE INDEX notifications_pending ON ripple_backup.notifications (id) WHERE status = 'pending';
CREATE INDEX notifications_backup_id ON ripple_backup.notifications (backup_id);
COMMENT ON TABLE ripple_backup.notifications IS
	'each notification on each channel (email, webhook, heartbeat): pending, sent or failed with the error';
COMMENT ON COLUMN ripple_backup.notifications.sent_at IS 'when the delivery ended (after its retries)';
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.notifications', '');
SELECT pg_catalog.pg_extension_config_dump('ripple_backup.notifications_id_seq', '');

-- Databases whose recovery point objective is breached now, since when: the launcher
-- notifies rpo.breached when a row appears and rpo.recovered when it goes.
CREATE TABLE ripple_backup.rpo_breaches (
	dbname		name PRIMARY KEY,
	breached_at	timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE ripple_backup.rpo_breaches IS 'databases whose last successful backup is older than ripple_backup.rpo_target';

-- The RPO of every database that has an active job or a backup: the last success, its
-- age, and whether it is older than the target.  A database with no success yet is
-- breached once the target has passed since it got its first job or backup.
CREATE FUNCTION ripple_backup.rpo_state(target interval)
	RETURNS TABLE (dbname name, last_success timestamptz, rpo interval, expected_since timestamptz,
				   breached boolean)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
	WITH since AS (
		SELECT j.dbname, min(j.created_at) AS at FROM ripple_backup.jobs j
		 WHERE j.active AND j.dbname IS NOT NULL GROUP BY j.dbname
		UNION ALL
		SELECT b.dbname, min(b.queued_at) FROM ripple_backup.backups b
		 WHERE b.dbname IS NOT NULL GROUP BY b.dbname
	), d AS (
		SELECT since.dbname, min(since.at) AS at FROM since GROUP BY since.dbname
	)
	SELECT d.dbname, s.last_success, now() - s.last_success, d.at,
		   coalesce(s.last_success, d.at) < now() - target
	  FROM d
	  LEFT JOIN LATERAL (SELECT max(b.finished_at) AS last_success FROM ripple_backup.backups b
						  WHERE b.dbname = d.dbname AND b.status = 'succeeded') s ON true
$$;

-- Called by the launcher (about every minute): brings rpo_breaches up to date and
-- returns the databases whose state changed (breached true: newly breached; false:
-- recovered), each exactly once.
CREATE FUNCTION ripple_backup.rpo_transitions(target interval)
	RETURNS TABLE (dbname name, breached boolean)
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
	WITH s AS (
		SELECT * FROM ripple_backup.rpo_state(target)
	), ins AS (
		INSERT INTO ripple_backup.rpo_breaches AS r (dbname)
			SELECT s.dbname FROM s WHERE s.breached
			ON CONFLICT ON CONSTRAINT rpo_breaches_pkey DO NOTHING
			RETURNING r.dbname
	), del AS (
		DELETE FROM ripple_backup.rpo_breaches r
		 WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.dbname = r.dbname AND s.breached)
		RETURNING r.dbname
	)
	SELECT ins.dbname, true FROM ins
	UNION ALL
	SELECT del.dbname, false FROM del
$$;

-- A setting of this extension in seconds, as an interval (rpo_target, rto_target).
CREATE FUNCTION ripple_backup.setting_interval(name text)
	RETURNS interval
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT make_interval(secs => s.setting::double precision)
	  FROM pg_catalog.pg_settings s WHERE s.name = 'ripple_backup.' || setting_interval.name
$$;

-- Whether the destination answers now (one listing of an unused prefix, 5 s at most).
CREATE FUNCTION ripple_backup.destination_probe(OUT destination text, OUT reachable boolean,
												OUT seconds double precision, OUT error text)
	AS 'MODULE_PATHNAME', 'ripple_backup_destination_probe'
	LANGUAGE C VOLATILE;

-- The S3 circuit breaker of each endpoint, shared by every process of the server
-- (shared memory, breaker_shmem.c): one row per endpoint talked to since the start.
CREATE FUNCTION ripple_backup.destinations_state(OUT endpoint text, OUT state text,
												 OUT consecutive_failures integer,
												 OUT opened_at timestamptz, OUT next_trial timestamptz,
												 OUT last_failure timestamptz, OUT last_error text,
												 OUT last_success timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'ripple_backup_destinations'
	LANGUAGE C VOLATILE;
CREATE VIEW ripple_backup.destinations AS
	SELECT * FROM ripple_backup.destinations_state();
COMMENT ON VIEW ripple_backup.destinations IS
	'S3 endpoints and their shared circuit breaker: closed, open or half-open, failures, last error';

-- The WAL archive's health facts, measured by the server (src/backend/wal_health.c):
-- whether ripple_backup archives now (else why not), the WAL files waiting (.ready)
-- and the bytes kept for the archiver (their files and the current segment), the end
-- of the newest segment archived and the insert position, since when WAL has been
-- waiting (unarchived_since: NULL when nothing is; how it is bounded: docs/pitr.md),
-- the failure streak, and the free space and size of the file system of pg_wal.
CREATE FUNCTION ripple_backup.wal_archive_health(
		OUT enabled boolean, OUT not_archiving text, OUT pending_count bigint,
		OUT pending_bytes bigint, OUT oldest_pending_wal text, OUT archived_upto pg_lsn,
		OUT insert_lsn pg_lsn, OUT unarchived_since timestamptz, OUT last_archived_wal text,
		OUT last_archived_time timestamptz, OUT consecutive_failures bigint,
		OUT failing_since timestamptz, OUT last_error text,
		OUT pg_wal_free_bytes bigint, OUT pg_wal_size_bytes bigint)
	RETURNS record
	AS 'MODULE_PATHNAME', 'ripple_backup_wal_archive_health'
	LANGUAGE C VOLATILE;

-- The rule of the "wal archive" row of ripple_backup_health(): the facts with the
-- exposure (how long the oldest WAL not yet archived has waited: the data a loss of
-- the server would lose now), the target and the problems found, critical and warning.
--   critical: exposure > wal_rpo_target; free space < the WAL waiting (the outage so
--             far, once more, fills the file system); free < pg_wal_min_free percent
--   warning:  exposure > half of wal_rpo_target; the archiver failing now; free space
--             < 4 times the WAL waiting; free < twice pg_wal_min_free percent
CREATE FUNCTION ripple_backup.wal_archive_verdict()
	RETURNS TABLE (enabled boolean, not_archiving text, pending_count bigint, pending_bytes bigint,
				   last_archived_wal text, last_archived_time timestamptz,
				   consecutive_failures bigint, pg_wal_free_bytes bigint, pg_wal_size_bytes bigint,
				   exposure interval, target interval, critical text[], warning text[], status text)
	LANGUAGE sql VOLATILE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT v.*, CASE WHEN NOT v.enabled THEN 'ok'
					 WHEN cardinality(v.critical) > 0 THEN 'critical'
					 WHEN cardinality(v.warning) > 0 THEN 'warning' ELSE 'ok' END
	  FROM (
	WITH h AS (
		SELECT h.*,
			   CASE WHEN h.unarchived_since IS NULL THEN interval '0'
					ELSE greatest(now() - h.unarchived_since, interval '0') END AS exposure,
			   ripple_backup.setting_interval('wal_rpo_target') AS target,
			   current_setting('ripple_backup.pg_wal_min_free')::float8 AS min_free,
			   100.0 * h.pg_wal_free_bytes / nullif(h.pg_wal_size_bytes, 0) AS free_pct
		  FROM ripple_backup.wal_archive_health() h
	)
	SELECT h.enabled, h.not_archiving, h.pending_count, h.pending_bytes, h.last_archived_wal,
		   h.last_archived_time, h.consecutive_failures, h.pg_wal_free_bytes, h.pg_wal_size_bytes,
		   h.exposure, h.target,
		   array_remove(ARRAY[
			   CASE WHEN h.exposure > h.target THEN
				   format('RPO breached: WAL written %s ago is not archived yet, the target is %s',
						  date_trunc('second', h.exposure), h.target) END,
			   CASE WHEN h.pg_wal_free_bytes < h.pending_bytes THEN
				   format('pg_wal is filling up: %s free, less than the %s of WAL waiting for the archiver',
						  pg_size_pretty(h.pg_wal_free_bytes), pg_size_pretty(h.pending_bytes)) END,
			   CASE WHEN h.free_pct < h.min_free THEN
				   format('the file system of pg_wal has %s free (%s%%), less than pg_wal_min_free (%s%%)',
						  pg_size_pretty(h.pg_wal_free_bytes), round(h.free_pct, 1), h.min_free) END
		   ], NULL) AS critical,
		   array_remove(ARRAY[
			   CASE WHEN h.exposure > h.target / 2 AND h.exposure <= h.target THEN
				   format('WAL written %s ago is not archived yet, more than half the target %s',
						  date_trunc('second', h.exposure), h.target) END,
			   CASE WHEN h.consecutive_failures > 0 THEN
				   format('archiving has failed %s time(s) in a row since %s: %s', h.consecutive_failures,
						  date_trunc('second', h.failing_since), coalesce(h.last_error, 'no error recorded')) END,
			   CASE WHEN h.pg_wal_free_bytes >= h.pending_bytes AND h.pg_wal_free_bytes < 4 * h.pending_bytes THEN
				   format('pg_wal: %s free, less than 4 times the %s of WAL waiting for the archiver',
						  pg_size_pretty(h.pg_wal_free_bytes), pg_size_pretty(h.pending_bytes)) END,
			   CASE WHEN h.free_pct >= h.min_free AND h.free_pct < 2 * h.min_free THEN
				   format('the file system of pg_wal has %s free (%s%%), less than twice pg_wal_min_free (%s%%)',
						  pg_size_pretty(h.pg_wal_free_bytes), round(h.free_pct, 1), h.min_free) END
		   ], NULL) AS warning
	  FROM h) v
$$;

-- One row per database that has an active job or a backup: ok, warning or critical,
-- and why in words (only databases the calling role may connect to), then one row for
-- the destination (dbname NULL): ok when it answers, critical when not, and one for
-- the WAL archive (dbname NULL): the WAL not yet archived against wal_rpo_target and
-- the free space of pg_wal's file system (docs/pitr.md, "Health of the WAL archive").
-- component says which: 'database', 'destination' or 'wal archive'.
CREATE FUNCTION @extschema@.ripple_backup_health()
	RETURNS TABLE (dbname name, status text, last_success timestamptz, last_verified timestamptz,
				   rpo interval, rpo_target interval, last_restore_seconds double precision,
				   rto_target interval, failures_since_success integer,
				   next_scheduled timestamptz, detail text, component text)
	LANGUAGE sql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
	WITH t AS (
		SELECT ripple_backup.setting_interval('rpo_target') AS rpo_t,
			   ripple_backup.setting_interval('rto_target') AS rto_t
	), f AS (
		SELECT s.*, t.rpo_t, t.rto_t,
			   (SELECT max(b.verified_at) FROM ripple_backup.backups b
				 WHERE b.dbname = s.dbname AND b.verify_status = 'verified') AS last_verified,
			   (SELECT b.verify_status FROM ripple_backup.backups b
				 WHERE b.dbname = s.dbname AND b.status = 'succeeded'
				 ORDER BY b.finished_at DESC, b.id DESC LIMIT 1) AS latest_verify,
			   (SELECT min(b.finished_at) FROM ripple_backup.backups b
				 WHERE b.dbname = s.dbname AND b.status = 'succeeded') AS first_success,
			   dr.verified_at AS drill_at, dr.verify_status AS drill_status,
			   dr.verify_level AS drill_level, dr.restore_seconds AS drill_seconds,
			   dr.verify_error AS drill_error,
			   (SELECT count(*) FROM ripple_backup.backups b
				 WHERE b.dbname = s.dbname AND b.status = 'failed'
				   AND coalesce(b.finished_at, b.queued_at) > coalesce(s.last_success, '-infinity'))::integer
				 AS failures,
			   (SELECT min(j.next_run) FROM ripple_backup.jobs j
				 WHERE j.dbname = s.dbname AND j.active) AS next_run
		  FROM t, ripple_backup.rpo_state(t.rpo_t) s
		  LEFT JOIN LATERAL (
				SELECT b.verified_at, b.verify_status, b.verify_level, b.restore_seconds, b.verify_error
				  FROM ripple_backup.backups b
				 WHERE b.dbname = s.dbname AND (b.verify_level = 'restore' OR b.restore_seconds IS NOT NULL)
				 ORDER BY b.verified_at DESC NULLS LAST LIMIT 1) dr ON true
		 WHERE ripple_backup.caller_may_connect(s.dbname)
	), r AS (
		SELECT f.*,
			   array_remove(ARRAY[
				   CASE WHEN f.breached AND f.last_success IS NOT NULL THEN
					   format('RPO breached: the last successful backup is %s old, the target is %s',
							  date_trunc('second', f.rpo), f.rpo_t) END,
				   CASE WHEN f.breached AND f.last_success IS NULL THEN
					   format('RPO breached: no backup has succeeded since %s, the target is %s',
							  date_trunc('second', f.expected_since), f.rpo_t) END,
				   CASE WHEN f.latest_verify = 'failed' THEN
					   'the latest backup failed its verification' END,
				   CASE WHEN f.drill_level = 'restore' AND f.drill_status = 'failed' THEN
					   'the last restore drill failed: ' || coalesce(f.drill_error, 'no reason recorded') END,
				   CASE WHEN f.drill_seconds > extract(epoch FROM f.rto_t) THEN
					   format('the last restore took %s s, longer than the RTO target %s',
							  round(f.drill_seconds::numeric, 1), f.rto_t) END
			   ], NULL) AS critical,
			   array_remove(ARRAY[
				   CASE WHEN NOT f.breached AND f.last_success IS NULL THEN
					   'no backup has succeeded yet' END,
				   CASE WHEN f.latest_verify IN ('unverified', 'pending') THEN
					   format('the latest backup is %s', CASE f.latest_verify WHEN 'pending'
							  THEN 'waiting for its verification' ELSE 'not verified' END) END,
				   CASE WHEN f.failures > 0 THEN
					   format('%s failed backup(s) since the last success', f.failures) END,
				   CASE WHEN f.drill_at < now() - interval '45 days' THEN
					   'the last restore drill is older than 45 days' END,
				   CASE WHEN f.drill_at IS NULL AND f.first_success < now() - interval '45 days' THEN
					   'no restore drill in 45 days' END
			   ], NULL) AS warning
		  FROM f
	)
	SELECT r.dbname,
		   CASE WHEN cardinality(r.critical) > 0 THEN 'critical'
				WHEN cardinality(r.warning) > 0 THEN 'warning' ELSE 'ok' END,
		   r.last_success, r.last_verified, r.rpo, r.rpo_t, r.drill_seconds, r.rto_t,
		   r.failures, r.next_run,
		   CASE WHEN cardinality(r.critical || r.warning) > 0
				THEN array_to_string(r.critical || r.warning, '; ')
				ELSE 'backed up, verified and within the recovery objectives' END,
		   'database'
	  FROM r
	UNION ALL
	SELECT NULL,
		   CASE WHEN NOT p.reachable OR d.state = 'open' THEN 'critical'
				WHEN d.state = 'half-open' THEN 'warning' ELSE 'ok' END,
		   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
		   CASE WHEN p.reachable
				THEN format('destination %s is reachable (listed in %s s)', p.destination,
							round(p.seconds::numeric, 3))
				ELSE format('destination %s cannot be reached: %s', p.destination, p.error) END
		   || CASE WHEN d.endpoint IS NULL THEN ''
				   ELSE format('; circuit breaker of %s %s', d.endpoint,
							   CASE d.state WHEN 'closed' THEN 'closed'
									ELSE format('%s after %s consecutive failures (next trial %s): %s',
												d.state, d.consecutive_failures,
												date_trunc('second', d.next_trial),
												coalesce(d.last_error, 'no error recorded')) END) END,
		   'destination'
	  FROM ripple_backup.destination_probe() p
	  LEFT JOIN LATERAL (
			-- the breakers that are not closed first, then the one used last
			SELECT * FROM ripple_backup.destinations_state() s
			 ORDER BY s.state = 'closed', greatest(s.last_failure, s.last_success) DESC NULLS LAST
			 LIMIT 1) d ON p.destination LIKE 's3://%'
	UNION ALL
	SELECT NULL, w.status, w.last_archived_time, NULL,
		   CASE WHEN w.enabled THEN w.exposure END, CASE WHEN w.enabled THEN w.target END,
		   NULL, NULL, w.consecutive_failures::integer, NULL,
		   CASE WHEN NOT w.enabled THEN 'not archiving: ' || w.not_archiving
				ELSE array_to_string(w.critical || w.warning
					 || format('WAL archived up to %s%s; %s file(s), %s of WAL waiting for the archiver; %s free of %s on the file system of pg_wal',
							   coalesce(w.last_archived_wal, 'nothing yet'),
							   CASE WHEN w.last_archived_time IS NOT NULL
									THEN format(' (%s ago)', date_trunc('second', now() - w.last_archived_time)) ELSE '' END,
							   w.pending_count, pg_size_pretty(w.pending_bytes),
							   coalesce(pg_size_pretty(w.pg_wal_free_bytes), 'unknown'),
							   coalesce(pg_size_pretty(w.pg_wal_size_bytes), 'unknown')), '; ') END,
		   'wal archive'
	  FROM ripple_backup.wal_archive_verdict() w
	 ORDER BY 1 NULLS LAST, 12
$$;
COMMENT ON FUNCTION @extschema@.ripple_backup_health() IS
	'per database, the destination and the WAL archive: ok, warning or critical against the recovery objectives, and why';

-- A label value escaped as the Prometheus exposition format asks (\, " and newline).
CREATE FUNCTION ripple_backup.prom_label(v text)
	RETURNS text
	LANGUAGE sql IMMUTABLE STRICT
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT replace(replace(replace(v, '\', '\\'), '"', '\"'), E'\n', '\n')
$$;

-- Prometheus text exposition (format 0.0.4) of the catalog's numbers, per database.
CREATE FUNCTION @extschema@.ripple_backup_metrics()
	RETURNS text
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	out text := '';
	h record;
	l record;
	lbl text;
BEGIN
	out := out
		|| E'# HELP ripple_backup_last_success_timestamp_seconds Unix time the last successful backup of the database finished.\n'
		|| E'# TYPE ripple_backup_last_success_timestamp_seconds gauge\n';
	FOR h IN SELECT x.dbname, extract(epoch FROM x.last_success)::float8 AS v
			   FROM @extschema@.ripple_backup_health() x
			  WHERE x.dbname IS NOT NULL AND x.last_success IS NOT NULL LOOP
		out := out || format(E'ripple_backup_last_success_timestamp_seconds{dbname="%s"} %s\n',
							 ripple_backup.prom_label(h.dbname), h.v);
	END LOOP;
	out := out
		|| E'# HELP ripple_backup_last_duration_seconds Duration of the last successful backup.\n'
		|| E'# TYPE ripple_backup_last_duration_seconds gauge\n'
		|| E'# HELP ripple_backup_last_size_bytes Bytes stored (compressed) by the last successful backup.\n'
		|| E'# TYPE ripple_backup_last_size_bytes gauge\n';
	FOR l IN SELECT DISTINCT ON (b.dbname) b.dbname, extract(epoch FROM b.duration)::float8 AS d,
				b.size_bytes
			   FROM ripple_backup.backups b
			  WHERE b.status = 'succeeded' AND ripple_backup.caller_may_connect(b.dbname)
			  ORDER BY b.dbname, b.finished_at DESC, b.id DESC LOOP
		lbl := ripple_backup.prom_label(l.dbname);
		IF l.d IS NOT NULL THEN
			out := out || format(E'ripple_backup_last_duration_seconds{dbname="%s"} %s\n', lbl, l.d);
		END IF;
		out := out || format(E'ripple_backup_last_size_bytes{dbname="%s"} %s\n', lbl, l.size_bytes);
	END LOOP;
	out := out
		|| E'# HELP ripple_backup_backups_total Backups in the catalog by outcome (failed ones are pruned after history_days).\n'
		|| E'# TYPE ripple_backup_backups_total counter\n';
	FOR l IN SELECT b.dbname, b.status, count(*) AS n FROM ripple_backup.backups b
			  WHERE b.status IN ('succeeded', 'failed') AND ripple_backup.caller_may_connect(b.dbname)
			  GROUP BY b.dbname, b.status ORDER BY b.dbname, b.status LOOP
		out := out || format(E'ripple_backup_backups_total{dbname="%s",status="%s"} %s\n',
							 ripple_backup.prom_label(l.dbname), l.status, l.n);
	END LOOP;
	out := out
		|| E'# HELP ripple_backup_verify_failures_total Backups whose latest verification failed.\n'
		|| E'# TYPE ripple_backup_verify_failures_total counter\n';
	FOR l IN SELECT b.dbname, count(*) FILTER (WHERE b.verify_status = 'failed') AS n
			   FROM ripple_backup.backups b
			  WHERE b.status = 'succeeded' AND ripple_backup.caller_may_connect(b.dbname)
			  GROUP BY b.dbname ORDER BY b.dbname LOOP
		out := out || format(E'ripple_backup_verify_failures_total{dbname="%s"} %s\n',
							 ripple_backup.prom_label(l.dbname), l.n);
	END LOOP;
	out := out
		|| E'# HELP ripple_backup_rpo_seconds Age of the last successful backup.\n'
		|| E'# TYPE ripple_backup_rpo_seconds gauge\n'
		|| E'# HELP ripple_backup_last_restore_seconds Restore time measured by the last restore drill.\n'
		|| E'# TYPE ripple_backup_last_restore_seconds gauge\n'
		|| E'# HELP ripple_backup_health Health of the database: 0 ok, 1 warning, 2 critical (see ripple_backup_health()).\n'
		|| E'# TYPE ripple_backup_health gauge\n';
	FOR h IN SELECT * FROM @extschema@.ripple_backup_health() x WHERE x.dbname IS NOT NULL LOOP
		lbl := ripple_backup.prom_label(h.dbname);
		IF h.rpo IS NOT NULL THEN
			out := out || format(E'ripple_backup_rpo_seconds{dbname="%s"} %s\n', lbl,
								 extract(epoch FROM h.rpo)::float8);
		END IF;
		IF h.last_restore_seconds IS NOT NULL THEN
			out := out || format(E'ripple_backup_last_restore_seconds{dbname="%s"} %s\n', lbl,
								 h.last_restore_seconds);
		END IF;
		out := out || format(E'ripple_backup_health{dbname="%s"} %s\n', lbl,
							 CASE h.status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END);
	END LOOP;
	out := out
		|| E'# HELP ripple_backup_rpo_target_seconds The recovery point objective (ripple_backup.rpo_target).\n'
		|| E'# TYPE ripple_backup_rpo_target_seconds gauge\n'
		|| format(E'ripple_backup_rpo_target_seconds %s\n',
				  extract(epoch FROM ripple_backup.setting_interval('rpo_target'))::float8)
		|| E'# HELP ripple_backup_rto_target_seconds The recovery time objective (ripple_backup.rto_target).\n'
		|| E'# TYPE ripple_backup_rto_target_seconds gauge\n'
		|| format(E'ripple_backup_rto_target_seconds %s\n',
				  extract(epoch FROM ripple_backup.setting_interval('rto_target'))::float8);
	SELECT * INTO l FROM ripple_backup.wal_archive_verdict();
	IF l.enabled THEN
		out := out
			|| E'# HELP ripple_backup_wal_archive_rpo_seconds How long the oldest WAL not yet archived has waited (0: all archived).\n'
			|| E'# TYPE ripple_backup_wal_archive_rpo_seconds gauge\n'
			|| format(E'ripple_backup_wal_archive_rpo_seconds %s\n', extract(epoch FROM l.exposure)::float8)
			|| E'# HELP ripple_backup_wal_archive_health Health of WAL archiving: 0 ok, 1 warning, 2 critical (the wal archive row of ripple_backup_health()).\n'
			|| E'# TYPE ripple_backup_wal_archive_health gauge\n'
			|| format(E'ripple_backup_wal_archive_health %s\n',
					  CASE l.status WHEN 'ok' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END)
			|| E'# HELP ripple_backup_wal_pending_bytes WAL kept in pg_wal for the archiver (.ready files and the current segment).\n'
			|| E'# TYPE ripple_backup_wal_pending_bytes gauge\n'
			|| format(E'ripple_backup_wal_pending_bytes %s\n', l.pending_bytes);
		IF l.pg_wal_free_bytes IS NOT NULL THEN
			out := out
				|| E'# HELP ripple_backup_pg_wal_free_bytes Free space of the file system that holds pg_wal.\n'
				|| E'# TYPE ripple_backup_pg_wal_free_bytes gauge\n'
				|| format(E'ripple_backup_pg_wal_free_bytes %s\n', l.pg_wal_free_bytes)
				|| E'# HELP ripple_backup_pg_wal_size_bytes Size of the file system that holds pg_wal.\n'
				|| E'# TYPE ripple_backup_pg_wal_size_bytes gauge\n'
				|| format(E'ripple_backup_pg_wal_size_bytes %s\n', l.pg_wal_size_bytes);
		END IF;
	END IF;
	SELECT * INTO l FROM ripple_backup.destination_probe();
	out := out
		|| E'# HELP ripple_backup_destination_up Whether the backup destination answered a listing just now (1) or not (0).\n'
		|| E'# TYPE ripple_backup_destination_up gauge\n'
		|| format(E'ripple_backup_destination_up{destination="%s"} %s\n',
				  ripple_backup.prom_label(l.destination), CASE WHEN l.reachable THEN 1 ELSE 0 END);
	out := out
		|| E'# HELP ripple_backup_breaker_open Whether the shared S3 circuit breaker of the endpoint refuses requests (1: open or half-open) or not (0).\n'
		|| E'# TYPE ripple_backup_breaker_open gauge\n';
	FOR l IN SELECT d.endpoint, d.state FROM ripple_backup.destinations_state() d ORDER BY d.endpoint LOOP
		out := out || format(E'ripple_backup_breaker_open{endpoint="%s"} %s\n',
							 ripple_backup.prom_label(l.endpoint), CASE WHEN l.state = 'closed' THEN 0 ELSE 1 END);
	END LOOP;
	RETURN out;
END
$$;
COMMENT ON FUNCTION @extschema@.ripple_backup_metrics() IS
	'Prometheus text exposition of last success, duration, size, backup counts, RPO, restore time';

-- Sends a test message on every configured channel (or the one named) and returns
-- what happened; each attempt is recorded in ripple_backup.notifications.
CREATE FUNCTION @extschema@.ripple_backup_notify_test(channel text DEFAULT NULL)
	RETURNS TABLE (channel text, status text, error text)
	AS 'MODULE_PATHNAME', 'ripple_backup_notify_test'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_notify_test(text) IS
	'send a test notification on every configured channel (or one); returns what happened';

REVOKE ALL ON ripple_backup.notifications, ripple_backup.rpo_breaches FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.rpo_state(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.rpo_transitions(interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.setting_interval(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.prom_label(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.destination_probe() FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.destinations_state() FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.wal_archive_health() FROM PUBLIC;
REVOKE ALL ON FUNCTION ripple_backup.wal_archive_verdict() FROM PUBLIC;
REVOKE ALL ON ripple_backup.destinations FROM PUBLIC;
REVOKE ALL ON ripple_backup.summary FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_health() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_metrics() FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_notify_test(text) FROM PUBLIC;

-- A diagnosis of the server's own way to its destination, with the server's own
-- settings and credentials: one row per step (settings, credentials, connect, tls,
-- auth, write, delete), ok true, false (detail = the error) or NULL (skipped after
-- an earlier failure).  It writes and deletes a small probe object, so it acts:
-- not for PUBLIC.
CREATE FUNCTION @extschema@.ripple_backup_check()
	RETURNS TABLE (step text, ok boolean, detail text)
	AS 'MODULE_PATHNAME', 'ripple_backup_check'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION @extschema@.ripple_backup_check() IS
	'test the way to the destination with the server''s settings: one row per step';
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_check() FROM PUBLIC;

-- ==== WAL archiving (archive_library = 'ripple_backup'; src/backend/wal_archive*.c) ====
-- The archive module's figures (shared memory: the archiver is a process of its own)
-- and the WAL files waiting in pg_wal/archive_status, beside pg_stat_archiver's.
CREATE FUNCTION ripple_backup.wal_archive_state(
		OUT archived_count bigint, OUT already_archived_count bigint, OUT failed_count bigint,
		OUT last_archived_wal text, OUT last_archived_time timestamptz,
		OUT last_failed_wal text, OUT last_failed_time timestamptz, OUT last_error text,
		OUT original_bytes bigint, OUT stored_bytes bigint, OUT last_archive_seconds double precision,
		OUT pending_count bigint, OUT oldest_pending_wal text,
		OUT bytes_per_second double precision)
	RETURNS record
	AS 'MODULE_PATHNAME', 'ripple_backup_wal_archive_state'
	LANGUAGE C VOLATILE;
CREATE VIEW ripple_backup.wal_archive AS
	SELECT current_setting('archive_mode') <> 'off'
		   AND current_setting('archive_library') = 'ripple_backup' AS enabled,
		   s.archived_count, s.already_archived_count, s.failed_count,
		   s.last_archived_wal, s.last_archived_time,
		   s.last_failed_wal, s.last_failed_time, s.last_error,
		   s.original_bytes, s.stored_bytes, s.last_archive_seconds,
		   s.pending_count, s.oldest_pending_wal, s.bytes_per_second,
		   a.archived_count AS pg_archived_count, a.last_archived_wal AS pg_last_archived_wal,
		   a.last_archived_time AS pg_last_archived_time, a.failed_count AS pg_failed_count,
		   a.last_failed_wal AS pg_last_failed_wal, a.last_failed_time AS pg_last_failed_time,
		   a.stats_reset AS pg_stats_reset
	  FROM ripple_backup.wal_archive_state() s CROSS JOIN pg_catalog.pg_stat_archiver a;
COMMENT ON VIEW ripple_backup.wal_archive IS
	'WAL archiving by ripple_backup: files archived and failed, the last of each, the last error, files pending, beside pg_stat_archiver';
-- granted like the other views (README): reading the view needs both
REVOKE ALL ON FUNCTION ripple_backup.wal_archive_state() FROM PUBLIC;
REVOKE ALL ON ripple_backup.wal_archive FROM PUBLIC;
