-- 00_install: CREATE EXTENSION in the catalog database and what it creates.
SHOW ripple_backup.database;
CREATE EXTENSION ripple_backup;
SELECT extname, extversion, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'ripple_backup';

-- catalog tables, marked for pg_dump
SELECT config_table FROM (
  SELECT unnest(extconfig)::regclass AS config_table
    FROM pg_extension WHERE extname = 'ripple_backup') s
 ORDER BY config_table::text;
\d ripple_backup.backups
\d ripple_backup.backup_tables
-- the server incarnation in every object key: not dumped, filled by the launcher
\d ripple_backup.incarnation

-- functions: in the extension's schema, those that act are security definer
SELECT p.oid::regprocedure AS function, p.prosecdef AS security_definer
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'ripple_backup'
 WHERE p.proname IN ('ripple_backup_now', 'ripple_backup_wait', 'ripple_backup_stats',
                     'ripple_backup_progress')
 ORDER BY p.proname;

-- functions that act are revoked from PUBLIC
SELECT p.oid::regprocedure AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_can_execute
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'ripple_backup'
 WHERE p.proname IN ('ripple_backup_now', 'ripple_backup_wait', 'ripple_backup_stats',
                     'ripple_backup_progress')
 ORDER BY p.proname;

-- settings, all under the reserved prefix
SELECT name, setting, context FROM pg_settings
 WHERE name IN ('ripple_backup.database', 'ripple_backup.s3_endpoint',
                'ripple_backup.s3_region', 'ripple_backup.s3_uri_style',
                'ripple_backup.s3_credentials_file', 'ripple_backup.s3_ca_file',
                'ripple_backup.s3_verify_tls', 'ripple_backup.s3_part_size',
                'ripple_backup.max_workers', 'ripple_backup.compression',
                'ripple_backup.compression_level')
 ORDER BY name;
-- the part size may go up to S3's largest part, 5 GiB, as far as the size chosen from
-- the database's size goes (the error for an outgrown stream advises a setting)
SELECT min_val, max_val, unit FROM pg_settings WHERE name = 'ripple_backup.s3_part_size';
SELECT context FROM pg_settings WHERE name = 'ripple_backup.destination';
