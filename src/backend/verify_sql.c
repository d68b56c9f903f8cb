/*
 * verify_sql.c — ripple_backup_verify(backup_id, level, timeout, force): checks
 * the request in the caller's backend, starts a verifier worker (verifier.c) and
 * waits for its outcome, which comes back through a DSM segment (the catalog row
 * is updated by the worker in its own transaction).  On a standby it fails at
 * once: no verifier can start there.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shmem.h"
#include "sql_functions.h"
#include "verifier.h"
#include "verify.h"

PG_FUNCTION_INFO_V1(ripple_backup_verify);

/*
 * Resolves the backup to verify (the latest succeeded logical one when not
 * given).  A physical base backup is verified at checksum or restore level (a
 * restore drill: base_drill.h), never at archive level.
 */
static int64
resolve_backup(bool given, int64 id, rb_verify_level level)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	int			rc;
	int64		result = 0;

	SPI_connect();
	if (!given)
	{
		/* the newest logical backup of a database the caller may connect to */
		rc = SPI_execute("SELECT id FROM ripple_backup.backups WHERE status = 'succeeded' AND kind = 'logical'"
						 " AND ripple_backup.caller_may_connect(dbname)"
						 " ORDER BY finished_at DESC, id DESC LIMIT 1", true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute failed: %d", rc);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_NO_DATA_FOUND),
					 errmsg("no backup has succeeded yet"),
					 errhint("Take one with SELECT ripple_backup_now().")));
		{
			bool		isnull;

			result = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		}
	}
	else
	{
		char	   *status;

		rc = SPI_execute_with_args("SELECT status, dbname, kind FROM ripple_backup.backups WHERE id = $1",
								   1, argtypes, values, NULL, true, 1);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "SPI_execute_with_args failed: %d", rc);
		if (SPI_processed == 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("backup %lld does not exist", (long long) id)));
		status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		rb_require_caller_may_connect(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2));
		if (strcmp(status, "succeeded") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("backup %lld cannot be verified", (long long) id),
					 errdetail("Its status is %s; only a succeeded backup has a stored object.", status)));
		if (strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3), "physical") == 0 &&
			level == RB_VERIFY_ARCHIVE)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("backup %lld is a physical base backup and can be verified at checksum or restore level only",
							(long long) id),
					 errdetail("The archive level reads a pg_dump archive; a base backup is a tar of the cluster."),
					 errhint("Use level => 'checksum', or level => 'restore' for a restore drill.")));
		result = id;
	}
	SPI_finish();
	return result;
}

static int64
interval_ms(const Interval *iv)
{
	int64		ms = iv->time / 1000 + (int64) iv->day * 86400000 +
		(int64) iv->month * 30 * 86400000;

	return ms;
}

Datum
ripple_backup_verify(PG_FUNCTION_ARGS)
{
	bool		given = !PG_ARGISNULL(0);
	int64		id = given ? PG_GETARG_INT64(0) : 0;
	char	   *level_name;
	rb_verify_level level;
	int64		timeout_ms;
	bool		force;
	rb_error	err;
	RbVerifyArgs args;
	dsm_segment *seg;
	RbVerifyOutcome *outcome;
	BackgroundWorkerHandle *handle;
	TimestampTz deadline;
	bool		stopped = false;
	RbVerifyOutcome result;

	rb_require_preload();
	rb_require_catalog_database("ripple_backup_verify()");
	/* the verifier starts only once recovery has finished: never wait for it here */
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot verify a backup on a standby server"),
				 errdetail("A verifier worker starts only after promotion, and it records its outcome in the catalog, which is read-only during recovery."),
				 errhint("Verify the backup on the primary.")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("level must not be null")));
	level_name = text_to_cstring(PG_GETARG_TEXT_PP(1));
	rb_error_clear(&err);
	if (rb_verify_level_parse(level_name, &level, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid verify level \"%s\"", level_name),
				 errhint("Use checksum, archive or restore.")));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("timeout must not be null")));
	timeout_ms = interval_ms(PG_GETARG_INTERVAL_P(2));
	if (timeout_ms <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("timeout must be positive")));
	force = PG_ARGISNULL(3) ? false : PG_GETARG_BOOL(3);

	id = resolve_backup(given, id, level);

	seg = dsm_create(sizeof(RbVerifyOutcome), 0);
	outcome = (RbVerifyOutcome *) dsm_segment_address(seg);
	memset(outcome, 0, sizeof(*outcome));
	outcome->restore_seconds = -1;

	memset(&args, 0, sizeof(args));
	args.backup_id = id;
	args.level = (int32) level;
	args.force = force;
	args.timeout_ms = timeout_ms;
	args.outcome = dsm_segment_handle(seg);
	if (!rb_verifier_start(&args, MyProcPid, &handle, false))
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a verifier worker"),
				 errhint("Raise max_worker_processes, or wait for running workers to finish.")));

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	PG_TRY();
	{
		for (;;)
		{
			pid_t		pid;
			long		left;

			if (GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED)
			{
				stopped = true;
				break;
			}
			left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (left <= 0)
				break;
			(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
							 Min(left, 1000L), PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_CATCH();
	{
		/* cancelled: the worker must not outlive the request */
		TerminateBackgroundWorker(handle);
		PG_RE_THROW();
	}
	PG_END_TRY();

	if (!stopped)
	{
		/* its scratch database and temporary files are gone when this returns */
		TerminateBackgroundWorker(handle);
		(void) WaitForBackgroundWorkerShutdown(handle);
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("verification of backup %lld did not finish within the timeout", (long long) id),
				 errdetail("The verifier worker was terminated; the backup's verify status is unchanged."),
				 errhint("Pass a longer timeout: ripple_backup_verify(%lld, '%s', timeout => '2 hours').",
						 (long long) id, level_name)));
	}
	pg_read_barrier();
	memcpy(&result, outcome, sizeof(result));
	dsm_detach(seg);
	if (!result.done)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("the verifier worker of backup %lld exited without a result", (long long) id),
				 result.error[0] ? errdetail("%s", result.error) : errdetail("See the server log.")));
	if (!result.verified)
		ereport(NOTICE,
				(errmsg("backup %lld failed verification at level %s", (long long) id, level_name),
				 errdetail("%s", result.error)));
	PG_RETURN_TEXT_P(cstring_to_text(result.verified ? "verified" : "failed"));
}
