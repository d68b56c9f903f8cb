/*
 * test_pgdump_archive.c — unit tests of the streaming custom-format archive parser:
 * exact row counts from a real pg_dump 15 archive (test/fixtures/pgdump_small.dump)
 * fed in every chunking, synthetic 1.15/1.16 archives, and refusal of compressed,
 * foreign and truncated input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pgdump_archive.h"
#include "rb_buf.h"

static unsigned char *fixture;
static size_t fixture_len;

static int
load_fixture(void **state)
{
	const char *src = getenv("RIPPLE_SRC");
	char		path[1024];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/test/fixtures/pgdump_small.dump", src ? src : ".");
	f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	fixture_len = (size_t) ftell(f);
	fseek(f, 0, SEEK_SET);
	fixture = malloc(fixture_len);
	if (fread(fixture, 1, fixture_len, f) != fixture_len)
		return -1;
	fclose(f);
	return 0;
}

static int
free_fixture(void **state)
{
	free(fixture);
	return 0;
}

/* Feeds data in chunks of `chunk` bytes (0 = random sizes 1..70000). */
static rb_archive_parser *
parse(const unsigned char *data, size_t len, size_t chunk, int *rc, rb_error *err)
{
	rb_archive_parser *p = rb_archive_parser_new();
	size_t		off = 0;

	*rc = 0;
	while (off < len && *rc == 0)
	{
		size_t		n = chunk ? chunk : 1 + (size_t) (rand() % 70000);

		if (n > len - off)
			n = len - off;
		*rc = rb_archive_parser_feed(p, data + off, n, err);
		off += n;
	}
	if (*rc == 0)
		*rc = rb_archive_parser_finish(p, err);
	return p;
}

static void
check_fixture_counts(const rb_archive_parser *p)
{
	static const struct
	{
		const char *schema;
		const char *table;
		int64_t		rows;
	}			expect[] = {
		{"odd.schema", "Table \"With\" Spaces", 42},
		{"public", "measure_2025", 314},
		{"public", "measure_2026", 186},
		{"public", "plain", 1000},
		{"sales", "empty", 0},
		{"sales", "texty", 8},
	};
	const rb_table_counts *tc = rb_archive_parser_counts(p);

	assert_int_equal(tc->n, 6);
	for (size_t i = 0; i < 6; i++)
	{
		assert_string_equal(tc->items[i].schema, expect[i].schema);
		assert_string_equal(tc->items[i].table, expect[i].table);
		assert_int_equal(tc->items[i].rows, expect[i].rows);
	}
	assert_int_equal(rb_archive_parser_blob_count(p), 2);
	assert_int_equal(rb_archive_parser_toc_count(p), 29);
	assert_int_equal(rb_archive_parser_version(p), 0x010e00);
	assert_string_equal(rb_archive_parser_dbname(p), "fixture");
	assert_non_null(strstr(rb_archive_parser_server_version(p), "15."));
	assert_non_null(strstr(rb_archive_parser_dump_version(p), "15."));
}

static void
test_fixture_chunkings(void **state)
{
	size_t		chunks[] = {1, 7, 65536, 1 << 20, 0, 0, 0};

	srand(42);
	for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++)
	{
		rb_error	err = {0};
		int			rc;
		rb_archive_parser *p = parse(fixture, fixture_len, chunks[i], &rc, &err);

		if (rc != 0)
			fail_msg("chunk %zu: %s", chunks[i], err.msg);
		check_fixture_counts(p);
		rb_archive_parser_free(p);
	}
}

static void
test_truncated_everywhere(void **state)
{
	/* every proper prefix must fail, in feed or in finish */
	for (size_t cut = 0; cut < fixture_len; cut += (cut < 4000 ? 1 : 97))
	{
		rb_error	err = {0};
		int			rc;
		rb_archive_parser *p = parse(fixture, cut, 4096, &rc, &err);

		if (rc == 0)
			fail_msg("prefix of %zu bytes accepted", cut);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		rb_archive_parser_free(p);
	}
}

static void
test_not_an_archive(void **state)
{
	const char *plain = "--\n-- PostgreSQL database dump\n--\n";
	rb_error	err = {0};
	int			rc;
	rb_archive_parser *p = parse((const unsigned char *) plain, strlen(plain), 3, &rc, &err);

	assert_int_equal(rc, -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	assert_non_null(strstr(err.msg, "PGDMP"));
	/* a failed parser keeps failing */
	assert_int_equal(rb_archive_parser_feed(p, "x", 1, &err), -1);
	rb_archive_parser_free(p);
}

static void
test_compressed_1_14_refused(void **state)
{
	unsigned char *copy = malloc(fixture_len);
	rb_error	err = {0};
	int			rc;
	rb_archive_parser *p;

	memcpy(copy, fixture, fixture_len);
	/* header: PGDMP(5) vmaj vmin vrev intSize offSize format (11 bytes), then the level int */
	assert_int_equal(copy[11], 0);
	copy[12] = 6;				/* level 6, as pg_dump -Fc writes by default */
	p = parse(copy, fixture_len, 1, &rc, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "compressed"));
	assert_non_null(strstr(err.msg, "-Z0"));
	rb_archive_parser_free(p);
	free(copy);
}

/* --- synthetic archives of other versions ------------------------------------ */

static void
put_int(rb_buf *b, int64_t v)
{
	rb_buf_append_char(b, v < 0 ? 1 : 0);
	if (v < 0)
		v = -v;
	for (int i = 0; i < 4; i++)
	{
		rb_buf_append_char(b, (char) (v & 0xff));
		v >>= 8;
	}
}

static void
put_str(rb_buf *b, const char *s)
{
	if (s == NULL)
	{
		put_int(b, -1);
		return;
	}
	put_int(b, (int64_t) strlen(s));
	rb_buf_append_str(b, s);
}

static void
put_entry(rb_buf *b, int vmin, int id, const char *desc, const char *ns, const char *tag,
		  const char *copy, int has_data)
{
	put_int(b, id);
	put_int(b, has_data);
	put_str(b, "0");
	put_str(b, "0");
	put_str(b, tag);
	put_str(b, desc);
	put_int(b, 2);				/* section */
	put_str(b, "");				/* defn */
	put_str(b, "");				/* drop */
	put_str(b, copy);
	put_str(b, ns);
	put_str(b, "");				/* tablespace */
	put_str(b, "heap");			/* tableam (1.14+) */
	if (vmin >= 16)
		put_int(b, 'r');		/* relkind */
	put_str(b, "owner");
	put_str(b, "false");
	put_str(b, "1");			/* one dependency */
	put_str(b, NULL);
	rb_buf_append_char(b, has_data ? 1 : 3);	/* data state */
	for (int i = 0; i < 8; i++)
		rb_buf_append_char(b, 0);
}

static void
build_archive(rb_buf *b, int vmin, int compression)
{
	rb_buf_append(b, "PGDMP", 5);
	rb_buf_append_char(b, 1);
	rb_buf_append_char(b, (char) vmin);
	rb_buf_append_char(b, 0);
	rb_buf_append_char(b, 4);
	rb_buf_append_char(b, 8);
	rb_buf_append_char(b, 1);
	if (vmin >= 15)
		rb_buf_append_char(b, (char) compression);
	else
		put_int(b, compression);
	for (int i = 0; i < 7; i++)
		put_int(b, i);
	put_str(b, "db");
	put_str(b, "17.0");
	put_str(b, "17.0");
	put_int(b, 3);
	put_entry(b, vmin, 1, "SCHEMA", NULL, "s", NULL, 0);
	put_entry(b, vmin, 2, "TABLE DATA", "s", "t", "COPY s.t (a) FROM stdin;\n", 1);
	put_entry(b, vmin, 3, "TABLE DATA", "s", "u", "COPY s.u (a) FROM stdin;\n", 1);
	/* data of t in chunks that split lines and the end marker */
	rb_buf_append_char(b, 1);
	put_int(b, 2);
	put_int(b, 4);
	rb_buf_append(b, "a\nb\\", 4);
	put_int(b, 5);
	rb_buf_append(b, "\\\nc\n\\", 5);
	put_int(b, 4);
	rb_buf_append(b, ".\n\n\n", 4);
	put_int(b, 0);
	/* data of u: one row "\." escaped as \\. , then the end marker */
	rb_buf_append_char(b, 1);
	put_int(b, 3);
	put_int(b, 9);
	rb_buf_append(b, "\\\\.\n\\.\n\n\n", 9);
	put_int(b, 0);
	/* large objects: two, then the end */
	rb_buf_append_char(b, 3);
	put_int(b, 4);
	put_int(b, 100);
	put_int(b, 3);
	rb_buf_append(b, "x\ny", 3);
	put_int(b, 0);
	put_int(b, 101);
	put_int(b, 0);
	put_int(b, 0);
}

static void
test_synthetic_versions(void **state)
{
	for (int vmin = 14; vmin <= 16; vmin++)
	{
		rb_buf		b = RB_BUF_INIT;
		rb_error	err = {0};
		int			rc;
		rb_archive_parser *p;
		const rb_table_counts *tc;

		build_archive(&b, vmin, 0);
		p = parse((const unsigned char *) b.data, b.len, 1, &rc, &err);
		if (rc != 0)
			fail_msg("1.%d: %s", vmin, err.msg);
		tc = rb_archive_parser_counts(p);
		assert_int_equal(tc->n, 2);
		/* "a", "b\\", "c" (b followed by an escaped backslash) */
		assert_int_equal(rb_table_counts_find(tc, "s", "t")->rows, 3);
		assert_int_equal(rb_table_counts_find(tc, "s", "u")->rows, 1);
		assert_int_equal(rb_archive_parser_blob_count(p), 2);
		rb_archive_parser_free(p);
		rb_buf_free(&b);

		/* the same archive marked compressed is refused */
		build_archive(&b, vmin, vmin >= 15 ? 3 : -1);
		p = parse((const unsigned char *) b.data, b.len, 5, &rc, &err);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err.msg, "compressed"));
		rb_archive_parser_free(p);
		rb_buf_free(&b);
	}
}

static void
test_missing_data_block(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	rb_error	err = {0};
	int			rc;
	rb_archive_parser *p;
	size_t		header_and_toc;

	build_archive(&b, 14, 0);
	/* cut right before the first data block: a valid boundary, but t's data is missing */
	header_and_toc = b.len;
	for (size_t i = 0; i < b.len; i++)
		if (memcmp(b.data + i, "a\nb\\", 4) == 0)
		{
			header_and_toc = i - 1 - 5 - 5;	/* type byte, id int, length int */
			break;
		}
	p = parse((const unsigned char *) b.data, header_and_toc, 2, &rc, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "before the data of table s.t"));
	rb_archive_parser_free(p);
	rb_buf_free(&b);
}

static void
test_unsupported_version(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	rb_error	err = {0};
	int			rc;
	rb_archive_parser *p;

	build_archive(&b, 14, 0);
	b.data[6] = 30;
	p = parse((const unsigned char *) b.data, b.len, 100, &rc, &err);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "unsupported archive version 1.30"));
	rb_archive_parser_free(p);
	rb_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixture_chunkings),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_not_an_archive),
		cmocka_unit_test(test_compressed_1_14_refused),
		cmocka_unit_test(test_synthetic_versions),
		cmocka_unit_test(test_missing_data_block),
		cmocka_unit_test(test_unsupported_version),
	};

	return cmocka_run_group_tests(tests, load_fixture, free_fixture);
}
