-- 10_interface: queue, wait, row counts and progress, with a file:// destination.

-- a call in a transaction that rolls back queues nothing
BEGIN;
SELECT ripple_backup_now() > 0 AS queued;
ROLLBACK;
SELECT count(*) AS rows_after_rollback FROM ripple_backup.backups;

-- queue and wait in one statement: the backup starts before the commit
SELECT ripple_backup_wait(ripple_backup_now(label => 'regress one')) AS status;
-- the launcher records it as that statement commits
SELECT dbname, backup_type, label, status, error,
       size_bytes > 0 AS has_size, sha256 ~ '^[0-9a-f]{64}$' AS has_sha256,
       location LIKE 'file:///%/' || system_identifier || '/' || incarnation || '/postgres/%.dump.zst' AS location_ok,
       object_key LIKE system_identifier || '/' || incarnation || '/postgres/%-' || id || '.dump.zst' AS key_ok,
       compression, queued_at <= started_at AND started_at <= finished_at AS times_ordered,
       requested_by = current_user AS requested_by_me
  FROM ripple_backup.backups;

-- a table whose rows the next backup counts
CREATE TABLE regress_counted (i int);
INSERT INTO regress_counted SELECT generate_series(1, 42);
CREATE SCHEMA regress_other;
CREATE TABLE regress_other.empty_table (x text);

-- queue, commit, then wait
SELECT ripple_backup_now(label => 'regress two') AS id \gset
SELECT status IN ('queued', 'running', 'succeeded') AS status_ok
  FROM ripple_backup.backups WHERE id = :id;
SELECT ripple_backup_wait(:id, '2 minutes') AS status;
SELECT ripple_backup_wait(:id) AS status_again;

-- per-table row counts, of the latest succeeded backup and by id
SELECT backup_id = :id AS latest_is_two, dbname, schema_name, table_name, row_count
  FROM ripple_backup_stats() WHERE schema_name <> 'ripple_backup';
SELECT backup_id = :id AS is_two, dbname, schema_name, table_name, row_count
  FROM ripple_backup_stats(:id) WHERE table_name = 'regress_counted';
-- by database: that database's latest succeeded backup
SELECT backup_id = :id AS latest_of_postgres, dbname, table_name, row_count
  FROM ripple_backup_stats(dbname => 'postgres') WHERE table_name = 'regress_counted';
SELECT count(*) FROM ripple_backup_stats(dbname => 'template1');
SELECT count(*) FROM ripple_backup_stats(:id, dbname => 'template1');

-- wait => true: queues, waits, returns the id of the succeeded backup
SELECT ripple_backup_now(label => 'regress waited', wait => true) AS waited_id \gset
SELECT status, label FROM ripple_backup.backups WHERE id = :waited_id;
SELECT ripple_backup_now(wait => true, timeout => NULL);

-- the summary for people: newest first, sizes as pg_size_pretty prints them
SELECT s.id = :waited_id AS newest_first, s.dbname, s.status, s.label,
       s.size = pg_size_pretty(b.size_bytes) AS size_pretty, s.compression,
       s.compression_ratio = round(b.uncompressed_bytes::numeric / b.size_bytes, 2) AS ratio_ok,
       s.compression_ratio > 1 AS compressed, s.duration IS NOT NULL AS has_duration,
       s.age >= '0 s' AS has_age, s.verify_status IN ('pending', 'verified') AS verify_status_ok,
       s.rows > 0 AS has_rows
  FROM (SELECT * FROM ripple_backup.summary LIMIT 1) s JOIN ripple_backup.backups b USING (id);
SELECT count(*) = (SELECT count(*) FROM ripple_backup.backups) AS one_row_per_backup
  FROM ripple_backup.summary;
SELECT count(*) AS counted_tables FROM ripple_backup.backup_tables WHERE backup_id = :id
  AND schema_name <> 'ripple_backup';

-- nothing runs now
SELECT * FROM ripple_backup.progress;

DROP TABLE regress_counted;
DROP SCHEMA regress_other CASCADE;
