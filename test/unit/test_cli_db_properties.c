/*
 * test_cli_db_properties.c — unit tests of src/cli/cli_db_properties.c, the
 * database-level properties that restore --create takes from the archive: which
 * `pg_restore --create --list` lines are the database's own, and which statements
 * of pg_restore's SQL are kept and how the database is renamed in them (quoted or
 * bare names; statements on another database, CREATE DATABASE, \connect and the
 * session settings are left out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli_db_properties.h"

static void
test_list(void **state)
{
	const char *listing =
		";\n; Archive created at 2026-12-03 14:23:29 UTC\n;     dbname: My App\n"
		"3339; 1262 16386 DATABASE - My App app_owner\n"
		"3340; 0 0 COMMENT - DATABASE \"My App\" app_owner\n"
		"3341; 0 0 ACL - DATABASE \"My App\" app_owner\n"
		"3342; 0 0 DATABASE PROPERTIES - My App app_owner\n"
		"215; 1259 16390 TABLE public DATABASE app_owner\n"
		"3343; 0 16390 TABLE DATA public DATABASE app_owner\n"
		"216; 0 0 COMMENT - SCHEMA public pg_database_owner\n";
	char	   *l = cli_db_properties_list(listing);

	assert_string_equal(l,
						"3339; 1262 16386 DATABASE - My App app_owner\n"
						"3340; 0 0 COMMENT - DATABASE \"My App\" app_owner\n"
						"3341; 0 0 ACL - DATABASE \"My App\" app_owner\n"
						"3342; 0 0 DATABASE PROPERTIES - My App app_owner\n");
	free(l);
	l = cli_db_properties_list("215; 1259 16390 TABLE public t app\n");
	assert_string_equal(l, "");
	free(l);
}

static const char dump_quoted[] =
	"SET statement_timeout = 0;\n"
	"SELECT pg_catalog.set_config('search_path', '', false);\n"
	"CREATE DATABASE \"My App\" WITH TEMPLATE = template0 ENCODING = 'UTF8';\n"
	"ALTER DATABASE \"My App\" OWNER TO app_owner;\n"
	"\\connect -reuse-previous=on \"dbname='My App'\"\n"
	"COMMENT ON DATABASE \"My App\" IS 'x';\n"
	"ALTER DATABASE \"My App\" SET work_mem TO '8MB';\n"
	"ALTER ROLE reader IN DATABASE \"My App\" SET statement_timeout TO '1000';\n"
	"REVOKE CONNECT,TEMPORARY ON DATABASE \"My App\" FROM PUBLIC;\n"
	"GRANT CONNECT ON DATABASE \"My App\" TO reader;\n"
	"GRANT CONNECT ON DATABASE other TO reader;\n"
	"ALTER DATABASE \"My App2\" SET work_mem TO '1MB';\n";

static void
test_rewrite_quoted(void **state)
{
	int			n;
	char	   *s = cli_db_properties_rewrite(dump_quoted, "My App", "copy", &n);

	assert_string_equal(s,
						"ALTER DATABASE \"copy\" OWNER TO app_owner;\n"
						"COMMENT ON DATABASE \"copy\" IS 'x';\n"
						"ALTER DATABASE \"copy\" SET work_mem TO '8MB';\n"
						"ALTER ROLE reader IN DATABASE \"copy\" SET statement_timeout TO '1000';\n"
						"REVOKE CONNECT,TEMPORARY ON DATABASE \"copy\" FROM PUBLIC;\n"
						"GRANT CONNECT ON DATABASE \"copy\" TO reader;\n");
	assert_int_equal(n, 6);
	free(s);
}

static void
test_rewrite_bare(void **state)
{
	int			n;
	char	   *s = cli_db_properties_rewrite(
											  "ALTER DATABASE app OWNER TO app_owner;\n"
											  "ALTER DATABASE app_x SET a TO 'b';\n"
											  "REVOKE CONNECT,TEMPORARY ON DATABASE app FROM PUBLIC;\n"
											  "GRANT CONNECT ON DATABASE \"app\" TO \"Odd \"\"Role\";\n",
											  "app", "my \"new\" db", &n);

	assert_string_equal(s,
						"ALTER DATABASE \"my \"\"new\"\" db\" OWNER TO app_owner;\n"
						"REVOKE CONNECT,TEMPORARY ON DATABASE \"my \"\"new\"\" db\" FROM PUBLIC;\n"
						"GRANT CONNECT ON DATABASE \"my \"\"new\"\" db\" TO \"Odd \"\"Role\";\n");
	assert_int_equal(n, 3);
	free(s);
	/* a name that pg_dump must quote is never matched bare */
	s = cli_db_properties_rewrite("ALTER DATABASE Shop SET a TO 'b';\n", "Shop", "x", &n);
	assert_string_equal(s, "");
	assert_int_equal(n, 0);
	free(s);
}

/*
 * Text that the archive's owner controls (a comment, a setting value, a role name)
 * never becomes a statement of its own: a comment of several lines whose lines look
 * like statements, a setting with a semicolon and a second statement, dollar quotes,
 * and a statement that starts as a kept kind but carries another one.
 */
static void
test_rewrite_injection(void **state)
{
	int			n;
	char	   *s;

	/* pg_dump writes a comment with newlines as one literal over several lines */
	s = cli_db_properties_rewrite(
								  "COMMENT ON DATABASE app IS 'first line\n"
								  "ALTER ROLE mallory SUPERUSER; -- DATABASE app;\n"
								  "GRANT pg_execute_server_program TO mallory; SELECT ''DATABASE app'';\n"
								  "last';\n", "app", "copy", &n);
	assert_string_equal(s,
						"COMMENT ON DATABASE \"copy\" IS 'first line\n"
						"ALTER ROLE mallory SUPERUSER; -- DATABASE app;\n"
						"GRANT pg_execute_server_program TO mallory; SELECT ''DATABASE app'';\n"
						"last';\n");
	assert_int_equal(n, 1);
	free(s);
	/* a comment line that ends in a semicolon and would leave a quote open */
	s = cli_db_properties_rewrite("COMMENT ON DATABASE app IS 'a;\nb'';c';\n", "app", "copy", &n);
	assert_string_equal(s, "COMMENT ON DATABASE \"copy\" IS 'a;\nb'';c';\n");
	assert_int_equal(n, 1);
	free(s);
	/* a second statement after a kept one, on the same line */
	s = cli_db_properties_rewrite("ALTER DATABASE app OWNER TO a; ALTER ROLE mallory SUPERUSER;\n",
								  "app", "copy", &n);
	assert_string_equal(s, "ALTER DATABASE \"copy\" OWNER TO a;\n");
	assert_int_equal(n, 1);
	free(s);
	/* GRANT on a list of databases, one of them another */
	s = cli_db_properties_rewrite("GRANT CONNECT ON DATABASE app, postgres TO mallory;\n", "app", "copy", &n);
	assert_string_equal(s, "");
	assert_int_equal(n, 0);
	free(s);
	/* the database's name in a literal is no database */
	s = cli_db_properties_rewrite("GRANT mallory TO x; SELECT 'ON DATABASE app TO';\n", "app", "copy", &n);
	assert_string_equal(s, "");
	free(s);
	/* a backslash in a standard string keeps its meaning under any setting */
	s = cli_db_properties_rewrite("COMMENT ON DATABASE app IS 'C:\\dir\\';\n", "app", "copy", &n);
	assert_string_equal(s, "COMMENT ON DATABASE \"copy\" IS E'C:\\\\dir\\\\';\n");
	free(s);
	/* dollar quotes, comments inside a statement, operators, unterminated quotes: unreadable */
	s = cli_db_properties_rewrite("ALTER DATABASE app SET a TO $$x$$;\n", "app", "copy", &n);
	assert_null(s);
	assert_int_equal(n, -1);
	s = cli_db_properties_rewrite("ALTER DATABASE app -- x\n OWNER TO a;\n", "app", "copy", &n);
	assert_null(s);
	s = cli_db_properties_rewrite("ALTER DATABASE app SET a TO 'x' || 'y';\n", "app", "copy", &n);
	assert_null(s);
	s = cli_db_properties_rewrite("COMMENT ON DATABASE app IS 'x;\n", "app", "copy", &n);
	assert_null(s);
	s = cli_db_properties_rewrite("COMMENT ON DATABASE app IS 'x'\n\\! id\n;\n", "app", "copy", &n);
	assert_null(s);
	/* the archive's encoding comes first, so that psql reads the rest in it */
	s = cli_db_properties_rewrite("SET client_encoding = 'UTF8';\nSET x = 1;\nCOMMENT ON DATABASE app IS 'y';\n",
								  "app", "copy", &n);
	assert_string_equal(s, "SET client_encoding = 'UTF8';\nCOMMENT ON DATABASE \"copy\" IS 'y';\n");
	assert_int_equal(n, 1);
	free(s);
	/* a quoted name with a doubled quote matches only that name */
	s = cli_db_properties_rewrite("ALTER DATABASE \"a\"\"b\" OWNER TO x;\nALTER DATABASE \"a\" OWNER TO y;\n",
								  "a\"b", "c", &n);
	assert_string_equal(s, "ALTER DATABASE \"c\" OWNER TO x;\n");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_rewrite_quoted),
		cmocka_unit_test(test_rewrite_bare),
		cmocka_unit_test(test_rewrite_injection),
	};

	return cmocka_run_group_tests_name("cli_db_properties", tests, NULL, NULL);
}
