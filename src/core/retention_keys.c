/*
 * retention_keys.c — backup object keys as retention reads them (see
 * retention_keys.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rb_alloc.h"
#include "retention_keys.h"
#include "verify_record.h"

static bool
has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t		sl = strlen(suffix);

	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

size_t
rb_backup_key_base_len(const char *key)
{
	size_t		len = strlen(key);

	if (has_suffix(key, len, RB_METADATA_SUFFIX))
		return len - strlen(RB_METADATA_SUFFIX);
	if (has_suffix(key, len, RB_PIN_SUFFIX))
		return len - strlen(RB_PIN_SUFFIX);
	if (has_suffix(key, len, RB_VERIFIED_SUFFIX))
		return len - strlen(RB_VERIFIED_SUFFIX);
	if (has_suffix(key, len, RB_VERIFY_RECORD_SUFFIX))
		return len - strlen(RB_VERIFY_RECORD_SUFFIX);
	return len;
}

static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static bool
parse_key(const char *key, const char *kind_suffix, int64_t *taken_at, int64_t *backup_id)
{
	const char *seg = strrchr(key, '/');
	struct tm	tm;
	int64_t		id = 0;
	const char *p;
	int			y,
				mo,
				d,
				h,
				mi,
				s;

	seg = seg ? seg + 1 : key;
	/* 20261126T040000Z-7.dump */
	if (strlen(seg) < 16 + 2 + 4 || seg[8] != 'T' || seg[15] != 'Z' || seg[16] != '-')
		return false;
	y = digits(seg, 4);
	mo = digits(seg + 4, 2);
	d = digits(seg + 6, 2);
	h = digits(seg + 9, 2);
	mi = digits(seg + 11, 2);
	s = digits(seg + 13, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
		mi < 0 || mi > 59 || s < 0 || s > 60)
		return false;
	p = seg + 17;
	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
	{
		if (id > (INT64_MAX - 9) / 10)
			return false;
		id = id * 10 + (*p++ - '0');
	}
	if (strncmp(p, kind_suffix, strlen(kind_suffix)) != 0)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	if (taken_at)
		*taken_at = (int64_t) timegm(&tm);
	if (backup_id)
		*backup_id = id;
	return true;
}

bool
rb_backup_key_parse(const char *key, int64_t *taken_at, int64_t *backup_id)
{
	return parse_key(key, ".dump", taken_at, backup_id);
}

bool
rb_base_backup_key_parse(const char *key, int64_t *taken_at, int64_t *backup_id)
{
	return parse_key(key, ".tar", taken_at, backup_id);
}

char *
rb_key_with_suffix(const char *key, const char *suffix)
{
	size_t		n = strlen(key) + strlen(suffix) + 1;
	char	   *r = rb_malloc(n);

	snprintf(r, n, "%s%s", key, suffix);
	return r;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

size_t
rb_retention_find_orphans(const rb_object_info *objs, size_t n, int64_t now,
						  int64_t min_age_s, bool *orphan)
{
	const char **meta = rb_malloc((n ? n : 1) * sizeof(*meta));
	size_t		nmeta = 0;
	size_t		norphans = 0;

	for (size_t i = 0; i < n; i++)
	{
		size_t		len = strlen(objs[i].key);

		if (has_suffix(objs[i].key, len, RB_METADATA_SUFFIX))
			meta[nmeta++] = objs[i].key;
	}
	qsort(meta, nmeta, sizeof(*meta), cmp_str);
	for (size_t i = 0; i < n; i++)
	{
		const char *k = objs[i].key;
		size_t		base = rb_backup_key_base_len(k);
		char	   *mk;
		bool		found;

		orphan[i] = false;
		if (!rb_backup_key_parse(k, NULL, NULL) || has_suffix(k, strlen(k), RB_METADATA_SUFFIX))
			continue;
		mk = rb_malloc(base + sizeof(RB_METADATA_SUFFIX));
		memcpy(mk, k, base);
		memcpy(mk + base, RB_METADATA_SUFFIX, sizeof(RB_METADATA_SUFFIX));
		found = bsearch(&mk, meta, nmeta, sizeof(*meta), cmp_str) != NULL;
		free(mk);
		if (found)
			continue;
		if (objs[i].mtime == 0 || now - objs[i].mtime < min_age_s)
			continue;			/* unknown age, or an upload that may still finish */
		orphan[i] = true;
		norphans++;
	}
	free(meta);
	return norphans;
}

void
rb_retention_mark_verified(rb_destination *d, const char *dump_key, bool verified,
						   const rb_hooks *hooks)
{
	char	   *marker = rb_key_with_suffix(dump_key, RB_VERIFIED_SUFFIX);
	rb_error	err;
	int			rc;

	rb_error_clear(&err);
	rc = verified ? rb_destination_put_small(d, marker, "", 0, &err)
		: rb_destination_delete(d, marker, &err);
	if (rc < 0)
		rb_log(hooks, RB_LOG_WARNING, "could not %s the verification marker \"%s\": %s",
			   verified ? "store" : "delete", marker, err.msg);
	free(marker);
}
