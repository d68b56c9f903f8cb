/*
 * cli_archive_check.c — row counts of the archive against the metadata, and
 * pg_restore --list (see cli_archive_check.h).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_archive_check.h"
#include "cli_pgtools.h"

size_t
cli_compare_counts(const rb_table_counts *expected, const rb_table_counts *found, rb_buf *report)
{
	size_t		diffs = 0;

	for (size_t i = 0; i < expected->n; i++)
	{
		const rb_table_count *e = &expected->items[i];
		const rb_table_count *f = rb_table_counts_find(found, e->schema, e->table);
		char	   *k = rb_table_key_format(e->schema, e->table);

		if (f == NULL)
		{
			rb_buf_appendf(report, "table %s is in the metadata but not in the archive\n", k);
			diffs++;
		}
		else if (f->rows != e->rows)
		{
			rb_buf_appendf(report, "table %s has %" PRId64 " rows in the archive, the metadata says %" PRId64 "\n",
						   k, f->rows, e->rows);
			diffs++;
		}
		free(k);
	}
	for (size_t i = 0; i < found->n; i++)
	{
		const rb_table_count *f = &found->items[i];

		if (rb_table_counts_find(expected, f->schema, f->table) == NULL)
		{
			char	   *k = rb_table_key_format(f->schema, f->table);

			rb_buf_appendf(report, "table %s is in the archive but not in the metadata\n", k);
			diffs++;
			free(k);
		}
	}
	return diffs;
}

int
cli_pg_restore_list(const char *pg_restore, const char *file, int *entries,
					const rb_hooks *hooks, rb_error *err)
{
	cli_argv	argv = {0};
	rb_buf		out = RB_BUF_INIT;
	int			rc;

	*entries = 0;
	cli_argv_add(&argv, pg_restore);
	cli_argv_add(&argv, "--list");
	cli_argv_add(&argv, file);
	rc = cli_run_program(&argv, NULL, "pg_restore -l", &out, hooks, err);
	if (rc == 0)
	{
		const char *p = rb_buf_str(&out);

		while (*p)
		{
			const char *eol = strchr(p, '\n');

			if (*p != ';' && *p != '\n')
				(*entries)++;
			if (eol == NULL)
				break;
			p = eol + 1;
		}
	}
	else if (err->code == RB_ERR_CHILD)
	{
		err->code = RB_ERR_INTEGRITY;
		rb_error_prefix(err, "pg_restore --list rejected the archive: ");
	}
	rb_buf_free(&out);
	cli_argv_free(&argv);
	return rc;
}
