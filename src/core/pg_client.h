/*
 * pg_client.h — running PostgreSQL's client programs (pg_dump, pg_restore,
 * psql, createdb, dropdb) without a shell, for the backup, the verifier and the
 * CLI alike:
 *   - their argv, growable without limit; every allocation is checked, and a
 *     list whose allocation failed is never run (rb_pg_run says out of memory);
 *   - the quoting of what goes into it: SQL identifiers and literals, libpq
 *     conninfo values, so that a name is never taken as SQL nor as a
 *     connection string;
 *   - the connection options (--host, --port, --username): a password never
 *     goes into argv, it reaches the child through the environment (PGPASSFILE,
 *     PGPASSWORD) the caller passes or inherits;
 *   - the run, through rb_child: stdout collected, stderr kept, the cancel hook
 *     polled every 100 ms, and a tick for a caller's spinner.
 */
#ifndef PG_CLIENT_H
#define PG_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "rb_buf.h"
#include "rb_error.h"

/* A NULL-ended argv of malloc'd strings. */
typedef struct rb_argv
{
	char	  **v;				/* NULL until the first argument */
	size_t		n;
	size_t		cap;
	bool		failed;			/* an allocation failed: the list is incomplete */
} rb_argv;

#define RB_ARGV_INIT {NULL, 0, 0, false}

void		rb_argv_add(rb_argv *a, const char *s);
void		rb_argv_addf(rb_argv *a, const char *fmt,...) __attribute__((format(printf, 2, 3)));
void		rb_argv_free(rb_argv *a);

/* "name" as an SQL identifier: always quoted, " doubled; malloc'd. */
char	   *rb_pg_quote_ident(const char *name);

/*
 * E'text' as an SQL string literal, ' and \ doubled: the same value whatever
 * standard_conforming_strings says; malloc'd.
 */
char	   *rb_pg_quote_literal(const char *text);

/* Appends key='value' (' and \ escaped, a space before when ci is not empty); nothing for NULL or "". */
void		rb_pg_conninfo_add(rb_buf *ci, const char *key, const char *value);

/* Appends host, port (when > 0) and user as rb_pg_conninfo_add does: the server's own socket. */
void		rb_pg_conninfo_add_server(rb_buf *ci, const char *host, int port, const char *user);

/* "dbname='x'", for -d / --dbname: a database name is never taken as a connection string; malloc'd. */
char	   *rb_pg_conninfo_dbname(const char *dbname);

/* Where the server is; NULL or "" = libpq's default (the PG* environment). */
typedef struct rb_pg_conn
{
	const char *host;			/* host name or unix socket directory */
	const char *port;
	const char *user;
} rb_pg_conn;

/* Appends --host=, --port=, --username= for the fields that are set. */
void		rb_pg_conn_args(rb_argv *a, const rb_pg_conn *c);

/* "<bindir>/<program>", or program itself when bindir is NULL; malloc'd, NULL when out of memory. */
char	   *rb_pg_program_path(const char *bindir, const char *program);

/* Appends the program's path (rb_pg_program_path). */
void		rb_pg_argv_program(rb_argv *a, const char *bindir, const char *program);

/*
 * Appends a psql session's start: the path (as rb_pg_argv_program), -X (no
 * psqlrc), -q, --no-password, -v ON_ERROR_STOP=1, the connection options and
 * --dbname=dbname='<dbname>'.  The caller adds what it runs (-c, -f) and how
 * it wants the output (-A -t).
 */
void		rb_pg_argv_psql(rb_argv *a, const char *bindir, const char *psql,
							const rb_pg_conn *conn, const char *dbname);

typedef struct rb_pg_run_options
{
	const char *name;			/* for messages; NULL = the basename of argv[0] */
	const char *const *env;		/* "NAME=value" added for the child; NULL-ended, may be NULL */
	rb_buf	   *out;			/* stdout appended here; NULL = discarded */
	rb_buf	   *stderr_text;	/* the child's stderr appended here, also when it
								 * exits 0 (its last 8 KiB); NULL = only in err */
	void		(*tick) (void *arg);	/* while it runs, at least every 100 ms */
	void	   *tick_arg;
} rb_pg_run_options;

/*
 * Runs argv (argv[0] = the program's path).  Returns 0 when it exited with code
 * 0, else -1 with err: RB_ERR_CHILD ("psql exited with code 3: <stderr>", "could
 * not execute ..."), RB_ERR_CANCELLED ("psql was canceled", the child killed and
 * reaped), RB_ERR_NOMEM when argv is incomplete.
 */
int			rb_pg_run(const rb_argv *a, const rb_pg_run_options *opt, const rb_hooks *hooks,
					  rb_error *err);

#endif							/* PG_CLIENT_H */
