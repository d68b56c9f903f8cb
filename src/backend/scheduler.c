/*
 * scheduler.c — the launcher's side of scheduled jobs (see scheduler.h).  The
 * firing rules (one fire per due time, no overlap, catch-up once) are in SQL,
 * ripple_backup.run_due_jobs(), where they act on the rows under one lock; this
 * file calls it, computes the nap, prunes history and defines the settings.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "scheduler.h"
#include "worker_common.h"

#define RB_PRUNE_INTERVAL_MS (3600 * 1000)	/* prune history about once an hour */
#define RB_MIN_NAP_MS 100				/* never spin on a job that cannot fire now */

bool		rb_guc_catch_up = true;
int			rb_guc_history_days = 90;

static TimestampTz last_prune = 0;

void
rb_scheduler_define_gucs(void)
{
	DefineCustomBoolVariable("ripple_backup.catch_up",
							 "Run a scheduled backup missed while the server was down once at start-up.",
							 "Off: fires missed before the launcher started are recorded as skipped.",
							 &rb_guc_catch_up, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.history_days",
							"Days after which skipped fires, failed backups and notification records are pruned from the catalog.",
							"Rows of succeeded backups are never pruned; 0 keeps everything.",
							&rb_guc_history_days, 90, 0, 36500,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
}

/* The work, without error handling: SPI calls in the current (sub)transaction. */
static int
run_due(bool first, long *nap_ms, TimestampTz now)
{
	Oid			argtypes[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	int			queued = 0;
	int			rc;

	values[0] = TimestampTzGetDatum(now);
	values[1] = TimestampTzGetDatum(now);
	if (!(first && !rb_guc_catch_up))
		nulls[1] = 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "ripple_backup: SPI_connect failed");
	rc = SPI_execute_with_args("SELECT ripple_backup.run_due_jobs($1, $2)",
							   2, argtypes, values, nulls, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "ripple_backup: firing due jobs failed: %s", SPI_result_code_string(rc));
	queued = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));

	rc = SPI_execute("SELECT min(next_run) FROM ripple_backup.jobs WHERE active", true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "ripple_backup: reading the next fire time failed: %s", SPI_result_code_string(rc));
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			TimestampTz next = DatumGetTimestampTz(d);
			/* wake at the fire time, rounded up to the millisecond */
			int64		ms = (next - now + 999) / 1000;

			if (ms < RB_MIN_NAP_MS)
				ms = RB_MIN_NAP_MS;
			if (ms < *nap_ms)
				*nap_ms = (long) ms;
		}
	}

	if (rb_guc_history_days > 0 &&
		(last_prune == 0 || TimestampDifferenceExceeds(last_prune, now, RB_PRUNE_INTERVAL_MS)))
	{
		Oid			pargtypes[1] = {INT4OID};
		Datum		pvalues[1] = {Int32GetDatum(rb_guc_history_days)};
		int64		pruned;

		rc = SPI_execute_with_args("SELECT ripple_backup.prune_history($1)",
								   1, pargtypes, pvalues, NULL, false, 1);
		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "ripple_backup: pruning history failed: %s", SPI_result_code_string(rc));
		pruned = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		if (pruned > 0)
			ereport(LOG,
					(errmsg("ripple_backup: pruned %lld record(s) of skipped fires, failed backups and notifications older than %d days",
							(long long) pruned, rb_guc_history_days)));
		last_prune = now;
	}
	SPI_finish();
	return queued;
}

typedef struct RunDueArgs
{
	bool		first;
	long	   *nap_ms;
	TimestampTz now;
	int			queued;
} RunDueArgs;

static void
run_due_step(void *arg)
{
	RunDueArgs *a = (RunDueArgs *) arg;

	a->queued = run_due(a->first, a->nap_ms, a->now);
}

int
rb_scheduler_run_due(bool first, long *nap_ms)
{
	RunDueArgs	a = {first, nap_ms, GetCurrentTimestamp(), 0};
	char	   *err;

	/* a subtransaction: a failure here must not stop the launcher's other work */
	if (rb_worker_try(run_due_step, &a, &err))
		return a.queued;
	ereport(LOG,
			(errmsg("ripple_backup: could not fire the scheduled jobs: %s", err)));
	pfree(err);
	return 0;
}
