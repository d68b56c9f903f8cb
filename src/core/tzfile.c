/*
 * tzfile.c — IANA time zones from TZif files and their POSIX TZ footer rule
 * (see tzfile.h).  Reads RFC 8536 TZif data, versions 1 to 4: for version 2+ the
 * 64-bit section and the footer; the footer decides every instant after the last
 * explicit transition, which is all a 'slim' tzdata build provides for the future.
 * Never touches TZ, tzset() or localtime().
 */
#include "tzfile.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define TZ_DEFAULT_DIR "/usr/share/zoneinfo"
#define TZ_FILE_MAX (4 * 1024 * 1024)	/* real zone files are a few KiB */
#define TZ_MAX_TIMES 100000
#define TZ_MAX_OFFSETS 64
#define SECS_PER_DAY 86400

/* One rule date of a POSIX TZ string: Jn, n or Mm.w.d, plus the time of day. */
typedef struct tz_rule_date
{
	char		kind;			/* 'J' (1-365, no Feb 29), 'D' (0-365), 'M' */
	int			day;			/* Jn / n; or d (weekday) for M */
	int			month;			/* M only */
	int			week;			/* M only, 1-5 (5 = last) */
	int32_t		time;			/* seconds after local midnight, may be <0 or >24h */
} tz_rule_date;

/* The footer's rule: standard offset, and optionally DST with its two dates. */
typedef struct tz_posix_rule
{
	int32_t		std_off;		/* seconds east of UTC */
	bool		has_dst;
	int32_t		dst_off;
	tz_rule_date start;
	tz_rule_date end;
} tz_posix_rule;

typedef struct tz_type
{
	int32_t		utoff;			/* seconds east of UTC */
	bool		isdst;
} tz_type;

struct rb_tz
{
	char		name[RB_TZ_NAME_MAX + 1];
	size_t		ntimes;
	int64_t    *times;			/* transition instants, ascending */
	uint8_t    *idx;			/* type index in effect from times[i] */
	size_t		ntypes;
	tz_type    *types;
	bool		has_rule;
	tz_posix_rule rule;
	int			noffsets;		/* every distinct offset the zone can have */
	int32_t		offsets[TZ_MAX_OFFSETS];
	int32_t		min_off;
	int32_t		max_off;
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

static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t		q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* ---- POSIX TZ string (the footer) --------------------------------------------- */

/* Skips a zone abbreviation: <...> or at least three letters. */
static bool
posix_skip_name(const char **p)
{
	const char *s = *p;

	if (*s == '<')
	{
		s++;
		while (*s && *s != '>')
			s++;
		if (*s != '>')
			return false;
		*p = s + 1;
		return true;
	}
	while (isalpha((unsigned char) *s))
		s++;
	if (s - *p < 3)
		return false;
	*p = s;
	return true;
}

/* [+-]hh[:mm[:ss]] into seconds; hours up to max_hours. */
static bool
posix_parse_hms(const char **p, int max_hours, int32_t *out)
{
	const char *s = *p;
	int			sign = 1;
	int			part[3] = {0, 0, 0};
	int			i;

	if (*s == '+' || *s == '-')
	{
		if (*s == '-')
			sign = -1;
		s++;
	}
	for (i = 0; i < 3; i++)
	{
		int			n = 0,
					digits = 0;

		if (i > 0)
		{
			if (*s != ':')
				break;
			s++;
		}
		while (isdigit((unsigned char) *s) && digits < 3)
		{
			n = n * 10 + (*s - '0');
			s++;
			digits++;
		}
		if (digits == 0)
			return false;
		part[i] = n;
	}
	if (part[0] > max_hours || part[1] > 59 || part[2] > 59)
		return false;
	*out = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
	*p = s;
	return true;
}

static bool
posix_parse_int(const char **p, int lo, int hi, int *out)
{
	const char *s = *p;
	int			n = 0,
				digits = 0;

	while (isdigit((unsigned char) *s) && digits < 4)
	{
		n = n * 10 + (*s - '0');
		s++;
		digits++;
	}
	if (digits == 0 || n < lo || n > hi)
		return false;
	*out = n;
	*p = s;
	return true;
}

static bool
posix_parse_date(const char **p, tz_rule_date *d)
{
	const char *s = *p;

	memset(d, 0, sizeof(*d));
	if (*s == 'J')
	{
		s++;
		d->kind = 'J';
		if (!posix_parse_int(&s, 1, 365, &d->day))
			return false;
	}
	else if (*s == 'M')
	{
		s++;
		d->kind = 'M';
		if (!posix_parse_int(&s, 1, 12, &d->month) || *s++ != '.' ||
			!posix_parse_int(&s, 1, 5, &d->week) || *s++ != '.' ||
			!posix_parse_int(&s, 0, 6, &d->day))
			return false;
	}
	else
	{
		d->kind = 'D';
		if (!posix_parse_int(&s, 0, 365, &d->day))
			return false;
	}
	d->time = 2 * 3600;
	if (*s == '/')
	{
		s++;
		/* RFC 8536 extends the time to -167..167 hours */
		if (!posix_parse_hms(&s, 167, &d->time))
			return false;
	}
	*p = s;
	return true;
}

static bool
posix_parse(const char *s, tz_posix_rule *r)
{
	int32_t		off;

	memset(r, 0, sizeof(*r));
	if (!posix_skip_name(&s) || !posix_parse_hms(&s, 24, &off))
		return false;
	r->std_off = -off;			/* POSIX counts west of Greenwich as positive */
	if (*s == '\0')
		return true;
	if (!posix_skip_name(&s))
		return false;
	r->has_dst = true;
	r->dst_off = r->std_off + 3600;
	if (*s != ',' && *s != '\0')
	{
		if (!posix_parse_hms(&s, 24, &off))
			return false;
		r->dst_off = -off;
	}
	if (*s == '\0')
	{
		/* no rule given: POSIX leaves it to the implementation; US rules */
		const char *def = ",M3.2.0,M11.1.0";

		s = def;
	}
	if (*s++ != ',' || !posix_parse_date(&s, &r->start) || *s++ != ',' ||
		!posix_parse_date(&s, &r->end) || *s != '\0')
		return false;
	return true;
}

/* Local seconds (at 00:00 of the day, plus the rule's time) of a rule date in year. */
static int64_t
rule_local_seconds(const tz_rule_date *d, int64_t year)
{
	int64_t		days;

	if (d->kind == 'J')
	{
		int			n = d->day;	/* 1..365, Feb 29 never counted */

		days = rb_days_from_civil(year, 1, 1) + n - 1;
		if (rb_is_leap_year(year) && n >= 60)
			days++;
	}
	else if (d->kind == 'D')
		days = rb_days_from_civil(year, 1, 1) + d->day;
	else
	{
		int64_t		first = rb_days_from_civil(year, d->month, 1);
		int			wd = rb_weekday_from_days(first);
		int			mday = 1 + (d->day - wd + 7) % 7 + (d->week - 1) * 7;
		int			dim = rb_days_in_month(year, d->month);

		while (mday > dim)
			mday -= 7;
		days = first + mday - 1;
	}
	return days * SECS_PER_DAY + d->time;
}

static int32_t
rule_offset(const tz_posix_rule *r, int64_t t)
{
	int64_t		year;
	int			month,
				day;
	int64_t		start,
				end;

	if (!r->has_dst)
		return r->std_off;
	rb_civil_from_days(floor_div(t + r->std_off, SECS_PER_DAY), &year, &month, &day);
	/* start is given in standard time, end in daylight saving time */
	start = rule_local_seconds(&r->start, year) - r->std_off;
	end = rule_local_seconds(&r->end, year) - r->dst_off;
	if (start < end)
		return (t >= start && t < end) ? r->dst_off : r->std_off;
	/* southern hemisphere: DST spans the turn of the year */
	return (t >= end && t < start) ? r->std_off : r->dst_off;
}

/* ---- TZif ------------------------------------------------------------------------ */

typedef struct tzif_reader
{
	const unsigned char *p;
	size_t		left;
} tzif_reader;

static bool
rd_take(tzif_reader *r, size_t n, const unsigned char **out)
{
	if (r->left < n)
		return false;
	*out = r->p;
	r->p += n;
	r->left -= n;
	return true;
}

static uint32_t
be32(const unsigned char *b)
{
	return ((uint32_t) b[0] << 24) | ((uint32_t) b[1] << 16) | ((uint32_t) b[2] << 8) | b[3];
}

static int64_t
be64(const unsigned char *b)
{
	return (int64_t) (((uint64_t) be32(b) << 32) | be32(b + 4));
}

typedef struct tzif_header
{
	char		version;
	uint32_t	isutcnt,
				isstdcnt,
				leapcnt,
				timecnt,
				typecnt,
				charcnt;
} tzif_header;

static bool
read_header(tzif_reader *r, tzif_header *h)
{
	const unsigned char *b;

	if (!rd_take(r, 44, &b) || memcmp(b, "TZif", 4) != 0)
		return false;
	h->version = (char) b[4];
	h->isutcnt = be32(b + 20);
	h->isstdcnt = be32(b + 24);
	h->leapcnt = be32(b + 28);
	h->timecnt = be32(b + 32);
	h->typecnt = be32(b + 36);
	h->charcnt = be32(b + 40);
	if (h->typecnt == 0 || h->typecnt > 256 || h->timecnt > TZ_MAX_TIMES ||
		h->leapcnt > TZ_MAX_TIMES || h->charcnt > 65536 ||
		(h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
		(h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return false;
	return true;
}

static void
add_offset(rb_tz *tz, int32_t off)
{
	int			i;

	for (i = 0; i < tz->noffsets; i++)
		if (tz->offsets[i] == off)
			return;
	if (tz->noffsets < TZ_MAX_OFFSETS)
		tz->offsets[tz->noffsets++] = off;
	if (tz->noffsets == 1 || off < tz->min_off)
		tz->min_off = off;
	if (tz->noffsets == 1 || off > tz->max_off)
		tz->max_off = off;
}

static int
tzif_invalid(const char *name, rb_error *err)
{
	return rb_error_set(err, RB_ERR_INVALID,
						"time zone \"%s\" has an invalid time zone file", name);
}

int
rb_tz_parse(const char *name, const unsigned char *data, size_t len, rb_tz **out,
			rb_error *err)
{
	tzif_reader r = {data, len};
	tzif_header h;
	int			tsize = 4;
	const unsigned char *b;
	rb_tz	   *tz;
	size_t		i;

	*out = NULL;
	if (!read_header(&r, &h))
		return tzif_invalid(name, err);
	if (h.version >= '2')
	{
		size_t		v1 = (size_t) h.timecnt * 5 + (size_t) h.typecnt * 6 + h.charcnt +
			(size_t) h.leapcnt * 8 + h.isstdcnt + h.isutcnt;

		if (!rd_take(&r, v1, &b) || !read_header(&r, &h))
			return tzif_invalid(name, err);
		tsize = 8;
	}
	if (h.leapcnt != 0)
		return rb_error_set(err, RB_ERR_INVALID,
							"time zone \"%s\" counts leap seconds, which is not supported",
							name);

	tz = calloc(1, sizeof(*tz));
	if (tz == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	snprintf(tz->name, sizeof(tz->name), "%s", name);
	tz->ntimes = h.timecnt;
	tz->ntypes = h.typecnt;
	tz->times = calloc(h.timecnt ? h.timecnt : 1, sizeof(int64_t));
	tz->idx = calloc(h.timecnt ? h.timecnt : 1, 1);
	tz->types = calloc(h.typecnt, sizeof(tz_type));
	if (tz->times == NULL || tz->idx == NULL || tz->types == NULL)
	{
		rb_tz_free(tz);
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	}
	if (!rd_take(&r, (size_t) h.timecnt * tsize, &b))
		goto bad;
	for (i = 0; i < h.timecnt; i++)
	{
		tz->times[i] = tsize == 8 ? be64(b + i * 8) : (int64_t) (int32_t) be32(b + i * 4);
		if (i > 0 && tz->times[i] <= tz->times[i - 1])
			goto bad;
	}
	if (!rd_take(&r, h.timecnt, &b))
		goto bad;
	for (i = 0; i < h.timecnt; i++)
	{
		if (b[i] >= h.typecnt)
			goto bad;
		tz->idx[i] = b[i];
	}
	if (!rd_take(&r, (size_t) h.typecnt * 6, &b))
		goto bad;
	for (i = 0; i < h.typecnt; i++)
	{
		int32_t		off = (int32_t) be32(b + i * 6);

		if (off < -25 * 3600 || off > 26 * 3600 || b[i * 6 + 4] > 1)
			goto bad;
		tz->types[i].utoff = off;
		tz->types[i].isdst = b[i * 6 + 4] == 1;
		add_offset(tz, off);
	}
	/* abbreviations, leap seconds (none), standard/wall and UT/local indicators */
	if (!rd_take(&r, (size_t) h.charcnt + (size_t) h.leapcnt * (tsize + 4) +
				 h.isstdcnt + h.isutcnt, &b))
		goto bad;

	if (tsize == 8)
	{
		/* footer: "\n" POSIX-TZ "\n"; an empty string means no rule */
		char		footer[256];
		size_t		n = 0;

		if (!rd_take(&r, 1, &b) || b[0] != '\n')
			goto bad;
		while (r.left > 0 && r.p[0] != '\n' && n < sizeof(footer) - 1)
		{
			footer[n++] = (char) r.p[0];
			r.p++;
			r.left--;
		}
		if (r.left == 0 || r.p[0] != '\n')
			goto bad;
		footer[n] = '\0';
		if (n > 0)
		{
			if (!posix_parse(footer, &tz->rule))
				goto bad;
			tz->has_rule = true;
			add_offset(tz, tz->rule.std_off);
			if (tz->rule.has_dst)
				add_offset(tz, tz->rule.dst_off);
		}
	}
	*out = tz;
	return 0;

bad:
	rb_tz_free(tz);
	return tzif_invalid(name, err);
}

void
rb_tz_free(rb_tz *tz)
{
	if (tz == NULL)
		return;
	free(tz->times);
	free(tz->idx);
	free(tz->types);
	free(tz);
}

const char *
rb_tz_name(const rb_tz *tz)
{
	return tz->name;
}

bool
rb_tz_has_footer(const rb_tz *tz)
{
	return tz->has_rule;
}

size_t
rb_tz_transition_count(const rb_tz *tz)
{
	return tz->ntimes;
}

/* ---- loading by name ----------------------------------------------------------- */

static bool
valid_zone_name(const char *name)
{
	size_t		len = strlen(name);
	const char *s;

	if (len == 0 || len > RB_TZ_NAME_MAX || name[0] == '/' || name[0] == '.' ||
		strstr(name, "..") != NULL || strstr(name, "//") != NULL || name[len - 1] == '/')
		return false;
	for (s = name; *s; s++)
	{
		unsigned char c = (unsigned char) *s;

		if (!(isalnum(c) || c == '/' || c == '_' || c == '+' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

/*
 * Finds `name` under dir, ignoring case in each path component (PostgreSQL also
 * takes "europe/berlin").  Writes the path found into path; false if none.
 */
static bool
find_zone_nocase(const char *dir, const char *name, char *path, size_t pathlen)
{
	char		rest[RB_TZ_NAME_MAX + 1];
	char	   *comp,
			   *save = NULL;

	snprintf(rest, sizeof(rest), "%s", name);
	snprintf(path, pathlen, "%s", dir);
	for (comp = strtok_r(rest, "/", &save); comp; comp = strtok_r(NULL, "/", &save))
	{
		DIR		   *d = opendir(path);
		struct dirent *de;
		bool		found = false;

		if (d == NULL)
			return false;
		while ((de = readdir(d)) != NULL)
		{
			if (strcasecmp(de->d_name, comp) == 0)
			{
				size_t		used = strlen(path);

				snprintf(path + used, pathlen - used, "/%s", de->d_name);
				found = true;
				break;
			}
		}
		closedir(d);
		if (!found)
			return false;
	}
	return true;
}

/* Reads a whole (small, regular) file; returns NULL on any failure. */
static unsigned char *
read_small_file(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	struct stat st;
	unsigned char *buf;
	size_t		n;

	if (f == NULL)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
		st.st_size > TZ_FILE_MAX)
	{
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t) st.st_size);
	if (buf == NULL)
	{
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, (size_t) st.st_size, f);
	fclose(f);
	if (n != (size_t) st.st_size)
	{
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static rb_tz *
make_utc(const char *name)
{
	rb_tz	   *tz = calloc(1, sizeof(*tz));

	if (tz == NULL)
		return NULL;
	snprintf(tz->name, sizeof(tz->name), "%s", name);
	tz->ntypes = 1;
	tz->types = calloc(1, sizeof(tz_type));
	if (tz->types == NULL)
	{
		free(tz);
		return NULL;
	}
	add_offset(tz, 0);
	return tz;
}

int
rb_tz_load(const char *name, rb_tz **out, rb_error *err)
{
	const char *dir = getenv("TZDIR");
	char		path[4096];
	unsigned char *data;
	size_t		len = 0;
	int			rc;

	*out = NULL;
	if (name == NULL || !valid_zone_name(name))
		return rb_error_set(err, RB_ERR_INVALID, "time zone \"%.*s\" is not a valid name",
							100, name ? name : "");
	if (dir == NULL || dir[0] == '\0')
		dir = TZ_DEFAULT_DIR;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	data = read_small_file(path, &len);
	if (data == NULL && find_zone_nocase(dir, name, path, sizeof(path)))
		data = read_small_file(path, &len);
	if (data != NULL)
	{
		rc = rb_tz_parse(name, data, len, out, err);
		free(data);
		if (rc == 0 || err == NULL || err->code != RB_ERR_INVALID ||
			strstr(err->msg, "invalid time zone file") == NULL)
			return rc;
		/* a file that is no zone (zone.tab, tzdata.zi): not a known zone name */
	}
	if (strcasecmp(name, "UTC") == 0)
	{
		/* always available, even without tzdata */
		*out = make_utc("UTC");
		return *out ? 0 : rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	}
	return rb_error_set(err, RB_ERR_NOT_FOUND, "time zone \"%s\" is not known", name);
}

/* ---- offsets and local time ---------------------------------------------------- */

int32_t
rb_tz_utc_offset(const rb_tz *tz, time_t t)
{
	size_t		lo,
				hi;

	if (tz->ntimes == 0)
		return tz->has_rule ? rule_offset(&tz->rule, t) : tz->types[0].utoff;
	if (t < tz->times[0])
		return tz->types[0].utoff;
	if (t >= tz->times[tz->ntimes - 1] && tz->has_rule)
		return rule_offset(&tz->rule, t);
	/* the last transition at or before t */
	lo = 0;
	hi = tz->ntimes;
	while (hi - lo > 1)
	{
		size_t		mid = lo + (hi - lo) / 2;

		if (tz->times[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return tz->types[tz->idx[lo]].utoff;
}

int64_t
rb_tz_to_local(const rb_tz *tz, time_t t)
{
	return (int64_t) t + rb_tz_utc_offset(tz, t);
}

int
rb_tz_local_to_utc(const rb_tz *tz, int64_t local, time_t out[2])
{
	time_t		found[TZ_MAX_OFFSETS];
	int			n = 0;
	int			i,
				j;

	for (i = 0; i < tz->noffsets; i++)
	{
		time_t		t = (time_t) (local - tz->offsets[i]);

		if (rb_tz_utc_offset(tz, t) == tz->offsets[i])
			found[n++] = t;
	}
	/* sort (n is tiny) */
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && found[j] < found[j - 1]; j--)
		{
			time_t		tmp = found[j];

			found[j] = found[j - 1];
			found[j - 1] = tmp;
		}
	for (i = 0; i < n && i < 2; i++)
		out[i] = found[i];
	return n < 2 ? n : 2;
}

time_t
rb_tz_resolve_local(const rb_tz *tz, int64_t local)
{
	time_t		sol[2];
	int64_t		lo,
				hi;

	if (rb_tz_local_to_utc(tz, local, sol) > 0)
		return sol[0];

	/*
	 * A gap: t + offset(t) jumps over `local` at the transition.  Bisect for the
	 * first instant whose wall clock is past `local`: that is when the gap ends.
	 */
	lo = local - tz->max_off;	/* wall clock there is at most local */
	hi = local - tz->min_off;	/* and here at least local */
	while (hi - lo > 1)
	{
		int64_t		mid = lo + (hi - lo) / 2;

		if (rb_tz_to_local(tz, (time_t) mid) < local)
			lo = mid;
		else
			hi = mid;
	}
	return (time_t) hi;
}
