/*
 * tzfile.h — IANA time zones for schedules, read straight from the system's
 * compiled tz database (TZif files under $TZDIR or /usr/share/zoneinfo).
 *
 * Why not localtime(): it depends on the process-wide TZ variable, which must not
 * change inside a PostgreSQL backend and is not thread-safe.  An rb_tz is an
 * immutable value: explicit transitions from the TZif data (the 64-bit section of
 * version 2+ files) and the POSIX TZ rule of the footer, which decides every instant
 * after the last explicit transition (what a 'slim' tzdata build relies on).
 *
 * Local wall-clock times are handled as "local seconds": the number of seconds since
 * 1970-01-01 00:00:00 of the wall clock, computed as if it were UTC.  Leap seconds
 * are not supported (zones under right/ are refused).
 */
#ifndef RB_TZFILE_H
#define RB_TZFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rb_error.h"

typedef struct rb_tz rb_tz;

/* Longest zone name accepted (IANA names are far shorter). */
#define RB_TZ_NAME_MAX 255

/*
 * Loads the zone `name` ("Europe/Berlin", "UTC") from $TZDIR or /usr/share/zoneinfo.
 * Names that are empty, absolute, contain ".." or characters outside [A-Za-z0-9/_+-.]
 * are refused (RB_ERR_INVALID); an unknown zone gives RB_ERR_NOT_FOUND with
 * `time zone "Mars/Olympus" is not known`.  "UTC" (any case) always works, even
 * without tzdata.  On success *out must be released with rb_tz_free.
 */
int			rb_tz_load(const char *name, rb_tz **out, rb_error *err);

/* Parses TZif data from memory (for tests and fuzzing); name is only recorded. */
int			rb_tz_parse(const char *name, const unsigned char *data, size_t len,
						rb_tz **out, rb_error *err);

void		rb_tz_free(rb_tz *tz);

/* The name the zone was loaded under. */
const char *rb_tz_name(const rb_tz *tz);

/* True when the zone came with a POSIX TZ footer rule (TZif version 2+). */
bool		rb_tz_has_footer(const rb_tz *tz);

/* Number of explicit transitions in the zone's data (a 'slim' build has few). */
size_t		rb_tz_transition_count(const rb_tz *tz);

/* Offset of local time from UTC at instant t, in seconds east of UTC. */
int32_t		rb_tz_utc_offset(const rb_tz *tz, time_t t);

/* Wall clock at instant t as local seconds: t + rb_tz_utc_offset(tz, t). */
int64_t		rb_tz_to_local(const rb_tz *tz, time_t t);

/*
 * The UTC instants whose wall clock is `local` (local seconds).  Returns how many
 * there are: 0 (the time falls in a gap, e.g. spring forward), 1, or 2 (it happens
 * twice, e.g. fall back); out[] receives them in ascending order.
 */
int			rb_tz_local_to_utc(const rb_tz *tz, int64_t local, time_t out[2]);

/*
 * The instant a schedule means by wall clock `local`: its first occurrence when it
 * exists (once or twice), otherwise the first instant after the gap (the instant
 * the clocks jumped forward).  Never fails.
 */
time_t		rb_tz_resolve_local(const rb_tz *tz, int64_t local);

/* Proleptic Gregorian calendar helpers (month 1-12, day 1-31; any year). */
int64_t		rb_days_from_civil(int64_t year, int month, int day);
void		rb_civil_from_days(int64_t days, int64_t *year, int *month, int *day);
bool		rb_is_leap_year(int64_t year);
int			rb_days_in_month(int64_t year, int month);
/* Day of the week of a day number (days since 1970-01-01): 0 = Sunday. */
int			rb_weekday_from_days(int64_t days);

#endif							/* RB_TZFILE_H */
