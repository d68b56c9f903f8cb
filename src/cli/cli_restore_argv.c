/*
 * cli_restore_argv.c — the pg_restore argv and the CREATE DATABASE statement of
 * "ripple-backup restore" (see cli_restore_argv.h).
 */
#include <stdlib.h>

#include "cli_restore_argv.h"
#include "rb_buf.h"

void
cli_pg_restore_argv(cli_argv *argv, const char *pg_restore, const cli_args *args,
					const cli_conn *conn, const char *file)
{
	char	   *conninfo = cli_conninfo_dbname(args->dbname);

	cli_argv_add(argv, pg_restore);
	cli_argv_add(argv, "--no-password");
	cli_argv_addf(argv, "--jobs=%d", args->jobs);
	if (args->no_owner)
		cli_argv_add(argv, "--no-owner");
	if (args->no_privileges)
		cli_argv_add(argv, "--no-privileges");
	if (args->verbose)
		cli_argv_add(argv, "--verbose");
	/* pg_restore quotes the name itself (SET ROLE with the identifier quoted) */
	if (args->role && args->role[0])
		cli_argv_addf(argv, "--role=%s", args->role);
	cli_conn_add_args(conn, argv);
	cli_argv_addf(argv, "--dbname=%s", conninfo);
	cli_argv_add(argv, file);
	free(conninfo);
}

char *
cli_create_database_sql(const char *dbname, const char *owner)
{
	rb_buf		b = RB_BUF_INIT;
	char	   *ident = cli_quote_ident(dbname);

	rb_buf_appendf(&b, "CREATE DATABASE %s", ident);
	free(ident);
	if (owner && owner[0])
	{
		char	   *o = cli_quote_ident(owner);

		rb_buf_appendf(&b, " OWNER %s", o);
		free(o);
	}
	rb_buf_append_str(&b, " TEMPLATE template0");
	return b.data;
}
