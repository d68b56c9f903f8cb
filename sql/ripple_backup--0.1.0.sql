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

CREATE TABLE ripple_backup.backups (
	id					bigserial PRIMARY KEY,
	dbname				name NOT NULL,
	backup_type			text NOT NULL DEFAULT 'manual'
						CHECK (backup_type IN ('manual', 'scheduled')),
	label				text,
	status				text NOT NULL DEFAULT 'queued'
						CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
	queued_at			timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	started_at			timestamptz,
	finished_at			timestamptz,
	size_bytes			bigint CHECK (size_bytes >= 0),
	sha256				text CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	location			text,
	error				text,
	object_key			text,
	compression			text CHECK (compression IN ('zstd', 'gzip', 'none')),
	system_identifier	numeric(20, 0),
	duration			interval,
	uncompressed_bytes	bigint,
	requested_by		name,
	pid					integer,
	CONSTRAINT backups_error_iff_failed CHECK ((status = 'failed') = (error IS NOT NULL)),
	CONSTRAINT backups_succeeded_complete CHECK (status <> 'succeeded'
		OR (size_bytes IS NOT NULL AND sha256 IS NOT NULL AND location IS NOT NULL))
);
CREATE INDEX backups_status_queued_at ON ripple_backup.backups (status, queued_at);
CREATE INDEX backups_dbname_finished_at ON ripple_backup.backups (dbname, finished_at);
COMMENT ON TABLE ripple_backup.backups IS 'one row per backup: queued, running, succeeded or failed';
COMMENT ON COLUMN ripple_backup.backups.location IS 'full URL of the stored object';
COMMENT ON COLUMN ripple_backup.backups.sha256 IS 'SHA-256 (hex) of the stored, compressed bytes';

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

-- Queues a backup of a database; the launcher starts it when the transaction commits.
CREATE FUNCTION @extschema@.ripple_backup_now(dbname name DEFAULT pg_catalog.current_database(),
											  label text DEFAULT NULL)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'ripple_backup_now'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_now(name, text) IS 'queue a backup of a database; returns its id';

-- Waits until a backup has succeeded or failed and returns which.
CREATE FUNCTION @extschema@.ripple_backup_wait(backup_id bigint,
											   timeout interval DEFAULT '10 minutes')
	RETURNS text
	AS 'MODULE_PATHNAME', 'ripple_backup_wait'
	LANGUAGE C VOLATILE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.ripple_backup_wait(bigint, interval) IS 'wait for a backup to finish; returns succeeded or failed';

-- Per-table row counts of one backup (of the latest succeeded one when NULL).
CREATE FUNCTION @extschema@.ripple_backup_stats(backup_id bigint DEFAULT NULL)
	RETURNS TABLE (schema_name name, table_name name, row_count bigint)
	LANGUAGE plpgsql STABLE SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	wanted bigint := backup_id;
	st text;
BEGIN
	IF wanted IS NULL THEN
		SELECT b.id INTO wanted FROM ripple_backup.backups b
		 WHERE b.status = 'succeeded' ORDER BY b.finished_at DESC, b.id DESC LIMIT 1;
		IF wanted IS NULL THEN
			RAISE EXCEPTION 'no backup has succeeded yet'
				USING ERRCODE = 'no_data_found',
					  HINT = 'Take one with SELECT ripple_backup_now().';
		END IF;
	ELSE
		SELECT b.status INTO st FROM ripple_backup.backups b WHERE b.id = wanted;
		IF st IS NULL THEN
			RAISE EXCEPTION 'backup % does not exist', wanted
				USING ERRCODE = 'undefined_object';
		ELSIF st <> 'succeeded' THEN
			RAISE EXCEPTION 'backup % has no row counts', wanted
				USING ERRCODE = 'object_not_in_prerequisite_state',
					  DETAIL = format('Its status is %s; row counts are recorded when a backup succeeds.', st);
		END IF;
	END IF;
	RETURN QUERY
		SELECT t.schema_name, t.table_name, t.row_count
		  FROM ripple_backup.backup_tables t
		 WHERE t.backup_id = wanted
		 ORDER BY t.schema_name, t.table_name;
END
$$;
COMMENT ON FUNCTION @extschema@.ripple_backup_stats(bigint) IS 'per-table row counts of a backup (the latest succeeded one by default)';

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

REVOKE ALL ON FUNCTION @extschema@.ripple_backup_now(name, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_wait(bigint, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.ripple_backup_stats(bigint) FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ripple_backup FROM PUBLIC;

-- ==== cron schedules (helper E: src/backend/schedule_sql.c) ==========================
-- The first time a cron schedule fires strictly after `after`, read on the wall clock
-- of an IANA time zone.  It only computes, so PUBLIC may call it.
CREATE FUNCTION @extschema@.ripple_backup_next_run(
		schedule text, after timestamptz DEFAULT now(), timezone text DEFAULT 'UTC')
	RETURNS timestamptz
	AS 'MODULE_PATHNAME', 'ripple_backup_next_run'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.ripple_backup_next_run(text, timestamptz, text) IS
	'next fire time of a cron schedule after a given time, in a time zone (DST-aware)';
-- ==== end of cron schedules ==========================================================
