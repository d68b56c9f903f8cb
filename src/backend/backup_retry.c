/*
 * backup_retry.c — backup-level retries (see backup_retry.h).
 *
 * The attempt number and the earlier attempts' errors live in the backup's own
 * row (attempt, previous_errors); while it waits for a retry the row is
 * 'queued' with retry_at set, and the launcher claims it only once retry_at has
 * passed, so ripple_backup_wait() and ripple_backup.progress see the retry.
 */
#include "postgres.h"

#include <limits.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "backup_retry.h"
#include "backup_retry_class.h"
#include "worker_common.h"

int			rb_guc_backup_retries = 2;
int			rb_guc_backup_retry_delay_s = 60;

void
rb_backup_retry_define_gucs(void)
{
	DefineCustomIntVariable("ripple_backup.backup_retries",
							"How many times a backup that failed for a transient reason is tried again.",
							"Transient: storage unreachable or failing after the request retries, the circuit breaker open, a timeout, pg_dump refused by a full, starting or stopping server. Other failures are never retried.",
							&rb_guc_backup_retries, 2, 0, 100,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.backup_retry_delay",
							"Wait before the first retry of a failed backup; it doubles for each further retry.",
							NULL,
							&rb_guc_backup_retry_delay_s, 60, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

typedef struct RequeueArgs
{
	const RbRunnerSlot *result;
	bool		requeued;
} RequeueArgs;

/* The delay before retry number n (1, 2, ...): backup_retry_delay × 2^(n-1), capped at a day. */
static int64
retry_delay_s(int n)
{
	int64		d = rb_guc_backup_retry_delay_s;

	for (int i = 1; i < n && d < 86400; i++)
		d *= 2;
	return Min(d, 86400);
}

static void
requeue_step(void *arg)
{
	RequeueArgs *a = (RequeueArgs *) arg;
	const RbRunnerSlot *r = a->result;
	Oid			argtypes[3] = {INT8OID, TEXTOID, INT4OID};
	Datum		values[3];
	bool		isnull;
	int			attempt;
	int64		delay;
	int			rc;

	values[0] = Int64GetDatum(r->backup_id);
	values[1] = CStringGetTextDatum(r->error);
	values[2] = Int32GetDatum(rb_guc_backup_retries + 1);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("SELECT attempt FROM ripple_backup.backups"
							   " WHERE id = $1 AND status = 'running' AND attempt < $3"
							   "   AND $2 IS NOT NULL",
							   3, argtypes, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the attempt of a backup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed != 1)
	{
		SPI_finish();
		return;
	}
	attempt = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	delay = retry_delay_s(attempt);
	values[2] = Int32GetDatum((int32) delay);
	rc = SPI_execute_with_args("UPDATE ripple_backup.backups"
							   "   SET status = 'queued', attempt = attempt + 1,"
							   "       previous_errors = pg_catalog.array_append(previous_errors, $2),"
							   "       retry_at = pg_catalog.now() + pg_catalog.make_interval(secs => $3),"
							   "       started_at = NULL, pid = NULL"
							   " WHERE id = $1 AND status = 'running'",
							   3, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "queueing a backup for a retry failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	ereport(LOG,
			(errmsg("ripple_backup: backup %lld of \"%s\" failed (%s), retrying in %lld s (attempt %d of %d)",
					(long long) r->backup_id, r->dbname, r->error, (long long) delay,
					attempt + 1, rb_guc_backup_retries + 1)));
	a->requeued = true;
}

bool
rb_backup_retry_requeue(const RbRunnerSlot *result)
{
	RequeueArgs a = {result, false};
	char	   *err;

	/*
	 * Started early for ripple_backup_wait() in the transaction that queued it
	 * (requester_xid): that call has already returned this outcome, so it stays.
	 */
	if (result->succeeded || rb_guc_backup_retries <= 0 ||
		TransactionIdIsValid(result->requester_xid) ||
		!rb_backup_failure_is_transient(result->error))
		return false;
	if (!rb_worker_try(requeue_step, &a, &err))
	{
		ereport(LOG,
				(errmsg("ripple_backup: backup %lld could not be queued for a retry: %s",
						(long long) result->backup_id, err)));
		pfree(err);
		return false;
	}
	return a.requeued;
}

long
rb_backup_retry_nap(long nap)
{
	int			rc;
	bool		isnull;
	Datum		d;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute("SELECT pg_catalog.ceil(pg_catalog.date_part('epoch',"
					 " pg_catalog.min(retry_at) - pg_catalog.clock_timestamp()) * 1000)::int8"
					 "  FROM ripple_backup.backups WHERE status = 'queued' AND retry_at IS NOT NULL",
					 true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the next backup retry failed: %s", SPI_result_code_string(rc));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (!isnull)
	{
		int64		ms = DatumGetInt64(d);

		/* a little after it is due: now() of the claiming transaction must have passed it */
		ms = Max(ms, 0) + 50;
		if (ms < nap)
			nap = (long) ms;
	}
	SPI_finish();
	return nap;
}
