/*
 * verify_archive.c — an archive's own row counts against its metadata, and its
 * table of contents read by pg_restore --list (see verify_archive.h).
 */
#include "verify_archive.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

size_t
rb_verify_compare_counts(const rb_table_counts *metadata, const rb_table_counts *archive,
						 rb_buf *report)
{
	size_t		diffs = 0;

	for (size_t i = 0; i < metadata->n; i++)
	{
		const rb_table_count *e = &metadata->items[i];
		const rb_table_count *f = rb_table_counts_find(archive, e->schema, e->table);

		if (f != NULL && f->rows == e->rows)
			continue;
		diffs++;
		if (report != NULL)
		{
			char	   *k = rb_table_key_format(e->schema, e->table);

			if (f == NULL)
				rb_buf_appendf(report, "table %s is in the metadata but not in the archive\n", k);
			else
				rb_buf_appendf(report, "table %s has %" PRId64 " rows in the archive, the metadata says %" PRId64 "\n",
							   k, f->rows, e->rows);
			free(k);
		}
	}
	for (size_t i = 0; i < archive->n; i++)
	{
		const rb_table_count *f = &archive->items[i];

		if (rb_table_counts_find(metadata, f->schema, f->table) != NULL)
			continue;
		diffs++;
		if (report != NULL)
		{
			char	   *k = rb_table_key_format(f->schema, f->table);

			rb_buf_appendf(report, "table %s is in the archive but not in the metadata\n", k);
			free(k);
		}
	}
	return diffs;
}

int
rb_verify_count_table_data(const char *listing, int *entries)
{
	int			table_data = 0;
	const char *p = listing;

	*entries = 0;
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);

		if (len > 0 && *p != ';')
		{
			const char *semi = memchr(p, ';', len);

			(*entries)++;
			if (semi != NULL)
			{
				/* "<id>; <catalog oid> <oid> <DESC> ..." */
				const char *q = semi + 1;
				const char *end = p + len;
				int			words = 0;

				while (q < end && words < 2)
				{
					while (q < end && *q == ' ')
						q++;
					while (q < end && *q != ' ')
						q++;
					words++;
				}
				while (q < end && *q == ' ')
					q++;
				if ((size_t) (end - q) > 11 && strncmp(q, "TABLE DATA ", 11) == 0)
					table_data++;
			}
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return table_data;
}

int
rb_verify_list_archive(const char *pg_restore, const char *file, const rb_pg_run_options *run,
					   rb_buf *listing, int *entries, int *table_data, const rb_hooks *hooks,
					   rb_error *err)
{
	rb_argv		argv = RB_ARGV_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_pg_run_options opt = *run;
	int			rc;

	*entries = 0;
	*table_data = 0;
	rb_argv_add(&argv, pg_restore);
	rb_argv_add(&argv, "--list");
	rb_argv_add(&argv, file);
	opt.out = &out;
	rc = rb_pg_run(&argv, &opt, hooks, err);
	if (rc == 0)
	{
		*table_data = rb_verify_count_table_data(rb_buf_str(&out), entries);
		if (listing != NULL)
			rb_buf_append(listing, rb_buf_str(&out), out.len);
	}
	else if (err->code == RB_ERR_CHILD)
		err->code = RB_ERR_INTEGRITY;
	rb_buf_free(&out);
	rb_argv_free(&argv);
	return rc;
}
