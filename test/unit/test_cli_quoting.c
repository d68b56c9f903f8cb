/*
 * test_cli_quoting.c — unit tests of the text ripple-backup hands to psql and
 * pg_restore and shows to people (src/cli/cli_pgtools.c, cli_rowcount.c,
 * cli_archive_check.c, cli_format.c, linked from build/libripple_cli.a): identifiers
 * always quoted with "" doubled, database names passed as a quoted conninfo, the
 * count statement of odd table names (FROM ONLY), the parsing of psql's marked
 * output (a failed table leaves a gap, not a shift), the comparison of per-table counts, sizes and durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rb_json.h"
#include "cli_format.h"
#include "cli_progress.h"
#include "cli_pgtools.h"
#include "cli_rowcount.h"
#include "cli_archive_check.h"

static void
test_quote_ident(void **state)
{
	char	   *q;

	q = cli_quote_ident("plain");
	assert_string_equal(q, "\"plain\"");
	free(q);
	q = cli_quote_ident("a \"b\" c");
	assert_string_equal(q, "\"a \"\"b\"\" c\"");
	free(q);
	q = cli_quote_ident("my.schema");
	assert_string_equal(q, "\"my.schema\"");
	free(q);
	q = cli_quote_ident("");
	assert_string_equal(q, "\"\"");
	free(q);
	q = cli_quote_ident("Robert'); DROP TABLE students;--");
	assert_string_equal(q, "\"Robert'); DROP TABLE students;--\"");
	free(q);
}

static void
test_count_statement(void **state)
{
	char	   *s = cli_count_statement("my.schema", "a \"b\" c");

	assert_string_equal(s, "SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'r'"
						" THEN (SELECT pg_catalog.count(*) FROM ONLY \"my.schema\".\"a \"\"b\"\" c\") ELSE -1 END"
						" FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=)"
						" E'\"my.schema\".\"a \"\"b\"\" c\"'::pg_catalog.regclass");
	free(s);
	s = cli_count_statement("public", "it's");
	assert_string_equal(s, "SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'r'"
						" THEN (SELECT pg_catalog.count(*) FROM ONLY \"public\".\"it's\") ELSE -1 END"
						" FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=)"
						" E'\"public\".\"it''s\"'::pg_catalog.regclass");
	free(s);
}

static void
test_conninfo_dbname(void **state)
{
	char	   *c;

	c = cli_conninfo_dbname("app");
	assert_string_equal(c, "dbname='app'");
	free(c);
	/* a name with = or spaces is never taken as a connection string */
	c = cli_conninfo_dbname("host=evil dbname=x");
	assert_string_equal(c, "dbname='host=evil dbname=x'");
	free(c);
	c = cli_conninfo_dbname("it's\\here");
	assert_string_equal(c, "dbname='it\\'s\\\\here'");
	free(c);
}

static void
test_conn_args(void **state)
{
	cli_conn	conn = {"/var/run/postgresql", "5433", NULL};
	cli_argv	a = {0};

	cli_argv_add(&a, "psql");
	cli_conn_add_args(&conn, &a);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[1], "--host=/var/run/postgresql");
	assert_string_equal(a.v[2], "--port=5433");
	assert_null(a.v[3]);
	cli_argv_free(&a);
}

static void
test_parse_counts(void **state)
{
	int64_t		found[4];

	/* table 1 failed (no count line after its marker): -1, the others in place */
	cli_parse_counts(CLI_COUNT_MARKER "10\n42\n" CLI_COUNT_MARKER "11\n"
					 CLI_COUNT_MARKER "12\n0\n" CLI_COUNT_MARKER "13\n7\n", 10, 4, found);
	assert_int_equal(found[0], 42);
	assert_int_equal(found[1], -1);
	assert_int_equal(found[2], 0);
	assert_int_equal(found[3], 7);

	/* markers of another batch and junk lines are ignored */
	cli_parse_counts(CLI_COUNT_MARKER "3\n99\n" CLI_COUNT_MARKER "0\nnot a number\n5\n", 0, 1, found);
	assert_int_equal(found[0], 5);
	cli_parse_counts("", 0, 1, found);
	assert_int_equal(found[0], -1);
}

static void
test_compare_counts(void **state)
{
	rb_table_counts e = RB_TABLE_COUNTS_INIT;
	rb_table_counts f = RB_TABLE_COUNTS_INIT;
	rb_buf		report = RB_BUF_INIT;

	rb_table_counts_add(&e, "public", "a", 10);
	rb_table_counts_add(&e, "my.schema", "b", 3);
	rb_table_counts_add(&f, "my.schema", "b", 3);
	rb_table_counts_add(&f, "public", "a", 10);
	assert_int_equal(cli_compare_counts(&e, &f, &report), 0);
	assert_int_equal(report.len, 0);

	rb_table_counts_add(&f, "public", "extra", 1);
	f.items[1].rows = 11;
	assert_int_equal(cli_compare_counts(&e, &f, &report), 2);
	assert_non_null(strstr(rb_buf_str(&report), "table public.a has 11 rows in the archive, the metadata says 10"));
	assert_non_null(strstr(rb_buf_str(&report), "table public.extra is in the archive but not in the metadata"));
	rb_buf_reset(&report);
	assert_int_equal(cli_compare_counts(&f, &e, &report), 2);
	assert_non_null(strstr(rb_buf_str(&report), "table public.extra is in the metadata but not in the archive"));
	rb_buf_free(&report);
	rb_table_counts_free(&e);
	rb_table_counts_free(&f);
}

static void
test_format(void **state)
{
	char		b[32];

	cli_format_bytes(0, b, sizeof(b));
	assert_string_equal(b, "0 B");
	cli_format_bytes(999, b, sizeof(b));
	assert_string_equal(b, "999 B");
	cli_format_bytes(1867024, b, sizeof(b));
	assert_string_equal(b, "1.9 MB");
	cli_format_bytes(UINT64_C(5000000000000), b, sizeof(b));
	assert_string_equal(b, "5.0 TB");
	cli_format_duration(0.44, b, sizeof(b));
	assert_string_equal(b, "0.4 s");
	cli_format_duration(123, b, sizeof(b));
	assert_string_equal(b, "2 min 03 s");
	cli_format_duration(3725, b, sizeof(b));
	assert_string_equal(b, "1 h 02 min");
	cli_format_time("2026-11-26T04:00:00Z", b, sizeof(b));
	assert_string_equal(b, "2026-11-26 04:00:00");
	cli_format_time("odd", b, sizeof(b));
	assert_string_equal(b, "odd");
}

static void
test_json_string(void **state)
{
	rb_buf		b = RB_BUF_INIT;

	rb_json_append_string(&b, "a\"b\\c\nd\x01");
	assert_string_equal(rb_buf_str(&b), "\"a\\\"b\\\\c\\nd\\u0001\"");
	rb_buf_reset(&b);
	rb_json_append_string(&b, NULL);
	assert_string_equal(rb_buf_str(&b), "null");
	/* the CLI's JSON is src/core's: \b and \f as such, DEL as \u007f */
	rb_buf_reset(&b);
	rb_json_append_string(&b, "\b\f\x7f");
	assert_string_equal(rb_buf_str(&b), "\"\\b\\f\\u007f\"");
	rb_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote_ident),
		cmocka_unit_test(test_count_statement),
		cmocka_unit_test(test_conninfo_dbname),
		cmocka_unit_test(test_conn_args),
		cmocka_unit_test(test_parse_counts),
		cmocka_unit_test(test_compare_counts),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_json_string),
	};

	return cmocka_run_group_tests_name("cli_quoting", tests, NULL, NULL);
}
