/*
 * cli_pitr.c — recovery targets, the choice of a base backup and quoting for
 * restore-pitr (see cli_pitr.h).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_pitr.h"
#include "wal_range.h"

static int
digits(const char **p, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) (*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int
cli_pitr_parse_time(const char *text, int64_t *epoch_us, char *norm, size_t len, rb_error *err)
{
	const char *p = text;
	struct tm	tm;
	int			y, mo, d, h, mi, s;
	int64_t		us = 0;
	int			off_s = 0;
	time_t		t;
	int64_t		total;
	struct tm	u;

	memset(&tm, 0, sizeof(tm));
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
		digits(&p, 2, &d) || (*p != ' ' && *p != 'T') || (p++, digits(&p, 2, &h)) ||
		*p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' || digits(&p, 2, &s))
		goto bad;
	if (*p == '.')
	{
		int			n = 0;

		p++;
		if (!isdigit((unsigned char) *p))
			goto bad;
		for (; isdigit((unsigned char) *p); p++, n++)
			if (n < 6)
				us = us * 10 + (*p - '0');
		for (; n < 6; n++)
			us *= 10;
	}
	if (*p == ' ')
		p++;
	if (strcmp(p, "Z") == 0 || strcmp(p, "UTC") == 0 || strcmp(p, "+00") == 0)
		off_s = 0;
	else if (*p == '+' || *p == '-')
	{
		int			sign = *p == '-' ? -1 : 1;
		int			oh, om = 0;

		p++;
		if (digits(&p, 2, &oh))
			goto bad;
		if (*p == ':')
			p++;
		if (*p != '\0' && digits(&p, 2, &om))
			goto bad;
		if (*p != '\0' || oh > 15 || om > 59)
			goto bad;
		off_s = sign * (oh * 3600 + om * 60);
	}
	else if (*p == '\0')
		return rb_error_set(err, RB_ERR_INVALID,
							"recovery target time \"%s\" has no time zone: add one (\"+00\", \"Z\", \"UTC\", \"+01:00\")",
							text);
	else
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	total = ((int64_t) t - off_s) * 1000000 + us;
	*epoch_us = total;
	t = (time_t) (total / 1000000);
	gmtime_r(&t, &u);
	snprintf(norm, len, "%04d-%02d-%02d %02d:%02d:%02d.%06" PRId64 "+00", u.tm_year + 1900,
			 u.tm_mon + 1, u.tm_mday, u.tm_hour, u.tm_min, u.tm_sec, total % 1000000);
	return 0;
bad:
	return rb_error_set(err, RB_ERR_INVALID,
						"invalid recovery target time \"%s\": expected \"YYYY-MM-DD HH:MM:SS[.frac]\" and a time zone (\"+00\", \"Z\", \"UTC\", \"+01:00\")",
						text);
}

int64_t
cli_pitr_backup_end_us(const rb_backup_metadata *m)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(m->timestamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return INT64_MAX;
	/* the start is kept in whole seconds, rounded down: add one */
	return ((int64_t) timegm(&tm) + 1) * 1000000 +
		(int64_t) ceil((m->duration_seconds > 0 ? m->duration_seconds : 0) * 1e6);
}

long
cli_pitr_choose_base(const cli_catalog *cat, bool has_sysid, uint64_t sysid, int64_t base_id,
					 const cli_pitr_target *target, rb_error *err)
{
	long		best = -1;
	int64_t		best_end = 0;
	size_t		physical = 0,
				too_late = 0,
				failed = 0;
	bool		other_sysid = false;

	if (!has_sysid)
	{
		for (size_t i = 0; i < cat->n; i++)
		{
			const rb_backup_metadata *m = &cat->items[i].meta;

			if (!rb_backup_metadata_is_physical(m))
				continue;
			if (!has_sysid)
			{
				sysid = m->system_identifier;
				has_sysid = true;
			}
			else if (m->system_identifier != sysid)
				other_sysid = true;
		}
		if (other_sysid)
			return rb_error_set(err, RB_ERR_INVALID,
								"the destination holds base backups of several servers: choose one with --system-identifier N (\"ripple-backup list --long\" shows them)");
	}
	for (size_t i = 0; i < cat->n; i++)
	{
		const cli_backup *b = &cat->items[i];
		const rb_backup_metadata *m = &b->meta;
		int64_t		end = cli_pitr_backup_end_us(m);
		uint64_t	stop = 0;

		if (!rb_backup_metadata_is_physical(m) || m->system_identifier != sysid)
			continue;
		if (base_id >= 0 && m->backup_id != base_id)
			continue;
		physical++;
		if (strcmp(cli_backup_verify_status(b), "failed") == 0)
		{
			failed++;
			continue;
		}
		if (target->kind == CLI_PITR_TIME && end >= target->time_us)
		{
			too_late++;
			continue;
		}
		if (target->kind == CLI_PITR_LSN &&
			(!rb_lsn_parse(m->stop_lsn, &stop) || stop > target->lsn))
		{
			too_late++;
			continue;
		}
		if (best < 0 || end > best_end)
		{
			best = (long) i;
			best_end = end;
		}
	}
	if (best >= 0)
		return best;
	if (base_id >= 0 && physical == 0)
		return rb_error_set(err, RB_ERR_NOT_FOUND,
							"no base backup with id %" PRId64 " of system identifier %" PRIu64 " in the destination",
							base_id, sysid);
	if (physical == 0)
		return rb_error_set(err, RB_ERR_NOT_FOUND, "%s",
							has_sysid ? "no base backup of this system identifier in the destination" :
							"no base backup in the destination");
	return rb_error_set(err, RB_ERR_NOT_FOUND,
						"no base backup ends before the target: of %zu base backup%s of system identifier %" PRIu64 ", %zu end%s after it and %zu failed verification",
						physical, physical == 1 ? "" : "s", sysid, too_late, too_late == 1 ? "s" : "",
						failed);
}

void
cli_shell_quote(rb_buf *out, const char *s)
{
	bool		safe = s[0] != '\0';

	for (const char *c = s; *c && safe; c++)
		if (!isalnum((unsigned char) *c) && strchr("_-./:=,+@", *c) == NULL)
			safe = false;
	if (safe)
	{
		rb_buf_append_str(out, s);
		return;
	}
	rb_buf_append_char(out, '\'');
	for (const char *c = s; *c; c++)
	{
		if (*c == '\'')
			rb_buf_append_str(out, "'\\''");
		else
			rb_buf_append_char(out, *c);
	}
	rb_buf_append_char(out, '\'');
}

void
cli_conf_quote(rb_buf *out, const char *s)
{
	rb_buf_append_char(out, '\'');
	for (const char *c = s; *c; c++)
	{
		if (*c == '\'')
			rb_buf_append_str(out, "''");
		else if (*c == '\\')
			rb_buf_append_str(out, "\\\\");
		else
			rb_buf_append_char(out, *c);
	}
	rb_buf_append_char(out, '\'');
}
