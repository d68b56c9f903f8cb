/*
 * sql_functions.h — helpers shared by the SQL-callable functions.
 */
#ifndef RB_SQL_FUNCTIONS_H
#define RB_SQL_FUNCTIONS_H

/*
 * Raises a clear error (with a hint) unless the current database is the catalog
 * database named by ripple_backup.database.
 */
extern void rb_require_catalog_database(const char *action);

/*
 * Errors (42501) unless the calling role (outside SECURITY DEFINER) may connect to
 * dbname or owns it: a role backs up, and reads the backups of, only the databases
 * it may connect to.
 */
extern void rb_require_caller_may_connect(const char *dbname);

/* Sets the launcher's latch when the current transaction commits (not on abort). */
extern void rb_wake_launcher_at_commit(void);

#endif							/* RB_SQL_FUNCTIONS_H */
