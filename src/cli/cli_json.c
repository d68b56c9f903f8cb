/*
 * cli_json.c — JSON objects for list --json and info --json (see cli_json.h).
 * system_identifier is a string, as in the metadata: it exceeds a JSON number's
 * exact range.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "cli_format.h"
#include "cli_json.h"
#include "rb_json.h"

void
cli_json_backup(rb_buf *out, const cli_backup *b, const char *url, bool with_tables)
{
	const rb_backup_metadata *m = &b->meta;

	rb_buf_appendf(out, "{\"backup_id\": %" PRId64 ", \"timestamp\": ", m->backup_id);
	rb_json_append_string(out, m->timestamp);
	rb_buf_append_str(out, ", \"dbname\": ");
	rb_json_append_string(out, m->dbname);
	rb_buf_appendf(out, ", \"system_identifier\": \"%" PRIu64 "\"", m->system_identifier);
	if (m->timeline > 0)
		rb_buf_appendf(out, ", \"timeline\": %" PRIu32, m->timeline);
	else
		rb_buf_append_str(out, ", \"timeline\": null");
	rb_buf_append_str(out, ", \"incarnation\": ");
	rb_json_append_string(out, m->incarnation);
	rb_buf_append_str(out, ", \"host_name\": ");
	rb_json_append_string(out, m->host_name);
	rb_buf_append_str(out, ", \"cluster_name\": ");
	rb_json_append_string(out, m->cluster_name);
	rb_buf_appendf(out, ", \"size_bytes\": %" PRIu64, m->size_bytes);
	rb_buf_appendf(out, ", \"tables\": %zu, \"rows\": %" PRId64,
				   m->table_counts.n, rb_table_counts_total(&m->table_counts));
	rb_buf_append_str(out, ", \"label\": ");
	rb_json_append_string(out, m->label);
	rb_buf_append_str(out, ", \"backup_type\": ");
	rb_json_append_string(out, m->backup_type);
	rb_buf_append_str(out, ", \"compression\": ");
	rb_json_append_string(out, m->compression);
	rb_buf_append_str(out, ", \"encryption\": ");
	rb_json_append_string(out, m->encryption ? m->encryption : "none");
	rb_buf_append_str(out, ", \"key_id\": ");
	rb_json_append_string(out, rb_backup_metadata_encrypted(m) ? m->key_id : NULL);
	rb_buf_append_str(out, ", \"sha256\": ");
	rb_json_append_string(out, m->sha256);
	rb_buf_append_str(out, ", \"key\": ");
	rb_json_append_string(out, b->key);
	rb_buf_append_str(out, ", \"url\": ");
	rb_json_append_string(out, url);
	/* the latest verification, from "<key>.verify.json" (null: none recorded) */
	rb_buf_append_str(out, ", \"verify_status\": ");
	rb_json_append_string(out, cli_backup_verify_status(b));
	rb_buf_append_str(out, ", \"verification\": ");
	if (b->has_verify)
		rb_verify_record_to_json(&b->verify, out);
	else
		rb_buf_append_str(out, "null");
	if (with_tables)
	{
		rb_buf_appendf(out, ", \"format_version\": %d", m->format_version);
		rb_buf_append_str(out, ", \"pg_dump_format\": ");
		rb_json_append_string(out, m->pg_dump_format);
		rb_buf_append_str(out, ", \"server_version\": ");
		rb_json_append_string(out, m->server_version);
		rb_buf_append_str(out, ", \"extension_version\": ");
		rb_json_append_string(out, m->extension_version);
		rb_buf_appendf(out, ", \"duration_seconds\": %.3f", m->duration_seconds);
		rb_buf_appendf(out, ", \"uncompressed_bytes\": %" PRIu64, m->uncompressed_bytes);
		rb_buf_append_str(out, ", \"metadata_key\": ");
		rb_json_append_string(out, b->metadata_key);
		rb_buf_append_str(out, ", \"table_counts\": {");
		for (size_t i = 0; i < m->table_counts.n; i++)
		{
			const rb_table_count *t = &m->table_counts.items[i];
			char	   *k = rb_table_key_format(t->schema, t->table);

			if (i > 0)
				rb_buf_append_str(out, ", ");
			rb_json_append_string(out, k);
			rb_buf_appendf(out, ": %" PRId64, t->rows);
			free(k);
		}
		rb_buf_append_str(out, "}");
	}
	rb_buf_append_str(out, "}");
}
