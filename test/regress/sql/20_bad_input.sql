-- 20_bad_input: clear errors for bad input.
\set VERBOSITY default

-- unknown or unusable database
SELECT ripple_backup_now('no_such_database');
SELECT ripple_backup_now(NULL);
SELECT ripple_backup_now('template0');
SELECT ripple_backup_now(label => repeat('x', 2000));

-- unknown backup, bad arguments
SELECT ripple_backup_wait(999999);
SELECT ripple_backup_wait(NULL);
SELECT ripple_backup_wait(1, '-1 second');
SELECT * FROM ripple_backup_stats(999999);

-- timeout: a row that stays running
BEGIN;
INSERT INTO ripple_backup.backups (dbname, status, started_at)
VALUES ('postgres', 'running', now()) RETURNING id AS stuck_id \gset
SELECT ripple_backup_wait(:stuck_id, '50 milliseconds');
ROLLBACK;

-- a REPEATABLE READ transaction would never see the backup finish
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT ripple_backup_wait(1);
ROLLBACK;

-- the catalog refuses impossible rows
\set VERBOSITY terse
INSERT INTO ripple_backup.backups (dbname, status) VALUES ('postgres', 'lost');
INSERT INTO ripple_backup.backups (dbname, status) VALUES ('postgres', 'failed');
INSERT INTO ripple_backup.backups (dbname, backup_type) VALUES ('postgres', 'hourly');

\set VERBOSITY default

-- bad destinations and settings
ALTER SYSTEM SET ripple_backup.destination = 'ftp://example.com/backups';
ALTER SYSTEM SET ripple_backup.destination = 's3://';
ALTER SYSTEM SET ripple_backup.destination = 's3://Bad_Bucket/x';
ALTER SYSTEM SET ripple_backup.destination = 'file://relative/path';
ALTER SYSTEM SET ripple_backup.s3_endpoint = 'localhost:9000';
ALTER SYSTEM SET ripple_backup.s3_region = 'US East';
ALTER SYSTEM SET ripple_backup.compression = 'lz4';
ALTER SYSTEM SET ripple_backup.max_workers = 0;
ALTER SYSTEM SET ripple_backup.retention = '30 fortnights';
ALTER SYSTEM SET ripple_backup.retention = '0 days';
ALTER SYSTEM SET ripple_backup.retention_min_keep = -1;
SET ripple_backup.retention = '1 day';
SET ripple_backup.destination = 'file:///tmp';
SET ripple_backup.database = 'other';
SET ripple_backup.no_such_setting = 'x';

-- retention: pin what does not exist
SELECT ripple_backup_pin(999999);
SELECT ripple_backup_pin(NULL);

-- the extension lives in the catalog database only
CREATE DATABASE regress_ripple_other;
\c regress_ripple_other
CREATE EXTENSION ripple_backup;
SELECT count(*) AS ripple_objects FROM pg_namespace WHERE nspname = 'ripple_backup';
\c postgres
DROP DATABASE regress_ripple_other;
