/*
 * cron.h — cron schedules: parsing the classic five fields and computing the next
 * fire time on a time zone's wall clock.
 *
 * Syntax: "minute hour day-of-month month day-of-week", each field a list of
 * elements separated by commas; an element is `*`, a value or a range `a-b`,
 * optionally followed by a step `/n` (`*\/15`, `1-5/2`; `5/10` means 5 to the
 * field's maximum in steps of 10).  Months and weekdays take three-letter English
 * names in any case (jan-dec, sun-sat; `fri-sun` runs to Sunday); Sunday is 0 or 7.
 * Shortcuts: @yearly @annually @monthly @weekly @daily @midnight @hourly.
 * Vixie cron's rule: when both day fields are restricted (neither starts with `*`),
 * a day matches when either of them matches; otherwise both must match.
 *
 * Time zones: the schedule is read on the zone's wall clock.  A wall-clock time
 * skipped by a spring-forward gap fires at the instant the gap ends; a time that
 * happens twice when the clocks fall back fires once, at its first occurrence.
 *
 * The zone's rules are not read here: the host hands in a small table of
 * conversions (rb_tz).  The backend fills it with PostgreSQL's own time-zone
 * library (pg_localtime, pg_next_dst_boundary), so a schedule's zone is whatever
 * SET TimeZone accepts; unit tests fill it with simple fixed rules.
 */
#ifndef RB_CRON_H
#define RB_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "rb_error.h"

/*
 * A time zone as the next-fire computation sees it.  Instants are seconds since
 * 1970-01-01 00:00:00 UTC; both functions return 0 on success and -1 when the
 * instant is beyond what the zone can convert.
 */
typedef struct rb_tz
{
	/* *offset: the wall clock's offset from UTC at instant t, seconds east of UTC */
	int			(*utc_offset) (const void *zone, int64_t t, int32_t *offset);

	/*
	 * *change: the first instant after t at which the offset may change, or
	 * INT64_MAX when it never changes after t.  Reporting an instant at which the
	 * offset stays the same is allowed.
	 */
	int			(*next_change) (const void *zone, int64_t t, int64_t *change);
	const void *zone;			/* the host's zone, passed back to both */
} rb_tz;

/* Coordinated Universal Time: offset 0, no changes. */
extern const rb_tz rb_tz_utc;

/* A parsed schedule: plain bit sets, no pointers (may be copied and stored). */
typedef struct rb_cron
{
	uint64_t	minutes;		/* bit m: minute m, 0-59 */
	uint32_t	hours;			/* bit h: hour h, 0-23 */
	uint32_t	mdays;			/* bit d: day of month d, 1-31 */
	uint16_t	months;			/* bit m: month m, 1-12 */
	uint8_t		wdays;			/* bit w: weekday w, 0-6, Sunday = 0 (7 folded onto 0) */
	bool		mday_star;		/* the day-of-month field starts with '*' */
	bool		wday_star;		/* the day-of-week field starts with '*' */
} rb_cron;

/*
 * Parses `text`.  On failure returns -1 with RB_ERR_INVALID and a message pointing
 * at the field, e.g. `invalid cron schedule "61 * * * *": minute 61 is out of range
 * 0-59`.  A schedule that can never fire (`0 0 30 2 *`) is refused as well.
 */
int			rb_cron_parse(const char *text, rb_cron *out, rb_error *err);

/* Does the wall-clock minute (year, month 1-12, day 1-31, hour, minute) match? */
bool		rb_cron_matches(const rb_cron *c, int64_t year, int month, int day,
							int hour, int minute);

/*
 * The first fire time strictly after `after`, as seen on the wall clock of tz (see
 * above for DST).  `after` must lie in the years 1 to 9999 (RB_ERR_INVALID
 * otherwise).  The search spans at most 400 years, which is enough for every
 * schedule rb_cron_parse accepts.  A conversion the zone refuses gives
 * RB_ERR_INVALID.
 */
int			rb_cron_next(const rb_cron *c, const rb_tz *tz, time_t after, time_t *next,
						 rb_error *err);

/* Proleptic Gregorian calendar arithmetic (month 1-12, day 1-31; any year). */
int64_t		rb_days_from_civil(int64_t year, int month, int day);
void		rb_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
bool		rb_is_leap_year(int64_t year);
int			rb_days_in_month(int64_t year, int month);
/* Day of the week of a day number (days since 1970-01-01): 0 = Sunday. */
int			rb_weekday_from_days(int64_t days);

#endif							/* RB_CRON_H */
