/*
 * drill.c — restore drills (see drill.h): the setting ripple_backup.drill_schedule,
 * the next drill time (kept by the launcher, recomputed when the schedule
 * changes) and the start of a restore-level verifier for the latest succeeded
 * logical backup, and for the latest base backup, when a drill is due; and
 * ripple_backup.drill_directory, where a base backup's drill unpacks its copy.
 * Schedules are read in UTC.
 */
#include "postgres.h"

#include <string.h>
#include <time.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "base_drill.h"
#include "cron.h"
#include "drill.h"
#include "verifier.h"
#include "verify.h"

#define RB_DRILL_MIN_NAP_MS 100

char	   *rb_guc_drill_schedule = NULL;
char	   *rb_guc_drill_directory = NULL;
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

static bool
check_drill_directory(char **newval, void **extra, GucSource source)
{
	rb_error	err;

	(void) extra;
	(void) source;
	if (*newval == NULL || (*newval)[0] == '\0')
		return true;			/* refused when a drill of a base backup runs */
	rb_error_clear(&err);
	if (rb_base_drill_check_directory(*newval, &err) != 0)
	{
		GUC_check_errdetail("%s", err.msg);
		return false;
	}
	if (DataDir != NULL && path_is_prefix_of_path(DataDir, *newval))
	{
		GUC_check_errdetail("The drill directory must not be inside the data directory, which base backups copy.");
		return false;
	}
	return true;
}

/* "<parent of the data directory>/ripple_backup_drill", or "" when the data directory is not known yet. */
static const char *
default_drill_directory(void)
{
	char		dir[MAXPGPATH];

	if (DataDir == NULL)
		return "";
	strlcpy(dir, DataDir, sizeof(dir));
	get_parent_directory(dir);
	if (dir[0] == '\0' || strcmp(dir, "/") == 0)
		return "";
	return psprintf("%s/ripple_backup_drill", dir);
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
	DefineCustomStringVariable("ripple_backup.drill_directory",
							   "Directory in which the restore drill of a base backup unpacks its scratch copy of the cluster.",
							   "It needs room for the whole cluster and its WAL since the backup; never inside the data directory. The default is ripple_backup_drill beside the data directory.",
							   &rb_guc_drill_directory, default_drill_directory(),
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_drill_directory, NULL, NULL);
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

/* The latest succeeded backup of a kind ('logical', 'physical'), 0 when there is none. */
static int64
latest_succeeded(const char *kind)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(kind)};
	int64		id = 0;

	SPI_connect();
	if (SPI_execute_with_args("SELECT id FROM ripple_backup.backups WHERE status = 'succeeded' AND kind = $1"
							  " ORDER BY finished_at DESC, id DESC LIMIT 1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed > 0)
	{
		bool		isnull;

		id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	return id;
}

/* Starts the restore-level verifier of backup id as a drill. */
static void
start_drill_of(int64 id, const char *what)
{
	RbVerifyArgs args;

	memset(&args, 0, sizeof(args));
	args.backup_id = id;
	args.level = RB_VERIFY_RESTORE;
	args.drill = true;
	/* no caller waits: the verifier stops itself after drill_timeout */
	args.timeout_ms = (int64) rb_guc_drill_timeout * 1000;
	if (!rb_verifier_start(&args, 0, NULL, false))
		ereport(LOG,
				(errmsg("ripple_backup: could not start the restore drill of %s %lld (no free worker slot)",
						what, (long long) id)));
	else
		ereport(LOG, (errmsg("ripple_backup: restore drill of %s %lld started", what, (long long) id)));
}

/*
 * The drill of the latest logical backup, and of the latest base backup when
 * there is one (base_drill.h: it restores the cluster and replays WAL).
 */
static void
start_drill(void)
{
	int64		id = latest_succeeded("logical");
	int64		base = latest_succeeded("physical");

	if (id == 0 && base == 0)
	{
		ereport(LOG, (errmsg("ripple_backup: restore drill skipped: no backup has succeeded yet")));
		return;
	}
	if (id != 0)
		start_drill_of(id, "backup");
	if (base != 0)
		start_drill_of(base, "base backup");
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
