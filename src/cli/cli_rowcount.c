/*
 * cli_rowcount.c — row counts of a restored database against the metadata (see
 * cli_rowcount.h).  Tables are counted in batches, one psql per batch: each count
 * is preceded by an \echo marker so that a table that fails (missing) leaves a
 * gap instead of shifting the answers.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_rowcount.h"

#define COUNT_BATCH 400
#define MARKER "@@ripple-backup-count "

char *
cli_count_statement(const char *schema, const char *table)
{
	char	   *qs = cli_quote_ident(schema);
	char	   *qt = cli_quote_ident(table);
	rb_buf		b = RB_BUF_INIT;

	rb_buf_appendf(&b, "SELECT count(*) FROM %s.%s", qs, qt);
	free(qs);
	free(qt);
	return b.data;
}

/* Parses psql's output for items [first, first+n): found[i] = count or -1. */
static void
parse_counts(const char *text, size_t first, size_t n, int64_t *found)
{
	const char *p = text;
	long		cur = -1;

	for (size_t i = 0; i < n; i++)
		found[i] = -1;
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);

		if (len > strlen(MARKER) && strncmp(p, MARKER, strlen(MARKER)) == 0)
		{
			unsigned long idx = strtoul(p + strlen(MARKER), NULL, 10);

			cur = (idx >= first && idx < first + n) ? (long) (idx - first) : -1;
		}
		else if (cur >= 0 && found[cur] < 0 && len > 0)
		{
			char	   *end;
			long long	v = strtoll(p, &end, 10);

			if (end == p + len)
				found[cur] = v;
		}
		p += len + (eol ? 1 : 0);
	}
}

int
cli_check_row_counts(const char *psql_path, const cli_conn *conn, const char *dbname,
					 const rb_table_counts *expected, const rb_hooks *hooks,
					 cli_count_result *res, rb_error *err)
{
	static const char *const env[] = {"PGCLIENTENCODING=UTF8", NULL};
	char	   *conninfo = cli_conninfo_dbname(dbname);
	int64_t    *found = calloc(COUNT_BATCH, sizeof(int64_t));
	int			rc = 0;

	memset(res, 0, sizeof(*res));
	rb_buf_init(&res->report);
	if (found == NULL)
	{
		free(conninfo);
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	}
	for (size_t first = 0; first < expected->n && rc == 0; first += COUNT_BATCH)
	{
		size_t		n = expected->n - first < COUNT_BATCH ? expected->n - first : COUNT_BATCH;
		cli_argv	argv = {0};
		rb_buf		out = RB_BUF_INIT;
		rb_error	perr;

		cli_argv_add(&argv, psql_path);
		cli_argv_add(&argv, "-X");
		cli_argv_add(&argv, "-A");
		cli_argv_add(&argv, "-t");
		cli_argv_add(&argv, "-q");
		cli_conn_add_args(conn, &argv);
		cli_argv_addf(&argv, "--dbname=%s", conninfo);
		for (size_t i = 0; i < n; i++)
		{
			const rb_table_count *t = &expected->items[first + i];
			char	   *stmt = cli_count_statement(t->schema, t->table);

			cli_argv_add(&argv, "-c");
			cli_argv_addf(&argv, "\\echo " MARKER "%zu", first + i);
			cli_argv_add(&argv, "-c");
			cli_argv_add(&argv, stmt);
			free(stmt);
		}
		rb_error_clear(&perr);
		/* psql exits 1 when some statement failed; the markers tell which */
		if (cli_run_program(&argv, env, "row counts", &out, hooks, &perr) != 0 &&
			(perr.code != RB_ERR_CHILD || out.len == 0))
		{
			*err = perr;
			rb_error_prefix(err, "could not count rows in database \"%s\": ", dbname);
			rc = -1;
		}
		else
		{
			parse_counts(rb_buf_str(&out), first, n, found);
			for (size_t i = 0; i < n; i++)
			{
				const rb_table_count *t = &expected->items[first + i];
				char	   *name = rb_table_key_format(t->schema, t->table);

				res->tables++;
				res->rows_expected += t->rows;
				if (found[i] < 0)
				{
					res->missing++;
					rb_buf_appendf(&res->report,
								   "table %s could not be counted in the restored database (%" PRId64 " rows expected)\n",
								   name, t->rows);
				}
				else
				{
					res->rows_found += found[i];
					if (found[i] != t->rows)
					{
						res->mismatched++;
						rb_buf_appendf(&res->report,
									   "table %s has %" PRId64 " rows, the backup recorded %" PRId64 "\n",
									   name, found[i], t->rows);
					}
				}
				free(name);
			}
			if (res->missing > 0 && perr.msg[0])
				rb_buf_appendf(&res->report, "psql said: %s\n", perr.msg);
		}
		rb_buf_free(&out);
		cli_argv_free(&argv);
	}
	free(found);
	free(conninfo);
	return rc;
}
