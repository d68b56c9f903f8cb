/*
 * test_tzfile.c — unit tests of src/core/tzfile.c: loading IANA zones by name,
 * offsets at known DST transitions, local-to-UTC mapping (gaps and folds), the
 * POSIX TZ footer rule on synthetic 'slim' files, $TZDIR, name checks, broken data,
 * and agreement with glibc's localtime_r (TZ set in this test process only) over
 * three centuries for several zones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tzfile.h"

/* UTC instant of a civil date and time. */
static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	return (time_t) (rb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
}

static int64_t
loc(int y, int mo, int d, int h, int mi)
{
	return rb_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60;
}

static rb_tz *
load(const char *name)
{
	rb_tz	   *tz = NULL;
	rb_error	err;

	memset(&err, 0, sizeof(err));
	if (rb_tz_load(name, &tz, &err) != 0)
		fail_msg("loading %s: %s", name, err.msg);
	return tz;
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

static void
test_utc(void **state)
{
	rb_tz	   *tz = load("UTC");
	time_t		out[2];

	assert_int_equal(rb_tz_utc_offset(tz, 0), 0);
	assert_int_equal(rb_tz_utc_offset(tz, 4000000000LL), 0);
	assert_int_equal(rb_tz_local_to_utc(tz, 1234567, out), 1);
	assert_int_equal(out[0], 1234567);
	rb_tz_free(tz);
	tz = load("utc");
	assert_int_equal(rb_tz_utc_offset(tz, 1700000000), 0);
	rb_tz_free(tz);
	tz = load("Etc/UTC");
	assert_int_equal(rb_tz_utc_offset(tz, 1700000000), 0);
	rb_tz_free(tz);
}

static void
test_berlin_offsets(void **state)
{
	rb_tz	   *tz = load("Europe/Berlin");

	assert_string_equal(rb_tz_name(tz), "Europe/Berlin");
	assert_true(rb_tz_has_footer(tz));
	/* spring forward 2024-03-31 01:00 UTC, fall back 2024-10-27 01:00 UTC */
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 3, 31, 0, 59, 59)), 3600);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 3, 31, 1, 0, 0)), 7200);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 10, 27, 0, 59, 59)), 7200);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 10, 27, 1, 0, 0)), 3600);
	/* far future: the footer rule (explicit transitions end in 2037 at most) */
	assert_int_equal(rb_tz_utc_offset(tz, utc(2100, 3, 28, 0, 59, 59)), 3600);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2100, 3, 28, 1, 0, 0)), 7200);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2100, 10, 31, 0, 59, 59)), 7200);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2100, 10, 31, 1, 0, 0)), 3600);
	/* history: Berlin's double summer time of 1947 (UTC+3) */
	assert_int_equal(rb_tz_utc_offset(tz, utc(1947, 6, 1, 12, 0, 0)), 3 * 3600);
	rb_tz_free(tz);
}

static void
test_new_york_offsets(void **state)
{
	rb_tz	   *tz = load("America/New_York");

	/* spring forward 2024-03-10 07:00 UTC, fall back 2024-11-03 06:00 UTC */
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 3, 10, 6, 59, 59)), -5 * 3600);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 3, 10, 7, 0, 0)), -4 * 3600);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 11, 3, 5, 59, 59)), -4 * 3600);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 11, 3, 6, 0, 0)), -5 * 3600);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2090, 7, 1, 0, 0, 0)), -4 * 3600);
	assert_int_equal(rb_tz_utc_offset(tz, utc(2090, 1, 1, 0, 0, 0)), -5 * 3600);
	rb_tz_free(tz);
}

static void
test_local_to_utc(void **state)
{
	rb_tz	   *tz = load("Europe/Berlin");
	time_t		out[2];

	/* an ordinary time */
	assert_int_equal(rb_tz_local_to_utc(tz, loc(2024, 6, 1, 12, 0), out), 1);
	assert_int_equal(out[0], utc(2024, 6, 1, 10, 0, 0));
	assert_int_equal(rb_tz_resolve_local(tz, loc(2024, 6, 1, 12, 0)), utc(2024, 6, 1, 10, 0, 0));
	/* the gap: 02:00-02:59 on 2024-03-31 does not exist; resolves to 03:00 CEST */
	assert_int_equal(rb_tz_local_to_utc(tz, loc(2024, 3, 31, 2, 30), out), 0);
	assert_int_equal(rb_tz_resolve_local(tz, loc(2024, 3, 31, 2, 30)), utc(2024, 3, 31, 1, 0, 0));
	assert_int_equal(rb_tz_resolve_local(tz, loc(2024, 3, 31, 2, 0)), utc(2024, 3, 31, 1, 0, 0));
	assert_int_equal(rb_tz_resolve_local(tz, loc(2024, 3, 31, 3, 0)), utc(2024, 3, 31, 1, 0, 0));
	assert_int_equal(rb_tz_resolve_local(tz, loc(2024, 3, 31, 1, 59)), utc(2024, 3, 31, 0, 59, 0));
	/* the fold: 02:00-02:59 on 2024-10-27 happens twice */
	assert_int_equal(rb_tz_local_to_utc(tz, loc(2024, 10, 27, 2, 30), out), 2);
	assert_int_equal(out[0], utc(2024, 10, 27, 0, 30, 0));
	assert_int_equal(out[1], utc(2024, 10, 27, 1, 30, 0));
	assert_int_equal(rb_tz_resolve_local(tz, loc(2024, 10, 27, 2, 30)), utc(2024, 10, 27, 0, 30, 0));
	/* the same after the last explicit transition (footer rule) */
	assert_int_equal(rb_tz_local_to_utc(tz, loc(2099, 3, 29, 2, 30), out), 0);
	assert_int_equal(rb_tz_resolve_local(tz, loc(2099, 3, 29, 2, 30)), utc(2099, 3, 29, 1, 0, 0));
	assert_int_equal(rb_tz_local_to_utc(tz, loc(2099, 10, 25, 2, 15), out), 2);
	rb_tz_free(tz);

	tz = load("America/New_York");
	assert_int_equal(rb_tz_local_to_utc(tz, loc(2024, 3, 10, 2, 30), out), 0);
	assert_int_equal(rb_tz_resolve_local(tz, loc(2024, 3, 10, 2, 30)), utc(2024, 3, 10, 7, 0, 0));
	assert_int_equal(rb_tz_local_to_utc(tz, loc(2024, 11, 3, 1, 30), out), 2);
	assert_int_equal(out[0], utc(2024, 11, 3, 5, 30, 0));
	assert_int_equal(out[1], utc(2024, 11, 3, 6, 30, 0));
	rb_tz_free(tz);
}

/* A TZif version 2 file with no transitions, one type and a footer: what a 'slim'
 * build gives for zones whose present rules reach back far enough. */
static size_t
make_slim(unsigned char *buf, int32_t utoff, const char *footer)
{
	size_t		n = 0;
	int			part;

	for (part = 0; part < 2; part++)
	{
		memset(buf + n, 0, 44);
		memcpy(buf + n, "TZif2", 5);
		buf[n + 39] = 1;		/* typecnt */
		buf[n + 43] = 4;		/* charcnt */
		n += 44;
		buf[n++] = (unsigned char) ((uint32_t) utoff >> 24);
		buf[n++] = (unsigned char) ((uint32_t) utoff >> 16);
		buf[n++] = (unsigned char) ((uint32_t) utoff >> 8);
		buf[n++] = (unsigned char) utoff;
		buf[n++] = 0;			/* isdst */
		buf[n++] = 0;			/* abbreviation index */
		memcpy(buf + n, "XXX", 4);
		n += 4;
	}
	buf[n++] = '\n';
	memcpy(buf + n, footer, strlen(footer));
	n += strlen(footer);
	buf[n++] = '\n';
	return n;
}

static rb_tz *
parse_slim(int32_t utoff, const char *footer)
{
	unsigned char buf[512];
	size_t		len = make_slim(buf, utoff, footer);
	rb_tz	   *tz = NULL;
	rb_error	err;

	if (rb_tz_parse("slim", buf, len, &tz, &err) != 0)
		fail_msg("parsing slim zone with footer %s: %s", footer, err.msg);
	assert_int_equal(rb_tz_transition_count(tz), 0);
	return tz;
}

static void
test_footer_rules(void **state)
{
	rb_tz	   *fat = load("Europe/Berlin");
	rb_tz	   *slim = parse_slim(3600, "CET-1CEST,M3.5.0,M10.5.0/3");
	time_t		t;

	/* EU rules since 1996: the slim zone agrees with the full data every 20 min */
	for (t = utc(1996, 1, 1, 0, 0, 0); t < utc(2060, 1, 1, 0, 0, 0); t += 3607)
		if (rb_tz_utc_offset(slim, t) != rb_tz_utc_offset(fat, t))
			fail_msg("slim and fat Berlin differ at %lld", (long long) t);
	rb_tz_free(slim);
	rb_tz_free(fat);

	fat = load("America/New_York");
	slim = parse_slim(-18000, "EST5EDT,M3.2.0,M11.1.0");
	for (t = utc(2007, 1, 1, 0, 0, 0); t < utc(2060, 1, 1, 0, 0, 0); t += 3607)
		if (rb_tz_utc_offset(slim, t) != rb_tz_utc_offset(fat, t))
			fail_msg("slim and fat New York differ at %lld", (long long) t);
	rb_tz_free(slim);
	rb_tz_free(fat);

	/* southern hemisphere: DST across the turn of the year */
	fat = load("Australia/Sydney");
	slim = parse_slim(36000, "AEST-10AEDT,M10.1.0,M4.1.0/3");
	for (t = utc(2009, 1, 1, 0, 0, 0); t < utc(2060, 1, 1, 0, 0, 0); t += 3607)
		if (rb_tz_utc_offset(slim, t) != rb_tz_utc_offset(fat, t))
			fail_msg("slim and fat Sydney differ at %lld", (long long) t);
	rb_tz_free(slim);
	rb_tz_free(fat);

	/* quoted names and half hours; version 3 DST all year; Jn and n dates */
	slim = parse_slim(12600, "<+0330>-3:30");
	assert_int_equal(rb_tz_utc_offset(slim, utc(2050, 6, 1, 0, 0, 0)), 12600);
	rb_tz_free(slim);
	slim = parse_slim(-18000, "EST5EDT,0/0,J365/25");
	for (t = utc(2030, 1, 1, 0, 0, 0); t < utc(2034, 1, 1, 0, 0, 0); t += 3600)
		assert_int_equal(rb_tz_utc_offset(slim, t), -14400);
	rb_tz_free(slim);
	slim = parse_slim(0, "AAA0BBB-1,J60/2,300/2");
	/* J60 = 1 March every year; 300 = day 300 counting from 0 (27 Oct in leap years) */
	assert_int_equal(rb_tz_utc_offset(slim, utc(2024, 3, 1, 1, 59, 59)), 0);
	assert_int_equal(rb_tz_utc_offset(slim, utc(2024, 3, 1, 2, 0, 0)), 3600);
	assert_int_equal(rb_tz_utc_offset(slim, utc(2024, 10, 27, 0, 59, 59)), 3600);
	assert_int_equal(rb_tz_utc_offset(slim, utc(2024, 10, 27, 1, 0, 0)), 0);
	rb_tz_free(slim);
	/* DST named without rules: the US rules */
	slim = parse_slim(-18000, "EST5EDT");
	assert_int_equal(rb_tz_utc_offset(slim, utc(2040, 7, 1, 0, 0, 0)), -14400);
	assert_int_equal(rb_tz_utc_offset(slim, utc(2040, 12, 1, 0, 0, 0)), -18000);
	rb_tz_free(slim);
}

static void
test_tzdir(void **state)
{
	char		dir[] = "/tmp/test_tzfile.XXXXXX";
	char		path[256];
	unsigned char buf[512];
	size_t		len = make_slim(buf, 3600, "CET-1CEST,M3.5.0,M10.5.0/3");
	FILE	   *f;
	rb_tz	   *tz = NULL;
	rb_error	err;
	const char *old = getenv("TZDIR");
	char	   *saved = old ? strdup(old) : NULL;
	int			rc;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/Slim", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/Slim/Berlin", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	fclose(f);

	setenv("TZDIR", dir, 1);
	rc = rb_tz_load("Slim/Berlin", &tz, &err);
	if (rc == 0)
	{
		assert_int_equal(rb_tz_utc_offset(tz, utc(2031, 7, 1, 0, 0, 0)), 7200);
		rb_tz_free(tz);
	}
	/* not there: only $TZDIR is searched; UTC still works */
	assert_int_equal(rb_tz_load("Europe/Berlin", &tz, &err), -1);
	assert_string_equal(err.msg, "time zone \"Europe/Berlin\" is not known");
	assert_int_equal(rb_tz_load("UTC", &tz, &err), 0);
	assert_int_equal(rb_tz_utc_offset(tz, 1), 0);
	rb_tz_free(tz);
	if (saved)
		setenv("TZDIR", saved, 1);
	else
		unsetenv("TZDIR");
	free(saved);
	unlink(path);
	snprintf(path, sizeof(path), "%s/Slim", dir);
	rmdir(path);
	rmdir(dir);
	assert_int_equal(rc, 0);
}

static void
test_names(void **state)
{
	rb_tz	   *tz = NULL;
	rb_error	err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(rb_tz_load("Mars/Olympus", &tz, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_string_equal(err.msg, "time zone \"Mars/Olympus\" is not known");
	assert_null(tz);

	assert_int_equal(rb_tz_load("../../etc/passwd", &tz, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, "time zone \"../../etc/passwd\" is not a valid name");
	assert_int_equal(rb_tz_load("Europe/../Europe/Berlin", &tz, &err), -1);
	assert_int_equal(rb_tz_load("/usr/share/zoneinfo/UTC", &tz, &err), -1);
	assert_int_equal(rb_tz_load("Europe/Ber lin", &tz, &err), -1);
	assert_int_equal(rb_tz_load("", &tz, &err), -1);
	assert_int_equal(rb_tz_load("Europe/", &tz, &err), -1);
	assert_int_equal(rb_tz_load("Europe", &tz, &err), -1);	/* a directory */
	assert_int_equal(rb_tz_load("zone.tab", &tz, &err), -1);	/* not a zone */
	assert_string_equal(err.msg, "time zone \"zone.tab\" is not known");
	assert_null(tz);

	/* names are matched without regard to case, as PostgreSQL does */
	tz = load("europe/berlin");
	assert_int_equal(rb_tz_utc_offset(tz, utc(2024, 7, 1, 0, 0, 0)), 7200);
	rb_tz_free(tz);
}

static void
test_broken_data(void **state)
{
	FILE	   *f = fopen("/usr/share/zoneinfo/America/New_York", "rb");
	unsigned char buf[8192];
	size_t		len,
				cut;
	rb_tz	   *tz = NULL;
	rb_error	err;

	assert_non_null(f);
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_true(len > 100 && len < sizeof(buf));
	assert_int_equal(rb_tz_parse("ny", buf, len, &tz, &err), 0);
	rb_tz_free(tz);
	/* every truncation fails cleanly */
	for (cut = 0; cut < len; cut++)
	{
		tz = NULL;
		if (rb_tz_parse("ny", buf, cut, &tz, &err) == 0)
			fail_msg("truncated at %zu and accepted", cut);
		assert_null(tz);
		assert_string_equal(err.msg, "time zone \"ny\" has an invalid time zone file");
	}
	/* flipped bytes never crash (the result may or may not parse) */
	for (cut = 0; cut < len; cut += 3)
	{
		unsigned char saved = buf[cut];

		buf[cut] ^= 0xA5;
		if (rb_tz_parse("ny", buf, len, &tz, &err) == 0)
		{
			(void) rb_tz_utc_offset(tz, 1700000000);
			(void) rb_tz_resolve_local(tz, 1700000000);
			rb_tz_free(tz);
		}
		buf[cut] = saved;
	}
	memcpy(buf, "TZjf", 4);
	assert_int_equal(rb_tz_parse("ny", buf, len, &tz, &err), -1);
}

/* Our offsets against glibc's (TZ is set in this test process only). */
static void
test_against_glibc(void **state)
{
	static const char *const zones[] = {
		"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Santiago",
		"Africa/Casablanca", "Europe/Dublin", "Pacific/Apia", "Asia/Kolkata"
	};
	size_t		i;
	const char *old = getenv("TZ");
	char	   *saved = old ? strdup(old) : NULL;

	for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
	{
		rb_tz	   *tz = load(zones[i]);
		time_t		t;

		setenv("TZ", zones[i], 1);
		tzset();
		for (t = utc(1900, 1, 1, 0, 0, 0); t < utc(2200, 1, 1, 0, 0, 0); t += 86400 * 5 + 3541)
		{
			struct tm	tm;

			localtime_r(&t, &tm);
			if (tm.tm_gmtoff != rb_tz_utc_offset(tz, t))
				fail_msg("%s at %lld: glibc %ld, ours %d", zones[i], (long long) t,
						 tm.tm_gmtoff, rb_tz_utc_offset(tz, t));
		}
		rb_tz_free(tz);
	}
	if (saved)
		setenv("TZ", saved, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_calendar),
		cmocka_unit_test(test_utc),
		cmocka_unit_test(test_berlin_offsets),
		cmocka_unit_test(test_new_york_offsets),
		cmocka_unit_test(test_local_to_utc),
		cmocka_unit_test(test_footer_rules),
		cmocka_unit_test(test_tzdir),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_broken_data),
		cmocka_unit_test(test_against_glibc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
