/*
 * cli_rowcount.c — row counts of a restored database against the metadata (see
 * cli_rowcount.h).  Tables are counted in batches, one psql per batch, so that no
 * argv grows with the number of tables: each count is preceded by an \echo marker
 * so that a table that fails (missing) leaves a gap instead of shifting the answers.
 * Each session first turns row security off and takes the restoring role; either
 * failing stops psql before any count.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli_rowcount.h"
#include "verify.h"

/* at most this many tables, and this many bytes of statements, per psql's argv */
#define COUNT_BATCH 400
#define COUNT_BATCH_BYTES (64 * 1024)

char *
cli_count_statement(const char *schema, const char *table)
{
	char	   *qs = cli_quote_ident(schema);
	char	   *qt = cli_quote_ident(table);
	rb_buf		name = RB_BUF_INIT;
	rb_buf		lit = RB_BUF_INIT;
	rb_buf		b = RB_BUF_INIT;

	rb_buf_appendf(&name, "%s.%s", qs, qt);
	/* the name as a literal for regclass: E'...' with ' and \ doubled */
	rb_buf_append_str(&lit, "E'");
	for (const char *p = rb_buf_str(&name); *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			rb_buf_append_char(&lit, *p);
		rb_buf_append_char(&lit, *p);
	}
	rb_buf_append_char(&lit, '\'');
	/* -1 (not counted) unless the name is still an ordinary table, not a view put in its place */
	rb_buf_appendf(&b, "SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'r'"
				   " THEN (SELECT pg_catalog.count(*) FROM ONLY %s) ELSE -1 END"
				   " FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) %s::pg_catalog.regclass",
				   rb_buf_str(&name), rb_buf_str(&lit));
	rb_buf_free(&name);
	rb_buf_free(&lit);
	free(qs);
	free(qt);
	return b.data;
}

void
cli_count_session_args(cli_argv *argv, const char *role)
{
	cli_argv_add(argv, "-v");
	cli_argv_add(argv, "ON_ERROR_STOP=1");
	cli_argv_add(argv, "-c");
	cli_argv_add(argv, "SET row_security = off");
	if (role != NULL && role[0] != '\0')
	{
		char	   *q = cli_quote_ident(role);

		cli_argv_add(argv, "-c");
		cli_argv_addf(argv, "SET ROLE %s", q);
		free(q);
	}
	/* from here on a table that cannot be counted must not stop the others */
	cli_argv_add(argv, "-c");
	cli_argv_add(argv, "\\set ON_ERROR_STOP off");
}

bool
cli_count_is_extension_table(const char *schema)
{
	return strcmp(schema, RB_VERIFY_EXTENSION_NAME) == 0;
}

void
cli_parse_counts(const char *text, size_t first, size_t n, int64_t *found)
{
	const char *p = text;
	long		cur = -1;

	for (size_t i = 0; i < n; i++)
		found[i] = -1;
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);

		if (len > strlen(CLI_COUNT_MARKER) &&
			strncmp(p, CLI_COUNT_MARKER, strlen(CLI_COUNT_MARKER)) == 0)
		{
			unsigned long idx = strtoul(p + strlen(CLI_COUNT_MARKER), NULL, 10);

			cur = (idx >= first && idx < first + n) ? (long) (idx - first) : -1;
		}
		else if (cur >= 0 && found[cur] < 0 && len > 0)
		{
			char	   *end;
			long long	v = strtoll(p, &end, 10);

			if (end == p + len && v >= 0)
				found[cur] = v;
		}
		p += len + (eol ? 1 : 0);
	}
}

int
cli_check_row_counts(const char *psql_path, const cli_conn *conn, const char *role,
					 const char *dbname, const rb_table_counts *expected, const rb_hooks *hooks,
					 cli_count_result *res, rb_error *err)
{
	static const char *const env[] = {"PGCLIENTENCODING=UTF8", NULL};
	char	   *conninfo = cli_conninfo_dbname(dbname);
	int64_t    *found = calloc(COUNT_BATCH, sizeof(int64_t));
	size_t	   *todo = calloc(expected->n + 1, sizeof(size_t));
	size_t		ntodo = 0;
	int			rc = 0;

	memset(res, 0, sizeof(*res));
	rb_buf_init(&res->report);
	if (found == NULL || todo == NULL)
	{
		free(found);
		free(todo);
		free(conninfo);
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	}
	/* the items to count: all but the extension's own tables */
	for (size_t i = 0; i < expected->n; i++)
	{
		if (cli_count_is_extension_table(expected->items[i].schema))
		{
			res->skipped++;
			res->rows_skipped += expected->items[i].rows;
		}
		else
			todo[ntodo++] = i;
	}
	for (size_t first = 0, n = 0; first < ntodo && rc == 0; first += n)
	{
		size_t		bytes = 0;
		cli_argv	argv = {0};
		rb_buf		out = RB_BUF_INIT;
		rb_error	perr;

		cli_argv_add(&argv, psql_path);
		cli_argv_add(&argv, "-X");
		cli_argv_add(&argv, "-A");
		cli_argv_add(&argv, "-t");
		cli_argv_add(&argv, "-q");
		cli_argv_add(&argv, "--no-password");
		cli_conn_add_args(conn, &argv);
		cli_argv_addf(&argv, "--dbname=%s", conninfo);
		cli_count_session_args(&argv, role);
		for (n = 0; first + n < ntodo && n < COUNT_BATCH && (n == 0 || bytes < COUNT_BATCH_BYTES); n++)
		{
			const rb_table_count *t = &expected->items[todo[first + n]];
			char	   *stmt = cli_count_statement(t->schema, t->table);

			bytes += strlen(stmt) + sizeof(CLI_COUNT_MARKER) + 32;
			cli_argv_add(&argv, "-c");
			cli_argv_addf(&argv, "\\echo " CLI_COUNT_MARKER "%zu", first + n);
			cli_argv_add(&argv, "-c");
			cli_argv_add(&argv, stmt);
			free(stmt);
		}
		rb_error_clear(&perr);
		/*
		 * psql exits 1 when some count failed (the markers tell which); with no
		 * output at all the session itself failed (connection, SET ROLE).
		 */
		if (cli_run_program(&argv, env, "row counts", &out, hooks, &perr) != 0 &&
			(perr.code != RB_ERR_CHILD || out.len == 0))
		{
			*err = perr;
			rb_error_prefix(err, "could not count rows in database \"%s\": ", dbname);
			rc = -1;
		}
		else
		{
			cli_parse_counts(rb_buf_str(&out), first, n, found);
			for (size_t i = 0; i < n; i++)
			{
				const rb_table_count *t = &expected->items[todo[first + i]];
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
	free(todo);
	free(found);
	free(conninfo);
	return rc;
}
