/*
 * cli_rowcount.h — after a restore, counts the rows of every table the metadata
 * names (psql -X -At -c 'SELECT count(*) FROM "schema"."table"', identifiers
 * always quoted) and compares them with the counts recorded at backup time.
 */
#ifndef CLI_ROWCOUNT_H
#define CLI_ROWCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "cli_pgtools.h"
#include "rb_buf.h"
#include "rb_error.h"
#include "table_counts.h"

typedef struct cli_count_result
{
	size_t		tables;			/* tables checked */
	size_t		mismatched;		/* count differs */
	size_t		missing;		/* table could not be counted (missing, no access) */
	int64_t		rows_expected;
	int64_t		rows_found;
	rb_buf		report;			/* one line per problem, for the operator */
} cli_count_result;

/*
 * Counts and compares.  Returns 0 when psql ran (mismatches are in res; the call
 * still succeeds), -1 with err when psql could not be run at all.  res->report
 * must be freed by the caller (rb_buf_free) whatever the result.
 */
int			cli_check_row_counts(const char *psql_path, const cli_conn *conn, const char *dbname,
								 const rb_table_counts *expected, const rb_hooks *hooks,
								 cli_count_result *res, rb_error *err);

/* The statement that counts one table: SELECT count(*) FROM "s"."t"; malloc'd. */
char	   *cli_count_statement(const char *schema, const char *table);

#endif							/* CLI_ROWCOUNT_H */
