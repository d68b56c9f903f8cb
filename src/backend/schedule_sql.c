/*
 * schedule_sql.c — SQL functions over cron schedules:
 * ripple_backup_next_run(schedule, after, timezone) returns the first time the
 * schedule fires strictly after `after` on the wall clock of `timezone`.
 *
 * The work is done by src/core's cron.c, the same code the launcher uses, so what
 * this function answers is what the launcher will do.  The zone is PostgreSQL's
 * (time_zone.c): any zone SET TimeZone accepts, with the zone data the server
 * uses everywhere else; cron.c keeps the DST rules of schedules (gaps fire when
 * they end, repeated times fire once).
 */
#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "cron.h"
#include "time_zone.h"

PG_FUNCTION_INFO_V1(ripple_backup_next_run);

Datum
ripple_backup_next_run(PG_FUNCTION_ARGS)
{
	char	   *schedule = text_to_cstring(PG_GETARG_TEXT_PP(0));
	TimestampTz after = PG_GETARG_TIMESTAMPTZ(1);
	char	   *zone_name = text_to_cstring(PG_GETARG_TEXT_PP(2));
	rb_tz		tz;
	rb_cron		cron;
	rb_error	err;
	time_t		next;
	TimestampTz result;

	memset(&err, 0, sizeof(err));
	if (rb_cron_parse(schedule, &cron, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", err.msg)));
	tz = rb_time_zone(zone_name);
	if (TIMESTAMP_NOT_FINITE(after))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the time after which to look must be finite")));
	/* whole seconds, rounded down (timestamptz_to_time_t truncates towards 2000) */
	after -= ((after % USECS_PER_SEC) + USECS_PER_SEC) % USECS_PER_SEC;
	if (rb_cron_next(&cron, &tz, (time_t) timestamptz_to_time_t(after), &next, &err) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s", err.msg)));
	result = time_t_to_timestamptz((pg_time_t) next);
	if (!IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("the next fire time of cron schedule \"%s\" is out of range",
						schedule)));
	PG_RETURN_TIMESTAMPTZ(result);
}
