/*
 * test_cli_restore.c — unit tests of what "ripple-backup restore" asks of the
 * server (src/cli/cli_restore_argv.c and the counting session of cli_rowcount.c,
 * linked from build/libripple_cli.a): the pg_restore argv with and without --role, the CREATE DATABASE
 * statement of --create (OWNER the role, names quoted), the options that start a
 * counting session (row security off, SET ROLE with the name quoted, both before
 * ON_ERROR_STOP is turned off), and which tables are the extension's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli_format.h"
#include "cli_progress.h"
#include "cli_pgtools.h"
#include "cli_rowcount.h"
#include "cli_restore_argv.h"

static void
assert_argv(const cli_argv *a, const char *const *want)
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
	cli_conn	conn = {"/tmp/sock", "5433", "postgres"};
	cli_argv	a = {0};
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
	cli_argv_free(&a);

	/* an empty role is no role */
	args.role = "";
	cli_pg_restore_argv(&a, "/bin/pg_restore", &args, &conn, "/tmp/x.dump");
	assert_argv(&a, plain);
	cli_argv_free(&a);

	/* pg_restore quotes the role itself: passed as given, one argument */
	args.role = "App Owner \"x\"";
	args.dbname = "it's";
	args.jobs = 4;
	args.no_owner = true;
	args.no_privileges = true;
	cli_pg_restore_argv(&a, "/bin/pg_restore", &args, &conn, "/tmp/x.dump");
	assert_argv(&a, with_role);
	cli_argv_free(&a);
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

static void
test_count_session_args(void **state)
{
	cli_argv	a = {0};
	static const char *const no_role[] = {
		"psql", "-v", "ON_ERROR_STOP=1", "-c", "SET row_security = off",
		"-c", "\\set ON_ERROR_STOP off", NULL
	};
	static const char *const role[] = {
		"psql", "-v", "ON_ERROR_STOP=1", "-c", "SET row_security = off",
		"-c", "SET ROLE \"App \"\"Owner\"\"\"", "-c", "\\set ON_ERROR_STOP off", NULL
	};

	cli_argv_add(&a, "psql");
	cli_count_session_args(&a, NULL);
	assert_argv(&a, no_role);
	cli_argv_free(&a);

	cli_argv_add(&a, "psql");
	cli_count_session_args(&a, "");
	assert_argv(&a, no_role);
	cli_argv_free(&a);

	cli_argv_add(&a, "psql");
	cli_count_session_args(&a, "App \"Owner\"");
	assert_argv(&a, role);
	cli_argv_free(&a);
}

static void
test_extension_tables(void **state)
{
	assert_true(cli_count_is_extension_table("ripple_backup"));
	assert_false(cli_count_is_extension_table("public"));
	assert_false(cli_count_is_extension_table("ripple_backup2"));
	assert_false(cli_count_is_extension_table("Ripple_backup"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pg_restore_argv),
		cmocka_unit_test(test_create_database_sql),
		cmocka_unit_test(test_count_session_args),
		cmocka_unit_test(test_extension_tables),
	};

	return cmocka_run_group_tests_name("cli_restore", tests, NULL, NULL);
}
