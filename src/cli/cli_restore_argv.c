/*
 * cli_restore_argv.c — the pg_restore argv and the CREATE DATABASE statement of
 * "ripple-backup restore" (see cli_restore_argv.h).
 */
#include <stdlib.h>

#include "cli_restore_argv.h"
#include "rb_buf.h"

void
cli_pg_restore_argv(rb_argv *argv, const char *pg_restore, const cli_args *args,
					const rb_pg_conn *conn, const char *file)
{
	char	   *conninfo = rb_pg_conninfo_dbname(args->dbname);

	rb_argv_add(argv, pg_restore);
	rb_argv_add(argv, "--no-password");
	rb_argv_addf(argv, "--jobs=%d", args->jobs);
	if (args->no_owner)
		rb_argv_add(argv, "--no-owner");
	if (args->no_privileges)
		rb_argv_add(argv, "--no-privileges");
	if (args->verbose)
		rb_argv_add(argv, "--verbose");
	/* pg_restore quotes the name itself (SET ROLE with the identifier quoted) */
	if (args->role && args->role[0])
		rb_argv_addf(argv, "--role=%s", args->role);
	rb_pg_conn_args(argv, conn);
	rb_argv_addf(argv, "--dbname=%s", conninfo);
	rb_argv_add(argv, file);
	free(conninfo);
}

char *
cli_create_database_sql(const char *dbname, const char *owner)
{
	rb_buf		b = RB_BUF_INIT;
	char	   *ident = rb_pg_quote_ident(dbname);

	rb_buf_appendf(&b, "CREATE DATABASE %s", ident);
	free(ident);
	if (owner && owner[0])
	{
		char	   *o = rb_pg_quote_ident(owner);

		rb_buf_appendf(&b, " OWNER %s", o);
		free(o);
	}
	rb_buf_append_str(&b, " TEMPLATE template0");
	return b.data;
}
