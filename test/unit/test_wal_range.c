/*
 * test_wal_range.c — unit tests of the WAL range a base backup can reach
 * (src/core/wal_range.c): a table of cases (contiguous WAL, no WAL, a gap, a
 * missing stop segment, two and three timelines, .partial segments, branches
 * from before the base backup, other segment sizes) with the expected status,
 * last contiguous segment and first missing one; the key, LSN, history file
 * and backup_label parsers; which WAL objects retention deletes
 * (src/core/wal_retention.c); and the catalog of a file:// destination
 * (src/core/wal_catalog.c: totals, plain and encrypted history files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "backup_compress.h"
#include "encrypt_stream.h"
#include "rb_buf.h"
#include "wal_catalog.h"
#include "wal_range.h"
#include "wal_retention.h"

#define MB (UINT64_C(1024) * 1024)

typedef struct hcase
{
	uint32_t	timeline;
	const char *text;
} hcase;

typedef struct rcase
{
	const char *name;
	uint64_t	segment_size;
	uint32_t	timeline;
	const char *start_lsn;
	const char *stop_lsn;
	const char *files[12];		/* WAL file names; mtime = 1000 + 100 * index */
	hcase		hist[3];
	/* expected */
	rb_wal_range_status status;
	uint32_t	target;
	const char *last;			/* the last contiguous segment's name; NULL = none */
	const char *missing;		/* the first missing segment's name */
	bool		partial;
	uint64_t	segments;
} rcase;

#define H2_AT_4 {2, "1\t0/4000100\tno recovery target specified\n"}

static const rcase cases[] = {
	{"contiguous on one timeline", 16 * MB, 1, "0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000010000000000000004"}, {{0}},
	RB_WAL_RANGE_RECOVERABLE, 1, "000000010000000000000004", "000000010000000000000005", false, 3},
	{"no WAL archived", 16 * MB, 1, "0/2000028", "0/2000100", {NULL}, {{0}},
	RB_WAL_RANGE_NOT_CONSISTENT, 1, NULL, "000000010000000000000002", false, 0},
	{"WAL before the base backup only", 16 * MB, 1, "0/5000028", "0/5000100",
		{"000000010000000000000003", "000000010000000000000004"}, {{0}},
	RB_WAL_RANGE_NOT_CONSISTENT, 1, NULL, "000000010000000000000005", false, 0},
	{"stop segment missing: not consistent", 16 * MB, 1, "0/2000028", "0/3000100",
		{"000000010000000000000002", "000000010000000000000004"}, {{0}},
	RB_WAL_RANGE_NOT_CONSISTENT, 1, "000000010000000000000002", "000000010000000000000003", false, 1},
	{"stop LSN at a segment boundary needs only the segment before", 16 * MB, 1, "0/2000028", "0/3000000",
		{"000000010000000000000002"}, {{0}},
	RB_WAL_RANGE_RECOVERABLE, 1, "000000010000000000000002", "000000010000000000000003", false, 1},
	{"a gap after the stop segment", 16 * MB, 1, "0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000010000000000000005",
		"000000010000000000000006"}, {{0}},
	RB_WAL_RANGE_GAP, 1, "000000010000000000000003", "000000010000000000000004", false, 2},
	{"segments of another timeline after the end are no gap", 16 * MB, 1, "0/2000028", "0/2000100",
		{"000000010000000000000002", "000000030000000000000009"}, {{0}},
	RB_WAL_RANGE_RECOVERABLE, 1, "000000010000000000000002", "000000010000000000000003", false, 1},
	{"two timelines: the switch segment is read from the new one", 16 * MB, 1, "0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000010000000000000004.partial",
		"000000020000000000000004", "000000020000000000000005", "00000002.history"}, {H2_AT_4},
	RB_WAL_RANGE_RECOVERABLE, 2, "000000020000000000000005", "000000020000000000000006", false, 4},
	{"two timelines: the old timeline's full copy of the switch segment is not enough", 16 * MB, 1,
		"0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000010000000000000004",
		"000000020000000000000005", "00000002.history"}, {H2_AT_4},
	RB_WAL_RANGE_GAP, 2, "000000010000000000000003", "000000020000000000000004", false, 2},
	{"a .partial segment and no history file: the timeline ends", 16 * MB, 1, "0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000010000000000000004.partial"}, {{0}},
	RB_WAL_RANGE_RECOVERABLE, 1, "000000010000000000000003", "000000010000000000000004", true, 2},
	{"a timeline that branched before the base backup started is not followed", 16 * MB, 1,
		"0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000020000000000000002",
		"000000020000000000000003", "000000020000000000000004"},
		{{2, "1\t0/1800000\tbefore\n"}},
	RB_WAL_RANGE_RECOVERABLE, 1, "000000010000000000000003", "000000010000000000000004", false, 2},
	{"three timelines: the newest descendant is followed", 16 * MB, 1, "0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000020000000000000004",
		"000000020000000000000005", "000000030000000000000006", "000000030000000000000007",
		"000000020000000000000006"},
		{H2_AT_4, {3, "# comment\n1\t0/4000100\tfirst\n\n2\t0/6000200\tsecond\n"}},
	RB_WAL_RANGE_RECOVERABLE, 3, "000000030000000000000007", "000000030000000000000008", false, 6},
	{"two branches from one timeline: the higher one", 16 * MB, 1, "0/2000028", "0/2000100",
		{"000000010000000000000002", "000000010000000000000003", "000000020000000000000004",
		"000000020000000000000005", "000000030000000000000003", "000000030000000000000004"},
		{H2_AT_4, {3, "1\t0/3000100\tother branch\n"}},
	RB_WAL_RANGE_RECOVERABLE, 3, "000000030000000000000004", "000000030000000000000005", false, 3},
	{"a base backup on timeline 2", 16 * MB, 2, "0/5000028", "0/5000200",
		{"000000010000000000000002", "000000020000000000000005", "000000020000000000000006",
		"00000002.history"}, {H2_AT_4},
	RB_WAL_RANGE_RECOVERABLE, 2, "000000020000000000000006", "000000020000000000000007", false, 2},
	{"64 MiB segments", 64 * MB, 1, "0/8000028", "0/C000100",
		{"000000010000000000000002", "000000010000000000000003", "000000010000000000000004"}, {{0}},
	RB_WAL_RANGE_RECOVERABLE, 1, "000000010000000000000004", "000000010000000000000005", false, 3},
	{"1 GiB segments across a log boundary", 1024 * MB, 1, "0/C0000028", "1/10",
		{"000000010000000000000003", "000000010000000100000000", "000000010000000100000001",
		"000000010000000100000003"}, {{0}},
	RB_WAL_RANGE_GAP, 1, "000000010000000100000001", "000000010000000100000002", false, 3},
};

static void
test_ranges(void **state)
{
	(void) state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		const rcase *tc = &cases[c];
		rb_wal_file files[12];
		rb_wal_history hist[3];
		size_t		nf = 0,
					nh = 0;
		rb_wal_range_base base;
		rb_wal_range r;
		char		name[RB_WAL_NAME_LEN];
		rb_error	err;

		for (size_t i = 0; i < 12 && tc->files[i]; i++)
		{
			char		key[128];
			rb_wal_key k;

			snprintf(key, sizeof(key), "7/0123456789abcdef/wal/%.8s/%s.zst", tc->files[i], tc->files[i]);
			if (!rb_wal_key_parse(key, &k))
				fail_msg("%s: key %s does not parse", tc->name, key);
			files[nf].kind = k.kind;
			files[nf].timeline = k.timeline;
			files[nf].segno = rb_wal_key_segno(&k, tc->segment_size);
			files[nf].mtime = 1000 + 100 * (int64_t) i;
			nf++;
		}
		for (size_t i = 0; i < 3 && tc->hist[i].text; i++)
		{
			rb_error_clear(&err);
			if (rb_wal_history_parse(tc->hist[i].text, strlen(tc->hist[i].text), tc->hist[i].timeline,
									 &hist[nh], &err) < 0)
				fail_msg("%s: history %u: %s", tc->name, tc->hist[i].timeline, err.msg);
			nh++;
		}
		base.timeline = tc->timeline;
		base.segment_size = tc->segment_size;
		assert_true(rb_lsn_parse(tc->start_lsn, &base.start_lsn));
		assert_true(rb_lsn_parse(tc->stop_lsn, &base.stop_lsn));
		rb_wal_range_compute(files, nf, hist, nh, &base, &r);

		if (r.status != tc->status)
			fail_msg("%s: status %d, want %d", tc->name, r.status, tc->status);
		if (r.target_timeline != tc->target)
			fail_msg("%s: target timeline %u, want %u", tc->name, r.target_timeline, tc->target);
		if (r.segments != tc->segments)
			fail_msg("%s: %llu segments, want %llu", tc->name, (unsigned long long) r.segments,
					 (unsigned long long) tc->segments);
		if (tc->last)
		{
			int64_t		want_mtime = 0;

			rb_wal_segment_name(r.last_timeline, r.last_segno, tc->segment_size, name);
			if (strcmp(name, tc->last) != 0)
				fail_msg("%s: last %s, want %s", tc->name, name, tc->last);
			for (size_t i = 0; i < nf; i++)
				if (strcmp(tc->files[i], tc->last) == 0)
					want_mtime = 1000 + 100 * (int64_t) i;
			if (r.last_mtime != want_mtime)
				fail_msg("%s: last mtime %lld, want %lld", tc->name, (long long) r.last_mtime,
						 (long long) want_mtime);
		}
		rb_wal_segment_name(r.missing_timeline, r.missing_segno, tc->segment_size, name);
		if (strcmp(name, tc->missing) != 0)
			fail_msg("%s: missing %s, want %s", tc->name, name, tc->missing);
		if (r.ends_with_partial != tc->partial)
			fail_msg("%s: ends_with_partial %d, want %d", tc->name, r.ends_with_partial, tc->partial);
		for (size_t i = 0; i < nh; i++)
			rb_wal_history_free(&hist[i]);
	}
}

static void
test_duplicate_copies(void **state)
{
	/* one segment under two incarnations: the newer LastModified counts */
	rb_wal_file f[3] = {
		{RB_WAL_KIND_SEGMENT, 1, 2, 500},
		{RB_WAL_KIND_SEGMENT, 1, 3, 700},
		{RB_WAL_KIND_SEGMENT, 1, 3, 900},
	};
	rb_wal_range_base b = {1, 0x2000028, 0x2000100, 16 * MB};
	rb_wal_range r;

	(void) state;
	rb_wal_range_compute(f, 3, NULL, 0, &b, &r);
	assert_int_equal(r.status, RB_WAL_RANGE_RECOVERABLE);
	assert_int_equal(r.segments, 2);
	assert_int_equal(r.last_mtime, 900);
}

static void
test_key_parse(void **state)
{
	rb_wal_key k;

	(void) state;
	assert_true(rb_wal_key_parse("7441/5f0c2a9e7b1d4c36/wal/00000001/000000010000000A000000FF.zst", &k));
	assert_int_equal(k.kind, RB_WAL_KIND_SEGMENT);
	assert_false(k.metadata);
	assert_int_equal(k.timeline, 1);
	assert_int_equal(k.log, 10);
	assert_int_equal(k.seg, 255);
	assert_string_equal(k.incarnation, "5f0c2a9e7b1d4c36");
	assert_string_equal(k.file, "000000010000000A000000FF");
	assert_int_equal(rb_wal_key_segno(&k, 16 * MB), 10 * 256 + 255);

	assert_true(rb_wal_key_parse("prefix/x/7441/i/wal/00000002/00000002.history.zst.metadata.json", &k));
	assert_int_equal(k.kind, RB_WAL_KIND_HISTORY);
	assert_true(k.metadata);
	assert_int_equal(k.timeline, 2);
	assert_string_equal(k.file, "00000002.history");

	assert_true(rb_wal_key_parse("7441/i/wal/00000001/000000010000000000000004.partial.zst", &k));
	assert_int_equal(k.kind, RB_WAL_KIND_PARTIAL);
	assert_int_equal(k.seg, 4);
	assert_true(rb_wal_key_parse("7441/i/wal/00000001/000000010000000000000002.00000028.backup.zst", &k));
	assert_int_equal(k.kind, RB_WAL_KIND_BACKUP);
	assert_int_equal(k.seg, 2);

	/* not WAL objects */
	assert_false(rb_wal_key_parse("7441/i/wal/00000001/000000010000000000000002", &k));
	assert_false(rb_wal_key_parse("7441/i/wal/00000002/000000010000000000000002.zst", &k));	/* dir differs */
	assert_false(rb_wal_key_parse("7441/i/base/00000001/000000010000000000000002.zst", &k));
	assert_false(rb_wal_key_parse("i/wal/00000001/000000010000000000000002.zst", &k));
	assert_false(rb_wal_key_parse("7441/i/wal/00000001/00000001000000000000002.zst", &k));
	assert_false(rb_wal_key_parse("7441/i/wal/0000001/000000010000000000000002.zst", &k));
	assert_false(rb_wal_key_parse("7441/i/wal/00000001/000000010000000000000002.zst.tmp", &k));
	assert_false(rb_wal_key_parse("7441/i/app/20261126T040000Z-7.dump.zst", &k));
	assert_false(rb_wal_key_parse("", &k));
}

static void
test_lsn_and_names(void **state)
{
	uint64_t	lsn;
	char		name[RB_WAL_NAME_LEN];

	(void) state;
	assert_true(rb_lsn_parse("0/2000028", &lsn));
	assert_int_equal(lsn, 0x2000028);
	assert_true(rb_lsn_parse("1A/FF", &lsn));
	assert_int_equal(lsn, (UINT64_C(0x1A) << 32) | 0xFF);
	assert_false(rb_lsn_parse("2000028", &lsn));
	assert_false(rb_lsn_parse("0/", &lsn));
	assert_false(rb_lsn_parse("0/12345678Z", &lsn));
	assert_false(rb_lsn_parse(NULL, &lsn));
	rb_wal_segment_name(2, 257, 16 * MB, name);
	assert_string_equal(name, "000000020000000100000001");
	rb_wal_segment_name(1, 5, 1024 * MB, name);
	assert_string_equal(name, "000000010000000100000001");
}

static void
test_segment_size_from_label(void **state)
{
	(void) state;
	assert_int_equal(rb_wal_segment_size_from_label(
													"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
													"CHECKPOINT LOCATION: 0/2000060\n"), 16 * MB);
	assert_int_equal(rb_wal_segment_size_from_label(
													"START WAL LOCATION: 0/8000028 (file 000000010000000000000002)\n"), 64 * MB);
	assert_int_equal(rb_wal_segment_size_from_label(
													"START WAL LOCATION: 1/40000028 (file 000000010000000100000001)\n"), 1024 * MB);
	/* the first segment fits every size: unknown */
	assert_int_equal(rb_wal_segment_size_from_label(
													"START WAL LOCATION: 0/28 (file 000000010000000000000000)\n"), 0);
	/* a file that no size puts the LSN in */
	assert_int_equal(rb_wal_segment_size_from_label(
													"START WAL LOCATION: 0/2000028 (file 000000010000000000000007)\n"), 0);
	assert_int_equal(rb_wal_segment_size_from_label("LABEL: x\n"), 0);
	assert_int_equal(rb_wal_segment_size_from_label(NULL), 0);
}

static void
test_history_parse(void **state)
{
	rb_wal_history h;
	rb_error	err;
	const char *ok = "1\t0/4000100\tno recovery target specified\n\n# c\n2\t1/A0\tat 12:00\n";

	(void) state;
	rb_error_clear(&err);
	assert_int_equal(rb_wal_history_parse(ok, strlen(ok), 3, &h, &err), 0);
	assert_int_equal(h.n, 2);
	assert_int_equal(h.entries[0].timeline, 1);
	assert_int_equal(h.entries[0].end_lsn, 0x4000100);
	assert_int_equal(h.entries[1].timeline, 2);
	assert_int_equal(h.entries[1].end_lsn, (UINT64_C(1) << 32) | 0xA0);
	rb_wal_history_free(&h);

	assert_int_equal(rb_wal_history_parse("1\tzz\n", 5, 2, &h, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	assert_non_null(strstr(err.msg, "line 1"));
	assert_int_equal(rb_wal_history_parse("2\t0/1\tx\n1\t0/2\tx\n", 16, 3, &h, &err), -1);
	assert_non_null(strstr(err.msg, "line 2"));
	assert_int_equal(rb_wal_history_parse("2\t0/1\tx\n", 8, 2, &h, &err), -1);
	assert_non_null(strstr(err.msg, "not older"));
	assert_null(h.entries);
	/* an empty file (timeline 1 has none, but one may be empty) */
	assert_int_equal(rb_wal_history_parse("", 0, 2, &h, &err), 0);
	assert_int_equal(h.n, 0);
	rb_wal_history_free(&h);
}

static void
test_prune_select(void **state)
{
	const rb_object_info o[] = {
		{"7/i/wal/00000001/000000010000000000000001.zst", 1000, 1},
		{"7/i/wal/00000001/000000010000000000000001.zst.metadata.json", 10, 1},
		{"7/i/wal/00000001/000000010000000000000002.00000028.backup.zst", 100, 1},
		{"7/i/wal/00000001/000000010000000000000003.zst", 1000, 1},
		{"7/i/wal/00000001/000000010000000000000004.partial.zst", 900, 1},
		{"7/i/wal/00000002/00000002.history.zst", 40, 1},
		{"7/i/wal/00000002/00000002.history.zst.metadata.json", 10, 1},
		{"7/i/wal/00000002/000000020000000000000004.zst", 1000, 1},
		{"7/i/wal/00000002/000000020000000000000005.zst", 1000, 1},	/* the keep segment */
		{"7/i/wal/00000002/000000020000000000000006.zst", 1000, 1},
		{"7/j/wal/00000001/000000010000000000000001.zst", 1000, 1},	/* another incarnation */
		{"7/i/base/20261126T040000Z-7.tar.zst", 5000, 1},
		{"7/i/wal/00000001/notes.txt", 5, 1},
	};
	const bool	want[] = {true, true, true, true, true, false, false, true, false, false,
	false, false, false};
	size_t		n = sizeof(o) / sizeof(o[0]);
	rb_wal_prune_plan plan;
	char		buf[256];

	(void) state;
	rb_wal_prune_select(o, n, "7/i/wal/", 16 * MB, 5, &plan);
	for (size_t i = 0; i < n; i++)
		if (plan.delete[i] != want[i])
			fail_msg("%s: delete %d, want %d", o[i].key, plan.delete[i], want[i]);
	assert_int_equal(plan.nobjects, 6);
	assert_int_equal(plan.nranges, 2);
	assert_int_equal(plan.ranges[0].timeline, 1);
	assert_int_equal(plan.ranges[0].files, 4);
	assert_int_equal(plan.ranges[0].bytes, 3010);
	assert_string_equal(plan.ranges[0].first, "000000010000000000000001");
	assert_string_equal(plan.ranges[0].last, "000000010000000000000004.partial");
	assert_int_equal(plan.ranges[1].timeline, 2);
	assert_int_equal(plan.ranges[1].files, 1);
	rb_wal_prune_range_describe(&plan.ranges[1], buf, sizeof(buf));
	assert_non_null(strstr(buf, "timeline 2: 000000020000000000000004, 1 file"));
	rb_wal_prune_range_describe(&plan.ranges[0], buf, sizeof(buf));
	assert_non_null(strstr(buf, "000000010000000000000001 .. 000000010000000000000004.partial, 4 files"));
	rb_wal_prune_plan_free(&plan);

	/* keep from segment 0: nothing */
	rb_wal_prune_select(o, n, "7/i/wal/", 16 * MB, 0, &plan);
	assert_int_equal(plan.nobjects, 0);
	assert_int_equal(plan.nranges, 0);
	rb_wal_prune_plan_free(&plan);

	/* everything but history files when the keep segment is beyond all */
	rb_wal_prune_select(o, n, "7/i/wal/", 16 * MB, 1000, &plan);
	assert_int_equal(plan.nobjects, 8);
	for (size_t i = 0; i < n; i++)
		if (strstr(o[i].key, ".history") && plan.delete[i])
			fail_msg("%s: a history file is selected", o[i].key);
	rb_wal_prune_plan_free(&plan);
}

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	(void) err;
	rb_buf_append(arg, data, len);
	return 0;
}

/* The stored form of text: zstd, then (with key) encrypted. */
static void
stored_form(const char *text, const rb_key *key, rb_buf *out)
{
	rb_buf		z = RB_BUF_INIT;
	rb_compressor *c;
	rb_error	err;

	rb_error_clear(&err);
	c = rb_compressor_new(RB_COMPRESS_ZSTD, 3, 0, collect, key ? (void *) &z : (void *) out, &err);
	assert_non_null(c);
	assert_int_equal(rb_compressor_write(c, text, strlen(text), &err), 0);
	assert_int_equal(rb_compressor_finish(c, &err), 0);
	rb_compressor_free(c);
	if (key)
	{
		rb_encryptor *e = rb_encryptor_new(key, collect, out, &err);

		assert_non_null(e);
		assert_int_equal(rb_encryptor_write(e, z.data, z.len, &err), 0);
		assert_int_equal(rb_encryptor_finish(e, &err), 0);
		rb_encryptor_free(e);
	}
	rb_buf_free(&z);
}

static int	warnings;

static void
count_warnings(void *arg, rb_log_level level, const char *line)
{
	(void) arg;
	(void) line;
	if (level == RB_LOG_WARNING)
		warnings++;
}

static void
test_catalog(void **state)
{
	char		dir[] = "/tmp/test_wal_range.XXXXXX";
	char		url[64];
	rb_destination_options opt;
	rb_destination *d;
	rb_hooks	hooks;
	rb_error	err;
	rb_key		key;
	char		hex[2 * RB_KEY_LEN + 2];
	rb_keyring	ring;
	rb_object_list objs = {0};
	rb_wal_catalog cat;
	const char *h2 = "1\t0/4000100\tno recovery target specified\n";
	const char *h3 = "1\t0/4000100\tx\n2\t0/6000000\ty\n";
	struct
	{
		const char *key;
		const char *text;
		bool		encrypted;
	}			put[] = {
		{"7/aaaaaaaaaaaaaaaa/wal/00000001/000000010000000000000002.zst", "seg", false},
		{"7/aaaaaaaaaaaaaaaa/wal/00000001/000000010000000000000002.zst.metadata.json", "{}", false},
		{"7/aaaaaaaaaaaaaaaa/wal/00000001/000000010000000000000003.zst", "seg", false},
		{"7/aaaaaaaaaaaaaaaa/wal/00000001/000000010000000000000004.partial.zst", "seg", false},
		{"7/bbbbbbbbbbbbbbbb/wal/00000002/00000002.history.zst", NULL, false},
		{"7/bbbbbbbbbbbbbbbb/wal/00000002/000000020000000000000004.zst", "seg", false},
		{"7/bbbbbbbbbbbbbbbb/wal/00000003/00000003.history.zst", NULL, true},
		{"7/bbbbbbbbbbbbbbbb/wal/00000003/000000030000000000000006.zst", "seg", false},
		{"7/aaaaaaaaaaaaaaaa/app/20261126T040000Z-7.dump.zst", "dump", false},	/* not WAL */
		{"8/cccccccccccccccc/wal/00000001/000000010000000000000009.zst", "seg", false},	/* another system */
	};
	size_t		nput = sizeof(put) / sizeof(put[0]);
	uint64_t	want_bytes = 0;

	(void) state;
	rb_error_clear(&err);
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "file://%s", dir);
	memset(&opt, 0, sizeof(opt));
	memset(&hooks, 0, sizeof(hooks));
	hooks.log = count_warnings;
	d = rb_destination_open(url, &opt, &hooks, &err);
	assert_non_null(d);
	assert_int_equal(rb_key_generate(&key, hex, &err), 0);
	for (size_t i = 0; i < nput; i++)
	{
		rb_buf		b = RB_BUF_INIT;

		if (put[i].text)
			rb_buf_append_str(&b, put[i].text);
		else
			stored_form(strstr(put[i].key, "00000002.history") ? h2 : h3, put[i].encrypted ? &key : NULL, &b);
		assert_int_equal(rb_destination_put_small(d, put[i].key, b.data, b.len, &err), 0);
		if (put[i].key[0] == '7' && strstr(put[i].key, "/wal/"))
			want_bytes += b.len;
		rb_buf_free(&b);
	}
	assert_int_equal(rb_destination_list_all(d, "", &objs, &err), 0);

	/* without the key: the encrypted history file is skipped, with a warning */
	warnings = 0;
	assert_int_equal(rb_wal_catalog_load(d, &objs, 7, 16 * MB, NULL, &hooks, &cat, &err), 0);
	assert_int_equal(cat.total_files, 7);
	assert_int_equal(cat.total_bytes, want_bytes);
	assert_int_equal(cat.max_timeline, 3);
	assert_int_equal(cat.nhist, 1);
	assert_int_equal(cat.hist[0].timeline, 2);
	assert_int_equal(warnings, 1);
	{
		rb_wal_range_base b = {1, 0x2000028, 0x2000100, 16 * MB};
		rb_wal_range r;

		rb_wal_range_compute(cat.files, cat.nfiles, cat.hist, cat.nhist, &b, &r);
		/* timeline 2 only: segments 2, 3 (tl 1), 4 (tl 2) */
		assert_int_equal(r.target_timeline, 2);
		assert_int_equal(r.segments, 3);
	}
	rb_wal_catalog_free(&cat);

	/* with it: both, and the walk goes on to timeline 3 */
	rb_keyring_init(&ring);
	assert_int_equal(rb_keyring_add(&ring, &key, &err), 0);
	warnings = 0;
	assert_int_equal(rb_wal_catalog_load(d, &objs, 7, 16 * MB, &ring, &hooks, &cat, &err), 0);
	assert_int_equal(cat.nhist, 2);
	assert_int_equal(warnings, 0);
	{
		rb_wal_range_base b = {1, 0x2000028, 0x2000100, 16 * MB};
		rb_wal_range r;

		rb_wal_range_compute(cat.files, cat.nfiles, cat.hist, cat.nhist, &b, &r);
		assert_int_equal(r.target_timeline, 3);
		/* 2, 3 (tl 1), 4 (tl 2), then 5 is missing on timeline 2 */
		assert_int_equal(r.segments, 3);
		assert_int_equal(r.status, RB_WAL_RANGE_GAP);
		assert_int_equal(r.missing_timeline, 2);
		assert_int_equal(r.missing_segno, 5);
	}
	rb_wal_catalog_free(&cat);

	/* the other system's WAL alone */
	assert_int_equal(rb_wal_catalog_load(d, &objs, 8, 16 * MB, NULL, &hooks, &cat, &err), 0);
	assert_int_equal(cat.total_files, 1);
	rb_wal_catalog_free(&cat);

	rb_keyring_wipe(&ring);
	rb_key_wipe(&key);
	rb_object_list_free(&objs);
	rb_destination_close(d);
	{
		char		cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		assert_int_equal(system(cmd), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_duplicate_copies),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_lsn_and_names),
		cmocka_unit_test(test_segment_size_from_label),
		cmocka_unit_test(test_history_parse),
		cmocka_unit_test(test_prune_select),
		cmocka_unit_test(test_catalog),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
