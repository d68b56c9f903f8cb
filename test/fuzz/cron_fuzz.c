/*
 * cron_fuzz.c — libFuzzer harness for the cron parser and next-fire computation
 * (src/core/cron.c).  Any input is parsed; a refusal must be a
 * well-formed RB_ERR_INVALID message.  An accepted schedule must have non-empty,
 * in-range sets, and in UTC and a zone with Europe/Berlin's rules (the fixed-rule
 * zones of test/unit/fake_tz.h) a chain of next fire times must
 * succeed, each strictly after the previous one, each a real fire of the schedule
 * on the local wall clock (a matching minute at its first occurrence, or the end
 * of a DST gap that swallowed a matching minute), and no fire may lie between.
 * Error messages of valid UTF-8 input stay valid UTF-8.  Violations abort, which
 * libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "../unit/fake_tz.h"

#define MAX_INPUT 512
#define GAP_CHECK_MINUTES 90	/* minutes after `after` checked to have no fire */

static rb_tz zones[2];

static void
die(const char *what, const char *text, long long a, long long b)
{
	fprintf(stderr, "cron_fuzz: %s: schedule \"%s\" (%lld, %lld)\n", what, text, a, b);
	abort();
}

static bool
matches_local(const rb_cron *c, int64_t local)
{
	int64_t		days = local / 86400 - (local % 86400 < 0);
	int64_t		secs = local - days * 86400;
	int64_t		year;
	int			month,
				day;

	rb_civil_from_days(days, &year, &month, &day);
	return rb_cron_matches(c, year, month, day, (int) (secs / 3600), (int) (secs % 3600 / 60));
}

static int32_t
offset_at(const rb_tz *tz, int64_t t)
{
	int32_t		off;

	tz->utc_offset(tz->zone, t, &off);
	return off;
}

/* Is t the first instant whose wall clock shows `local` (a fake zone has two offsets)? */
static bool
first_occurrence(const rb_tz *tz, int64_t local, time_t t)
{
	const fake_zone *z = tz->zone;
	int64_t		other = local - (offset_at(tz, t) == z->std_off ? z->dst_off : z->std_off);

	return !(other < (int64_t) t && other + offset_at(tz, other) == local);
}

/* Does the schedule fire at instant t (see the file comment)? */
static bool
fires(const rb_cron *c, const rb_tz *tz, time_t t)
{
	int32_t		off = offset_at(tz, t);
	int32_t		off_before = offset_at(tz, t - 1);
	int64_t		local = (int64_t) t + off;

	if (local % 60 == 0 && matches_local(c, local) && first_occurrence(tz, local, t))
		return true;
	if (off_before < off)
	{
		/* a gap ends at t: the wall minutes [t + before, t + after) were skipped */
		int64_t		w;

		for (w = (int64_t) t + off_before; w < (int64_t) t + off; w++)
			if (w % 60 == 0 && matches_local(c, w))
				return true;
	}
	return false;
}

/* Is s valid UTF-8 (every sequence complete)? */
static bool
utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		int			n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 :
			(*p & 0xF8) == 0xF0 ? 3 : -1;

		if (n < 0)
			return false;
		p++;
		while (n-- > 0)
			if ((*p++ & 0xC0) != 0x80)
				return false;
	}
	return true;
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const time_t starts[] = {
		1711846800 - 5400,		/* Berlin spring forward 2024, 90 min before */
		1729990800 - 7200,		/* Berlin fall back 2024, 2 h before */
		1729990800 + 600,		/* inside the repeated hour */
		1767225599,				/* 2025-12-31 23:59:59 */
		4078598400 - 3600,		/* 2099-03-29, spring forward */
		951782400,				/* 2000-02-29 */
		-62135596800LL,			/* 0001-01-01 */
		253402300799LL - 86400, /* 9999-12-30 */
	};
	char		text[MAX_INPUT + 1];
	rb_cron		c;
	rb_error	err;
	int			z;

	if (zones[0].zone == NULL)
	{
		zones[0] = fake_tz("UTC");
		zones[1] = fake_tz("Europe/Berlin");
	}
	if (size > MAX_INPUT)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	memset(&err, 0, sizeof(err));
	if (rb_cron_parse(text, &c, &err) != 0)
	{
		if (err.code != RB_ERR_INVALID ||
			strncmp(err.msg, "invalid cron schedule \"", 23) != 0 ||
			strlen(err.msg) >= RB_ERROR_MSG_LEN)
			die("malformed error", text, err.code, 0);
		/* quoting cuts text short, but never inside a UTF-8 sequence */
		if (utf8_valid(text) && !utf8_valid(err.msg))
			die("error message is not valid UTF-8", text, 0, 0);
		return 0;
	}
	if (c.minutes == 0 || (c.minutes >> 60) != 0 || c.hours == 0 || (c.hours >> 24) != 0 ||
		(c.mdays & 1) != 0 || c.mdays == 0 || c.months == 0 || (c.months & 1) != 0 ||
		(c.months >> 13) != 0 || c.wdays == 0 || (c.wdays >> 7) != 0)
		die("set out of range", text, 0, 0);

	for (z = 0; z < 2; z++)
	{
		time_t		after = starts[size % (sizeof(starts) / sizeof(starts[0]))];
		int			k;

		for (k = 0; k < 3; k++)
		{
			time_t		next;
			time_t		t;

			if (rb_cron_next(&c, &zones[z], after, &next, &err) != 0)
			{
				/* only the end of the supported range may stop the chain */
				if (after > 253402300799LL)
					break;
				die(err.msg, text, (long long) after, 0);
			}
			if (next <= after)
				die("next not after", text, (long long) after, (long long) next);
			if (!fires(&c, &zones[z], next))
				die("next is no fire", text, (long long) after, (long long) next);
			/* nothing fires in between (checked for the first minutes) */
			for (t = after - ((after % 60) + 60) % 60 + 60;
				 t < next && t <= after + GAP_CHECK_MINUTES * 60; t += 60)
				if (fires(&c, &zones[z], t))
					die("earlier fire skipped", text, (long long) after, (long long) t);
			after = next;
		}
	}
	return 0;
}
