/*
 * pgdump_archive.c — streaming observer of pg_dump's custom-format archive
 * (see pgdump_archive.h).
 *
 * Layout (pg_backup_archiver.c ReadHead/ReadToc, pg_backup_custom.c), as written to
 * a pipe by pg_dump -Fc -Z0:
 *   "PGDMP" vmaj vmin vrev intSize offSize format(1 = custom)
 *   compression: algorithm byte (1.15+) or level int (1.4 .. 1.14)
 *   creation time: 7 ints; dbname str; server version str; pg_dump version str
 *   TOC: count int, then per entry: dumpId int, hadDumper int, tableoid str, oid str,
 *        tag str, desc str, section int, defn str, dropStmt str, copyStmt str,
 *        namespace str, tablespace str, tableam str (1.14+), relkind int (1.16+),
 *        owner str, withOids str, dependencies (str ... NULL), data state byte +
 *        offSize offset bytes
 *   data blocks: type byte (1 = data, 3 = large objects) and dumpId int, then
 *        data: chunks (length int, bytes) ended by length 0;
 *        large objects: (oid int, chunks ended by 0) ... ended by oid 0
 * An int is a sign byte then intSize bytes, least significant first; a str is an
 * int length (negative = NULL) then the bytes.
 */
#include "pgdump_archive.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"
#include "rb_buf.h"

#define VERS(maj, min, rev) (((maj) << 16) | ((min) << 8) | (rev))
#define K_VERS_1_12 VERS(1, 12, 0)
#define K_VERS_1_14 VERS(1, 14, 0)
#define K_VERS_1_15 VERS(1, 15, 0)
#define K_VERS_1_16 VERS(1, 16, 0)

#define BLK_DATA 1
#define BLK_BLOBS 3
#define K_OFFSET_NO_DATA 3

#define MAX_KEPT_STR (64 * 1024 * 1024)	/* tag, desc, namespace, copy statement */

/* What the item being read means. */
typedef enum parse_state
{
	S_MAGIC,
	S_VERSION,					/* vmaj vmin vrev */
	S_SIZES,					/* intSize offSize format */
	S_COMPRESS_ALGO,			/* byte, 1.15+ */
	S_COMPRESS_LEVEL,			/* int, before 1.15 */
	S_CREATE_TIME,				/* 7 ints */
	S_DBNAME,
	S_REMOTE_VERSION,
	S_DUMP_VERSION,
	S_TOC_COUNT,
	S_TOC_FIELD,				/* field toc_field of entry toc_index */
	S_BLOCK_TYPE,
	S_BLOCK_ID,
	S_CHUNK_LEN,
	S_CHUNK_BODY,
	S_BLOB_OID,
	S_BLOB_CHUNK_LEN,
	S_BLOB_CHUNK_BODY,
	S_FAILED
} parse_state;

/* How the current item is read. */
typedef enum item_kind
{
	I_RAW,						/* raw_need bytes into raw[] */
	I_STR_BODY,					/* str_left bytes into str (kept) */
	I_SKIP						/* skip_left bytes, newlines counted when counting */
} item_kind;

/* TOC entry fields in archive order */
typedef enum toc_field
{
	F_DUMPID, F_HADDUMPER, F_TABLEOID, F_OID, F_TAG, F_DESC, F_SECTION, F_DEFN, F_DROP,
	F_COPY, F_NAMESPACE, F_TABLESPACE, F_TABLEAM, F_RELKIND, F_OWNER, F_WITHOIDS, F_DEPS,
	F_OFFSET, F_END
} toc_field;

typedef struct data_entry
{
	int64_t		dump_id;
	size_t		count_index;	/* into counts */
	int			data_state;		/* K_OFFSET_* */
	int			blocks_seen;
	int			has_copy;
} data_entry;

struct rb_archive_parser
{
	parse_state state;
	item_kind	item;
	unsigned char raw[64];
	size_t		raw_need;
	size_t		raw_have;
	int			raw_is_str_len; /* raw holds the length int of a str */
	int			keep_str;		/* the current str is kept in str */
	int			str_is_null;
	rb_buf		str;
	uint64_t	str_left;
	uint64_t	skip_left;
	int64_t    *count_target;	/* rows being counted in a data chunk, or NULL */
	/* COPY line tracking across chunks of one data block */
	uint64_t	line_len;		/* bytes of the current line so far */
	unsigned char line_head[2]; /* its first two bytes */
	int			copy_ended;		/* the "\." end-of-data line was seen */

	int			version;
	int			int_size;
	int			off_size;
	int			sub_counter;	/* index among the 7 creation-time ints */

	char	   *dbname;
	char	   *remote_version;
	char	   *dump_version;

	int64_t		toc_count;
	int64_t		toc_index;
	toc_field	toc_fields[F_END + 1];
	int			toc_field_pos;
	/* the entry being read */
	int64_t		cur_dump_id;
	char	   *cur_tag;
	char	   *cur_desc;
	char	   *cur_namespace;
	int			cur_has_copy;

	data_entry *entries;
	size_t		n_entries;
	size_t		cap_entries;
	int			sorted;
	data_entry *cur_block;		/* entry whose data block is being read, or NULL */

	int64_t		blob_count;
	rb_table_counts counts;
};

rb_archive_parser *
rb_archive_parser_new(void)
{
	rb_archive_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->state = S_MAGIC;
	p->item = I_RAW;
	p->raw_need = 5;
	return p;
}

void
rb_archive_parser_free(rb_archive_parser *p)
{
	if (p == NULL)
		return;
	rb_buf_free(&p->str);
	free(p->dbname);
	free(p->remote_version);
	free(p->dump_version);
	free(p->cur_tag);
	free(p->cur_desc);
	free(p->cur_namespace);
	free(p->entries);
	rb_table_counts_free(&p->counts);
	free(p);
}

static int	fail(rb_archive_parser *p, rb_error *err, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Marks the parser failed and fills err: "invalid pg_dump archive: <what>". */
static int
fail(rb_archive_parser *p, rb_error *err, const char *fmt,...)
{
	char		msg[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->state = S_FAILED;
	return rb_error_set(err, RB_ERR_INTEGRITY, "invalid pg_dump archive: %s", msg);
}

/* --- item requests --------------------------------------------------------- */

static void
want_raw(rb_archive_parser *p, parse_state st, size_t n)
{
	p->state = st;
	p->item = I_RAW;
	p->raw_need = n;
	p->raw_have = 0;
	p->raw_is_str_len = 0;
}

static void
want_int(rb_archive_parser *p, parse_state st)
{
	want_raw(p, st, 1 + (size_t) p->int_size);
}

/* A str: first its length int; keep = collect the body into p->str. */
static void
want_str(rb_archive_parser *p, parse_state st, int keep)
{
	want_int(p, st);
	p->raw_is_str_len = 1;
	p->keep_str = keep;
	p->str_is_null = 0;
	rb_buf_reset(&p->str);
}

static int64_t
decode_int(const rb_archive_parser *p)
{
	uint64_t	v = 0;

	for (int i = p->int_size - 1; i >= 0; i--)
		v = (v << 8) | p->raw[1 + i];
	return p->raw[0] ? -(int64_t) v : (int64_t) v;
}

static char *
take_str(rb_archive_parser *p)
{
	char	   *s;

	if (p->str_is_null)
		return NULL;
	s = rb_malloc(p->str.len + 1);
	memcpy(s, rb_buf_str(&p->str), p->str.len + 1);
	return s;
}

/* --- the TOC ---------------------------------------------------------------- */

static void
build_toc_fields(rb_archive_parser *p)
{
	int			n = 0;

	p->toc_fields[n++] = F_DUMPID;
	p->toc_fields[n++] = F_HADDUMPER;
	p->toc_fields[n++] = F_TABLEOID;
	p->toc_fields[n++] = F_OID;
	p->toc_fields[n++] = F_TAG;
	p->toc_fields[n++] = F_DESC;
	p->toc_fields[n++] = F_SECTION;
	p->toc_fields[n++] = F_DEFN;
	p->toc_fields[n++] = F_DROP;
	p->toc_fields[n++] = F_COPY;
	p->toc_fields[n++] = F_NAMESPACE;
	p->toc_fields[n++] = F_TABLESPACE;
	if (p->version >= K_VERS_1_14)
		p->toc_fields[n++] = F_TABLEAM;
	if (p->version >= K_VERS_1_16)
		p->toc_fields[n++] = F_RELKIND;
	p->toc_fields[n++] = F_OWNER;
	p->toc_fields[n++] = F_WITHOIDS;
	p->toc_fields[n++] = F_DEPS;
	p->toc_fields[n++] = F_OFFSET;
	p->toc_fields[n++] = F_END;
}

/* Requests the item for field toc_fields[toc_field_pos]. */
static void
want_toc_field(rb_archive_parser *p)
{
	toc_field	f = p->toc_fields[p->toc_field_pos];

	switch (f)
	{
		case F_DUMPID:
		case F_HADDUMPER:
		case F_SECTION:
		case F_RELKIND:
			want_int(p, S_TOC_FIELD);
			break;
		case F_TAG:
		case F_DESC:
		case F_NAMESPACE:
			want_str(p, S_TOC_FIELD, 1);
			break;
		case F_OFFSET:
			want_raw(p, S_TOC_FIELD, 1 + (size_t) p->off_size);
			break;
		default:
			want_str(p, S_TOC_FIELD, 0);
			break;
	}
}

static void
start_toc_entry(rb_archive_parser *p)
{
	free(p->cur_tag);
	free(p->cur_desc);
	free(p->cur_namespace);
	p->cur_tag = p->cur_desc = p->cur_namespace = NULL;
	p->cur_has_copy = 0;
	p->cur_dump_id = 0;
	p->toc_field_pos = 0;
	want_toc_field(p);
}

static int
cmp_entry(const void *a, const void *b)
{
	int64_t		x = ((const data_entry *) a)->dump_id;
	int64_t		y = ((const data_entry *) b)->dump_id;

	return (x > y) - (x < y);
}

static void
after_toc(rb_archive_parser *p)
{
	if (p->n_entries > 1)
		qsort(p->entries, p->n_entries, sizeof(data_entry), cmp_entry);
	p->sorted = 1;
	want_raw(p, S_BLOCK_TYPE, 1);
}

static int
end_toc_entry(rb_archive_parser *p, int data_state, rb_error *err)
{
	if (p->cur_desc != NULL && strcmp(p->cur_desc, "TABLE DATA") == 0)
	{
		data_entry *e;

		if (p->cur_tag == NULL)
			return fail(p, err, "TABLE DATA entry without a name%s", "");
		if (p->n_entries == p->cap_entries)
		{
			p->cap_entries = p->cap_entries ? 2 * p->cap_entries : 64;
			p->entries = rb_realloc(p->entries, p->cap_entries * sizeof(data_entry));
		}
		e = &p->entries[p->n_entries++];
		e->dump_id = p->cur_dump_id;
		e->count_index = p->counts.n;
		e->data_state = data_state;
		e->blocks_seen = 0;
		e->has_copy = p->cur_has_copy;
		rb_table_counts_add(&p->counts, p->cur_namespace ? p->cur_namespace : "",
							p->cur_tag, 0);
	}
	p->toc_index++;
	if (p->toc_index < p->toc_count)
		start_toc_entry(p);
	else
		after_toc(p);
	return 0;
}

/* A TOC field item is complete. */
static int
toc_field_done(rb_archive_parser *p, rb_error *err)
{
	toc_field	f = p->toc_fields[p->toc_field_pos];

	switch (f)
	{
		case F_DUMPID:
			p->cur_dump_id = decode_int(p);
			if (p->cur_dump_id <= 0)
				return fail(p, err, "TOC entry ID %lld out of range", (long long) (p->cur_dump_id));
			break;
		case F_TAG:
			p->cur_tag = take_str(p);
			break;
		case F_DESC:
			p->cur_desc = take_str(p);
			break;
		case F_NAMESPACE:
			p->cur_namespace = take_str(p);
			break;
		case F_DEPS:
			if (!p->str_is_null)
			{
				/* another dependency: read the next one */
				want_str(p, S_TOC_FIELD, 0);
				return 0;
			}
			break;
		case F_OFFSET:
			{
				int			flag = p->raw[0];

				if (flag < 1 || flag > 3)
					return fail(p, err, "unexpected data offset flag %lld", (long long) (flag));
				return end_toc_entry(p, flag, err);
			}
		default:
			break;
	}
	p->toc_field_pos++;
	want_toc_field(p);
	return 0;
}

/* --- data blocks ------------------------------------------------------------ */

static data_entry *
find_entry(rb_archive_parser *p, int64_t dump_id)
{
	data_entry	key;

	key.dump_id = dump_id;
	if (p->n_entries == 0)
		return NULL;
	return bsearch(&key, p->entries, p->n_entries, sizeof(data_entry), cmp_entry);
}

/* --- item completion -------------------------------------------------------- */

/* A raw item (fixed bytes or an int) is complete: act on it. */
static int
raw_done(rb_archive_parser *p, rb_error *err)
{
	int64_t		v;

	if (p->raw_is_str_len)
	{
		v = decode_int(p);
		if (v < 0)
		{
			p->str_is_null = 1;
			p->str_left = 0;
		}
		else
		{
			if (p->keep_str && v > MAX_KEPT_STR)
				return fail(p, err, "string of %lld bytes in the TOC", (long long) (v));
			p->str_left = (uint64_t) v;
		}
		p->item = p->keep_str ? I_STR_BODY : I_SKIP;
		p->skip_left = p->keep_str ? 0 : p->str_left;
		p->count_target = NULL;
		if (p->keep_str && p->str_left > 0)
			rb_buf_reserve(&p->str, (size_t) p->str_left);
		return 0;				/* the body (maybe empty) follows */
	}

	switch (p->state)
	{
		case S_MAGIC:
			if (memcmp(p->raw, "PGDMP", 5) != 0)
				return fail(p, err, "%s", "no PGDMP signature (not a custom-format dump)");
			want_raw(p, S_VERSION, 3);
			return 0;
		case S_VERSION:
			p->version = VERS(p->raw[0], p->raw[1], p->raw[2]);
			if (p->version < K_VERS_1_12 || p->raw[0] != 1 || p->raw[1] > 16)
				return fail(p, err, "unsupported archive version %d.%d (1.12 to 1.16 are supported)",
							p->raw[0], p->raw[1]);
			want_raw(p, S_SIZES, 3);
			return 0;
		case S_SIZES:
			p->int_size = p->raw[0];
			p->off_size = p->raw[1];
			if (p->int_size < 1 || p->int_size > 8)
				return fail(p, err, "unsupported integer size %lld", (long long) (p->int_size));
			if (p->off_size < 1 || p->off_size > 32)
				return fail(p, err, "unsupported offset size %lld", (long long) (p->off_size));
			if (p->raw[2] != 1)
				return fail(p, err, "archive format %lld is not custom (1)", (long long) (p->raw[2]));
			if (p->version >= K_VERS_1_15)
				want_raw(p, S_COMPRESS_ALGO, 1);
			else
				want_int(p, S_COMPRESS_LEVEL);
			return 0;
		case S_COMPRESS_ALGO:
			if (p->raw[0] != 0)
				return fail(p, err, "%s", "the archive is compressed (pg_dump must run with -Z0)");
			p->sub_counter = 0;
			want_int(p, S_CREATE_TIME);
			return 0;
		case S_COMPRESS_LEVEL:
			if (decode_int(p) != 0)
				return fail(p, err, "%s", "the archive is compressed (pg_dump must run with -Z0)");
			p->sub_counter = 0;
			want_int(p, S_CREATE_TIME);
			return 0;
		case S_CREATE_TIME:
			if (++p->sub_counter < 7)
				want_int(p, S_CREATE_TIME);
			else
				want_str(p, S_DBNAME, 1);
			return 0;
		case S_TOC_COUNT:
			p->toc_count = decode_int(p);
			if (p->toc_count < 0)
				return fail(p, err, "negative TOC count %lld", (long long) (p->toc_count));
			build_toc_fields(p);
			p->toc_index = 0;
			if (p->toc_count == 0)
				after_toc(p);
			else
				start_toc_entry(p);
			return 0;
		case S_TOC_FIELD:
			return toc_field_done(p, err);
		case S_BLOCK_TYPE:
			if (p->raw[0] != BLK_DATA && p->raw[0] != BLK_BLOBS)
				return fail(p, err, "unrecognized data block type %lld", (long long) (p->raw[0]));
			p->sub_counter = p->raw[0];
			want_int(p, S_BLOCK_ID);
			return 0;
		case S_BLOCK_ID:
			v = decode_int(p);
			p->cur_block = find_entry(p, v);
			if (p->sub_counter == BLK_BLOBS)
			{
				want_int(p, S_BLOB_OID);
				return 0;
			}
			if (p->cur_block != NULL)
				p->cur_block->blocks_seen++;
			p->line_len = 0;
			p->copy_ended = 0;
			want_int(p, S_CHUNK_LEN);
			return 0;
		case S_CHUNK_LEN:
		case S_BLOB_CHUNK_LEN:
			v = decode_int(p);
			if (v < 0)
				return fail(p, err, "negative data chunk length %lld", (long long) (v));
			if (v == 0)
			{
				if (p->state == S_CHUNK_LEN)
					want_raw(p, S_BLOCK_TYPE, 1);
				else
					want_int(p, S_BLOB_OID);
				return 0;
			}
			p->state = p->state == S_CHUNK_LEN ? S_CHUNK_BODY : S_BLOB_CHUNK_BODY;
			p->item = I_SKIP;
			p->skip_left = (uint64_t) v;
			p->count_target = NULL;
			if (p->state == S_CHUNK_BODY && p->cur_block != NULL)
				p->count_target = &p->counts.items[p->cur_block->count_index].rows;
			return 0;
		case S_BLOB_OID:
			v = decode_int(p);
			if (v == 0)
				want_raw(p, S_BLOCK_TYPE, 1);
			else
			{
				p->blob_count++;
				want_int(p, S_BLOB_CHUNK_LEN);
			}
			return 0;
		default:
			return fail(p, err, "%s", "internal parser state error");
	}
}

/* A str body or a skipped run is complete. */
static int
body_done(rb_archive_parser *p, rb_error *err)
{
	switch (p->state)
	{
		case S_DBNAME:
			p->dbname = take_str(p);
			want_str(p, S_REMOTE_VERSION, 1);
			return 0;
		case S_REMOTE_VERSION:
			p->remote_version = take_str(p);
			want_str(p, S_DUMP_VERSION, 1);
			return 0;
		case S_DUMP_VERSION:
			p->dump_version = take_str(p);
			want_int(p, S_TOC_COUNT);
			return 0;
		case S_TOC_FIELD:
			if (p->toc_fields[p->toc_field_pos] == F_COPY)
			{
				/* a skipped str: a non-empty COPY statement had a body */
				p->cur_has_copy = !p->str_is_null && p->str_left > 0;
				p->toc_field_pos++;
				want_toc_field(p);
				return 0;
			}
			return toc_field_done(p, err);
		case S_CHUNK_BODY:
			want_int(p, S_CHUNK_LEN);
			return 0;
		case S_BLOB_CHUNK_BODY:
			want_int(p, S_BLOB_CHUNK_LEN);
			return 0;
		default:
			return fail(p, err, "%s", "internal parser state error");
	}
}

/*
 * Counts the COPY rows in n bytes of a table's data: every line is a row until
 * the end-of-data line "\\." (pg_dump writes "\\.\n\n\n" after the rows; a row
 * can never be that line, COPY escapes a backslash as two).
 */
static void
count_rows(rb_archive_parser *p, const unsigned char *s, size_t n)
{
	const unsigned char *end = s + n;
	int64_t		rows = 0;

	if (p->copy_ended)
		return;
	while (s < end)
	{
		const unsigned char *nl = memchr(s, '\n', (size_t) (end - s));
		size_t		part = nl ? (size_t) (nl - s) : (size_t) (end - s);

		/* remember the first two bytes of the line */
		for (size_t i = 0; p->line_len + i < 2 && i < part; i++)
			p->line_head[p->line_len + i] = s[i];
		p->line_len += part;
		if (nl == NULL)
			break;
		if (p->line_len == 2 && p->line_head[0] == '\\' && p->line_head[1] == '.')
		{
			p->copy_ended = 1;
			break;
		}
		rows++;
		p->line_len = 0;
		s = nl + 1;
	}
	*p->count_target += rows;
}

int
rb_archive_parser_feed(rb_archive_parser *p, const void *data, size_t len, rb_error *err)
{
	const unsigned char *in = data;

	if (p->state == S_FAILED)
		return rb_error_set(err, RB_ERR_INTEGRITY, "invalid pg_dump archive: parser already failed");

	for (;;)
	{
		/* complete whatever needs no more input (empty strs and bodies) */
		if (p->item == I_STR_BODY && p->str_left == 0)
		{
			if (body_done(p, err) < 0)
				return -1;
			continue;
		}
		if (p->item == I_SKIP && p->skip_left == 0)
		{
			if (body_done(p, err) < 0)
				return -1;
			continue;
		}
		if (len == 0)
			break;

		if (p->item == I_RAW)
		{
			size_t		n = p->raw_need - p->raw_have;

			if (n > len)
				n = len;
			memcpy(p->raw + p->raw_have, in, n);
			p->raw_have += n;
			in += n;
			len -= n;
			if (p->raw_have == p->raw_need && raw_done(p, err) < 0)
				return -1;
		}
		else if (p->item == I_STR_BODY)
		{
			size_t		n = p->str_left < len ? (size_t) p->str_left : len;

			rb_buf_append(&p->str, in, n);
			p->str_left -= n;
			in += n;
			len -= n;
		}
		else
		{
			size_t		n = p->skip_left < len ? (size_t) p->skip_left : len;

			if (p->count_target != NULL)
				count_rows(p, in, n);
			p->skip_left -= n;
			in += n;
			len -= n;
		}
	}
	return 0;
}

static const char *
state_name(parse_state s)
{
	switch (s)
	{
		case S_MAGIC:
		case S_VERSION:
		case S_SIZES:
		case S_COMPRESS_ALGO:
		case S_COMPRESS_LEVEL:
		case S_CREATE_TIME:
		case S_DBNAME:
		case S_REMOTE_VERSION:
		case S_DUMP_VERSION:
			return "the header";
		case S_TOC_COUNT:
		case S_TOC_FIELD:
			return "the table of contents";
		default:
			return "a data block";
	}
}

int
rb_archive_parser_finish(rb_archive_parser *p, rb_error *err)
{
	if (p->state == S_FAILED)
		return rb_error_set(err, RB_ERR_INTEGRITY, "invalid pg_dump archive: parser already failed");
	if (p->state != S_BLOCK_TYPE || p->raw_have != 0)
		return fail(p, err, "the archive ends in the middle of %s", state_name(p->state));
	for (size_t i = 0; i < p->n_entries; i++)
	{
		data_entry *e = &p->entries[i];
		const rb_table_count *tc = &p->counts.items[e->count_index];
		char		name[600];

		snprintf(name, sizeof(name), "%s.%s", tc->schema, tc->table);
		if (e->data_state != K_OFFSET_NO_DATA && e->blocks_seen == 0)
			return fail(p, err, "the archive ends before the data of table %s", name);
		if (e->blocks_seen > 0 && !e->has_copy)
			return fail(p, err, "the data of table %s is not in COPY format (rows cannot be counted)", name);
	}
	return 0;
}

const rb_table_counts *
rb_archive_parser_counts(const rb_archive_parser *p)
{
	return &p->counts;
}

const char *
rb_archive_parser_server_version(const rb_archive_parser *p)
{
	return p->remote_version;
}

const char *
rb_archive_parser_dump_version(const rb_archive_parser *p)
{
	return p->dump_version;
}

const char *
rb_archive_parser_dbname(const rb_archive_parser *p)
{
	return p->dbname;
}

int
rb_archive_parser_version(const rb_archive_parser *p)
{
	return p->version;
}

int
rb_archive_parser_toc_count(const rb_archive_parser *p)
{
	return (int) p->toc_count;
}

int64_t
rb_archive_parser_blob_count(const rb_archive_parser *p)
{
	return p->blob_count;
}
