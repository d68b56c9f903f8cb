/*
 * pg_rowcount.c — the row counts of a restored database (see pg_rowcount.h).
 */
#include "pg_rowcount.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "rb_file.h"
#include "verify.h"

void
rb_rowcount_result_init(rb_rowcount_result *res)
{
	memset(res, 0, sizeof(*res));
	rb_buf_init(&res->psql_stderr);
}

void
rb_rowcount_result_free(rb_rowcount_result *res)
{
	free(res->found);
	rb_buf_free(&res->psql_stderr);
	rb_rowcount_result_init(res);
}

bool
rb_rowcount_is_extension_table(const char *schema)
{
	return strcmp(schema, RB_VERIFY_EXTENSION_NAME) == 0;
}

char *
rb_rowcount_statement(size_t index, const char *schema, const char *table)
{
	char	   *qs = rb_pg_quote_ident(schema);
	char	   *qt = rb_pg_quote_ident(table);
	rb_buf		name = RB_BUF_INIT;
	rb_buf		b = RB_BUF_INIT;
	char	   *lit;

	rb_buf_appendf(&name, "%s.%s", qs, qt);
	lit = rb_pg_quote_literal(rb_buf_str(&name));
	rb_buf_appendf(&b, "SELECT %zu, CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'r'"
				   " THEN (SELECT pg_catalog.count(*) FROM ONLY %s) ELSE -1 END"
				   " FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) %s::pg_catalog.regclass",
				   index, rb_buf_str(&name), lit);
	free(lit);
	rb_buf_free(&name);
	free(qs);
	free(qt);
	return b.data;
}

char *
rb_rowcount_script(const rb_table_counts *expected, const char *role, bool disable_forced_rls,
				   size_t *counted)
{
	rb_buf		sql = RB_BUF_INIT;

	*counted = 0;
	rb_buf_append_str(&sql, "SET search_path = pg_catalog, pg_temp;\n");
	if (role != NULL && role[0] != '\0')
	{
		char	   *q = rb_pg_quote_ident(role);

		rb_buf_appendf(&sql, "SET ROLE %s;\n", q);
		free(q);
	}

	/*
	 * The counting role owns every restored table of a scratch database: it may
	 * drop FORCE ROW LEVEL SECURITY and then count every row without any role
	 * attribute such as BYPASSRLS.
	 */
	if (disable_forced_rls)
		rb_buf_append_str(&sql,
						  "SELECT pg_catalog.format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', c.oid::pg_catalog.regclass)"
						  " FROM pg_catalog.pg_class c"
						  " WHERE c.relforcerowsecurity AND c.relowner OPERATOR(pg_catalog.=)"
						  " (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)"
						  " \\gexec\n");
	rb_buf_append_str(&sql, "SET row_security = off;\n");
	/* from here on a table that cannot be counted must not stop the others */
	rb_buf_append_str(&sql, "\\set ON_ERROR_STOP off\n");
	for (size_t i = 0; i < expected->n; i++)
	{
		char	   *stmt;

		if (rb_rowcount_is_extension_table(expected->items[i].schema))
			continue;
		stmt = rb_rowcount_statement(i, expected->items[i].schema, expected->items[i].table);
		rb_buf_appendf(&sql, "%s;\n", stmt);
		free(stmt);
		(*counted)++;
	}
	return sql.data;
}

void
rb_rowcount_parse(const char *output, int64_t *found, size_t n)
{
	const char *p = output;

	while (*p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);
		char	   *end;
		unsigned long long idx = strtoull(p, &end, 10);

		if (end > p && *end == '|' && idx < n)
		{
			const char *v = end + 1;
			long long	count = strtoll(v, &end, 10);

			/* the first answer for a table that awaits one */
			if (end > v && end == p + len && count >= -1 && found[idx] == RB_ROWCOUNT_FAILED)
				found[idx] = count;
		}
		p += len + (eol ? 1 : 0);
	}
}

int
rb_rowcount_run(const rb_rowcount_request *req, const rb_table_counts *expected,
				rb_rowcount_result *res, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		argv = RB_ARGV_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_pg_run_options run;
	char	   *script;
	char	   *script_file = NULL;
	size_t		counted;
	int			rc = -1;

	rb_rowcount_result_free(res);
	res->n = expected->n;
	if (expected->n == 0)
		return 0;
	res->found = calloc(expected->n, sizeof(int64_t));
	if (res->found == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < expected->n; i++)
		res->found[i] = rb_rowcount_is_extension_table(expected->items[i].schema) ?
			RB_ROWCOUNT_SKIPPED : RB_ROWCOUNT_FAILED;

	script = rb_rowcount_script(expected, req->role, req->disable_forced_rls, &counted);
	if (counted > 0)
	{
		if ((script_file = rb_file_write_new(req->script_base, ".count.sql", script, err)) == NULL)
			goto done;
		rb_pg_argv_psql(&argv, NULL, req->psql, req->conn, req->dbname);
		rb_argv_add(&argv, "-A");
		rb_argv_add(&argv, "-t");
		rb_argv_add(&argv, "-f");
		rb_argv_add(&argv, script_file);
		memset(&run, 0, sizeof(run));
		run.name = "psql";
		run.env = req->env;
		run.out = &out;
		run.stderr_text = &res->psql_stderr;
		run.tick = req->tick;
		run.tick_arg = req->tick_arg;
		if (rb_pg_run(&argv, &run, hooks, err) != 0)
			goto done;
		rb_rowcount_parse(rb_buf_str(&out), res->found, expected->n);
	}

	for (size_t i = 0; i < expected->n; i++)
	{
		const rb_table_count *t = &expected->items[i];
		int64_t		f = res->found[i];

		if (f == RB_ROWCOUNT_SKIPPED)
		{
			res->skipped++;
			res->rows_skipped += t->rows;
			continue;
		}
		res->tables++;
		res->rows_expected += t->rows;
		if (f < 0)
			res->uncounted++;
		else
		{
			res->rows_found += f;
			if (f != t->rows)
				res->mismatched++;
		}
	}
	rc = 0;
done:
	rb_file_remove(script_file);
	free(script);
	rb_buf_free(&out);
	rb_argv_free(&argv);
	return rc;
}
