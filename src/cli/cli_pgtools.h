/*
 * cli_pgtools.h — PostgreSQL's client programs (pg_restore, psql) for
 * ripple-backup: where to find them, and running them through src/core's
 * pg_client (argv, quoting, connection options, fork/exec without a shell)
 * with a spinner on stderr while they run.
 */
#ifndef CLI_PGTOOLS_H
#define CLI_PGTOOLS_H

#include "pg_client.h"
#include "rb_buf.h"
#include "rb_error.h"

/*
 * Finds a program: in bindir (--pg-bindir) when given, else $RIPPLE_BACKUP_PG_BINDIR,
 * else beside this executable (it is installed in PostgreSQL's bindir), else on
 * PATH.  Returns a malloc'd path or NULL with RB_ERR_NOT_FOUND.
 */
char	   *cli_find_pg_program(const char *name, const char *bindir, rb_error *err);

/*
 * Runs argv (argv[0] = path) with extra env ("NAME=value", NULL-ended, may be
 * NULL), collecting stdout into out (NULL = discard) and showing a spinner labelled
 * label while it runs.  Returns 0 when it exited with code 0, else -1 with
 * RB_ERR_CHILD ("pg_restore exited with code 1: <stderr>"), as rb_pg_run.
 */
int			cli_run_program(const rb_argv *argv, const char *const *env, const char *label,
							rb_buf *out, const rb_hooks *hooks, rb_error *err);

#endif							/* CLI_PGTOOLS_H */
