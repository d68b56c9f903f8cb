/*
 * wal_range.c — WAL object keys, timeline history files and the range of WAL
 * a base backup can reach (see wal_range.h).
 */
#include "wal_range.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"

static bool
all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char) s[i]))
			return false;
	return true;
}

static uint32_t
hex32(const char *s)
{
	char		b[9];

	memcpy(b, s, 8);
	b[8] = '\0';
	return (uint32_t) strtoul(b, NULL, 16);
}

static bool
has_suffix(const char *s, size_t len, const char *suffix)
{
	size_t		sl = strlen(suffix);

	return len >= sl && memcmp(s + len - sl, suffix, sl) == 0;
}

bool
rb_wal_key_parse(const char *key, rb_wal_key *out)
{
	const char *seg[5];
	size_t		seglen[5];
	const char *end = key + strlen(key);
	const char *p = end;
	size_t		flen;
	const char *f;

	memset(out, 0, sizeof(*out));
	/* the last five segments: sysid, incarnation, "wal", timeline, file */
	for (int i = 4; i >= 0; i--)
	{
		const char *s = p;

		while (s > key && s[-1] != '/')
			s--;
		seg[i] = s;
		seglen[i] = (size_t) (p - s);
		if (seglen[i] == 0 || (i > 0 && s == key))
			return false;
		p = s - 1;
	}
	if (seglen[2] != 3 || memcmp(seg[2], "wal", 3) != 0)
		return false;
	if (seglen[1] == 0 || seglen[1] >= sizeof(out->incarnation) || seglen[3] != 8 || !all_hex(seg[3], 8))
		return false;
	f = seg[4];
	flen = seglen[4];
	if (has_suffix(f, flen, ".zst.metadata.json"))
	{
		out->metadata = true;
		flen -= strlen(".zst.metadata.json");
	}
	else if (has_suffix(f, flen, ".zst"))
		flen -= strlen(".zst");
	else
		return false;
	if (flen == 24 && all_hex(f, 24))
		out->kind = RB_WAL_KIND_SEGMENT;
	else if (flen == 32 && all_hex(f, 24) && memcmp(f + 24, ".partial", 8) == 0)
		out->kind = RB_WAL_KIND_PARTIAL;
	else if (flen == 16 && all_hex(f, 8) && memcmp(f + 8, ".history", 8) == 0)
		out->kind = RB_WAL_KIND_HISTORY;
	else if (flen == 40 && all_hex(f, 24) && f[24] == '.' && all_hex(f + 25, 8) &&
			 memcmp(f + 33, ".backup", 7) == 0)
		out->kind = RB_WAL_KIND_BACKUP;
	else
		return false;
	out->timeline = hex32(f);
	if (out->timeline != hex32(seg[3]))
		return false;
	if (out->kind != RB_WAL_KIND_HISTORY)
	{
		out->log = hex32(f + 8);
		out->seg = hex32(f + 16);
	}
	memcpy(out->incarnation, seg[1], seglen[1]);
	memcpy(out->file, f, flen);
	out->file[flen] = '\0';
	return true;
}

uint64_t
rb_wal_key_segno(const rb_wal_key *k, uint64_t segment_size)
{
	return (uint64_t) k->log * (UINT64_C(0x100000000) / segment_size) + k->seg;
}

void
rb_wal_segment_name(uint32_t timeline, uint64_t segno, uint64_t segment_size,
					char out[RB_WAL_NAME_LEN])
{
	uint64_t	per = UINT64_C(0x100000000) / segment_size;

	snprintf(out, RB_WAL_NAME_LEN, "%08" PRIX32 "%08" PRIX32 "%08" PRIX32, timeline,
			 (uint32_t) (segno / per), (uint32_t) (segno % per));
}

bool
rb_lsn_parse(const char *text, uint64_t *lsn)
{
	const char *slash;
	size_t		hl,
				ll;

	if (text == NULL)
		return false;
	slash = strchr(text, '/');
	if (slash == NULL)
		return false;
	hl = (size_t) (slash - text);
	ll = strlen(slash + 1);
	if (hl < 1 || hl > 8 || ll < 1 || ll > 8 || !all_hex(text, hl) || !all_hex(slash + 1, ll))
		return false;
	*lsn = ((uint64_t) strtoul(text, NULL, 16) << 32) | (uint64_t) strtoul(slash + 1, NULL, 16);
	return true;
}

uint64_t
rb_wal_segment_size_from_label(const char *label)
{
	const char *line = label ? strstr(label, "START WAL LOCATION: ") : NULL;
	char		lsn_text[20];
	char		file[25];
	uint64_t	lsn;
	uint64_t	found = 0;
	uint32_t	log,
				seg;

	if (line == NULL ||
		sscanf(line, "START WAL LOCATION: %19s (file %24[0-9A-Fa-f])", lsn_text, file) != 2 ||
		strlen(file) != 24 || !rb_lsn_parse(lsn_text, &lsn))
		return 0;
	log = hex32(file + 8);
	seg = hex32(file + 16);
	for (uint64_t size = UINT64_C(1) << 20; size <= UINT64_C(1) << 30; size <<= 1)
	{
		uint64_t	per = UINT64_C(0x100000000) / size;
		uint64_t	segno = lsn / size;

		if (segno / per == log && segno % per == seg)
		{
			if (found != 0)
				return 0;		/* the first segment fits several sizes */
			found = size;
		}
	}
	return found;
}

int
rb_wal_history_parse(const char *text, size_t len, uint32_t timeline, rb_wal_history *h,
					 rb_error *err)
{
	size_t		pos = 0;
	size_t		cap = 0;
	int			lineno = 0;

	h->timeline = timeline;
	h->entries = NULL;
	h->n = 0;
	while (pos < len)
	{
		size_t		eol = pos;
		char		line[256];
		size_t		ll;
		const char *p;
		unsigned int tli,
					hi,
					lo;

		while (eol < len && text[eol] != '\n')
			eol++;
		ll = eol - pos < sizeof(line) - 1 ? eol - pos : sizeof(line) - 1;
		memcpy(line, text + pos, ll);
		line[ll] = '\0';
		pos = eol + 1;
		lineno++;
		for (p = line; isspace((unsigned char) *p); p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		if (sscanf(p, "%u\t%X/%X", &tli, &hi, &lo) != 3)
			goto bad;
		if ((h->n > 0 && tli <= h->entries[h->n - 1].timeline) || tli == 0)
			goto bad;
		if (h->n == cap)
		{
			cap = cap ? cap * 2 : 4;
			h->entries = rb_realloc(h->entries, cap * sizeof(*h->entries));
		}
		h->entries[h->n].timeline = tli;
		h->entries[h->n].end_lsn = ((uint64_t) hi << 32) | lo;
		h->n++;
	}
	if (h->n > 0 && h->entries[h->n - 1].timeline >= timeline)
	{
		lineno = 0;
		goto bad;
	}
	return 0;
bad:
	rb_wal_history_free(h);
	h->timeline = timeline;
	if (lineno > 0)
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"history file of timeline %" PRIu32 " is malformed at line %d",
							timeline, lineno);
	return rb_error_set(err, RB_ERR_INTEGRITY,
						"history file of timeline %" PRIu32 " names an ancestor that is not older",
						timeline);
}

void
rb_wal_history_free(rb_wal_history *h)
{
	free(h->entries);
	h->entries = NULL;
	h->n = 0;
}

/* --- the walk --------------------------------------------------------------------- */

typedef struct path_step
{
	uint32_t	timeline;
	uint64_t	begin_segno;	/* first segment read from this timeline */
} path_step;

static int
cmp_file(const void *a, const void *b)
{
	const rb_wal_file *x = a;
	const rb_wal_file *y = b;

	if (x->timeline != y->timeline)
		return x->timeline < y->timeline ? -1 : 1;
	if (x->segno != y->segno)
		return x->segno < y->segno ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return 0;
}

static const rb_wal_file *
find_file(const rb_wal_file *sorted, size_t n, rb_wal_file_kind kind, uint32_t tli, uint64_t segno)
{
	rb_wal_file probe;

	memset(&probe, 0, sizeof(probe));
	probe.kind = kind;
	probe.timeline = tli;
	probe.segno = segno;
	return bsearch(&probe, sorted, n, sizeof(*sorted), cmp_file);
}

static uint32_t
timeline_for(const path_step *path, size_t np, uint64_t segno)
{
	uint32_t	t = path[0].timeline;

	for (size_t i = 0; i < np; i++)
		if (path[i].begin_segno <= segno)
			t = path[i].timeline;
	return t;
}

static bool
on_path(const path_step *path, size_t np, uint32_t tli, uint64_t segno)
{
	for (size_t i = 0; i < np; i++)
		if (path[i].timeline == tli && segno >= path[i].begin_segno)
			return true;
	return false;
}

void
rb_wal_range_compute(const rb_wal_file *files, size_t nfiles,
					 const rb_wal_history *hist, size_t nhist,
					 const rb_wal_range_base *base, rb_wal_range *out)
{
	uint64_t	size = base->segment_size ? base->segment_size : RB_WAL_DEFAULT_SEGMENT_SIZE;
	const rb_wal_history *target = NULL;
	path_step  *path;
	size_t		np = 0;
	rb_wal_file *sorted;
	uint64_t	s;

	memset(out, 0, sizeof(*out));
	/* the target: the newest timeline that left the base's after the base started */
	for (size_t i = 0; i < nhist; i++)
		for (size_t j = 0; j < hist[i].n; j++)
			if (hist[i].entries[j].timeline == base->timeline &&
				hist[i].entries[j].end_lsn > base->start_lsn &&
				(target == NULL || hist[i].timeline > target->timeline))
				target = &hist[i];

	path = rb_malloc((target ? target->n + 1 : 1) * sizeof(*path));
	path[np].timeline = base->timeline;
	path[np++].begin_segno = 0;
	if (target)
	{
		size_t		j = 0;

		while (target->entries[j].timeline != base->timeline)
			j++;
		for (; j < target->n; j++)
		{
			uint32_t	next = j + 1 < target->n ? target->entries[j + 1].timeline : target->timeline;

			path[np].timeline = next;
			path[np++].begin_segno = target->entries[j].end_lsn / size;
		}
	}
	out->target_timeline = path[np - 1].timeline;

	sorted = rb_malloc((nfiles ? nfiles : 1) * sizeof(*sorted));
	if (nfiles)
		memcpy(sorted, files, nfiles * sizeof(*sorted));
	qsort(sorted, nfiles, sizeof(*sorted), cmp_file);

	out->start_segno = base->start_lsn / size;
	out->stop_segno = base->stop_lsn > base->start_lsn ? (base->stop_lsn - 1) / size : out->start_segno;
	for (s = out->start_segno;; s++)
	{
		uint32_t	tli = timeline_for(path, np, s);
		const rb_wal_file *f = find_file(sorted, nfiles, RB_WAL_KIND_SEGMENT, tli, s);

		if (f == NULL)
		{
			out->missing_timeline = tli;
			out->missing_segno = s;
			break;
		}
		out->segments++;
		out->last_timeline = tli;
		out->last_segno = s;
		/* the newest of its copies (several incarnations may hold one) */
		out->last_mtime = f->mtime;
		for (const rb_wal_file *g = f + 1; g < sorted + nfiles && cmp_file(g, f) == 0; g++)
			if (g->mtime > out->last_mtime)
				out->last_mtime = g->mtime;
		for (const rb_wal_file *g = f; g > sorted && cmp_file(g - 1, f) == 0; g--)
			if (g[-1].mtime > out->last_mtime)
				out->last_mtime = g[-1].mtime;
	}
	out->ends_with_partial =
		find_file(sorted, nfiles, RB_WAL_KIND_PARTIAL, out->missing_timeline, out->missing_segno) != NULL;

	if (out->segments == 0 || out->last_segno < out->stop_segno)
		out->status = RB_WAL_RANGE_NOT_CONSISTENT;
	else
	{
		out->status = RB_WAL_RANGE_RECOVERABLE;
		for (size_t i = 0; i < nfiles; i++)
			if (sorted[i].kind == RB_WAL_KIND_SEGMENT && sorted[i].segno > out->missing_segno &&
				on_path(path, np, sorted[i].timeline, sorted[i].segno))
			{
				out->status = RB_WAL_RANGE_GAP;
				break;
			}
	}
	free(sorted);
	free(path);
}
