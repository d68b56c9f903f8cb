/*
 * cli_pgtools.h — running PostgreSQL's client programs (pg_restore, psql) from
 * ripple-backup: finding them, building their argv (connection flags as libpq's
 * --host/--port/--username; the password only ever through PGPASSWORD/.pgpass in
 * the inherited environment, never in argv), quoting names, and running them
 * through src/core's child_process (fork/exec, no shell) with a spinner.
 */
#ifndef CLI_PGTOOLS_H
#define CLI_PGTOOLS_H

#include <stddef.h>

#include "rb_buf.h"
#include "rb_error.h"

/* A growable NULL-terminated argv of malloc'd strings. */
typedef struct cli_argv
{
	char	  **v;
	size_t		n;
	size_t		cap;
} cli_argv;

void		cli_argv_add(cli_argv *a, const char *s);
void		cli_argv_addf(cli_argv *a, const char *fmt,...) __attribute__((format(printf, 2, 3)));
void		cli_argv_free(cli_argv *a);

/* Where the server is (NULL = libpq's default / PG* environment). */
typedef struct cli_conn
{
	const char *host;
	const char *port;
	const char *username;
} cli_conn;

/* Appends -h/-p/-U for the fields that are set. */
void		cli_conn_add_args(const cli_conn *c, cli_argv *a);

/*
 * Finds a program: in bindir (--pg-bindir) when given, else $RIPPLE_BACKUP_PG_BINDIR,
 * else beside this executable (it is installed in PostgreSQL's bindir), else on
 * PATH.  Returns a malloc'd path or NULL with RB_ERR_NOT_FOUND.
 */
char	   *cli_find_pg_program(const char *name, const char *bindir, rb_error *err);

/* "name" quoted as an SQL identifier (always quoted, "" doubled); malloc'd. */
char	   *cli_quote_ident(const char *name);
/* "dbname='x'" with ' and \ escaped, for -d / --dbname (a name is never taken as a
 * connection string); malloc'd. */
char	   *cli_conninfo_dbname(const char *dbname);

/*
 * Runs argv (argv[0] = path) with extra env ("NAME=value", NULL-ended, may be
 * NULL), collecting stdout into out (NULL = discard) and showing a spinner labelled
 * label while it runs.  Returns 0 when it exited with code 0, else -1 with
 * RB_ERR_CHILD ("pg_restore exited with code 1: <stderr>").
 */
int			cli_run_program(const cli_argv *argv, const char *const *env, const char *label,
							rb_buf *out, const rb_hooks *hooks, rb_error *err);

#endif							/* CLI_PGTOOLS_H */
