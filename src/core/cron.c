/*
 * cron.c — parses cron schedules into bit sets and finds the next fire time on a
 * time zone's wall clock (see cron.h for the syntax and the DST semantics).  The
 * zone's offsets come from the host's conversion table; this file resolves wall
 * clock times to instants (gaps and repeated times) and does the calendar
 * arithmetic.
 */
#include "cron.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SECS_PER_DAY 86400
#define SEARCH_YEARS 400
#define MIN_AFTER (-62135596800LL)	/* 0001-01-01 00:00:00 UTC */
#define MAX_AFTER 253402300799LL	/* 9999-12-31 23:59:59 UTC */
#define SHOWN_TEXT_MAX 100		/* longest schedule quoted in a message */

/*
 * Every instant whose wall clock shows a given time lies within this many seconds
 * of that time read as UTC (offsets stay far below a day and a half, even the
 * local mean times of the 19th century).
 */
#define MAX_OFFSET_SPAN (2 * SECS_PER_DAY)

typedef struct field_spec
{
	const char *name;			/* as shown in messages */
	int			min;
	int			max;
	const char *const *names;	/* three-letter names for min.., or NULL */
	int			nnames;
} field_spec;

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
};
static const char *const wday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

enum
{
	F_MINUTE, F_HOUR, F_MDAY, F_MONTH, F_WDAY, NFIELDS
};

static const field_spec fields[NFIELDS] = {
	{"minute", 0, 59, NULL, 0},
	{"hour", 0, 23, NULL, 0},
	{"day of month", 1, 31, NULL, 0},
	{"month", 1, 12, month_names, 12},
	{"day of week", 0, 7, wday_names, 7},
};

static const struct
{
	const char *name;
	const char *fields;
}			shortcuts[] = {
	{"@yearly", "0 0 1 1 *"},
	{"@annually", "0 0 1 1 *"},
	{"@monthly", "0 0 1 * *"},
	{"@weekly", "0 0 * * 0"},
	{"@daily", "0 0 * * *"},
	{"@midnight", "0 0 * * *"},
	{"@hourly", "0 * * * *"},
};

/* ---- calendar ----------------------------------------------------------------- */

int64_t
rb_days_from_civil(int64_t year, int month, int day)
{
	int64_t		y = year - (month <= 2);
	int64_t		era = (y >= 0 ? y : y - 399) / 400;
	int64_t		yoe = y - era * 400;
	int64_t		doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
	int64_t		doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

void
rb_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
	int64_t		z = days + 719468;
	int64_t		era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t		doe = z - era * 146097;
	int64_t		yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t		doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t		mp = (5 * doy + 2) / 153;
	int			d = (int) (doy - (153 * mp + 2) / 5 + 1);
	int			m = (int) (mp < 10 ? mp + 3 : mp - 9);

	*year = yoe + era * 400 + (m <= 2);
	*month = m;
	*day = d;
}

bool
rb_is_leap_year(int64_t year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int
rb_days_in_month(int64_t year, int month)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (month == 2 && rb_is_leap_year(year))
		return 29;
	return mdays[month - 1];
}

int
rb_weekday_from_days(int64_t days)
{
	/* 1970-01-01 was a Thursday (4) */
	int64_t		w = (days + 4) % 7;

	return (int) (w < 0 ? w + 7 : w);
}

/* ---- UTC ---------------------------------------------------------------------- */

static int
utc_offset_zero(const void *zone, int64_t t, int32_t *offset)
{
	(void) zone;
	(void) t;
	*offset = 0;
	return 0;
}

static int
utc_no_change(const void *zone, int64_t t, int64_t *change)
{
	(void) zone;
	(void) t;
	*change = INT64_MAX;
	return 0;
}

const rb_tz rb_tz_utc = {utc_offset_zero, utc_no_change, NULL};

/* ---- parsing ------------------------------------------------------------------ */

/* What the parser of one schedule needs to report an error. */
typedef struct parse_ctx
{
	const char *text;			/* the whole schedule, as the user wrote it */
	rb_error   *err;
} parse_ctx;

static int	parse_fields(parse_ctx *ctx, const char *text, rb_cron *out);

/* Is c a UTF-8 continuation byte? */
static bool
is_utf8_cont(char c)
{
	return ((unsigned char) c & 0xC0) == 0x80;
}

/*
 * How much of the len bytes at s to quote in a message: at most max bytes, never
 * ending inside a UTF-8 sequence (a message must stay valid in the server encoding).
 */
static int
clip(const char *s, long len, int max)
{
	long		n = len < max ? len : max;

	if (n < len)
		while (n > 0 && is_utf8_cont(s[n]))
			n--;
	return (int) n;
}

/* Quoted user text in a message: "%.*s" with QUOTE(s, len). */
#define QUOTE_MAX 40
#define QUOTE(s, len) clip((s), (long) (len), QUOTE_MAX), (s)

/* Fails with `invalid cron schedule "<text>": <detail>`. */
static int
fail(parse_ctx *ctx, const char *fmt,...)
__attribute__((format(printf, 2, 3)));

static int
fail(parse_ctx *ctx, const char *fmt,...)
{
	char		detail[RB_ERROR_MSG_LEN];
	va_list		ap;
	int			len = (int) strlen(ctx->text);

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (len > SHOWN_TEXT_MAX)
		return rb_error_set(ctx->err, RB_ERR_INVALID, "invalid cron schedule \"%.*s...\": %s",
							clip(ctx->text, len, SHOWN_TEXT_MAX), ctx->text, detail);
	return rb_error_set(ctx->err, RB_ERR_INVALID, "invalid cron schedule \"%s\": %s",
						ctx->text, detail);
}

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Reads one value (a number, or a name where the field has names) at *pp, before
 * end.  Sets *by_name when it was a name.
 */
static int
parse_value(parse_ctx *ctx, const field_spec *f, const char **pp, const char *end,
			const char *elem, int *val, bool *by_name)
{
	const char *p = *pp;
	const char *s = p;

	*by_name = false;
	if (p < end && isdigit((unsigned char) *p))
	{
		long		n = 0;

		while (p < end && isdigit((unsigned char) *p))
		{
			if (n < 1000000)
				n = n * 10 + (*p - '0');
			p++;
		}
		if (n < f->min || n > f->max)
		{
			if (n >= 1000000)
				return fail(ctx, "%s %.*s is out of range %d-%d", f->name,
							(int) (p - s > 20 ? 20 : p - s), s, f->min, f->max);
			return fail(ctx, "%s %ld is out of range %d-%d", f->name, n, f->min, f->max);
		}
		*val = (int) n;
		*pp = p;
		return 0;
	}
	if (p < end && isalpha((unsigned char) *p))
	{
		while (p < end && isalnum((unsigned char) *p))
			p++;
		if (f->names && p - s == 3)
		{
			int			i;

			for (i = 0; i < f->nnames; i++)
				if (strncasecmp(s, f->names[i], 3) == 0)
				{
					*val = f->min + i;
					*by_name = true;
					*pp = p;
					return 0;
				}
		}
		return fail(ctx, "%s \"%.*s\" is not a number%s", f->name, QUOTE(s, p - s),
					f->names ? " or a name" : "");
	}
	if (p == end)
		return fail(ctx, "%s \"%.*s\" is incomplete", f->name, QUOTE(elem, end - elem));
	return fail(ctx, "%s \"%.*s\" is not a number%s", f->name, QUOTE(p, end - p),
				f->names ? " or a name" : "");
}

/* One element of a field's list: `*`, a, a-b, each with an optional /step. */
static int
parse_element(parse_ctx *ctx, const field_spec *f, const char *s, const char *e,
			  uint64_t *bits)
{
	const char *p = s;
	int			lo,
				hi,
				step = 1;
	bool		single = false;
	bool		by_name;
	int			v;

	if (s == e)
		return fail(ctx, "%s list has an empty element", f->name);
	if (*p == '*')
	{
		lo = f->min;
		hi = f->max;
		p++;
	}
	else
	{
		if (parse_value(ctx, f, &p, e, s, &lo, &by_name) != 0)
			return -1;
		hi = lo;
		single = true;
		if (p < e && *p == '-')
		{
			p++;
			if (parse_value(ctx, f, &p, e, s, &hi, &by_name) != 0)
				return -1;
			single = false;
			/* "fri-sun": a range that ends on Sunday by name runs to day 7 */
			if (f->names == wday_names && by_name && hi == 0 && lo > 0)
				hi = 7;
			if (lo > hi)
				return fail(ctx, "%s range \"%.*s\" is reversed", f->name,
							QUOTE(s, p - s));
		}
	}
	if (p < e && *p == '/')
	{
		const char *ss = ++p;
		long		n = 0;
		int			width = f->max - f->min + 1;

		while (p < e && isdigit((unsigned char) *p))
		{
			if (n < 1000000)
				n = n * 10 + (*p - '0');
			p++;
		}
		if (p == ss)
		{
			if (p == e)
				return fail(ctx, "%s \"%.*s\" is incomplete", f->name, QUOTE(s, e - s));
			return fail(ctx, "%s step \"%.*s\" is not a number", f->name,
						QUOTE(ss, e - ss));
		}
		if (n < 1)
			return fail(ctx, "%s step 0 must be at least 1", f->name);
		if (n > width)
		{
			if (n >= 1000000)
				return fail(ctx, "%s step %.*s is out of range 1-%d", f->name,
							(int) (p - ss > 20 ? 20 : p - ss), ss, width);
			return fail(ctx, "%s step %ld is out of range 1-%d", f->name, n, width);
		}
		step = (int) n;
		if (single)
			hi = f->max;		/* "5/10": from 5 to the end in steps of 10 */
	}
	if (p != e)
		return fail(ctx, "%s \"%.*s\" has unexpected text \"%.*s\"", f->name,
					QUOTE(s, e - s), QUOTE(p, e - p));
	for (v = lo; v <= hi; v += step)
		*bits |= (uint64_t) 1 << (f == &fields[F_WDAY] && v == 7 ? 0 : v);
	return 0;
}

/* A field: elements separated by commas, between s and e (no blanks inside). */
static int
parse_field(parse_ctx *ctx, const field_spec *f, const char *s, const char *e,
			uint64_t *bits)
{
	*bits = 0;
	for (;;)
	{
		const char *c = memchr(s, ',', (size_t) (e - s));
		const char *ee = c ? c : e;

		if (parse_element(ctx, f, s, ee, bits) != 0)
			return -1;
		if (c == NULL)
			return 0;
		s = c + 1;
	}
}

static const char *const month_full[] = {
	"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"
};

/*
 * When the day of week does not widen the days (it starts with '*'), some chosen
 * day of month must exist in some chosen month, or the schedule never fires.
 */
static int
check_can_fire(parse_ctx *ctx, const rb_cron *c, const char *mday_text, int mday_len,
			   const char *month_text, int month_len)
{
	static const int maxdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			m,
				d;

	if (c->mday_star || !c->wday_star)
		return 0;
	for (m = 1; m <= 12; m++)
		if (c->months & (1u << m))
			for (d = 1; d <= maxdays[m]; d++)
				if (c->mdays & (1u << d))
					return 0;
	if (__builtin_popcount(c->months) == 1)
		return fail(ctx, "day of month \"%.*s\" never occurs in %s, so the schedule would never fire",
					QUOTE(mday_text, mday_len), month_full[__builtin_ctz(c->months) - 1]);
	return fail(ctx, "day of month \"%.*s\" never occurs in months \"%.*s\", so the schedule would never fire",
				QUOTE(mday_text, mday_len), QUOTE(month_text, month_len));
}

static int
parse_fields(parse_ctx *ctx, const char *text, rb_cron *out)
{
	const char *fs[NFIELDS],
			   *fe[NFIELDS];
	const char *p = text;
	int			n = 0;
	uint64_t	bits[NFIELDS];
	int			i;

	for (;;)
	{
		const char *s;

		while (*p && is_blank(*p))
			p++;
		if (*p == '\0')
			break;
		s = p;
		while (*p && !is_blank(*p))
			p++;
		if (n < NFIELDS)
		{
			fs[n] = s;
			fe[n] = p;
		}
		n++;
	}
	if (n != NFIELDS)
		return fail(ctx, "expected 5 fields, found %d", n);
	for (i = 0; i < NFIELDS; i++)
		if (parse_field(ctx, &fields[i], fs[i], fe[i], &bits[i]) != 0)
			return -1;
	memset(out, 0, sizeof(*out));
	out->minutes = bits[F_MINUTE];
	out->hours = (uint32_t) bits[F_HOUR];
	out->mdays = (uint32_t) bits[F_MDAY];
	out->months = (uint16_t) bits[F_MONTH];
	out->wdays = (uint8_t) bits[F_WDAY];
	out->mday_star = *fs[F_MDAY] == '*';
	out->wday_star = *fs[F_WDAY] == '*';
	return check_can_fire(ctx, out, fs[F_MDAY], (int) (fe[F_MDAY] - fs[F_MDAY]),
						  fs[F_MONTH], (int) (fe[F_MONTH] - fs[F_MONTH]));
}

int
rb_cron_parse(const char *text, rb_cron *out, rb_error *err)
{
	parse_ctx	ctx = {text ? text : "", err};
	const char *p = ctx.text;
	rb_cron		tmp;

	memset(out, 0, sizeof(*out));
	while (*p && is_blank(*p))
		p++;
	if (*p == '@')
	{
		const char *s = p;
		const char *q;
		size_t		i;

		while (*p && !is_blank(*p))
			p++;
		q = p;
		while (*q && is_blank(*q))
			q++;
		for (i = 0; i < sizeof(shortcuts) / sizeof(shortcuts[0]); i++)
		{
			if ((size_t) (p - s) == strlen(shortcuts[i].name) &&
				strncasecmp(s, shortcuts[i].name, (size_t) (p - s)) == 0)
			{
				if (*q != '\0')
					return fail(&ctx, "unexpected text after \"%.*s\"", QUOTE(s, p - s));
				if (parse_fields(&ctx, shortcuts[i].fields, &tmp) != 0)
					return -1;
				*out = tmp;
				return 0;
			}
		}
		return fail(&ctx, "unknown shortcut \"%.*s\" (use @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)",
					QUOTE(s, p - s));
	}
	if (parse_fields(&ctx, ctx.text, &tmp) != 0)
		return -1;
	*out = tmp;
	return 0;
}

static bool
day_matches(const rb_cron *c, int day, int wday)
{
	bool		md = (c->mdays >> day) & 1;
	bool		wd = (c->wdays >> wday) & 1;

	if (c->mday_star || c->wday_star)
		return md && wd;
	return md || wd;
}

bool
rb_cron_matches(const rb_cron *c, int64_t year, int month, int day, int hour, int minute)
{
	int			wday;

	if (month < 1 || month > 12 || day < 1 || day > rb_days_in_month(year, month) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59)
		return false;
	wday = rb_weekday_from_days(rb_days_from_civil(year, month, day));
	return ((c->months >> month) & 1) && day_matches(c, day, wday) &&
		((c->hours >> hour) & 1) && ((c->minutes >> minute) & 1);
}

static int64_t
floor_div64(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

static int
zone_failed(rb_error *err)
{
	return rb_error_set(err, RB_ERR_INVALID,
						"the time zone cannot convert the times this cron schedule needs");
}

/*
 * The instant a schedule means by the wall clock `local` (seconds since
 * 1970-01-01 00:00 of the wall clock, counted as if it were UTC): its first
 * occurrence when it occurs at all, otherwise the end of the gap that skipped it
 * (the instant the clocks jumped forward).  The zone's offset is constant between
 * the changes it reports, so the instants showing `local` are found segment by
 * segment, in ascending order, over every instant that could show it.
 */
static int
resolve_local(const rb_tz *tz, int64_t local, int64_t *out)
{
	int64_t		t = local - MAX_OFFSET_SPAN;
	int64_t		gap_end = INT64_MIN;
	int32_t		off;

	if (tz->utc_offset(tz->zone, t, &off) != 0)
		return -1;
	for (;;)
	{
		int64_t		change;
		int64_t		cand = local - off;
		int32_t		next_off;

		if (tz->next_change(tz->zone, t, &change) != 0)
			return -1;
		if (change <= t)
			return -1;			/* a table that does not advance */
		/* in the segment [t, change) the wall clock is the instant + off */
		if (cand >= t && cand < change)
		{
			*out = cand;
			return 0;
		}
		if (change == INT64_MAX || change > local + MAX_OFFSET_SPAN)
			break;
		if (tz->utc_offset(tz->zone, change, &next_off) != 0)
			return -1;
		/* a gap: the wall clock jumps from change + off to change + next_off */
		if (gap_end == INT64_MIN && local >= change + off && local < change + next_off)
			gap_end = change;
		t = change;
		off = next_off;
	}
	if (gap_end == INT64_MIN)
		return -1;
	*out = gap_end;
	return 0;
}

int
rb_cron_next(const rb_cron *c, const rb_tz *tz, time_t after, time_t *next, rb_error *err)
{
	int64_t		local;
	int64_t		year_limit;
	int64_t		y;
	int			mo,
				d;
	int32_t		off;

	if ((int64_t) after < MIN_AFTER || (int64_t) after > MAX_AFTER)
		return rb_error_set(err, RB_ERR_INVALID,
							"the time after which to look is out of range for a cron schedule (years 1 to 9999)");
	if (c->minutes == 0 || c->hours == 0 || c->mdays == 0 || c->months == 0 || c->wdays == 0)
		return rb_error_set(err, RB_ERR_INVALID, "cron schedule is empty");

	/*
	 * Walk the wall clock from the minute of `after` on, skipping whole months,
	 * days and hours that cannot match.  Resolving a wall-clock minute to an instant
	 * (first occurrence, or the end of a gap) never goes backwards as the wall clock
	 * advances, so the first matching minute that resolves after `after` is the
	 * answer; minutes before local(after) all resolve to `after` or earlier.
	 */
	if (tz->utc_offset(tz->zone, (int64_t) after, &off) != 0)
		return zone_failed(err);
	local = floor_div64((int64_t) after + off, 60) * 60;
	rb_civil_from_days(floor_div64(local, SECS_PER_DAY), &y, &mo, &d);
	year_limit = y + SEARCH_YEARS;
	for (;;)
	{
		int64_t		days = floor_div64(local, SECS_PER_DAY);
		int			secs = (int) (local - days * SECS_PER_DAY);
		int			hour = secs / 3600;
		int			minute = (secs % 3600) / 60;
		uint64_t	later;
		int64_t		t;

		rb_civil_from_days(days, &y, &mo, &d);
		if (y > year_limit)
			return rb_error_set(err, RB_ERR_INVALID,
								"cron schedule does not fire within %d years", SEARCH_YEARS);
		if (!((c->months >> mo) & 1))
		{
			local = (mo == 12 ? rb_days_from_civil(y + 1, 1, 1)
					 : rb_days_from_civil(y, mo + 1, 1)) * SECS_PER_DAY;
			continue;
		}
		if (!day_matches(c, d, rb_weekday_from_days(days)))
		{
			local = (days + 1) * SECS_PER_DAY;
			continue;
		}
		if (!((c->hours >> hour) & 1))
		{
			local = days * SECS_PER_DAY + (int64_t) (hour + 1) * 3600;
			continue;
		}
		later = c->minutes >> minute;
		if (later == 0)
		{
			local = days * SECS_PER_DAY + (int64_t) (hour + 1) * 3600;
			continue;
		}
		minute += __builtin_ctzll(later);
		local = days * SECS_PER_DAY + (int64_t) hour * 3600 + (int64_t) minute * 60;
		if (resolve_local(tz, local, &t) != 0)
			return zone_failed(err);
		if (t > (int64_t) after)
		{
			*next = (time_t) t;
			return 0;
		}
		local += 60;
	}
}
