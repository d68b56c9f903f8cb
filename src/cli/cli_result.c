/*
 * cli_result.c — the JSON result of verify and restore (see cli_result.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_result.h"
#include "rb_buf.h"
#include "rb_json.h"

void
cli_result_init(cli_result *r, const char *command, const char *success_status)
{
	memset(r, 0, sizeof(*r));
	r->command = command;
	r->success_status = success_status;
	r->download_s = r->restore_s = r->count_s = r->total_s = -1;
}

static void
seconds(rb_buf *out, const char *name, double s, bool first)
{
	rb_buf_appendf(out, "%s\"%s\": ", first ? "" : ", ", name);
	if (s >= 0)
		rb_buf_appendf(out, "%.3f", s);
	else
		rb_buf_append_str(out, "null");
}

static void
difference(rb_buf *out, bool *first, const rb_table_count *t, bool has_found, int64_t found)
{
	char	   *name = rb_table_key_format(t->schema, t->table);

	rb_buf_append_str(out, *first ? "{\"table\": " : ", {\"table\": ");
	*first = false;
	rb_json_append_string(out, name);
	rb_buf_appendf(out, ", \"expected\": %" PRId64 ", \"found\": ", t->rows);
	if (has_found)
		rb_buf_appendf(out, "%" PRId64 "}", found);
	else
		rb_buf_append_str(out, "null}");
	free(name);
}

/* A table of the metadata in the archive's counts, or NULL. */
static const rb_table_count *
find_count(const rb_table_counts *tc, const rb_table_count *t)
{
	for (size_t i = 0; i < tc->n; i++)
		if (strcmp(tc->items[i].schema, t->schema) == 0 && strcmp(tc->items[i].table, t->table) == 0)
			return &tc->items[i];
	return NULL;
}

static void
rows(rb_buf *out, const cli_result *r)
{
	bool		first = true;
	size_t		differing = 0;
	size_t		uncounted = 0;
	size_t		skipped = 0;
	size_t		tables = 0;
	int64_t		expected = 0;
	int64_t		found = 0;
	rb_buf		diffs = RB_BUF_INIT;

	if (r->expected == NULL || (r->counted == NULL && r->archive == NULL))
	{
		rb_buf_append_str(out, "{\"verdict\": \"not compared\"}");
		return;
	}
	if (r->counted != NULL)
	{
		const rb_rowcount_result *c = r->counted;

		for (size_t i = 0; i < c->n && i < r->expected->n; i++)
		{
			const rb_table_count *t = &r->expected->items[i];

			if (c->found[i] == RB_ROWCOUNT_SKIPPED || c->found[i] == t->rows)
				continue;
			difference(&diffs, &first, t, c->found[i] >= 0, c->found[i]);
		}
		differing = c->mismatched;
		uncounted = c->uncounted;
		skipped = c->skipped;
		tables = c->tables;
		expected = c->rows_expected;
		found = c->rows_found;
	}
	else
	{
		/* the archive's own counts against the metadata's, both ways */
		for (size_t i = 0; i < r->expected->n; i++)
		{
			const rb_table_count *t = &r->expected->items[i];
			const rb_table_count *a = find_count(r->archive, t);

			tables++;
			expected += t->rows;
			if (a != NULL)
				found += a->rows;
			if (a == NULL || a->rows != t->rows)
			{
				differing++;
				difference(&diffs, &first, t, a != NULL, a ? a->rows : 0);
			}
		}
		for (size_t i = 0; i < r->archive->n; i++)
			if (find_count(r->expected, &r->archive->items[i]) == NULL)
			{
				rb_table_count none = r->archive->items[i];

				none.rows = 0;
				differing++;
				found += r->archive->items[i].rows;
				difference(&diffs, &first, &none, true, r->archive->items[i].rows);
			}
	}
	rb_buf_append_str(out, "{\"verdict\": ");
	rb_json_append_string(out, differing + uncounted > 0 ? "mismatch" : "match");
	rb_buf_appendf(out, ", \"tables\": %zu, \"tables_differing\": %zu, \"tables_uncounted\": %zu"
				   ", \"tables_not_compared\": %zu, \"rows_expected\": %" PRId64
				   ", \"rows_found\": %" PRId64 ", \"differences\": [%s]}",
				   tables, differing, uncounted, skipped, expected, found, rb_buf_str(&diffs));
	rb_buf_free(&diffs);
}

void
cli_result_print_json(const cli_result *r)
{
	rb_buf		out = RB_BUF_INIT;

	rb_buf_append_str(&out, "{\"command\": ");
	rb_json_append_string(&out, r->command);
	rb_buf_append_str(&out, ", \"status\": ");
	rb_json_append_string(&out, r->exit_code == 0 ? r->success_status : "failed");
	rb_buf_appendf(&out, ", \"exit_code\": %d, \"error\": ", r->exit_code);
	rb_json_append_string(&out, r->error && r->error[0] && r->exit_code != 0 ? r->error : NULL);
	if (r->backup != NULL)
	{
		rb_buf_appendf(&out, ", \"backup_id\": %" PRId64 ", \"dbname\": ", r->backup->meta.backup_id);
		rb_json_append_string(&out, r->backup->meta.dbname);
		rb_buf_append_str(&out, ", \"key\": ");
		rb_json_append_string(&out, r->backup->key);
	}
	else
		rb_buf_append_str(&out, ", \"backup_id\": null, \"dbname\": null, \"key\": null");
	if (r->target_dbname != NULL)
	{
		rb_buf_append_str(&out, ", \"target_dbname\": ");
		rb_json_append_string(&out, r->target_dbname);
	}
	if (r->fetch != NULL)
		rb_buf_appendf(&out, ", \"stored_bytes\": %" PRIu64 ", \"archive_bytes\": %" PRIu64
					   ", \"sha256_ok\": %s", r->fetch->stored_bytes, r->fetch->archive_bytes,
					   r->fetch->size_ok && r->fetch->sha256_ok ? "true" : "false");
	rb_buf_append_str(&out, ", \"seconds\": {");
	seconds(&out, "download", r->download_s, true);
	if (strcmp(r->command, "restore") == 0)
	{
		seconds(&out, "pg_restore", r->restore_s, false);
		seconds(&out, "row_counts", r->count_s, false);
	}
	seconds(&out, "total", r->total_s, false);
	rb_buf_append_str(&out, "}, \"rows\": ");
	rows(&out, r);
	rb_buf_append_str(&out, "}\n");
	fputs(rb_buf_str(&out), stdout);
	fflush(stdout);
	rb_buf_free(&out);
}
