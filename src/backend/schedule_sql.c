/*
 * schedule_sql.c — SQL functions over cron schedules:
 * ripple_backup_next_run(schedule, after, timezone) returns the first time the
 * schedule fires strictly after `after` on the wall clock of `timezone`.
 *
 * The work is done by src/core (cron.c, tzfile.c), the same code the launcher uses,
 * so what this function answers is what the launcher will do.  Time zones are read
 * by src/core's own TZif loader rather than PostgreSQL's pg_tzset(): src/core may
 * not use backend functions, and one loader for the SQL function, the launcher and
 * the CLI keeps the DST rules (gaps fire when they end, repeated times fire once)
 * identical everywhere.  On Debian both read the same /usr/share/zoneinfo.
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "tzfile.h"

PG_FUNCTION_INFO_V1(ripple_backup_next_run);

/* Seconds between the Unix epoch (1970) and PostgreSQL's (2000). */
#define RB_PG_EPOCH_OFFSET \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY)

/* The last zone loaded, kept for the next call (zones are immutable). */
static rb_tz *cached_zone = NULL;

static const rb_tz *
zone_by_name(const char *name)
{
	rb_tz	   *tz;
	rb_error	err;

	if (cached_zone != NULL && strcmp(rb_tz_name(cached_zone), name) == 0)
		return cached_zone;
	memset(&err, 0, sizeof(err));
	if (rb_tz_load(name, &tz, &err) != 0)
		ereport(ERROR,
				(errcode(err.code == RB_ERR_NOMEM ? ERRCODE_OUT_OF_MEMORY
						 : ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err.msg),
				 errhint("Use an IANA time zone name such as \"UTC\" or \"Europe/Berlin\".")));
	rb_tz_free(cached_zone);
	cached_zone = tz;
	return tz;
}

/* Whole seconds since 1970 of a finite timestamptz, rounded down. */
static time_t
timestamptz_to_unix(TimestampTz ts)
{
	int64		secs = ts / USECS_PER_SEC;

	if (ts % USECS_PER_SEC < 0)
		secs--;
	return (time_t) (secs + RB_PG_EPOCH_OFFSET);
}

Datum
ripple_backup_next_run(PG_FUNCTION_ARGS)
{
	char	   *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	char	   *zone_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	const rb_tz *tz;
	rb_cron		cron;
	rb_error	err;
	time_t		next;
	TimestampTz result;

	memset(&err, 0, sizeof(err));
	if (rb_cron_parse(schedule, &cron, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err.msg)));
	tz = zone_by_name(zone_name);
	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the time after which to look must be finite")));
	if (rb_cron_next(&cron, tz, timestamptz_to_unix(after), &next, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s", err.msg)));
	result = (TimestampTz) (((int64) next - RB_PG_EPOCH_OFFSET) * USECS_PER_SEC);
	if (!IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the next fire time of cron schedule \"%s\" is out of range",
						schedule)));
	PG_RETURN_TIMESTAMPTZ(result);
}
