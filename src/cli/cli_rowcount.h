/*
 * cli_rowcount.h — after a restore, counts the rows of every table the metadata
 * names (psql -X -At -c 'SELECT count(*) FROM ONLY "schema"."table"', identifiers
 * always quoted; ONLY because the metadata counts each table's own rows, as pg_dump
 * dumps them: an inheritance parent without its children, every leaf partition)
 * and compares them with the counts recorded at backup time.  The counting session
 * runs with row_security = off (a count that a policy would filter fails instead
 * of coming out smaller) and, with a role, after SET ROLE to it: the restoring
 * role.  The extension's own tables (schema ripple_backup, in a backup of the
 * catalog database) are not compared: CREATE EXTENSION in the target re-creates
 * their default rows (the nightly job) that the dump leaves out, as the server-side
 * verifier also leaves them out.
 */
#ifndef CLI_ROWCOUNT_H
#define CLI_ROWCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_pgtools.h"
#include "rb_buf.h"
#include "rb_error.h"
#include "backup_table_counts.h"

typedef struct cli_count_result
{
	size_t		tables;			/* tables checked */
	size_t		mismatched;		/* count differs */
	size_t		missing;		/* table could not be counted (missing, no access) */
	int64_t		rows_expected;
	int64_t		rows_found;
	size_t		skipped;		/* the extension's own tables, not compared */
	int64_t		rows_skipped;	/* their rows at backup time */
	rb_buf		report;			/* one line per problem, for the operator */
} cli_count_result;

/*
 * Counts and compares.  Returns 0 when psql ran (mismatches are in res; the call
 * still succeeds), -1 with err when psql could not be run at all.  res->report
 * must be freed by the caller (rb_buf_free) whatever the result.
 */
int			cli_check_row_counts(const char *psql_path, const cli_conn *conn, const char *role,
								 const char *dbname, const rb_table_counts *expected,
								 const rb_hooks *hooks, cli_count_result *res, rb_error *err);

/* The statement that counts one table: SELECT count(*) FROM ONLY "s"."t"; malloc'd. */
char	   *cli_count_statement(const char *schema, const char *table);

/*
 * Appends the psql options that set up a counting session before the counts:
 * -v ON_ERROR_STOP=1 -c 'SET row_security = off' [-c 'SET ROLE "role"']
 * -c '\set ON_ERROR_STOP off'.  role NULL or "" = the connecting user.
 */
void		cli_count_session_args(cli_argv *argv, const char *role);

/* The line psql echoes before each count: the marker, then the item's index. */
#define CLI_COUNT_MARKER "@@ripple-backup-count "

/*
 * Parses psql's output for items [first, first+n): found[i] = the count after the
 * marker of item first+i, or -1 when there is none (that table's count failed).
 */
void		cli_parse_counts(const char *text, size_t first, size_t n, int64_t *found);

/* Whether a table of this schema is one of the extension's own (not compared). */
bool		cli_count_is_extension_table(const char *schema);

#endif							/* CLI_ROWCOUNT_H */
