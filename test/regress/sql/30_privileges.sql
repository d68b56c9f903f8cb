-- 30_privileges: a role without grants cannot act; the README's grants suffice;
-- PUBLIC may execute only the functions listed below as harmless.
CREATE ROLE regress_ripple_nobody;
CREATE ROLE regress_ripple_operator;

SET ROLE regress_ripple_nobody;
SELECT ripple_backup_now();
SELECT ripple_backup_wait(1);
SELECT * FROM ripple_backup_stats();
SELECT count(*) FROM ripple_backup_progress();
SELECT count(*) FROM ripple_backup.backups;
SELECT * FROM ripple_backup_prune(dry_run => true);
SELECT ripple_backup_pin(1);
SELECT * FROM ripple_backup_health();
SELECT ripple_backup_metrics();
SELECT * FROM ripple_backup_notify_test();
SELECT * FROM ripple_backup_check();
SELECT count(*) FROM ripple_backup.notifications;
RESET ROLE;

GRANT USAGE ON SCHEMA ripple_backup TO regress_ripple_operator;
GRANT SELECT ON ALL TABLES IN SCHEMA ripple_backup TO regress_ripple_operator;
GRANT EXECUTE ON FUNCTION ripple_backup_now(name, text, boolean, interval),
                          ripple_backup_wait(bigint, interval),
                          ripple_backup_stats(bigint, name),
                          ripple_backup_progress() TO regress_ripple_operator;

SET ROLE regress_ripple_operator;
SELECT ripple_backup_now(label => 'by the operator') AS id \gset
SELECT ripple_backup_wait(:id);
SELECT label, requested_by, status FROM ripple_backup.backups WHERE id = :id;
SELECT count(*) > 0 AS sees_row_counts FROM ripple_backup_stats(:id);
SELECT count(*) AS running FROM ripple_backup.progress;
-- reading is granted, writing is not
DELETE FROM ripple_backup.backups;
RESET ROLE;

REVOKE ALL ON ALL TABLES IN SCHEMA ripple_backup FROM regress_ripple_operator;
REVOKE ALL ON SCHEMA ripple_backup FROM regress_ripple_operator;
REVOKE ALL ON FUNCTION ripple_backup_now(name, text, boolean, interval), ripple_backup_wait(bigint, interval),
                       ripple_backup_stats(bigint, name), ripple_backup_progress()
                  FROM regress_ripple_operator;
DROP ROLE regress_ripple_nobody;
DROP ROLE regress_ripple_operator;

-- Every function of the extension and whether PUBLIC may execute it.  A function
-- that acts, or shows what runs, is revoked; only pure computations stay public:
-- ripple_backup_next_run() (a cron schedule's next fire time).  A new function
-- appears here and must be decided on.
SELECT p.oid::regprocedure::text AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_proc p ON p.oid = d.objid
 WHERE d.classid = 'pg_catalog.pg_proc'::regclass
   AND d.refclassid = 'pg_catalog.pg_extension'::regclass
   AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'ripple_backup')
   AND d.deptype = 'e'
 ORDER BY p.oid::regprocedure::text COLLATE "C";
