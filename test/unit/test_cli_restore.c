/*
 * test_cli_restore.c — unit tests of what "ripple-backup restore" asks of the
 * server (src/cli/cli_restore_argv.c, linked from build/libripple_cli.a): the pg_restore argv with and
 * without --role, and the CREATE DATABASE statement of --create (OWNER the role,
 * names quoted), the pg_restore argv of each part of a streamed restore, and the
 * choice of plan (what streams while the download goes on).  The counting session it starts is src/core's pg_rowcount,
 * tested in test_pg_client.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli_restore_argv.h"

static void
assert_argv(const rb_argv *a, const char *const *want)
{
	size_t		n = 0;

	while (want[n])
		n++;
	for (size_t i = 0; i < n && i < a->n; i++)
		assert_string_equal(a->v[i], want[i]);
	assert_int_equal(a->n, n);
	assert_null(a->v[a->n]);
}

static void
test_pg_restore_argv(void **state)
{
	cli_args	args;
	rb_pg_conn	conn = {"/tmp/sock", "5433", "postgres"};
	rb_argv		a = RB_ARGV_INIT;
	static const char *const plain[] = {
		"/bin/pg_restore", "--no-password", "--jobs=2", "--host=/tmp/sock", "--port=5433",
		"--username=postgres", "--dbname=dbname='app'", "/tmp/x.dump", NULL
	};
	static const char *const with_role[] = {
		"/bin/pg_restore", "--no-password", "--jobs=4", "--no-owner", "--no-privileges",
		"--role=App Owner \"x\"", "--host=/tmp/sock", "--port=5433", "--username=postgres",
		"--dbname=dbname='it\\'s'", "/tmp/x.dump", NULL
	};

	memset(&args, 0, sizeof(args));
	args.dbname = "app";
	args.jobs = 2;
	cli_pg_restore_argv(&a, "/bin/pg_restore", &args, &conn, "/tmp/x.dump");
	assert_argv(&a, plain);
	rb_argv_free(&a);

	/* an empty role is no role */
	args.role = "";
	cli_pg_restore_argv(&a, "/bin/pg_restore", &args, &conn, "/tmp/x.dump");
	assert_argv(&a, plain);
	rb_argv_free(&a);

	/* pg_restore quotes the role itself: passed as given, one argument */
	args.role = "App Owner \"x\"";
	args.dbname = "it's";
	args.jobs = 4;
	args.no_owner = true;
	args.no_privileges = true;
	cli_pg_restore_argv(&a, "/bin/pg_restore", &args, &conn, "/tmp/x.dump");
	assert_argv(&a, with_role);
	rb_argv_free(&a);
}

static void
test_pg_restore_argv_part(void **state)
{
	cli_args	args;
	rb_pg_conn	conn = {"/tmp/sock", "5433", "postgres"};
	rb_argv		a = RB_ARGV_INIT;
	static const char *const from_stdin[] = {
		"/bin/pg_restore", "--no-password", "--host=/tmp/sock", "--port=5433",
		"--username=postgres", "--dbname=dbname='app'", NULL
	};
	static const char *const pre_and_data[] = {
		"/bin/pg_restore", "--no-password", "--section=pre-data", "--section=data",
		"--host=/tmp/sock", "--port=5433", "--username=postgres", "--dbname=dbname='app'", NULL
	};
	static const char *const post_data[] = {
		"/bin/pg_restore", "--no-password", "--section=post-data", "--jobs=2",
		"--host=/tmp/sock", "--port=5433", "--username=postgres", "--dbname=dbname='app'",
		"/tmp/x.dump", NULL
	};

	memset(&args, 0, sizeof(args));
	args.dbname = "app";
	args.jobs = 2;
	/* stdin: no file, and no --jobs (pg_restore refuses parallel jobs on a pipe) */
	cli_pg_restore_argv_part(&a, "/bin/pg_restore", &args, &conn, NULL, CLI_RESTORE_ALL);
	assert_argv(&a, from_stdin);
	rb_argv_free(&a);
	cli_pg_restore_argv_part(&a, "/bin/pg_restore", &args, &conn, NULL, CLI_RESTORE_PRE_AND_DATA);
	assert_argv(&a, pre_and_data);
	rb_argv_free(&a);
	cli_pg_restore_argv_part(&a, "/bin/pg_restore", &args, &conn, "/tmp/x.dump", CLI_RESTORE_POST_DATA);
	assert_argv(&a, post_data);
	rb_argv_free(&a);
}

static void
test_restore_plan(void **state)
{
	cli_args	args;
	rb_table_counts tc = RB_TABLE_COUNTS_INIT;
	rb_table_counts even = RB_TABLE_COUNTS_INIT;
	rb_table_counts none = RB_TABLE_COUNTS_INIT;

	/* pgbench's shape: one table holds nearly every row */
	rb_table_counts_add(&tc, "public", "pgbench_accounts", 5000000);
	rb_table_counts_add(&tc, "public", "pgbench_branches", 50);
	rb_table_counts_add(&tc, "public", "pgbench_tellers", 500);
	rb_table_counts_add(&tc, "public", "pgbench_history", 0);
	/* four equal tables: 2 jobs load them in half the time */
	for (int i = 0; i < 4; i++)
		rb_table_counts_add(&even, "public", i % 2 ? "a" : "b", 1000);

	memset(&args, 0, sizeof(args));
	args.dbname = "app";
	args.jobs = 1;
	/* into an existing database: the object is proven before anything is restored */
	assert_int_equal(cli_restore_choose_plan(&args, &tc), CLI_PLAN_AFTER_DOWNLOAD);
	args.jobs = 4;
	assert_int_equal(cli_restore_choose_plan(&args, &even), CLI_PLAN_AFTER_DOWNLOAD);

	args.create = true;
	args.jobs = 1;
	assert_int_equal(cli_restore_choose_plan(&args, &tc), CLI_PLAN_STREAM_ALL);
	assert_int_equal(cli_restore_choose_plan(&args, &even), CLI_PLAN_STREAM_ALL);
	args.jobs = 2;
	assert_int_equal(cli_restore_choose_plan(&args, &tc), CLI_PLAN_STREAM_DATA);
	assert_int_equal(cli_restore_choose_plan(&args, &even), CLI_PLAN_AFTER_DOWNLOAD);
	assert_int_equal(cli_restore_choose_plan(&args, &none), CLI_PLAN_STREAM_DATA);
	/* 90% in one table is the bound: 900 of 1000 streams, 899 of 1000 does not */
	{
		rb_table_counts edge = RB_TABLE_COUNTS_INIT;

		rb_table_counts_add(&edge, "public", "big", 900);
		rb_table_counts_add(&edge, "public", "small", 100);
		assert_int_equal(cli_restore_choose_plan(&args, &edge), CLI_PLAN_STREAM_DATA);
		edge.items[0].rows = 899;
		edge.items[1].rows = 101;
		assert_int_equal(cli_restore_choose_plan(&args, &edge), CLI_PLAN_AFTER_DOWNLOAD);
		rb_table_counts_free(&edge);
	}
	rb_table_counts_free(&tc);
	rb_table_counts_free(&even);
}

static void
test_drop_database_sql(void **state)
{
	char	   *s = cli_drop_database_sql("a\"pp");

	assert_string_equal(s, "DROP DATABASE \"a\"\"pp\" WITH (FORCE)");
	free(s);
}

static void
test_create_database_sql(void **state)
{
	char	   *s;

	s = cli_create_database_sql("app", NULL);
	assert_string_equal(s, "CREATE DATABASE \"app\" TEMPLATE template0");
	free(s);
	s = cli_create_database_sql("app", "");
	assert_string_equal(s, "CREATE DATABASE \"app\" TEMPLATE template0");
	free(s);
	s = cli_create_database_sql("a\"pp", "app_owner\"; DROP ROLE x; --");
	assert_string_equal(s, "CREATE DATABASE \"a\"\"pp\" OWNER \"app_owner\"\"; DROP ROLE x; --\" TEMPLATE template0");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_restore_argv),
		cmocka_unit_test(test_create_database_sql),
		cmocka_unit_test(test_pg_restore_argv_part),
		cmocka_unit_test(test_restore_plan),
		cmocka_unit_test(test_drop_database_sql),
	};

	return cmocka_run_group_tests_name("cli_restore", tests, NULL, NULL);
}
