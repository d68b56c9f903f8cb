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
	cli_pg_restore_argv_part(argv, pg_restore, args, conn, file, CLI_RESTORE_ALL);
}

void
cli_pg_restore_argv_part(rb_argv *argv, const char *pg_restore, const cli_args *args,
						 const rb_pg_conn *conn, const char *file, cli_restore_part part)
{
	char	   *conninfo = rb_pg_conninfo_dbname(args->dbname);

	rb_argv_add(argv, pg_restore);
	rb_argv_add(argv, "--no-password");
	if (part == CLI_RESTORE_PRE_AND_DATA)
	{
		rb_argv_add(argv, "--section=pre-data");
		rb_argv_add(argv, "--section=data");
	}
	else if (part == CLI_RESTORE_POST_DATA)
		rb_argv_add(argv, "--section=post-data");
	if (file != NULL)
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
	if (file != NULL)
		rb_argv_add(argv, file);
	free(conninfo);
}

cli_restore_plan
cli_restore_choose_plan(const cli_args *args, const rb_table_counts *counts)
{
	int64_t		total = 0,
				largest = 0,
				bound;

	if (!args->create)
		return CLI_PLAN_AFTER_DOWNLOAD;
	if (args->jobs <= 1)
		return CLI_PLAN_STREAM_ALL;
	for (size_t i = 0; i < counts->n; i++)
	{
		int64_t		r = counts->items[i].rows > 0 ? counts->items[i].rows : 0;

		total += r;
		if (r > largest)
			largest = r;
	}
	/* the least time N jobs can take to load the rows, in rows */
	bound = total / args->jobs;
	if (largest > bound)
		bound = largest;
	return (bound * 10 >= total * 9) ? CLI_PLAN_STREAM_DATA : CLI_PLAN_AFTER_DOWNLOAD;
}

char *
cli_drop_database_sql(const char *dbname)
{
	rb_buf		b = RB_BUF_INIT;
	char	   *ident = rb_pg_quote_ident(dbname);

	rb_buf_appendf(&b, "DROP DATABASE %s WITH (FORCE)", ident);
	free(ident);
	return b.data;
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
