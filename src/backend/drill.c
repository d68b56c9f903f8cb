/*
 * drill.c — restore drills (see drill.h): the setting ripple_backup.drill_schedule,
 * the next drill time (kept by the launcher, recomputed when the schedule
 * changes) and the start of a restore-level verifier for the latest succeeded
 * backup when a drill is due.  Schedules are read in UTC.
 */
#include "postgres.h"

#include <string.h>
#include <time.h>

#include "executor/spi.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "drill.h"
#include "verifier.h"
#include "verify.h"

#define RB_DRILL_MIN_NAP_MS 100

char	   *rb_guc_drill_schedule = NULL;
static int	rb_guc_drill_timeout = 6 * 3600;	/* seconds */

/* the launcher's plan: for which schedule text, and when */
static char *planned_schedule = NULL;
static bool drill_planned = false;
static time_t next_drill = 0;

static bool
check_drill_schedule(char **newval, void **extra, GucSource source)
{
	rb_cron		c;
	rb_error	err;

	(void) extra;
	(void) source;
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	rb_error_clear(&err);
	if (rb_cron_parse(*newval, &c, &err) != 0)
	{
		GUC_check_errdetail("%s", err.msg);
		return false;
	}
	return true;
}

void
rb_drill_define_gucs(void)
{
	DefineCustomStringVariable("ripple_backup.drill_schedule",
							   "Cron schedule (UTC) of the restore drill that verifies the latest backup at restore level; empty disables drills.",
							   NULL,
							   &rb_guc_drill_schedule, "0 4 1 * *",
							   PGC_SIGHUP, 0, check_drill_schedule, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.drill_timeout",
							"Longest a restore drill may run before it is stopped and recorded as failed.",
							"Nobody waits for a drill, so this is what ends one whose restore never finishes (a restored function that sleeps, a lock that is never granted).",
							&rb_guc_drill_timeout, 6 * 3600, 1, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

/* Recomputes next_drill from now when the schedule text changed; false = no drills. */
static bool
plan(time_t now)
{
	const char *text = rb_guc_drill_schedule ? rb_guc_drill_schedule : "";
	rb_cron		c;
	rb_error	err;

	if (planned_schedule != NULL && strcmp(planned_schedule, text) == 0)
		return drill_planned;
	if (planned_schedule != NULL)
		pfree(planned_schedule);
	planned_schedule = MemoryContextStrdup(TopMemoryContext, text);
	drill_planned = false;
	if (text[0] == '\0')
		return false;
	rb_error_clear(&err);
	if (rb_cron_parse(text, &c, &err) != 0 || rb_cron_next(&c, &rb_tz_utc, now, &next_drill, &err) != 0)
	{
		ereport(LOG, (errmsg("ripple_backup: restore drills disabled: %s", err.msg)));
		return false;
	}
	drill_planned = true;
	return true;
}

/* The latest succeeded backup, 0 when there is none. */
static int64
latest_succeeded(void)
{
	int64		id = 0;

	SPI_connect();
	if (SPI_execute("SELECT id FROM ripple_backup.backups WHERE status = 'succeeded' AND kind = 'logical'"
					" ORDER BY finished_at DESC, id DESC LIMIT 1", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");
	if (SPI_processed > 0)
	{
		bool		isnull;

		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	return id;
}

static void
start_drill(void)
{
	RbVerifyArgs args;
	int64		id = latest_succeeded();

	if (id == 0)
	{
		ereport(LOG, (errmsg("ripple_backup: restore drill skipped: no backup has succeeded yet")));
		return;
	}
	memset(&args, 0, sizeof(args));
	args.backup_id = id;
	args.level = RB_VERIFY_RESTORE;
	args.drill = true;
	/* no caller waits: the verifier stops itself after drill_timeout */
	args.timeout_ms = (int64) rb_guc_drill_timeout * 1000;
	if (!rb_verifier_start(&args, 0, NULL, false))
		ereport(LOG,
				(errmsg("ripple_backup: could not start the restore drill of backup %lld (no free worker slot)",
						(long long) id)));
	else
		ereport(LOG, (errmsg("ripple_backup: restore drill of backup %lld started", (long long) id)));
}

long
rb_drill_run_due(long nap_ms)
{
	time_t		now = time(NULL);
	int64		ms;

	if (!plan(now))
		return nap_ms;
	if (now >= next_drill)
	{
		rb_error	err;
		rb_cron		c;

		start_drill();
		rb_error_clear(&err);
		if (rb_cron_parse(planned_schedule, &c, &err) != 0 ||
			rb_cron_next(&c, &rb_tz_utc, now, &next_drill, &err) != 0)
		{
			ereport(LOG, (errmsg("ripple_backup: restore drills disabled: %s", err.msg)));
			drill_planned = false;
			return nap_ms;
		}
	}
	ms = ((int64) (next_drill - now)) * 1000;
	if (ms < RB_DRILL_MIN_NAP_MS)
		ms = RB_DRILL_MIN_NAP_MS;
	return Min(nap_ms, (long) ms);
}
