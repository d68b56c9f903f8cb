/*
 * retention_policy.c — the retention decision (see retention_policy.h) and the
 * duration syntax of the retention setting and the CLI's --retention.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rb_alloc.h"
#include "retention_policy.h"

/* newest first within a series; series in name order */
static int
cmp_items(const void *a, const void *b)
{
	const rb_retention_item *x = *(rb_retention_item *const *) a;
	const rb_retention_item *y = *(rb_retention_item *const *) b;
	int			c = strcmp(x->series ? x->series : "", y->series ? y->series : "");

	if (c != 0)
		return c;
	if (x->taken_at != y->taken_at)
		return x->taken_at > y->taken_at ? -1 : 1;
	if (x->backup_id != y->backup_id)
		return x->backup_id > y->backup_id ? -1 : 1;
	return 0;
}

typedef enum gfs_kind
{
	GFS_DAILY,
	GFS_WEEKLY,
	GFS_MONTHLY
} gfs_kind;

static void
gfs_bucket(int64_t t, gfs_kind kind, char *buf, size_t len)
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	gmtime_r(&tt, &tm);
	strftime(buf, len, kind == GFS_DAILY ? "%Y-%m-%d" : kind == GFS_WEEKLY ? "%G-W%V" : "%Y-%m", &tm);
}

/*
 * GFS over the succeeded backups of one series (newest first): the newest backup
 * of each of the `keep` most recent buckets that have one gets the reason, unless
 * it has one already.
 */
static void
apply_gfs(rb_retention_item **s, size_t n, gfs_kind kind, int keep)
{
	static const char *const names[] = {"daily", "weekly", "monthly"};
	char		last[16] = "";
	int			buckets = 0;

	for (size_t i = 0; i < n && keep > 0; i++)
	{
		char		b[16];

		if (!s[i]->succeeded)
			continue;
		gfs_bucket(s[i]->taken_at, kind, b, sizeof(b));
		if (strcmp(b, last) == 0)
			continue;			/* an older backup of a bucket already counted */
		strcpy(last, b);
		if (++buckets > keep)
			break;
		if (s[i]->reason[0] == '\0')
			snprintf(s[i]->reason, sizeof(s[i]->reason), "gfs %s %s", names[kind], b);
	}
}

/* Decides one series: s[0..n) newest first. */
static size_t
decide_series(rb_retention_item **s, size_t n, const rb_retention_policy *p)
{
	rb_retention_item *good = NULL;
	bool		verified_good = false;
	int			rank = 0;
	size_t		ndelete = 0;

	for (size_t i = 0; i < n && good == NULL; i++)
		if (s[i]->succeeded && s[i]->verified)
		{
			good = s[i];
			verified_good = true;
		}
	for (size_t i = 0; i < n && good == NULL; i++)
		if (s[i]->succeeded)
			good = s[i];

	for (size_t i = 0; i < n; i++)
	{
		rb_retention_item *b = s[i];

		b->delete = false;
		b->reason[0] = '\0';
		if (!b->succeeded)
		{
			snprintf(b->reason, sizeof(b->reason), "not succeeded");
			continue;
		}
		rank++;
		if (b->pinned)
			snprintf(b->reason, sizeof(b->reason), "pinned");
		else if (b == good)
			snprintf(b->reason, sizeof(b->reason), verified_good ? "newest verified" : "newest succeeded");
		else if (b->taken_at > good->taken_at ||
				 (b->taken_at == good->taken_at && b->backup_id > good->backup_id))
			snprintf(b->reason, sizeof(b->reason), "newer than newest good");
		else if (good->taken_at - b->taken_at <= p->retention_s)
			snprintf(b->reason, sizeof(b->reason), "within retention");
		else if (rank <= p->min_keep)
			snprintf(b->reason, sizeof(b->reason), "min_keep");
	}
	apply_gfs(s, n, GFS_DAILY, p->keep_daily);
	apply_gfs(s, n, GFS_WEEKLY, p->keep_weekly);
	apply_gfs(s, n, GFS_MONTHLY, p->keep_monthly);

	for (size_t i = 0; i < n; i++)
		if (s[i]->reason[0] == '\0')
		{
			s[i]->delete = true;
			snprintf(s[i]->reason, sizeof(s[i]->reason), "older than retention");
			ndelete++;
		}
	return ndelete;
}

size_t
rb_retention_decide(rb_retention_item *items, size_t n, const rb_retention_policy *policy)
{
	rb_retention_item **sorted;
	size_t		ndelete = 0;

	if (n == 0)
		return 0;
	sorted = rb_malloc(n * sizeof(*sorted));
	for (size_t i = 0; i < n; i++)
		sorted[i] = &items[i];
	qsort(sorted, n, sizeof(*sorted), cmp_items);
	for (size_t start = 0; start < n;)
	{
		size_t		end = start + 1;

		while (end < n && strcmp(sorted[end]->series ? sorted[end]->series : "",
								 sorted[start]->series ? sorted[start]->series : "") == 0)
			end++;
		ndelete += decide_series(sorted + start, end - start, policy);
		start = end;
	}
	free(sorted);
	return ndelete;
}

int
rb_retention_policy_check(const rb_retention_policy *p, rb_error *err)
{
	if (p->retention_s <= 0)
		return rb_error_set(err, RB_ERR_INVALID, "retention must be a positive duration");
	if (p->min_keep < 0 || p->keep_daily < 0 || p->keep_weekly < 0 || p->keep_monthly < 0)
		return rb_error_set(err, RB_ERR_INVALID, "retention counts must not be negative");
	return 0;
}

static const struct
{
	const char *name;
	int64_t		seconds;
}			units[] = {
	{"s", 1}, {"sec", 1}, {"secs", 1}, {"second", 1}, {"seconds", 1},
	{"m", 60}, {"min", 60}, {"mins", 60}, {"minute", 60}, {"minutes", 60},
	{"h", 3600}, {"hr", 3600}, {"hrs", 3600}, {"hour", 3600}, {"hours", 3600},
	{"d", 86400}, {"day", 86400}, {"days", 86400},
	{"w", 7 * 86400}, {"week", 7 * 86400}, {"weeks", 7 * 86400},
	{"mon", 30 * 86400}, {"mons", 30 * 86400}, {"month", 30 * 86400}, {"months", 30 * 86400},
	{"y", 365 * 86400}, {"year", 365 * 86400}, {"years", 365 * 86400},
};

int
rb_duration_parse(const char *text, int64_t *seconds, rb_error *err)
{
	const char *p = text ? text : "";
	int64_t		total = 0;
	bool		any = false;

	for (;;)
	{
		int64_t		v = 0;
		char		unit[16];
		size_t		ul = 0;
		int64_t		mult = 0;

		while (isspace((unsigned char) *p))
			p++;
		if (*p == '\0')
			break;
		if (!isdigit((unsigned char) *p))
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid duration \"%s\": expected a number such as \"30 days\" or \"12 hours\"",
								text ? text : "");
		while (isdigit((unsigned char) *p))
		{
			if (v > (INT64_MAX - 9) / 10)
				return rb_error_set(err, RB_ERR_INVALID, "duration \"%s\" is out of range", text);
			v = v * 10 + (*p++ - '0');
		}
		while (isspace((unsigned char) *p))
			p++;
		while (isalpha((unsigned char) *p) && ul < sizeof(unit) - 1)
			unit[ul++] = (char) tolower((unsigned char) *p++);
		unit[ul] = '\0';
		if (isalpha((unsigned char) *p))
			return rb_error_set(err, RB_ERR_INVALID, "invalid duration \"%s\": unknown unit", text);
		if (ul == 0)
			mult = 1;
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && mult == 0; i++)
			if (strcmp(units[i].name, unit) == 0)
				mult = units[i].seconds;
		if (mult == 0)
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid duration \"%s\": unknown unit \"%s\"", text, unit);
		if (v > (INT64_MAX - total) / mult)
			return rb_error_set(err, RB_ERR_INVALID, "duration \"%s\" is out of range", text);
		total += v * mult;
		any = true;
		if (*p == ',')
			p++;
	}
	if (!any)
		return rb_error_set(err, RB_ERR_INVALID, "invalid duration \"\": expected a number such as \"30 days\"");
	*seconds = total;
	return 0;
}

void
rb_duration_format(int64_t s, char *buf, size_t len)
{
	if (s != 0 && s % 86400 == 0)
		snprintf(buf, len, "%" PRId64 " day%s", s / 86400, s == 86400 ? "" : "s");
	else if (s != 0 && s % 3600 == 0)
		snprintf(buf, len, "%" PRId64 " hour%s", s / 3600, s == 3600 ? "" : "s");
	else if (s != 0 && s % 60 == 0)
		snprintf(buf, len, "%" PRId64 " min", s / 60);
	else
		snprintf(buf, len, "%" PRId64 " s", s);
}
