/*
 * time_zone.c — src/core's time-zone conversions (cron.h) done by PostgreSQL:
 * the name is checked by the check hook of the TimeZone setting itself, the
 * offset at an instant is pg_localtime's, and the instants at which it changes
 * are pg_next_dst_boundary's (what pg_cron uses as well).
 */
#include "postgres.h"

#include "commands/variable.h"
#include "pgtime.h"
#include "utils/guc.h"

#include "time_zone.h"

static int
pg_zone_utc_offset(const void *zone, int64_t t, int32_t *offset)
{
	pg_time_t	pt = (pg_time_t) t;
	struct pg_tm *tm = pg_localtime(&pt, (const pg_tz *) zone);

	if (tm == NULL)
		return -1;
	*offset = (int32_t) tm->tm_gmtoff;
	return 0;
}

static int
pg_zone_next_change(const void *zone, int64_t t, int64_t *change)
{
	pg_time_t	pt = (pg_time_t) t;
	pg_time_t	boundary;
	long int	before_off,
				after_off;
	int			before_isdst,
				after_isdst;
	int			r = pg_next_dst_boundary(&pt, &before_off, &before_isdst, &boundary,
										 &after_off, &after_isdst, (const pg_tz *) zone);

	if (r < 0)
		return -1;
	*change = r == 0 ? INT64_MAX : (int64_t) boundary;
	return 0;
}

rb_tz
rb_time_zone(const char *name)
{
	char	   *value = pstrdup(name);
	void	   *extra = NULL;
	rb_tz		tz;

	GUC_check_errmsg_string = NULL;
	GUC_check_errdetail_string = NULL;
	GUC_check_errhint_string = NULL;
	if (!check_timezone(&value, &extra, PGC_S_SESSION))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 GUC_check_errmsg_string ?
				 errmsg_internal("%s", GUC_check_errmsg_string) :
				 errmsg("time zone \"%s\" is not known", name),
				 GUC_check_errdetail_string ?
				 errdetail_internal("%s", GUC_check_errdetail_string) : 0,
				 errhint("Use a time zone that SET TimeZone accepts, such as \"UTC\", \"Europe/Berlin\" or \"UTC+3\".")));
	tz.utc_offset = pg_zone_utc_offset;
	tz.next_change = pg_zone_next_change;
	tz.zone = *(pg_tz **) extra;
	free(extra);
	pfree(value);
	return tz;
}
