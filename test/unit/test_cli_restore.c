/*
 * test_cli_restore.c — unit tests of what "ripple-backup restore" asks of the
 * server (src/cli/cli_restore_argv.c, linked from build/libripple_cli.a): the pg_restore argv with and
 * without --role, and the CREATE DATABASE statement of --create (OWNER the role,
 * names quoted).  The counting session it starts is src/core's pg_rowcount,
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
	};

	return cmocka_run_group_tests_name("cli_restore", tests, NULL, NULL);
}
