/*
 * sql_functions.c — the SQL interface that acts: ripple_backup_now() queues a
 * backup (and wakes the launcher when the transaction commits),
 * ripple_backup_wait() waits for one (ripple_backup_now(wait => true) too, and
 * raises the backup's error when it fails), the check the install script runs, and
 * the database-access check that ripple_backup_now(), ripple_backup_stats() and
 * the job functions share: a role acts on a database only when it may connect
 * to it or owns it.
 * The progress view is in progress.c; ripple_backup_stats() is SQL.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_database.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/latch.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "catalog.h"
#include "guc.h"
#include "launcher.h"
#include "shmem.h"
#include "sql_functions.h"
#include "base_backup_sql.h"

PG_FUNCTION_INFO_V1(ripple_backup_now);
PG_FUNCTION_INFO_V1(ripple_backup_wait);
PG_FUNCTION_INFO_V1(ripple_backup_assert_catalog_database);
PG_FUNCTION_INFO_V1(ripple_backup_caller_may_connect);
PG_FUNCTION_INFO_V1(ripple_backup_require_caller_may_connect);

/* How often ripple_backup_wait() looks at the catalog. */
#define RB_WAIT_POLL_MS 100

/* How long a commit waits for the launcher to record backups it ran early. */
#define RB_COMMIT_RECORD_WAIT_MS 10000

static int64 interval_ms(const Interval *iv);
static const char *wait_for_backup(int64 id, int64 timeout_ms, char **error);
static int64 timeout_arg(FunctionCallInfo fcinfo, int argno);

static bool wake_at_commit = false;
static bool xact_callback_registered = false;

/* Backups this transaction queued and had started before its commit. */
static int64 expedited[RB_MAX_RUNNERS];
static int	nexpedited = 0;

/*
 * After a commit that started backups early (ripple_backup_wait on a backup
 * queued by the same transaction): the launcher can now record their results;
 * wait (briefly) until it has, so the catalog says what ripple_backup_wait said
 * by the time the statement returns.
 */
static void
wait_for_expedited_records(void)
{
	TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   RB_COMMIT_RECORD_WAIT_MS);

	for (int i = 0; i < nexpedited; i++)
	{
		while (rb_launcher_slot_in_use(expedited[i]) && GetCurrentTimestamp() < deadline)
		{
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 10, PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
		}
	}
}

static void
rb_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			if (wake_at_commit)
				rb_wake_launcher();
			if (nexpedited > 0)
				wait_for_expedited_records();
			wake_at_commit = false;
			nexpedited = 0;
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			/* a prepared transaction is found by the launcher's periodic look */
			if (nexpedited > 0)
				rb_wake_launcher(); /* it discards the results of an abort */
			wake_at_commit = false;
			nexpedited = 0;
			break;
		default:
			break;
	}
}

static void
remember_expedited(int64 id)
{
	for (int i = 0; i < nexpedited; i++)
		if (expedited[i] == id)
			return;
	if (nexpedited < RB_MAX_RUNNERS)
		expedited[nexpedited++] = id;
}

void
rb_wake_launcher_at_commit(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(rb_xact_callback, NULL);
		xact_callback_registered = true;
	}
	wake_at_commit = true;
}

void
rb_require_catalog_database(const char *action)
{
	char	   *current = get_database_name(MyDatabaseId);

	if (current != NULL && strcmp(current, rb_guc_database) == 0)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("%s must run in database \"%s\"", action, rb_guc_database),
			 errdetail("ripple_backup.database is \"%s\"; the backup catalog and the background workers live there, and this is database \"%s\".",
					   rb_guc_database, current ? current : "?"),
			 errhint("Connect to database \"%s\", or set ripple_backup.database in postgresql.conf and restart the server.",
					 rb_guc_database)));
}

/*
 * Called by the install script: CREATE EXTENSION works only in the catalog
 * database.  It also wakes the launcher at commit, which waits for the extension.
 */
Datum
ripple_backup_assert_catalog_database(PG_FUNCTION_ARGS)
{
	rb_require_catalog_database("CREATE EXTENSION ripple_backup");
	rb_wake_launcher_at_commit();
	PG_RETURN_VOID();
}

/* Errors unless dbname names a database that accepts connections. */
static void
check_target_database(const char *dbname)
{
	Oid			dboid = get_database_oid(dbname, true);
	HeapTuple	tup;
	bool		allowconn;

	if (!OidIsValid(dboid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_DATABASE),
				 errmsg("database \"%s\" does not exist", dbname)));
	tup = SearchSysCache1(DATABASEOID, ObjectIdGetDatum(dboid));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_DATABASE),
				 errmsg("database \"%s\" does not exist", dbname)));
	allowconn = ((Form_pg_database) GETSTRUCT(tup))->datallowconn;
	ReleaseSysCache(tup);
	if (!allowconn)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("database \"%s\" does not accept connections", dbname),
				 errdetail("pg_dump cannot connect to it.")));
}

/*
 * The calling role: the session's current role (SET ROLE included), not the
 * owner these SECURITY DEFINER functions run as.  requested_by records the same.
 */
static Oid
calling_role(void)
{
	return GetOuterUserId();
}

/* True when the calling role may connect to dbname or owns it. */
static bool
caller_may_connect(const char *dbname)
{
	Oid			roleid = calling_role();
	Oid			dboid = get_database_oid(dbname, true);

	if (!OidIsValid(dboid))
		return superuser_arg(roleid);	/* a dropped database: superusers only */
	return pg_database_aclcheck(dboid, roleid, ACL_CONNECT) == ACLCHECK_OK ||
		pg_database_ownercheck(dboid, roleid);
}

/* Errors (42501) unless the calling role may connect to dbname or owns it. */
void
rb_require_caller_may_connect(const char *dbname)
{
	/* NULL: the whole cluster (a base backup or physical job), as ripple_backup_base_backup() */
	if (dbname == NULL)
	{
		rb_require_base_backup_privilege();
		return;
	}
	if (caller_may_connect(dbname))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for database \"%s\"", dbname),
			 errdetail("Role \"%s\" may not connect to database \"%s\" and does not own it; a role backs up, and reads the backups of, only the databases it may connect to.",
					   GetUserNameFromId(calling_role(), false), dbname),
			 errhint("GRANT CONNECT ON DATABASE %s to the role, or act as a role that may connect to it.",
					 quote_identifier(dbname))));
}

/* ripple_backup.caller_may_connect(dbname): for ripple_backup_stats(). */
Datum
ripple_backup_caller_may_connect(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(caller_may_connect(NameStr(*PG_GETARG_NAME(0))));
}

/*
 * ripple_backup.require_caller_may_connect(dbname): for _stats() and the job
 * functions.  NULL is the whole cluster (a base backup or physical job): the
 * rule of ripple_backup_base_backup() applies.
 */
Datum
ripple_backup_require_caller_may_connect(PG_FUNCTION_ARGS)
{
	rb_require_caller_may_connect(PG_ARGISNULL(0) ? NULL : NameStr(*PG_GETARG_NAME(0)));
	PG_RETURN_VOID();
}

Datum
ripple_backup_now(PG_FUNCTION_ARGS)
{
	const char *dbname;
	char	   *label = NULL;
	int64		id;

	rb_require_preload();
	rb_require_catalog_database("ripple_backup_now()");
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot queue a backup on a standby server"),
				 errdetail("The catalog is read-only during recovery and the launcher starts only after promotion."),
				 errhint("Queue the backup on the primary.")));

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("database name must not be null")));
	dbname = NameStr(*PG_GETARG_NAME(0));
	if (!PG_ARGISNULL(1))
	{
		label = text_to_cstring(PG_GETARG_TEXT_PP(1));
		if (strlen(label) >= RB_LABEL_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("backup label is too long"),
					 errdetail("A label has at most %d bytes.", RB_LABEL_LEN - 1)));
	}
	check_target_database(dbname);
	rb_require_caller_may_connect(dbname);
	if (rb_guc_destination == NULL || rb_guc_destination[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no backup destination is configured"),
				 errhint("Set ripple_backup.destination to s3://bucket/prefix or file:///directory in postgresql.conf and reload.")));

	id = rb_catalog_insert_queued(dbname, label,
								  GetUserNameFromId(calling_role(), false));
	rb_wake_launcher_at_commit();

	/*
	 * Queued all the same: a launcher that is restarting picks it up.  But one
	 * that could never be registered (too few max_worker_processes) never will.
	 */
	if (!rb_launcher_running())
		ereport(WARNING,
				(errmsg("no ripple_backup launcher is running"),
				 errdetail("Backup %lld is queued; it starts only when a launcher runs.", (long long) id),
				 errhint("If the server log says \"too many background workers\", raise max_worker_processes and restart the server.")));

	if (!PG_ARGISNULL(2) && PG_GETARG_BOOL(2))
	{
		char	   *error;

		if (strcmp(wait_for_backup(id, timeout_arg(fcinfo, 3), &error), "failed") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("backup %lld of database \"%s\" failed", (long long) id, dbname),
					 errdetail("%s", error ? error : "The backup recorded no error."),
					 errhint("The server log has the backup's messages.  The statement that queued the backup is rolled back with this error, and the backup's row with it: queue it with ripple_backup_now() and wait with ripple_backup_wait() to keep the row.")));
	}
	PG_RETURN_INT64(id);
}

/* Milliseconds in an interval (months as 30 days), or -1 when negative. */
static int64
interval_ms(const Interval *iv)
{
	double		usecs = (double) iv->time +
		((double) iv->day + (double) iv->month * DAYS_PER_MONTH) * USECS_PER_DAY;

	if (usecs < 0)
		return -1;
	if (usecs > (double) PG_INT64_MAX / 2)
		return PG_INT64_MAX / 2000;
	return (int64) (usecs / 1000.0);
}

/*
 * Waits until backup id has succeeded or failed (up to timeout_ms) and returns
 * which; a failure's error in *error (palloc'd; NULL when none was recorded).
 */
static const char *
wait_for_backup(int64 id, int64 timeout_ms, char **error)
{
	TimestampTz deadline;
	RbBackupRow row;

	*error = NULL;
	if (IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ripple_backup_wait() cannot wait in a REPEATABLE READ or SERIALIZABLE transaction"),
				 errdetail("Such a transaction would never see the backup finish."),
				 errhint("Call it in a READ COMMITTED transaction.")));

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	for (;;)
	{
		TimestampTz now;
		long		remaining;

		if (!rb_catalog_get_backup(id, &row))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("backup %lld does not exist", (long long) id)));
		rb_require_caller_may_connect(strcmp(row.kind, "physical") == 0 ? NULL : row.dbname);
		if (strcmp(row.status, "succeeded") == 0)
			return "succeeded";
		if (strcmp(row.status, "failed") == 0)
		{
			*error = row.error;
			return "failed";
		}

		/*
		 * Queued by this very transaction (SELECT
		 * ripple_backup_wait(ripple_backup_now())): the launcher cannot see the
		 * row before commit, so hand the request over through shared memory and
		 * take the result from there; the launcher records it at commit.
		 */
		if (strcmp(row.status, "queued") == 0 && TransactionIdIsCurrentTransactionId(row.xmin))
		{
			bool		succeeded;
			char		msg[RB_TEXT_LEN];

			rb_wake_launcher_at_commit();
			remember_expedited(id);
			if (rb_launcher_expedite(&row, &succeeded, msg, sizeof(msg)))
			{
				if (!succeeded && msg[0] != '\0')
					*error = pstrdup(msg);
				return succeeded ? "succeeded" : "failed";
			}
		}

		now = GetCurrentTimestamp();
		remaining = (long) ((deadline - now) / 1000);
		if (remaining <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("timed out waiting for backup %lld", (long long) id),
					 errdetail("The backup is still %s.", row.status),
					 errhint("Call ripple_backup_wait() again with a longer timeout, or look at ripple_backup.progress.")));

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(remaining, RB_WAIT_POLL_MS), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/* A timeout argument in milliseconds: errors when NULL or negative. */
static int64
timeout_arg(FunctionCallInfo fcinfo, int argno)
{
	int64		timeout_ms;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("timeout must not be null")));
	timeout_ms = interval_ms(PG_GETARG_INTERVAL_P(argno));
	if (timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must not be negative")));
	return timeout_ms;
}

Datum
ripple_backup_wait(PG_FUNCTION_ARGS)
{
	int64		id;
	char	   *error;

	rb_require_preload();
	rb_require_catalog_database("ripple_backup_wait()");

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("backup id must not be null")));
	id = PG_GETARG_INT64(0);
	PG_RETURN_TEXT_P(cstring_to_text(wait_for_backup(id, timeout_arg(fcinfo, 1), &error)));
}
