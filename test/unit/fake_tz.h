/*
 * fake_tz.h — time zones with simple fixed rules for the cron tests (unit tests
 * and the fuzzer), filling the conversion table that cron.h takes from its host.
 *
 * A zone is a standard offset, optionally a daylight offset and two POSIX-style
 * "Mm.w.0/time" rules (the w-th Sunday of month m, w = 5 meaning the last, at a
 * wall-clock time read in the offset in force before the change), applied every
 * year.  That is enough to reproduce today's rules of Europe/Berlin,
 * America/New_York and Australia/Lord_Howe (a 30-minute shift, summer across the
 * new year), and to test gaps and repeated times; the real zone data is
 * PostgreSQL's and is tested against PostgreSQL in test/t/036_cron_zones.pl.
 */
#ifndef RB_FAKE_TZ_H
#define RB_FAKE_TZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cron.h"

typedef struct fake_rule
{
	int			month;			/* 1-12 */
	int			week;			/* 1-4, or 5 for the last */
	int			local_secs;		/* wall-clock time of day of the change */
} fake_rule;

typedef struct fake_zone
{
	const char *name;
	int32_t		std_off;		/* seconds east of UTC */
	int32_t		dst_off;		/* == std_off: no daylight saving time */
	fake_rule	dst_start;
	fake_rule	dst_end;
} fake_zone;

static const fake_zone fake_zones[] = {
	{"UTC", 0, 0, {0, 0, 0}, {0, 0, 0}},
	{"Asia/Kolkata", 5 * 3600 + 1800, 5 * 3600 + 1800, {0, 0, 0}, {0, 0, 0}},
	/* EU: last Sunday of March 02:00 CET, last Sunday of October 03:00 CEST */
	{"Europe/Berlin", 3600, 7200, {3, 5, 2 * 3600}, {10, 5, 3 * 3600}},
	/* US since 2007: second Sunday of March, first Sunday of November, 02:00 */
	{"America/New_York", -5 * 3600, -4 * 3600, {3, 2, 2 * 3600}, {11, 1, 2 * 3600}},
	/* +10:30 / +11:00: first Sunday of October, first Sunday of April, 02:00 */
	{"Australia/Lord_Howe", 10 * 3600 + 1800, 11 * 3600, {10, 1, 2 * 3600}, {4, 1, 2 * 3600}},
};

/* The instant of a rule's change in `year`, given the offset in force before it. */
static inline int64_t
fake_rule_instant(const fake_rule *r, int64_t year, int32_t before_off)
{
	int64_t		first = rb_days_from_civil(year, r->month, 1);
	int			sunday = (7 - rb_weekday_from_days(first)) % 7;	/* day offset of the 1st Sunday */
	int64_t		day = first + sunday + 7 * (r->week - 1);

	if (r->week == 5)
		while (day - first >= rb_days_in_month(year, r->month))
			day -= 7;
	return day * 86400 + r->local_secs - before_off;
}

/* Is daylight saving time in force at t? */
static inline bool
fake_in_dst(const fake_zone *z, int64_t t)
{
	int64_t		year;
	int			month,
				day;
	int64_t		start,
				end;
	int64_t		days = (t + z->std_off) / 86400 - ((t + z->std_off) % 86400 < 0);

	if (z->dst_off == z->std_off)
		return false;
	rb_civil_from_days(days, &year, &month, &day);
	start = fake_rule_instant(&z->dst_start, year, z->std_off);
	end = fake_rule_instant(&z->dst_end, year, z->dst_off);
	if (start < end)
		return t >= start && t < end;
	return t < end || t >= start;	/* summer across the new year */
}

static inline int
fake_utc_offset(const void *zone, int64_t t, int32_t *offset)
{
	const fake_zone *z = zone;

	*offset = fake_in_dst(z, t) ? z->dst_off : z->std_off;
	return 0;
}

static inline int
fake_next_change(const void *zone, int64_t t, int64_t *change)
{
	const fake_zone *z = zone;
	int64_t		year;
	int			month,
				day;
	int64_t		best = INT64_MAX;
	int64_t		y;

	if (z->dst_off == z->std_off)
	{
		*change = INT64_MAX;
		return 0;
	}
	rb_civil_from_days((t + z->std_off) / 86400 - ((t + z->std_off) % 86400 < 0),
					   &year, &month, &day);
	for (y = year; y <= year + 1; y++)
	{
		int64_t		s = fake_rule_instant(&z->dst_start, y, z->std_off);
		int64_t		e = fake_rule_instant(&z->dst_end, y, z->dst_off);

		if (s > t && s < best)
			best = s;
		if (e > t && e < best)
			best = e;
	}
	*change = best;
	return 0;
}

/* The conversion table of a fake zone by name; fails the test when unknown. */
static inline rb_tz
fake_tz(const char *name)
{
	size_t		i;
	rb_tz		tz = {fake_utc_offset, fake_next_change, NULL};

	for (i = 0; i < sizeof(fake_zones) / sizeof(fake_zones[0]); i++)
		if (strcmp(fake_zones[i].name, name) == 0)
			tz.zone = &fake_zones[i];
	if (tz.zone == NULL)
		abort();
	return tz;
}

/* Wall clock of instant t in a fake zone, as gmtime_r shows it (with tm_gmtoff). */
static inline void
fake_localtime(const rb_tz *tz, time_t t, struct tm *tm)
{
	int32_t		off;
	time_t		wall;

	tz->utc_offset(tz->zone, (int64_t) t, &off);
	wall = t + off;
	gmtime_r(&wall, tm);
	tm->tm_gmtoff = off;
}

#endif							/* RB_FAKE_TZ_H */
