/*
 * pg_rowcount.h — counts the rows of a restored database, table by table, for
 * the tables a backup's metadata names, so that the caller can compare them
 * with the counts recorded at backup time (the verifier's restore level and
 * "ripple-backup restore" both count here).
 *
 * One psql session reads a script from a file (psql -f: any number of tables,
 * no argument grows with them).  It first sets search_path to pg_catalog, takes
 * the counting role (SET ROLE, when the caller connects as another), may drop
 * FORCE ROW LEVEL SECURITY on the tables that role owns (a scratch database
 * only: it changes the database), and turns row_security off, so that a count
 * a policy would filter fails instead of coming out smaller; a failure of any
 * of this stops psql before any count.  Then one statement per table:
 *   SELECT <i>, CASE WHEN c.relkind = 'r' THEN (SELECT count(*) FROM ONLY "s"."t")
 *          ELSE -1 END FROM pg_class c WHERE c.oid = E'"s"."t"'::regclass
 * identifiers always quoted; FROM ONLY because pg_dump writes each table's own
 * rows (an inheritance parent without its children, every leaf partition) and
 * the metadata counts them so; -1 when the name is no longer an ordinary table
 * (a view the dump's code put in its place).  Each answer carries its table's
 * index, and a table that cannot be counted (missing, no privilege, row
 * security) does not stop the others: it leaves a gap, never a shift.
 * The extension's own tables (schema ripple_backup) are not counted: CREATE
 * EXTENSION re-creates rows (the nightly job) that the dump leaves out.
 */
#ifndef PG_ROWCOUNT_H
#define PG_ROWCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup_table_counts.h"
#include "pg_client.h"
#include "rb_buf.h"
#include "rb_error.h"

/* found[i] when table i has no count */
#define RB_ROWCOUNT_NOT_TABLE	(-1)	/* the name is no longer an ordinary table */
#define RB_ROWCOUNT_FAILED		(-2)	/* no answer: missing, no privilege, row security */
#define RB_ROWCOUNT_SKIPPED		(-3)	/* one of the extension's own tables, not counted */

typedef struct rb_rowcount_request
{
	const char *psql;			/* psql's path */
	const rb_pg_conn *conn;		/* where and as whom psql connects */
	const char *const *env;		/* for psql; may be NULL */
	const char *dbname;
	const char *role;			/* SET ROLE to it first; NULL or "" = the connecting user */
	bool		disable_forced_rls; /* ALTER TABLE ... NO FORCE ROW LEVEL SECURITY first
									 * on the counting role's tables (scratch databases) */
	const char *script_base;	/* the script goes to "<script_base>.count.sql" (0600,
								 * removed after) */
	void		(*tick) (void *arg);	/* while psql runs (a spinner) */
	void	   *tick_arg;
} rb_rowcount_request;

typedef struct rb_rowcount_result
{
	int64_t    *found;			/* per table of the expected list: the count or RB_ROWCOUNT_* */
	size_t		n;
	size_t		tables;			/* tables compared (all but the skipped ones) */
	size_t		mismatched;		/* counted, and the count differs */
	size_t		uncounted;		/* RB_ROWCOUNT_NOT_TABLE or RB_ROWCOUNT_FAILED */
	int64_t		rows_expected;	/* of the compared tables */
	int64_t		rows_found;		/* of the counted tables */
	size_t		skipped;		/* the extension's own tables */
	int64_t		rows_skipped;	/* their rows at backup time */
	rb_buf		psql_stderr;	/* what psql said (why a table could not be counted) */
} rb_rowcount_result;

void		rb_rowcount_result_init(rb_rowcount_result *res);
void		rb_rowcount_result_free(rb_rowcount_result *res);

/*
 * Counts the tables of expected in dbname and compares (res, initialised with
 * rb_rowcount_result_init; what it held before is freed).  Returns 0 when
 * the session ran, whatever the counts; -1 with err when psql could not be run,
 * failed to connect, or its set-up failed (RB_ERR_CHILD with psql's message).
 */
int			rb_rowcount_run(const rb_rowcount_request *req, const rb_table_counts *expected,
							rb_rowcount_result *res, const rb_hooks *hooks, rb_error *err);

/* The pieces, for tests. */
bool		rb_rowcount_is_extension_table(const char *schema);
char	   *rb_rowcount_statement(size_t index, const char *schema, const char *table);
char	   *rb_rowcount_script(const rb_table_counts *expected, const char *role,
							   bool disable_forced_rls, size_t *counted);
/*
 * Reads psql's "<index>|<count>" lines into found[0..n): the first answer for
 * each entry that is RB_ROWCOUNT_FAILED (awaiting one); other entries and
 * lines are left alone.
 */
void		rb_rowcount_parse(const char *output, int64_t *found, size_t n);

#endif							/* PG_ROWCOUNT_H */
