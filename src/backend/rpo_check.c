/*
 * rpo_check.c — the launcher's RPO check (see rpo_check.h).  The rule (which
 * databases, what their RPO is, when it is breached) is SQL,
 * ripple_backup.rpo_state(), shared with ripple_backup_health(); the
 * transitions come from ripple_backup.rpo_transitions(), which updates
 * ripple_backup.rpo_breaches under the same snapshot, so each breach and each
 * recovery is reported exactly once.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "notify_queue.h"
#include "notify_settings.h"
#include "rpo_check.h"

static int	rb_guc_rpo_check_interval_s = 60;
static TimestampTz last_check = 0;

void
rb_rpo_check_define_gucs(void)
{
	DefineCustomIntVariable("ripple_backup.rpo_check_interval",
							"How often the launcher compares each database's last successful backup with rpo_target.",
							NULL, &rb_guc_rpo_check_interval_s, 60, 1, 3600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

typedef struct Transition
{
	char		dbname[NAMEDATALEN];
	bool		breached;
} Transition;

static void
check(void *arg)
{
	Oid			argtypes[1] = {FLOAT8OID};
	Datum		values[1] = {Float8GetDatum((double) rb_guc_rpo_target_s)};
	Transition *t;
	uint64		n;
	int			rc;

	(void) arg;
	rc = SPI_execute_with_args("SELECT dbname::text, breached"
							   "  FROM ripple_backup.rpo_transitions(pg_catalog.make_interval(secs => $1))",
							   1, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "checking the RPO failed: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	t = palloc(sizeof(Transition) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		strlcpy(t[i].dbname, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1),
				NAMEDATALEN);
		t[i].breached = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc,
												   2, &isnull));
	}
	for (uint64 i = 0; i < n; i++)
	{
		if (t[i].breached)
			ereport(LOG,
					(errmsg("ripple_backup: the recovery point objective of database \"%s\" is breached",
							t[i].dbname),
					 errdetail("Its last successful backup is older than ripple_backup.rpo_target (%d s), or it has none.",
							   rb_guc_rpo_target_s)));
		else
			ereport(LOG,
					(errmsg("ripple_backup: the recovery point objective of database \"%s\" is met again",
							t[i].dbname)));
		rb_notify_rpo(t[i].dbname, t[i].breached);
	}
}

long
rb_rpo_check_run(long nap_ms)
{
	TimestampTz now = GetCurrentTimestamp();
	int64		interval_ms = (int64) rb_guc_rpo_check_interval_s * 1000;
	int64		left;

	if (last_check == 0 || TimestampDifferenceExceeds(last_check, now, (int) interval_ms))
	{
		rb_notify_guarded(check, NULL, "the RPO check");
		last_check = now;
	}
	left = interval_ms - (now - last_check) / 1000;
	if (left < 100)
		left = 100;
	return Min(nap_ms, (long) left);
}
