/*
 * test_cron.c — unit tests of src/core/cron.c: every syntax form, names and
 * Sunday-as-7, errors with their exact texts, leap years and month ends, Vixie's
 * day rule, DST in Europe/Berlin and America/New_York both ways, and a few hundred
 * randomly generated schedules (seeded, deterministic) whose parse result and next
 * fire times are checked against a minute-by-minute brute force, and the calendar
 * arithmetic.  Time zones are the fixed-rule fakes of fake_tz.h (the same rules
 * as today's Berlin, New York and Lord Howe); cron.c's agreement with PostgreSQL's
 * own zone data is tested in test/t/036_cron_zones.pl.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cron.h"
#include "fake_tz.h"

#define ALL_MINUTES ((UINT64_C(1) << 60) - 1)
#define ALL_HOURS ((UINT32_C(1) << 24) - 1)
#define ALL_MDAYS (UINT32_C(0xFFFFFFFE))
#define ALL_MONTHS ((uint16_t) 0x1FFE)
#define ALL_WDAYS ((uint8_t) 0x7F)

static time_t
utc(int y, int mo, int d, int h, int mi)
{
	return (time_t) (rb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60);
}

static rb_cron
parse_ok(const char *text)
{
	rb_cron		c;
	rb_error	err;

	memset(&err, 0, sizeof(err));
	if (rb_cron_parse(text, &c, &err) != 0)
		fail_msg("\"%s\" did not parse: %s", text, err.msg);
	return c;
}

static void
expect_error(const char *text, const char *detail)
{
	rb_cron		c;
	rb_error	err;
	char		want[RB_ERROR_MSG_LEN];

	memset(&err, 0, sizeof(err));
	snprintf(want, sizeof(want), "invalid cron schedule \"%s\": %s", text, detail);
	if (rb_cron_parse(text, &c, &err) == 0)
		fail_msg("\"%s\" parsed, expected: %s", text, want);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, want);
}

static time_t
next_ok(const char *text, const rb_tz *tz, time_t after)
{
	rb_cron		c = parse_ok(text);
	rb_error	err;
	time_t		t = 0;

	if (rb_cron_next(&c, tz, after, &t, &err) != 0)
		fail_msg("next of \"%s\" after %lld: %s", text, (long long) after, err.msg);
	assert_true(t > after);
	return t;
}

/* Checks the successive fire times of text after `after`. */
static void
expect_sequence(const char *text, const char *zone, time_t after, const time_t *want, int n)
{
	rb_tz		tz = fake_tz(zone);
	int			i;

	for (i = 0; i < n; i++)
	{
		time_t		t = next_ok(text, &tz, after);

		if (t != want[i])
			fail_msg("\"%s\" in %s, fire %d after %lld: got %lld, want %lld", text, zone,
					 i, (long long) after, (long long) t, (long long) want[i]);
		after = t;
	}
}

static uint64_t
bits(const int *v, int n)
{
	uint64_t	b = 0;
	int			i;

	for (i = 0; i < n; i++)
		b |= UINT64_C(1) << v[i];
	return b;
}

static void
test_syntax(void **state)
{
	rb_cron		c;

	c = parse_ok("* * * * *");
	assert_true(c.minutes == ALL_MINUTES && c.hours == ALL_HOURS && c.mdays == ALL_MDAYS &&
				c.months == ALL_MONTHS && c.wdays == ALL_WDAYS);
	assert_true(c.mday_star && c.wday_star);

	c = parse_ok("*/15 * * * *");
	assert_true(c.minutes == bits((int[]) {0, 15, 30, 45}, 4));
	c = parse_ok("1-5/2 */6 * * *");
	assert_true(c.minutes == bits((int[]) {1, 3, 5}, 3));
	assert_true(c.hours == bits((int[]) {0, 6, 12, 18}, 4));
	c = parse_ok("10-50/10 0 * * *");
	assert_true(c.minutes == bits((int[]) {10, 20, 30, 40, 50}, 5));
	c = parse_ok("5/10 0 * * *");
	assert_true(c.minutes == bits((int[]) {5, 15, 25, 35, 45, 55}, 6));
	c = parse_ok("0,7,59 1,2,10-12 1,15,31 * *");
	assert_true(c.minutes == bits((int[]) {0, 7, 59}, 3));
	assert_true(c.hours == bits((int[]) {1, 2, 10, 11, 12}, 5));
	assert_true(c.mdays == bits((int[]) {1, 15, 31}, 3));
	assert_false(c.mday_star);
	c = parse_ok("0 0 */10 * *");
	assert_true(c.mdays == bits((int[]) {1, 11, 21, 31}, 4));
	assert_true(c.mday_star);
	c = parse_ok("0 0 * */5 *");
	assert_true(c.months == bits((int[]) {1, 6, 11}, 3));
	c = parse_ok("05 007 * * *");	/* leading zeros */
	assert_true(c.minutes == bits((int[]) {5}, 1) && c.hours == bits((int[]) {7}, 1));
	c = parse_ok("  0\t0  *\t* *  ");	/* blanks anywhere between fields */
	assert_true(c.minutes == 1 && c.hours == 1);
	c = parse_ok("*/60 */24 */31 */12 */8");	/* steps as wide as the field */
	assert_true(c.minutes == 1 && c.hours == 1 && c.mdays == 2 && c.months == 2 && c.wdays == 1);
}

static void
test_names(void **state)
{
	rb_cron		c;

	c = parse_ok("0 0 * jan,MAR-may,Dec *");
	assert_true(c.months == bits((int[]) {1, 3, 4, 5, 12}, 5));
	c = parse_ok("0 0 * * MON-fri");
	assert_true(c.wdays == bits((int[]) {1, 2, 3, 4, 5}, 5));
	assert_false(c.wday_star);
	c = parse_ok("0 0 * * sun");
	assert_true(c.wdays == 1);
	c = parse_ok("0 0 * * 7");
	assert_true(c.wdays == 1);
	c = parse_ok("0 0 * * 0,7");
	assert_true(c.wdays == 1);
	c = parse_ok("0 0 * * 5-7");
	assert_true(c.wdays == bits((int[]) {0, 5, 6}, 3));
	c = parse_ok("0 0 * * fri-sun");
	assert_true(c.wdays == bits((int[]) {0, 5, 6}, 3));
	c = parse_ok("0 0 * * 0-7");
	assert_true(c.wdays == ALL_WDAYS);
	c = parse_ok("0 0 * * mon/2");
	assert_true(c.wdays == bits((int[]) {0, 1, 3, 5}, 4));
	c = parse_ok("0 0 * jan-dec/3 Tue");
	assert_true(c.months == bits((int[]) {1, 4, 7, 10}, 4));
	assert_true(c.wdays == bits((int[]) {2}, 1));
}

static void
test_shortcuts(void **state)
{
	static const char *const pairs[][2] = {
		{"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
		{"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"}, {"@midnight", "0 0 * * *"},
		{"@hourly", "0 * * * *"}, {"  @DAILY  ", "0 0 * * *"},
	};
	size_t		i;

	for (i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
	{
		rb_cron		a = parse_ok(pairs[i][0]);
		rb_cron		b = parse_ok(pairs[i][1]);

		if (memcmp(&a, &b, sizeof(a)) != 0)
			fail_msg("%s differs from %s", pairs[i][0], pairs[i][1]);
	}
}

/* Is s valid UTF-8 (no sequence cut short)? */
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

static void
test_errors(void **state)
{
	expect_error("61 * * * *", "minute 61 is out of range 0-59");
	expect_error("* * * *", "expected 5 fields, found 4");
	expect_error("* * * * * *", "expected 5 fields, found 6");
	expect_error("", "expected 5 fields, found 0");
	expect_error("0 0 * * funday", "day of week \"funday\" is not a number or a name");
	expect_error("0 0 * foo *", "month \"foo\" is not a number or a name");
	expect_error("abc * * * *", "minute \"abc\" is not a number");
	expect_error("-5 * * * *", "minute \"-5\" is not a number");
	expect_error("*/0 * * * *", "minute step 0 must be at least 1");
	expect_error("0 */0 * * *", "hour step 0 must be at least 1");
	expect_error("*/61 * * * *", "minute step 61 is out of range 1-60");
	expect_error("*/x * * * *", "minute step \"x\" is not a number");
	expect_error("*/ * * * *", "minute \"*/\" is incomplete");
	expect_error("1- * * * *", "minute \"1-\" is incomplete");
	expect_error("0 5-1 * * *", "hour range \"5-1\" is reversed");
	expect_error("0 0 * * sat-mon", "day of week range \"sat-mon\" is reversed");
	expect_error("1,,2 * * * *", "minute list has an empty element");
	expect_error("1, * * * *", "minute list has an empty element");
	expect_error("0 ,3 * * *", "hour list has an empty element");
	expect_error("5x * * * *", "minute \"5x\" has unexpected text \"x\"");
	expect_error("0 0 1-5x * *", "day of month \"1-5x\" has unexpected text \"x\"");
	expect_error("0 0 * * mon5", "day of week \"mon5\" is not a number or a name");
	expect_error("0 24 * * *", "hour 24 is out of range 0-23");
	expect_error("0 0 0 * *", "day of month 0 is out of range 1-31");
	expect_error("0 0 32 * *", "day of month 32 is out of range 1-31");
	expect_error("0 0 * 13 *", "month 13 is out of range 1-12");
	expect_error("0 0 * 0 *", "month 0 is out of range 1-12");
	expect_error("0 0 * * 8", "day of week 8 is out of range 0-7");
	expect_error("99999999999 * * * *", "minute 99999999999 is out of range 0-59");
	expect_error("? * * * *", "minute \"?\" is not a number");
	expect_error("0 0 L * *", "day of month \"L\" is not a number");
	expect_error("0 0 30 2 *",
				 "day of month \"30\" never occurs in February, so the schedule would never fire");
	expect_error("0 0 31 4 *",
				 "day of month \"31\" never occurs in April, so the schedule would never fire");
	expect_error("0 0 31 apr,jun,sep,nov *",
				 "day of month \"31\" never occurs in months \"apr,jun,sep,nov\", so the schedule would never fire");
	expect_error("0 0 30,31 2 */2",
				 "day of month \"30,31\" never occurs in February, so the schedule would never fire");
	expect_error("@reboot",
				 "unknown shortcut \"@reboot\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)");
	expect_error("@daily 5", "unexpected text after \"@daily\"");

	/* the OR rule keeps these alive: day of week alone can fire */
	parse_ok("0 0 30 2 mon");
	parse_ok("0 0 29 2 *");

	/* a long schedule is shortened in the message */
	{
		char		text[400];
		rb_cron		c;
		rb_error	err;

		memset(text, '1', sizeof(text));
		strcpy(text + sizeof(text) - 9, " * * * *");
		assert_int_equal(rb_cron_parse(text, &c, &err), -1);
		assert_true(strlen(err.msg) < 260);
		assert_non_null(strstr(err.msg, "...\": minute "));
		assert_int_equal(rb_cron_parse(NULL, &c, &err), -1);

		/* quoted text is cut short, never inside a UTF-8 sequence */
		strcpy(text, "0 0 * * ");
		for (int i = 0; i < 50; i++)
			strcat(text, "\xc3\xa9");	/* U+00E9 */
		assert_int_equal(rb_cron_parse(text, &c, &err), -1);
		assert_true(utf8_valid(err.msg));
		assert_non_null(strstr(err.msg, "\": day of week \"\xc3\xa9"));
		assert_true(strlen(strstr(err.msg, ": day of week")) < 100);
		memset(text, 0, sizeof(text));
		for (int i = 0; i < 100; i++)
			strcat(text, "\xe2\x82\xac");	/* U+20AC, three bytes */
		strcat(text, " * * * *");
		assert_int_equal(rb_cron_parse(text, &c, &err), -1);
		assert_true(utf8_valid(err.msg));
		assert_non_null(strstr(err.msg, "...\": minute \"\xe2\x82\xac"));
	}
}

static void
test_leap_years_and_month_ends(void **state)
{
	const rb_tz *tz = &rb_tz_utc;

	assert_int_equal(next_ok("0 0 29 2 *", tz, utc(2023, 3, 1, 0, 0)), utc(2024, 2, 29, 0, 0));
	assert_int_equal(next_ok("0 0 29 2 *", tz, utc(2024, 2, 29, 0, 0)), utc(2028, 2, 29, 0, 0));
	/* 2100 is not a leap year */
	assert_int_equal(next_ok("0 0 29 2 *", tz, utc(2096, 3, 1, 0, 0)), utc(2104, 2, 29, 0, 0));
	assert_int_equal(next_ok("0 0 29 2 *", tz, utc(1999, 1, 1, 0, 0)), utc(2000, 2, 29, 0, 0));
	assert_int_equal(next_ok("0 0 31 * *", tz, utc(2024, 4, 1, 0, 0)), utc(2024, 5, 31, 0, 0));
	assert_int_equal(next_ok("0 0 31 * *", tz, utc(2024, 1, 31, 0, 0)), utc(2024, 3, 31, 0, 0));
	assert_int_equal(next_ok("0 0 30 * *", tz, utc(2023, 1, 30, 0, 0)), utc(2023, 3, 30, 0, 0));
	assert_int_equal(next_ok("59 23 31 12 *", tz, utc(2024, 1, 1, 0, 0)), utc(2024, 12, 31, 23, 59));
	/* Feb 29 that is a Sunday (both day fields must match: "*\/7" starts with '*') */
	assert_int_equal(next_ok("0 0 29 2 */7", tz, utc(2026, 1, 1, 0, 0)), utc(2032, 2, 29, 0, 0));
	assert_int_equal(next_ok("0 0 29 2 */7", tz, utc(2032, 2, 29, 0, 0)), utc(2060, 2, 29, 0, 0));
}

static void
test_day_rule(void **state)
{
	/* both restricted: the 13th OR a Friday (2024-09-01 is a Sunday) */
	expect_sequence("0 0 13 * fri", "UTC", utc(2024, 9, 1, 0, 0),
					(time_t[]) {utc(2024, 9, 6, 0, 0), utc(2024, 9, 13, 0, 0),
					utc(2024, 9, 20, 0, 0)}, 3);
	/* day of month starts with '*': AND (1st, 14th or 27th that is a Friday) */
	expect_sequence("0 0 */13 * fri", "UTC", utc(2024, 9, 1, 0, 0),
					(time_t[]) {utc(2024, 9, 27, 0, 0), utc(2024, 11, 1, 0, 0)}, 2);
	/* Sunday as 7 and as a name (2026-11-26 is a Thursday) */
	expect_sequence("0 12 * * 7", "UTC", utc(2026, 11, 26, 0, 0),
					(time_t[]) {utc(2026, 11, 29, 12, 0), utc(2026, 12, 6, 12, 0)}, 2);
	expect_sequence("0 12 * * SUN", "UTC", utc(2026, 11, 26, 0, 0),
					(time_t[]) {utc(2026, 11, 29, 12, 0)}, 1);
	/* weekdays in the morning */
	expect_sequence("30 8 * * mon-fri", "UTC", utc(2026, 11, 27, 9, 0),
					(time_t[]) {utc(2026, 11, 30, 8, 30), utc(2026, 12, 1, 8, 30)}, 2);
}

static void
test_next_basics(void **state)
{
	const rb_tz *tz = &rb_tz_utc;
	rb_tz		berlin = fake_tz("Europe/Berlin");
	rb_cron		c = parse_ok("*/15 * * * *");
	rb_error	err;
	time_t		t;

	/* strictly after, also from a fire time and from odd seconds */
	assert_int_equal(next_ok("*/15 * * * *", tz, utc(2024, 1, 1, 0, 0)), utc(2024, 1, 1, 0, 15));
	assert_int_equal(next_ok("*/15 * * * *", tz, utc(2024, 1, 1, 0, 0) - 1), utc(2024, 1, 1, 0, 0));
	assert_int_equal(next_ok("*/15 * * * *", tz, utc(2024, 1, 1, 0, 14) + 59), utc(2024, 1, 1, 0, 15));
	assert_int_equal(next_ok("* * * * *", tz, utc(2024, 1, 1, 0, 0) + 30), utc(2024, 1, 1, 0, 1));
	assert_int_equal(next_ok("0 0 1 1 *", tz, utc(2024, 1, 1, 0, 0)), utc(2025, 1, 1, 0, 0));
	assert_int_equal(next_ok("@hourly", tz, utc(2024, 12, 31, 23, 0)), utc(2025, 1, 1, 0, 0));
	/* before 1970 too */
	assert_int_equal(next_ok("0 12 * * *", tz, utc(1950, 6, 1, 13, 0)), utc(1950, 6, 2, 12, 0));
	/* out of range */
	assert_int_equal(rb_cron_next(&c, tz, (time_t) 300000000000LL, &t, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	/* the fake UTC table gives the same answers as the built-in one */
	berlin = fake_tz("UTC");
	assert_int_equal(next_ok("0 12 * * *", &berlin, utc(1950, 6, 1, 13, 0)), utc(1950, 6, 2, 12, 0));

	/* a fixed offset that is not whole hours */
	berlin = fake_tz("Asia/Kolkata");
	assert_int_equal(next_ok("0 9 * * *", &berlin, utc(2024, 7, 1, 0, 0)), utc(2024, 7, 1, 3, 30));

	berlin = fake_tz("Europe/Berlin");
	assert_int_equal(next_ok("@yearly", &berlin, utc(2026, 6, 1, 0, 0)), utc(2026, 12, 31, 23, 0));
}

static void
test_dst_berlin(void **state)
{
	/* spring forward 2024-03-31: 02:00-02:59 does not exist; 02:30 fires at 03:00 CEST */
	expect_sequence("30 2 * * *", "Europe/Berlin", utc(2024, 3, 30, 12, 0),
					(time_t[]) {utc(2024, 3, 31, 1, 0), utc(2024, 4, 1, 0, 30)}, 2);
	/* fall back 2024-10-27: 02:30 happens twice and fires at the first */
	expect_sequence("30 2 * * *", "Europe/Berlin", utc(2024, 10, 26, 12, 0),
					(time_t[]) {utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)}, 2);
	/* 01:30 is untouched both days */
	expect_sequence("30 1 * * *", "Europe/Berlin", utc(2024, 3, 30, 12, 0),
					(time_t[]) {utc(2024, 3, 31, 0, 30), utc(2024, 3, 31, 23, 30)}, 2);
	expect_sequence("30 1 * * *", "Europe/Berlin", utc(2024, 10, 26, 12, 0),
					(time_t[]) {utc(2024, 10, 26, 23, 30), utc(2024, 10, 28, 0, 30)}, 2);
	/* hourly: 02:00 falls into the gap and coincides with 03:00 (one fire) */
	expect_sequence("0 * * * *", "Europe/Berlin", utc(2024, 3, 30, 22, 30),
					(time_t[]) {utc(2024, 3, 30, 23, 0), utc(2024, 3, 31, 0, 0),
					utc(2024, 3, 31, 1, 0), utc(2024, 3, 31, 2, 0)}, 4);
	/* hourly: the repeated 02:00 fires once */
	expect_sequence("0 * * * *", "Europe/Berlin", utc(2024, 10, 26, 22, 30),
					(time_t[]) {utc(2024, 10, 26, 23, 0), utc(2024, 10, 27, 0, 0),
					utc(2024, 10, 27, 2, 0), utc(2024, 10, 27, 3, 0)}, 4);
	/* every 15 minutes across both */
	expect_sequence("*/15 * * * *", "Europe/Berlin", utc(2024, 3, 31, 0, 30),
					(time_t[]) {utc(2024, 3, 31, 0, 45), utc(2024, 3, 31, 1, 0),
					utc(2024, 3, 31, 1, 15), utc(2024, 3, 31, 1, 30)}, 4);
	expect_sequence("*/15 * * * *", "Europe/Berlin", utc(2024, 10, 27, 0, 30),
					(time_t[]) {utc(2024, 10, 27, 0, 45), utc(2024, 10, 27, 2, 0),
					utc(2024, 10, 27, 2, 15)}, 3);
	/* from inside the repeated hour (02:10 CET, second time): nothing until 03:00 */
	expect_sequence("*/15 * * * *", "Europe/Berlin", utc(2024, 10, 27, 1, 10),
					(time_t[]) {utc(2024, 10, 27, 2, 0)}, 1);
	/* the same after the last explicit transition of the data (footer rule) */
	expect_sequence("30 2 * * *", "Europe/Berlin", utc(2099, 3, 28, 12, 0),
					(time_t[]) {utc(2099, 3, 29, 1, 0), utc(2099, 3, 30, 0, 30)}, 2);
	expect_sequence("30 2 * * *", "Europe/Berlin", utc(2099, 10, 24, 12, 0),
					(time_t[]) {utc(2099, 10, 25, 0, 30), utc(2099, 10, 26, 1, 30)}, 2);
}

static void
test_dst_new_york(void **state)
{
	/* spring forward 2024-03-10 02:00 EST -> 03:00 EDT (07:00 UTC) */
	expect_sequence("30 2 * * *", "America/New_York", utc(2024, 3, 9, 12, 0),
					(time_t[]) {utc(2024, 3, 10, 7, 0), utc(2024, 3, 11, 6, 30)}, 2);
	expect_sequence("30 1 * * *", "America/New_York", utc(2024, 3, 9, 12, 0),
					(time_t[]) {utc(2024, 3, 10, 6, 30), utc(2024, 3, 11, 5, 30)}, 2);
	/* fall back 2024-11-03 02:00 EDT -> 01:00 EST (06:00 UTC): 01:30 twice */
	expect_sequence("30 1 * * *", "America/New_York", utc(2024, 11, 2, 12, 0),
					(time_t[]) {utc(2024, 11, 3, 5, 30), utc(2024, 11, 4, 6, 30)}, 2);
	expect_sequence("30 2 * * *", "America/New_York", utc(2024, 11, 2, 12, 0),
					(time_t[]) {utc(2024, 11, 3, 7, 30), utc(2024, 11, 4, 7, 30)}, 2);
	expect_sequence("0 * * * *", "America/New_York", utc(2024, 3, 10, 5, 30),
					(time_t[]) {utc(2024, 3, 10, 6, 0), utc(2024, 3, 10, 7, 0),
					utc(2024, 3, 10, 8, 0)}, 3);
	expect_sequence("0 * * * *", "America/New_York", utc(2024, 11, 3, 3, 30),
					(time_t[]) {utc(2024, 11, 3, 4, 0), utc(2024, 11, 3, 5, 0),
					utc(2024, 11, 3, 7, 0), utc(2024, 11, 3, 8, 0)}, 4);
	expect_sequence("*/15 * * * *", "America/New_York", utc(2024, 3, 10, 6, 30),
					(time_t[]) {utc(2024, 3, 10, 6, 45), utc(2024, 3, 10, 7, 0),
					utc(2024, 3, 10, 7, 15)}, 3);
	expect_sequence("*/15 * * * *", "America/New_York", utc(2024, 11, 3, 5, 30),
					(time_t[]) {utc(2024, 11, 3, 5, 45), utc(2024, 11, 3, 7, 0),
					utc(2024, 11, 3, 7, 15)}, 3);
}

/* ---- random schedules against a brute force ---------------------------------- */

static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint32_t
rnd(uint32_t n)
{
	/* xorshift64*: deterministic across runs and platforms */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t) ((rng_state * UINT64_C(2685821657736338717)) >> 33) % n;
}

/* What the generator meant, computed without the parser. */
typedef struct expected
{
	uint64_t	set[5];
	bool		mday_star;
	bool		wday_star;
} expected;

static const int field_lo[5] = {0, 0, 1, 1, 0};
static const int field_hi[5] = {59, 23, 31, 12, 7};

static void
put_value(char **p, int field, int v, bool name_ok)
{
	static const char *const mnames[] = {"jan", "feb", "mar", "apr", "may", "jun", "jul",
	"aug", "sep", "oct", "nov", "dec"};
	static const char *const wnames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	const char *name = NULL;

	if (name_ok && field == 3 && rnd(2))
		name = mnames[v - 1];
	else if (name_ok && field == 4 && rnd(2) && v != 0)
		name = wnames[v];
	if (name)
	{
		int			i;

		for (i = 0; i < 3; i++)
			*(*p)++ = rnd(3) == 0 ? (char) (name[i] - 'a' + 'A') : name[i];
	}
	else
		*p += sprintf(*p, "%d", v);
}

/* Writes a random field and records its set. */
static void
gen_field(char **p, int f, expected *e)
{
	int			n = 1 + (rnd(3) == 0 ? (int) rnd(3) : 0);
	int			k;
	uint64_t	set = 0;
	bool		star = false;

	/* the day and month fields are mostly '*', so most schedules fire often */
	if (f >= 2 && rnd(10) < 6)
	{
		*(*p)++ = '*';
		n = 0;
		star = true;
		set = 0;
		for (k = field_lo[f]; k <= field_hi[f]; k++)
			set |= UINT64_C(1) << (f == 4 && k == 7 ? 0 : k);
	}
	for (k = 0; k < n; k++)
	{
		int			width = field_hi[f] - field_lo[f] + 1;
		int			form = (int) rnd(6);
		int			lo,
					hi,
					step = 1,
					v;

		if (k > 0)
			*(*p)++ = ',';
		if (form == 0)
		{						/* '*' or '*' '/' step */
			lo = field_lo[f];
			hi = field_hi[f];
			*(*p)++ = '*';
			if (rnd(2))
			{
				step = 1 + (int) rnd((uint32_t) width);
				*p += sprintf(*p, "/%d", step);
			}
			if (k == 0)
				star = true;
		}
		else if (form <= 2)
		{						/* a single value */
			lo = hi = field_lo[f] + (int) rnd((uint32_t) width);
			put_value(p, f, lo, true);
		}
		else
		{						/* a-b, a-b/s or a/s */
			lo = field_lo[f] + (int) rnd((uint32_t) width);
			hi = lo + (int) rnd((uint32_t) (field_hi[f] - lo + 1));
			/* "sun" is day 0: as the start of a range it would not mean 7 */
			put_value(p, f, lo, !(f == 4 && lo == 7));
			if (form == 5)
				hi = field_hi[f];
			else
			{
				*(*p)++ = '-';
				/* "sun" ending a range means 7 only after a start above 0 */
				put_value(p, f, hi, !(f == 4 && (hi == 0 || (hi == 7 && lo == 0))));
			}
			if (form >= 4)
			{
				step = 1 + (int) rnd((uint32_t) width);
				*p += sprintf(*p, "/%d", step);
			}
		}
		for (v = lo; v <= hi; v += step)
			set |= UINT64_C(1) << (f == 4 && v == 7 ? 0 : v);
	}
	e->set[f] = set;
	if (f == 2)
		e->mday_star = star;
	if (f == 4)
		e->wday_star = star;
}

/* The zone the brute force reads its wall clock from. */
static const rb_tz *ref_zone;

static void
ref_localtime(const time_t *t, struct tm *tm)
{
	fake_localtime(ref_zone, *t, tm);
}

static bool
ref_matches(const expected *e, const struct tm *tm)
{
	bool		md = (e->set[2] >> tm->tm_mday) & 1;
	bool		wd = (e->set[4] >> tm->tm_wday) & 1;
	bool		day = (e->mday_star || e->wday_star) ? (md && wd) : (md || wd);

	return ((e->set[0] >> tm->tm_min) & 1) && ((e->set[1] >> tm->tm_hour) & 1) &&
		((e->set[3] >> (tm->tm_mon + 1)) & 1) && day;
}

static bool
same_wall(const struct tm *a, const struct tm *b)
{
	return a->tm_year == b->tm_year && a->tm_mon == b->tm_mon && a->tm_mday == b->tm_mday &&
		a->tm_hour == b->tm_hour && a->tm_min == b->tm_min && a->tm_sec == b->tm_sec;
}

/*
 * Does the schedule fire at UTC minute t?  Either t's wall clock matches and no
 * earlier instant showed the same wall clock (first occurrence), or a gap ends at
 * t and one of the wall-clock minutes it skipped matches.  *prev_off is the offset
 * one minute earlier; it is updated to t's.
 */
static bool
ref_fires(const expected *e, time_t t, long *prev_off)
{
	struct tm	cur;
	long		before_off = *prev_off;

	ref_localtime(&t, &cur);
	*prev_off = cur.tm_gmtoff;
	if (cur.tm_sec == 0 && ref_matches(e, &cur))
	{
		static const int back[] = {1800, 3600, 7200};
		bool		repeated = false;
		int			i;

		for (i = 0; i < 3; i++)
		{
			struct tm	old;
			time_t		s = t - back[i];

			ref_localtime(&s, &old);
			if (same_wall(&old, &cur))
				repeated = true;
		}
		if (!repeated)
			return true;
	}
	if (before_off < cur.tm_gmtoff)
	{
		struct tm	before;
		time_t		s = t - 1;

		ref_localtime(&s, &before);
		if (before.tm_gmtoff < cur.tm_gmtoff)
		{
			/* the clock jumped at t: wall minutes [t + old, t + new) were skipped */
			time_t		w;

			for (w = t + before.tm_gmtoff; w < t + cur.tm_gmtoff; w += 60)
			{
				struct tm	wall;

				gmtime_r(&w, &wall);
				if (ref_matches(e, &wall))
					return true;
			}
		}
	}
	return false;
}

#define REF_WINDOW_MINUTES (30 * 24 * 60)

/* First fire strictly after `after` within the window, or -1. */
static time_t
ref_next(const expected *e, time_t after)
{
	time_t		t = (after / 60 + 1) * 60;	/* after > 0 here */
	time_t		end = t + (time_t) REF_WINDOW_MINUTES * 60;
	struct tm	tm;
	time_t		s = t - 60;
	long		prev_off;

	ref_localtime(&s, &tm);
	prev_off = tm.tm_gmtoff;
	for (; t < end; t += 60)
	{
		if (ref_fires(e, t, &prev_off))
			return t;
	}
	return -1;
}

static void
test_random_against_brute_force(void **state)
{
	static const char *const zones[] = {
		"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"
	};
	/* instants around which DST changes in those zones (2024-2026) */
	static const time_t hot[] = {
		1711846800, 1729990800, 1743296400, 1761440400,	/* Berlin */
		1710054000, 1730613600, 1741503600, 1762063200,	/* New York */
		1712415600, 1728142200, 1743865200, 1759591800,	/* Lord Howe */
	};
	int			nz,
				total = 0,
				never = 0,
				compared = 0,
				beyond = 0;

	for (nz = 0; nz < 4; nz++)
	{
		rb_tz		zone = fake_tz(zones[nz]);
		const rb_tz *tz = &zone;
		int			i;

		ref_zone = tz;
		for (i = 0; i < 90; i++)
		{
			char		text[256];
			char	   *p = text;
			expected	e;
			rb_cron		c;
			rb_error	err;
			time_t		after;
			int			f,
						k;

			memset(&e, 0, sizeof(e));
			for (f = 0; f < 5; f++)
			{
				if (f > 0)
					*p++ = ' ';
				gen_field(&p, f, &e);
			}
			*p = '\0';
			total++;
			if (rb_cron_parse(text, &c, &err) != 0)
			{
				/* only a schedule that can never fire may be refused */
				if (strstr(err.msg, "so the schedule would never fire") == NULL)
					fail_msg("\"%s\": %s", text, err.msg);
				assert_true(!e.mday_star && e.wday_star);
				never++;
				continue;
			}
			if (c.minutes != e.set[0] || c.hours != e.set[1] || c.mdays != e.set[2] ||
				c.months != e.set[3] || c.wdays != e.set[4] ||
				c.mday_star != e.mday_star || c.wday_star != e.wday_star)
				fail_msg("\"%s\" parsed into other sets than generated", text);

			k = (int) rnd(3);
			if (k == 0)
				after = hot[rnd(12)] - 3 * 3600 + (time_t) rnd(6 * 3600);
			else if (k == 1)
				after = hot[rnd(12)] - 3 * 86400 + (time_t) rnd(6 * 86400);
			else
				after = 31536000 + (time_t) rnd(2800000000U);	/* 1971 to 2060 */
			for (k = 0; k < 3; k++)
			{
				time_t		want = ref_next(&e, after);
				time_t		got;

				if (rb_cron_next(&c, tz, after, &got, &err) != 0)
					fail_msg("\"%s\": %s", text, err.msg);
				if (want < 0)
				{
					/* nothing in the window: ours must lie beyond it */
					if (got < after + (time_t) REF_WINDOW_MINUTES * 60)
						fail_msg("\"%s\" in %s after %lld: got %lld, brute force found none",
								 text, zones[nz], (long long) after, (long long) got);
					beyond++;
					break;
				}
				if (got != want)
					fail_msg("\"%s\" in %s after %lld: got %lld, brute force %lld",
							 text, zones[nz], (long long) after, (long long) got,
							 (long long) want);
				compared++;
				after = got;
			}
		}
	}
	printf("# %d random schedules: %d next times compared, %d beyond the window, %d never fire\n",
		   total, compared, beyond, never);
	assert_true(compared > 500);
}

static void
test_calendar(void **state)
{
	int64_t		days;

	assert_int_equal(rb_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(rb_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(rb_days_from_civil(1969, 12, 31), -1);
	assert_true(rb_is_leap_year(2000));
	assert_false(rb_is_leap_year(1900));
	assert_true(rb_is_leap_year(2024));
	assert_false(rb_is_leap_year(2100));
	assert_int_equal(rb_days_in_month(2024, 2), 29);
	assert_int_equal(rb_days_in_month(2023, 2), 28);
	assert_int_equal(rb_days_in_month(2023, 4), 30);
	assert_int_equal(rb_weekday_from_days(0), 4);	/* Thursday */
	assert_int_equal(rb_weekday_from_days(rb_days_from_civil(2026, 11, 26)), 4);
	assert_int_equal(rb_weekday_from_days(-1), 3);
	for (days = -800000; days < 3000000; days += 37)
	{
		int64_t		y;
		int			m,
					d;

		rb_civil_from_days(days, &y, &m, &d);
		assert_true(m >= 1 && m <= 12 && d >= 1 && d <= rb_days_in_month(y, m));
		assert_int_equal(rb_days_from_civil(y, m, d), days);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_shortcuts),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_leap_years_and_month_ends),
		cmocka_unit_test(test_day_rule),
		cmocka_unit_test(test_next_basics),
		cmocka_unit_test(test_dst_berlin),
		cmocka_unit_test(test_dst_new_york),
		cmocka_unit_test(test_random_against_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
