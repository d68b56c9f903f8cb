/*
 * time_zone.h — time zones for cron schedules from PostgreSQL's own time-zone
 * library: fills src/core's conversion table (cron.h's rb_tz) with pg_localtime
 * and pg_next_dst_boundary, for any zone SET TimeZone accepts.
 */
#ifndef RB_TIME_ZONE_H
#define RB_TIME_ZONE_H

#include "cron.h"

/*
 * The conversion table of the zone `name`, which is accepted exactly when
 * SET TimeZone would accept it (IANA names in any case, POSIX zones such as
 * "UTC+3" or "CET-1CEST,M3.5.0,M10.5.0/3", hours such as "-8", INTERVAL '...').
 * Raises ERROR (invalid_parameter_value) otherwise.  Zones are kept for the life
 * of the process by PostgreSQL, so the table stays valid.
 */
rb_tz		rb_time_zone(const char *name);

#endif							/* RB_TIME_ZONE_H */
