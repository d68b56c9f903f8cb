/*
 * tar_scan.c — a streaming walker of tar headers (see tar_scan.h).  Understands
 * ustar headers (with prefix), GNU long names ('L') and skips pax extended
 * headers; a header's checksum is checked, sizes may be octal or base-256.
 */
#include "tar_scan.h"
#include "wal_range.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAR_BLOCK 512
#define LABEL_MAX (64 * 1024)
#define MANIFEST_TAIL 4096
#define LONGNAME_MAX 4096

typedef enum member_kind
{
	MEMBER_OTHER,
	MEMBER_LABEL,
	MEMBER_MANIFEST,
	MEMBER_LONGNAME
} member_kind;

struct rb_tar_scan
{
	unsigned char hdr[TAR_BLOCK];
	size_t		hdr_fill;
	uint64_t	left;			/* content bytes of the current member still to come */
	uint64_t	pad;			/* padding after it */
	member_kind kind;
	int			zero_blocks;	/* consecutive all-zero headers */
	bool		ended;			/* two zero blocks seen */
	bool		failed;
	char	   *label;			/* backup_label text */
	size_t		label_len;
	char		tail[MANIFEST_TAIL + 1];	/* last bytes of backup_manifest */
	size_t		tail_len;
	char		longname[LONGNAME_MAX + 1];
	size_t		longname_len;
	bool		have_longname;
	rb_base_backup_info info;
	rb_tar_sink sink;			/* all NULL = none */
	bool		in_member;		/* the sink saw begin and not yet end */
};

rb_tar_scan *
rb_tar_scan_new(void)
{
	rb_tar_scan *s = calloc(1, sizeof(rb_tar_scan));

	if (s != NULL)
	{
		s->label = malloc(LABEL_MAX + 1);
		if (s->label == NULL)
		{
			free(s);
			return NULL;
		}
		s->label[0] = '\0';
	}
	return s;
}

void
rb_tar_scan_free(rb_tar_scan *s)
{
	if (s == NULL)
		return;
	free(s->label);
	free(s);
}

void
rb_tar_scan_set_sink(rb_tar_scan *s, const rb_tar_sink *sink)
{
	if (sink != NULL)
		s->sink = *sink;
	else
		memset(&s->sink, 0, sizeof(s->sink));
}

const char *
rb_tar_scan_backup_label(const rb_tar_scan *s)
{
	return s->label;
}

static bool
parse_octal(const unsigned char *p, size_t n, uint64_t *out)
{
	uint64_t	v = 0;
	size_t		i = 0;

	if (p[0] & 0x80)
	{
		/* base-256: big-endian, the high bit of the first byte is the marker */
		v = p[0] & 0x7f;
		for (i = 1; i < n; i++)
		{
			if (v > (UINT64_MAX >> 8))
				return false;
			v = (v << 8) | p[i];
		}
		*out = v;
		return true;
	}
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++)
	{
		if (v > (UINT64_MAX >> 3))
			return false;
		v = (v << 3) | (uint64_t) (p[i] - '0');
	}
	for (; i < n; i++)
		if (p[i] != ' ' && p[i] != '\0')
			return false;
	*out = v;
	return true;
}

static bool
checksum_ok(const unsigned char *h)
{
	uint64_t	want;
	uint64_t	sum = 0;

	if (!parse_octal(h + 148, 8, &want))
		return false;
	for (int i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : h[i];
	return sum == want;
}

/* The sink's begin, and its end at once for a member without content. */
static int
sink_begin(rb_tar_scan *s, const char *name, char type, uint64_t size, unsigned int mode,
		   rb_error *err)
{
	if (s->sink.begin == NULL)
		return 0;
	if (s->sink.begin(s->sink.arg, name, type, size, mode, err) != 0)
		return -1;
	s->in_member = true;
	if (size == 0)
	{
		s->in_member = false;
		if (s->sink.end != NULL && s->sink.end(s->sink.arg, err) != 0)
			return -1;
	}
	return 0;
}

static int
note_member(rb_tar_scan *s, const char *name, char type, uint64_t size, unsigned int mode,
			rb_error *err)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	s->info.members++;
	s->info.content_bytes += size;
	s->kind = MEMBER_OTHER;
	if (type != '0' && type != '\0')
	{
		if (strncmp(name, "base/", 5) == 0)
			s->info.has_base_dir = true;
		return sink_begin(s, name, type, size, mode, err);
	}
	if (strcmp(name, "backup_label") == 0)
	{
		s->info.has_backup_label = true;
		s->kind = MEMBER_LABEL;
		s->label_len = 0;
		s->label[0] = '\0';
	}
	else if (strcmp(name, "backup_manifest") == 0)
	{
		s->info.has_manifest = true;
		s->kind = MEMBER_MANIFEST;
		s->tail_len = 0;
	}
	else if (strcmp(name, "global/pg_control") == 0)
		s->info.has_pg_control = true;
	else if (strncmp(name, "base/", 5) == 0)
		s->info.has_base_dir = true;
	return sink_begin(s, name, type, size, mode, err);
}

static int
take_header(rb_tar_scan *s, rb_error *err)
{
	const unsigned char *h = s->hdr;
	char		name[LONGNAME_MAX + 160];
	uint64_t	size;
	uint64_t	mode;
	char		type = (char) h[156];
	bool		zero = true;

	for (int i = 0; i < TAR_BLOCK && zero; i++)
		zero = h[i] == 0;
	if (zero)
	{
		if (++s->zero_blocks == 2)
			s->ended = true;
		return 0;
	}
	if (s->zero_blocks > 0)
		return rb_error_set(err, RB_ERR_INTEGRITY, "tar stream: a member follows an end-of-archive block");
	if (!checksum_ok(h))
		return rb_error_set(err, RB_ERR_INTEGRITY, "tar stream: bad header checksum after %llu members",
							(unsigned long long) s->info.members);
	if (!parse_octal(h + 124, 12, &size))
		return rb_error_set(err, RB_ERR_INTEGRITY, "tar stream: bad member size after %llu members",
							(unsigned long long) s->info.members);
	if (!parse_octal(h + 100, 8, &mode))
		mode = 0;

	if (s->have_longname)
	{
		snprintf(name, sizeof(name), "%s", s->longname);
		s->have_longname = false;
	}
	else if (memcmp(h + 257, "ustar", 5) == 0 && h[345] != '\0')
		snprintf(name, sizeof(name), "%.155s/%.100s", (const char *) h + 345, (const char *) h);
	else
		snprintf(name, sizeof(name), "%.100s", (const char *) h);

	s->left = size;
	s->pad = (TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK;
	if (type == 'L')
	{
		s->kind = MEMBER_LONGNAME;
		s->longname_len = 0;
		return 0;
	}
	if (type == 'x' || type == 'g')
	{
		s->kind = MEMBER_OTHER;	/* pax attributes: skipped */
		return 0;
	}
	return note_member(s, name, type, size, (unsigned int) (mode & 07777), err);
}

static int
take_content(rb_tar_scan *s, const unsigned char *p, size_t n, rb_error *err)
{
	if (s->in_member && s->sink.data != NULL && s->sink.data(s->sink.arg, p, n, err) != 0)
		return -1;
	switch (s->kind)
	{
		case MEMBER_LABEL:
			if (s->label_len < LABEL_MAX)
			{
				size_t		k = n < LABEL_MAX - s->label_len ? n : LABEL_MAX - s->label_len;

				memcpy(s->label + s->label_len, p, k);
				s->label_len += k;
				s->label[s->label_len] = '\0';
			}
			break;
		case MEMBER_MANIFEST:
			if (n >= MANIFEST_TAIL)
			{
				memcpy(s->tail, p + n - MANIFEST_TAIL, MANIFEST_TAIL);
				s->tail_len = MANIFEST_TAIL;
			}
			else
			{
				size_t		keep = s->tail_len + n > MANIFEST_TAIL ? MANIFEST_TAIL - n : s->tail_len;

				memmove(s->tail, s->tail + s->tail_len - keep, keep);
				memcpy(s->tail + keep, p, n);
				s->tail_len = keep + n;
			}
			s->tail[s->tail_len] = '\0';
			break;
		case MEMBER_LONGNAME:
			if (s->longname_len < LONGNAME_MAX)
			{
				size_t		k = n < LONGNAME_MAX - s->longname_len ? n : LONGNAME_MAX - s->longname_len;

				memcpy(s->longname + s->longname_len, p, k);
				s->longname_len += k;
			}
			s->longname[s->longname_len] = '\0';
			if (s->left == n)
				s->have_longname = true;
			break;
		case MEMBER_OTHER:
			break;
	}
	return 0;
}

int
rb_tar_scan_feed(rb_tar_scan *s, const void *data, size_t len, rb_error *err)
{
	const unsigned char *p = data;

	if (s->failed)
		return rb_error_set(err, RB_ERR_INTEGRITY, "tar stream: already failed");
	while (len > 0)
	{
		if (s->left > 0)
		{
			size_t		n = s->left < len ? (size_t) s->left : len;

			if (take_content(s, p, n, err) != 0)
			{
				s->failed = true;
				return -1;
			}
			s->left -= n;
			p += n;
			len -= n;
			if (s->left == 0 && s->in_member)
			{
				s->in_member = false;
				if (s->sink.end != NULL && s->sink.end(s->sink.arg, err) != 0)
				{
					s->failed = true;
					return -1;
				}
			}
		}
		else if (s->pad > 0)
		{
			size_t		n = s->pad < len ? (size_t) s->pad : len;

			s->pad -= n;
			p += n;
			len -= n;
		}
		else if (s->ended)
		{
			/* what follows the end-of-archive blocks must be zeros (block padding) */
			for (size_t i = 0; i < len; i++)
				if (p[i] != 0)
				{
					s->failed = true;
					return rb_error_set(err, RB_ERR_INTEGRITY, "tar stream: data after the end of the archive");
				}
			return 0;
		}
		else
		{
			size_t		n = TAR_BLOCK - s->hdr_fill < len ? TAR_BLOCK - s->hdr_fill : len;

			memcpy(s->hdr + s->hdr_fill, p, n);
			s->hdr_fill += n;
			p += n;
			len -= n;
			if (s->hdr_fill == TAR_BLOCK)
			{
				s->hdr_fill = 0;
				if (take_header(s, err) < 0)
				{
					s->failed = true;
					return -1;
				}
			}
		}
	}
	return 0;
}

/* The value after "KEY: " on a line of text, up to the end of the line or a space. */
static bool
label_value(const char *text, const char *key, char *out, size_t cap, bool to_eol)
{
	size_t		klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
	{
		if (strncmp(line, key, klen) == 0)
		{
			const char *v = line + klen;
			size_t		n = 0;

			while (v[n] && v[n] != '\n' && (to_eol || v[n] != ' '))
				n++;
			if (n >= cap)
				n = cap - 1;
			memcpy(out, v, n);
			out[n] = '\0';
			return true;
		}
	}
	return false;
}

int
rb_tar_scan_finish(rb_tar_scan *s, rb_base_backup_info *info, rb_error *err)
{
	char		tl[16];
	uint64_t	best = 0;
	int			rc = 0;

	if (s->failed)
		rc = rb_error_set(err, RB_ERR_INTEGRITY, "tar stream: malformed");
	else if (!s->ended || s->left > 0 || s->pad > 0 || s->hdr_fill > 0)
		rc = rb_error_set(err, RB_ERR_INTEGRITY, "tar stream: truncated after %llu members",
						  (unsigned long long) s->info.members);

	if (label_value(s->label, "START WAL LOCATION: ", s->info.start_lsn, sizeof(s->info.start_lsn), false))
	{
		uint64_t	v;

		if (!rb_lsn_parse(s->info.start_lsn, &v))
			s->info.start_lsn[0] = '\0';
	}
	if (label_value(s->label, "START TIMELINE: ", tl, sizeof(tl), false))
		s->info.timeline = (uint32_t) strtoul(tl, NULL, 10);
	(void) label_value(s->label, "LABEL: ", s->info.label, sizeof(s->info.label), true);

	/* the greatest End-LSN of the manifest's WAL-Ranges */
	for (const char *p = strstr(s->tail, "\"End-LSN\""); p; p = strstr(p + 1, "\"End-LSN\""))
	{
		const char *q = strchr(p + 9, '"');
		char		v[24];
		size_t		n;
		uint64_t	lsn;

		if (q == NULL)
			break;
		q++;
		for (n = 0; q[n] && q[n] != '"' && n < sizeof(v) - 1; n++)
			v[n] = q[n];
		v[n] = '\0';
		if (rb_lsn_parse(v, &lsn) && lsn >= best)
		{
			best = lsn;
			memcpy(s->info.stop_lsn, v, n + 1);
		}
	}
	if (info != NULL)
		*info = s->info;
	return rc;
}

int
rb_base_backup_info_check(const rb_base_backup_info *info, rb_error *err)
{
	if (!info->has_backup_label)
		return rb_error_set(err, RB_ERR_INTEGRITY, "the base backup has no backup_label");
	if (info->start_lsn[0] == '\0' || info->timeline == 0)
		return rb_error_set(err, RB_ERR_INTEGRITY, "the base backup's backup_label has no start WAL location or timeline");
	if (!info->has_pg_control)
		return rb_error_set(err, RB_ERR_INTEGRITY, "the base backup has no global/pg_control");
	if (!info->has_base_dir)
		return rb_error_set(err, RB_ERR_INTEGRITY, "the base backup has no base/ directory");
	return 0;
}
