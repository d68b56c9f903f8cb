/*
 * test_pg_client.c — unit tests of src/core/pg_client.c and pg_rowcount.c, what
 * the backup, the verifier and the CLI hand to PostgreSQL's client programs:
 * argv of any length (far past 31 arguments, none dropped), identifiers always
 * quoted with "" doubled, literals as E'...', database names passed as a quoted
 * conninfo (never taken as a connection string), the connection options; the
 * run itself (stdout, stderr kept on success, exit codes, cancellation, an
 * incomplete argv never run); the counting script (session set-up before the
 * counts, SET ROLE quoted, FORCE ROW LEVEL SECURITY dropped only when asked,
 * FROM ONLY and the relkind check for odd table names, the extension's own
 * tables left out), the parsing of psql's answers (a failed table leaves a gap,
 * not a shift) and one whole count against a stand-in for psql.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "pg_client.h"
#include "pg_rowcount.h"

/* ---- argv --------------------------------------------------------------------- */

static void
test_argv_grows(void **state)
{
	rb_argv		a = RB_ARGV_INIT;
	char		want[32];

	(void) state;
	for (int i = 0; i < 1000; i++)
		rb_argv_addf(&a, "arg-%d", i);
	assert_false(a.failed);
	assert_int_equal(a.n, 1000);
	for (int i = 0; i < 1000; i++)
	{
		snprintf(want, sizeof(want), "arg-%d", i);
		assert_string_equal(a.v[i], want);
	}
	assert_null(a.v[1000]);
	rb_argv_free(&a);
	assert_null(a.v);
	assert_int_equal(a.n, 0);

	/* a list whose allocation failed is never run */
	a.failed = true;
	rb_argv_add(&a, "/bin/true");
	assert_int_equal(a.n, 0);
	{
		rb_pg_run_options opt;
		rb_error	err;

		memset(&opt, 0, sizeof(opt));
		rb_error_clear(&err);
		assert_int_equal(rb_pg_run(&a, &opt, NULL, &err), -1);
		assert_int_equal(err.code, RB_ERR_NOMEM);
	}
	rb_argv_free(&a);
}

/* ---- quoting -------------------------------------------------------------------- */

static void
test_quote_ident(void **state)
{
	char	   *q;

	(void) state;
	q = rb_pg_quote_ident("plain");
	assert_string_equal(q, "\"plain\"");
	free(q);
	q = rb_pg_quote_ident("a \"b\" c");
	assert_string_equal(q, "\"a \"\"b\"\" c\"");
	free(q);
	q = rb_pg_quote_ident("my.schema");
	assert_string_equal(q, "\"my.schema\"");
	free(q);
	q = rb_pg_quote_ident("");
	assert_string_equal(q, "\"\"");
	free(q);
	q = rb_pg_quote_ident("Robert'); DROP TABLE students;--");
	assert_string_equal(q, "\"Robert'); DROP TABLE students;--\"");
	free(q);
}

static void
test_quote_literal(void **state)
{
	char	   *q;

	(void) state;
	q = rb_pg_quote_literal("plain");
	assert_string_equal(q, "E'plain'");
	free(q);
	q = rb_pg_quote_literal("it's a \\ back'slash");
	assert_string_equal(q, "E'it''s a \\\\ back''slash'");
	free(q);
	q = rb_pg_quote_literal("");
	assert_string_equal(q, "E''");
	free(q);
}

static void
test_conninfo(void **state)
{
	rb_buf		ci = RB_BUF_INIT;
	char	   *c;

	(void) state;
	c = rb_pg_conninfo_dbname("app");
	assert_string_equal(c, "dbname='app'");
	free(c);
	/* a name with = or spaces is never taken as a connection string */
	c = rb_pg_conninfo_dbname("host=evil dbname=x");
	assert_string_equal(c, "dbname='host=evil dbname=x'");
	free(c);
	c = rb_pg_conninfo_dbname("it's\\here");
	assert_string_equal(c, "dbname='it\\'s\\\\here'");
	free(c);
	c = rb_pg_conninfo_dbname("");
	assert_string_equal(c, "dbname=''");
	free(c);

	/* several keys, empty values left out (libpq's default) */
	rb_pg_conninfo_add(&ci, "dbname", "it's a \\db");
	rb_pg_conninfo_add(&ci, "host", "/tmp/sock dir");
	rb_pg_conninfo_add(&ci, "port", "");
	rb_pg_conninfo_add(&ci, "user", NULL);
	rb_pg_conninfo_add(&ci, "user", "o'neil");
	assert_string_equal(rb_buf_str(&ci), "dbname='it\\'s a \\\\db' host='/tmp/sock dir' user='o\\'neil'");
	rb_buf_free(&ci);
}

static void
test_conn_args(void **state)
{
	rb_pg_conn	conn = {"/var/run/postgresql", "5433", NULL};
	rb_pg_conn	all = {"db.example", "5432", "App \"Owner\""};
	rb_argv		a = RB_ARGV_INIT;
	char	   *path;

	(void) state;
	rb_argv_add(&a, "psql");
	rb_pg_conn_args(&a, &conn);
	assert_int_equal(a.n, 3);
	assert_string_equal(a.v[1], "--host=/var/run/postgresql");
	assert_string_equal(a.v[2], "--port=5433");
	assert_null(a.v[3]);
	rb_argv_free(&a);

	rb_pg_argv_program(&a, "/usr/lib/postgresql/15/bin", "pg_restore");
	rb_pg_conn_args(&a, &all);
	assert_int_equal(a.n, 4);
	assert_string_equal(a.v[0], "/usr/lib/postgresql/15/bin/pg_restore");
	assert_string_equal(a.v[3], "--username=App \"Owner\"");
	rb_argv_free(&a);

	/* a psql session's start: the name a quoted conninfo, never a connection string */
	rb_pg_argv_psql(&a, "/pg/bin", "psql", &conn, "host=evil");
	{
		static const char *const want[] = {
			"/pg/bin/psql", "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1",
			"--host=/var/run/postgresql", "--port=5433", "--dbname=dbname='host=evil'", NULL
		};

		for (size_t i = 0; want[i]; i++)
			assert_string_equal(a.v[i], want[i]);
		assert_int_equal(a.n, 9);
	}
	rb_argv_free(&a);

	path = rb_pg_program_path(NULL, "/opt/pg/bin/psql");
	assert_string_equal(path, "/opt/pg/bin/psql");
	free(path);
}

/* ---- running ---------------------------------------------------------------------- */

static int	ticks;

static void
count_tick(void *arg)
{
	(void) arg;
	ticks++;
}

static bool
always_cancel(void *arg)
{
	(void) arg;
	return true;
}

static void
test_run(void **state)
{
	rb_argv		a = RB_ARGV_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_buf		errtext = RB_BUF_INIT;
	rb_pg_run_options opt;
	rb_hooks	hooks;
	rb_error	err;
	rb_buf		want = RB_BUF_INIT;

	(void) state;
	/* 200 arguments reach the program, in order */
	rb_argv_add(&a, "/bin/echo");
	for (int i = 0; i < 200; i++)
	{
		rb_argv_addf(&a, "a%d", i);
		rb_buf_appendf(&want, "%sa%d", i ? " " : "", i);
	}
	rb_buf_append_char(&want, '\n');
	memset(&opt, 0, sizeof(opt));
	opt.out = &out;
	opt.tick = count_tick;
	ticks = 0;
	rb_error_clear(&err);
	assert_int_equal(rb_pg_run(&a, &opt, NULL, &err), 0);
	assert_string_equal(rb_buf_str(&out), rb_buf_str(&want));
	assert_true(ticks > 0);
	rb_argv_free(&a);

	/* stderr is kept when it exits 0, and is the error when it does not */
	rb_argv_add(&a, "/bin/sh");
	rb_argv_add(&a, "-c");
	rb_argv_add(&a, "echo 'ERROR:  boom' >&2; exit ${RB_TEST_EXIT}");
	{
		const char *const env0[] = {"RB_TEST_EXIT=0", NULL};
		const char *const env3[] = {"RB_TEST_EXIT=3", NULL};

		memset(&opt, 0, sizeof(opt));
		opt.name = "psql";
		opt.env = env0;
		opt.stderr_text = &errtext;
		assert_int_equal(rb_pg_run(&a, &opt, NULL, &err), 0);
		assert_non_null(strstr(rb_buf_str(&errtext), "ERROR:  boom"));
		opt.env = env3;
		opt.stderr_text = NULL;
		assert_int_equal(rb_pg_run(&a, &opt, NULL, &err), -1);
		assert_int_equal(err.code, RB_ERR_CHILD);
		assert_non_null(strstr(err.msg, "psql exited with code 3"));
		assert_non_null(strstr(err.msg, "boom"));
	}
	rb_argv_free(&a);

	/* the cancel hook stops it and names the program */
	rb_argv_add(&a, "/bin/sleep");
	rb_argv_add(&a, "30");
	memset(&hooks, 0, sizeof(hooks));
	hooks.cancel = always_cancel;
	memset(&opt, 0, sizeof(opt));
	assert_int_equal(rb_pg_run(&a, &opt, &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_CANCELLED);
	assert_string_equal(err.msg, "sleep was canceled");
	rb_argv_free(&a);

	rb_buf_free(&out);
	rb_buf_free(&errtext);
	rb_buf_free(&want);
}

/* ---- the row count -------------------------------------------------------------- */

static void
test_rowcount_statement(void **state)
{
	char	   *s;

	(void) state;
	s = rb_rowcount_statement(0, "my.schema", "a \"b\" c");
	assert_string_equal(s, "SELECT 0, CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'r'"
						" THEN (SELECT pg_catalog.count(*) FROM ONLY \"my.schema\".\"a \"\"b\"\" c\") ELSE -1 END"
						" FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=)"
						" E'\"my.schema\".\"a \"\"b\"\" c\"'::pg_catalog.regclass");
	free(s);
	s = rb_rowcount_statement(41, "public", "it's");
	assert_string_equal(s, "SELECT 41, CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'r'"
						" THEN (SELECT pg_catalog.count(*) FROM ONLY \"public\".\"it's\") ELSE -1 END"
						" FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=)"
						" E'\"public\".\"it''s\"'::pg_catalog.regclass");
	free(s);
}

/* position of needle in hay, or -1 */
static long
at(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);

	return p ? (long) (p - hay) : -1;
}

static void
test_rowcount_script(void **state)
{
	rb_table_counts tc = RB_TABLE_COUNTS_INIT;
	size_t		counted;
	char	   *s;
	long		role,
				rls,
				off,
				stop,
				first;

	(void) state;
	rb_table_counts_add(&tc, "public", "a", 1);
	rb_table_counts_add(&tc, "ripple_backup", "jobs", 1);
	rb_table_counts_add(&tc, "sales", "Orders", 2);

	/* no role, no FORCE RLS change */
	s = rb_rowcount_script(&tc, NULL, false, &counted);
	assert_int_equal(counted, 2);
	assert_true(at(s, "SET search_path = pg_catalog, pg_temp;\n") == 0);
	assert_int_equal(at(s, "SET ROLE"), -1);
	assert_int_equal(at(s, "NO FORCE ROW LEVEL SECURITY"), -1);
	off = at(s, "SET row_security = off;\n");
	stop = at(s, "\\set ON_ERROR_STOP off\n");
	first = at(s, "SELECT 0, ");
	assert_true(off > 0 && stop > off && first > stop);
	/* the extension's own table (index 1) is not counted */
	assert_int_equal(at(s, "SELECT 1, "), -1);
	assert_true(at(s, "SELECT 2, ") > first);
	assert_true(at(s, "FROM ONLY \"sales\".\"Orders\")") > 0);
	free(s);
	s = rb_rowcount_script(&tc, "", false, &counted);
	assert_int_equal(at(s, "SET ROLE"), -1);
	free(s);

	/* a role with an odd name, and the scratch database's FORCE RLS change */
	s = rb_rowcount_script(&tc, "App \"Owner\"", true, &counted);
	role = at(s, "SET ROLE \"App \"\"Owner\"\"\";\n");
	rls = at(s, "NO FORCE ROW LEVEL SECURITY");
	off = at(s, "SET row_security = off;\n");
	stop = at(s, "\\set ON_ERROR_STOP off\n");
	assert_true(role > 0 && rls > role && off > rls && stop > off);
	assert_true(at(s, "SELECT 0, ") > stop);
	free(s);
	rb_table_counts_free(&tc);
}

static void
test_rowcount_parse(void **state)
{
	int64_t		found[4];

	(void) state;
	/* table 1 failed (no answer): it stays unanswered, the others in place */
	for (int i = 0; i < 4; i++)
		found[i] = RB_ROWCOUNT_FAILED;
	rb_rowcount_parse("0|42\n2|0\n3|7\n", found, 4);
	assert_int_equal(found[0], 42);
	assert_int_equal(found[1], RB_ROWCOUNT_FAILED);
	assert_int_equal(found[2], 0);
	assert_int_equal(found[3], 7);

	/* -1: not an ordinary table; indexes out of range, junk and repeats are ignored */
	for (int i = 0; i < 4; i++)
		found[i] = RB_ROWCOUNT_FAILED;
	found[3] = RB_ROWCOUNT_SKIPPED;
	rb_rowcount_parse("9|99\n0|-1\nnot a number\n1|5x\n2|12\n2|13\n3|1\n-1|4\n", found, 4);
	assert_int_equal(found[0], RB_ROWCOUNT_NOT_TABLE);
	assert_int_equal(found[1], RB_ROWCOUNT_FAILED);
	assert_int_equal(found[2], 12);
	assert_int_equal(found[3], RB_ROWCOUNT_SKIPPED);
	rb_rowcount_parse("", found, 4);
	assert_int_equal(found[1], RB_ROWCOUNT_FAILED);
}

static void
test_extension_tables(void **state)
{
	(void) state;
	assert_true(rb_rowcount_is_extension_table("ripple_backup"));
	assert_false(rb_rowcount_is_extension_table("public"));
	assert_false(rb_rowcount_is_extension_table("ripple_backup2"));
	assert_false(rb_rowcount_is_extension_table("Ripple_backup"));
}

/*
 * One count against a stand-in for psql (a shell script): it checks that it is
 * given its script with -f and the quoted conninfo, answers for two of the
 * three tables it is asked about, and complains on stderr, exiting 0 as psql
 * does with ON_ERROR_STOP off.  The script file is gone afterwards.
 */
static void
test_rowcount_run(void **state)
{
	char		dir[] = "/tmp/rb_test_pg_client_XXXXXX";
	char		fake[256];
	char		base[256];
	char		script[300];
	FILE	   *f;
	rb_table_counts tc = RB_TABLE_COUNTS_INIT;
	rb_pg_conn	conn = {"/tmp/sock", "5433", "restorer"};
	rb_rowcount_request req;
	rb_rowcount_result res;
	rb_error	err;
	struct stat st;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(fake, sizeof(fake), "%s/psql", dir);
	snprintf(base, sizeof(base), "%s/archive", dir);
	snprintf(script, sizeof(script), "%s.count.sql", base);
	f = fopen(fake, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n"
			"file=; db=; while [ $# -gt 0 ]; do case \"$1\" in -f) file=$2; shift;; --dbname=*) db=$1;; esac; shift; done\n"
			"[ \"$db\" = \"--dbname=dbname='it\\\\'s'\" ] || { echo \"bad $db\" >&2; exit 2; }\n"
			"grep -q 'FROM ONLY \"public\".\"b\"' \"$file\" || exit 2\n"
			"[ \"$RB_FAKE_FAIL\" = 1 ] && { echo 'psql: error: connection refused' >&2; exit 2; }\n"
			"echo '0|10'; echo '2|-1'; echo 'ERROR:  permission denied for table b' >&2; exit 0\n");
	fclose(f);
	assert_int_equal(chmod(fake, 0700), 0);

	rb_table_counts_add(&tc, "public", "a", 10);
	rb_table_counts_add(&tc, "public", "b", 5);
	rb_table_counts_add(&tc, "public", "v", 3);
	rb_table_counts_add(&tc, "ripple_backup", "jobs", 1);
	memset(&req, 0, sizeof(req));
	req.psql = fake;
	req.conn = &conn;
	req.dbname = "it's";
	req.script_base = base;
	rb_rowcount_result_init(&res);
	rb_error_clear(&err);
	assert_int_equal(rb_rowcount_run(&req, &tc, &res, NULL, &err), 0);
	assert_int_equal(res.n, 4);
	assert_int_equal(res.found[0], 10);
	assert_int_equal(res.found[1], RB_ROWCOUNT_FAILED);
	assert_int_equal(res.found[2], RB_ROWCOUNT_NOT_TABLE);
	assert_int_equal(res.found[3], RB_ROWCOUNT_SKIPPED);
	assert_int_equal(res.tables, 3);
	assert_int_equal(res.mismatched, 0);
	assert_int_equal(res.uncounted, 2);
	assert_int_equal(res.rows_expected, 18);
	assert_int_equal(res.rows_found, 10);
	assert_int_equal(res.skipped, 1);
	assert_int_equal(res.rows_skipped, 1);
	assert_non_null(strstr(rb_buf_str(&res.psql_stderr), "permission denied for table b"));
	assert_int_not_equal(stat(script, &st), 0);

	/* a session that fails is an error, and leaves no script either */
	setenv("RB_FAKE_FAIL", "1", 1);
	assert_int_equal(rb_rowcount_run(&req, &tc, &res, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_CHILD);
	assert_non_null(strstr(err.msg, "connection refused"));
	assert_int_not_equal(stat(script, &st), 0);
	unsetenv("RB_FAKE_FAIL");

	rb_rowcount_result_free(&res);
	rb_table_counts_free(&tc);
	unlink(fake);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_argv_grows),
		cmocka_unit_test(test_quote_ident),
		cmocka_unit_test(test_quote_literal),
		cmocka_unit_test(test_conninfo),
		cmocka_unit_test(test_conn_args),
		cmocka_unit_test(test_run),
		cmocka_unit_test(test_rowcount_statement),
		cmocka_unit_test(test_rowcount_script),
		cmocka_unit_test(test_rowcount_parse),
		cmocka_unit_test(test_extension_tables),
		cmocka_unit_test(test_rowcount_run),
	};

	return cmocka_run_group_tests_name("pg_client", tests, NULL, NULL);
}
