/*
 * backup_metadata.c — the backup metadata document: to JSON and back (see backup_metadata.h).
 */
#include "backup_metadata.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"
#include "rb_json.h"

void
rb_backup_metadata_init(rb_backup_metadata *m)
{
	memset(m, 0, sizeof(*m));
	m->format_version = RB_METADATA_FORMAT_VERSION;
}

void
rb_backup_metadata_free(rb_backup_metadata *m)
{
	free(m->dbname);
	free(m->incarnation);
	free(m->host_name);
	free(m->cluster_name);
	free(m->backup_type);
	free(m->label);
	free(m->compression);
	free(m->encryption);
	free(m->key_id);
	free(m->pg_dump_format);
	free(m->server_version);
	free(m->extension_version);
	free(m->object_key);
	free(m->kind);
	free(m->start_lsn);
	free(m->stop_lsn);
	free(m->backup_label);
	rb_table_counts_free(&m->table_counts);
	rb_backup_metadata_init(m);
}

bool
rb_backup_metadata_encrypted(const rb_backup_metadata *m)
{
	return m->encryption != NULL && strcmp(m->encryption, "none") != 0;
}

bool
rb_backup_metadata_is_physical(const rb_backup_metadata *m)
{
	return m->kind != NULL && strcmp(m->kind, "physical") == 0;
}

void
rb_metadata_set_str(char **field, const char *value)
{
	char	   *copy = NULL;

	if (value != NULL)
	{
		copy = rb_strdup(value);
	}
	free(*field);
	*field = copy;
}

void
rb_metadata_format_time(time_t t, char *buf, size_t len)
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
member_str(rb_buf *out, const char *name, const char *value, bool last)
{
	rb_buf_appendf(out, "  \"%s\": ", name);
	rb_json_append_string(out, value);
	rb_buf_append_str(out, last ? "\n" : ",\n");
}

void
rb_backup_metadata_to_json(const rb_backup_metadata *m, rb_buf *out)
{
	char		sysid[32];

	snprintf(sysid, sizeof(sysid), "%" PRIu64, m->system_identifier);
	rb_buf_append_str(out, "{\n");
	rb_buf_appendf(out, "  \"format_version\": %d,\n", m->format_version);
	rb_buf_appendf(out, "  \"backup_id\": %" PRId64 ",\n", m->backup_id);
	member_str(out, "timestamp", m->timestamp, false);
	member_str(out, "dbname", m->dbname, false);
	member_str(out, "system_identifier", sysid, false);
	if (m->timeline > 0)
		rb_buf_appendf(out, "  \"timeline\": %" PRIu32 ",\n", m->timeline);
	else
		rb_buf_append_str(out, "  \"timeline\": null,\n");
	member_str(out, "incarnation", m->incarnation, false);
	member_str(out, "host_name", m->host_name, false);
	member_str(out, "cluster_name", m->cluster_name, false);
	member_str(out, "backup_type", m->backup_type, false);
	member_str(out, "label", m->label, false);
	rb_buf_appendf(out, "  \"size_bytes\": %" PRIu64 ",\n", m->size_bytes);
	member_str(out, "sha256", m->sha256, false);
	member_str(out, "compression", m->compression, false);
	member_str(out, "encryption", m->encryption ? m->encryption : "none", false);
	member_str(out, "key_id", rb_backup_metadata_encrypted(m) ? m->key_id : NULL, false);
	member_str(out, "pg_dump_format", m->pg_dump_format, false);
	member_str(out, "server_version", m->server_version, false);
	member_str(out, "extension_version", m->extension_version, false);
	rb_buf_appendf(out, "  \"duration_seconds\": %.3f,\n", m->duration_seconds);
	rb_buf_appendf(out, "  \"uncompressed_bytes\": %" PRIu64 ",\n", m->uncompressed_bytes);
	member_str(out, "object_key", m->object_key, false);
	if (m->kind != NULL)
	{
		/* physical base backups only: a logical backup's document is unchanged */
		member_str(out, "kind", m->kind, false);
		member_str(out, "start_lsn", m->start_lsn, false);
		member_str(out, "stop_lsn", m->stop_lsn, false);
		member_str(out, "backup_label", m->backup_label, false);
	}
	rb_buf_append_str(out, "  \"table_counts\": {");
	for (size_t i = 0; i < m->table_counts.n; i++)
	{
		const rb_table_count *tc = &m->table_counts.items[i];
		char	   *key = rb_table_key_format(tc->schema, tc->table);

		rb_buf_append_str(out, i == 0 ? "\n    " : ",\n    ");
		rb_json_append_string(out, key);
		rb_buf_appendf(out, ": %" PRId64, tc->rows);
		free(key);
	}
	rb_buf_append_str(out, m->table_counts.n ? "\n  }\n}\n" : "}\n}\n");
}

static int
missing(rb_error *err, const char *field)
{
	return rb_error_set(err, RB_ERR_INTEGRITY,
						"invalid backup metadata: field \"%s\" is missing or has the wrong type",
						field);
}

/* Copies a string member (required unless nullable; JSON null gives NULL). */
static int
get_str(const rb_json *doc, const char *name, char **field, bool nullable, rb_error *err)
{
	const rb_json *v = rb_json_get(doc, name);

	if (v != NULL && v->type == RB_JSON_STRING)
	{
		if (strlen(v->text) != v->len)
			return rb_error_set(err, RB_ERR_INTEGRITY,
								"invalid backup metadata: field \"%s\" contains a NUL character", name);
		rb_metadata_set_str(field, v->text);
		return 0;
	}
	if (nullable && (v == NULL || v->type == RB_JSON_NULL))
	{
		rb_metadata_set_str(field, NULL);
		return 0;
	}
	return missing(err, name);
}

int
rb_backup_metadata_from_json(const char *json, size_t len, rb_backup_metadata *m, rb_error *err)
{
	rb_json    *doc;
	const rb_json *v;
	int64_t		i64;
	int			rc = -1;

	rb_backup_metadata_init(m);
	doc = rb_json_parse(json, len, err);
	if (doc == NULL)
	{
		rb_error_prefix(err, "invalid backup metadata: ");
		return -1;
	}
	if (doc->type != RB_JSON_OBJECT)
	{
		rb_error_set(err, RB_ERR_INTEGRITY, "invalid backup metadata: not a JSON object");
		goto done;
	}
	if (rb_json_get_int64(doc, "format_version", &i64) < 0)
	{
		missing(err, "format_version");
		goto done;
	}
	if (i64 < 1 || i64 > RB_METADATA_FORMAT_VERSION)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "backup metadata format_version %" PRId64 " is not supported (this version reads up to %d)",
					 i64, RB_METADATA_FORMAT_VERSION);
		goto done;
	}
	m->format_version = (int) i64;
	if (rb_json_get_int64(doc, "backup_id", &m->backup_id) < 0)
	{
		missing(err, "backup_id");
		goto done;
	}
	v = rb_json_get(doc, "timestamp");
	if (v == NULL || v->type != RB_JSON_STRING || v->len >= sizeof(m->timestamp))
	{
		missing(err, "timestamp");
		goto done;
	}
	memcpy(m->timestamp, v->text, v->len + 1);
	if (rb_json_get_uint64(doc, "system_identifier", &m->system_identifier) < 0)
	{
		missing(err, "system_identifier");
		goto done;
	}
	if (rb_json_get_uint64(doc, "size_bytes", &m->size_bytes) < 0)
	{
		missing(err, "size_bytes");
		goto done;
	}
	v = rb_json_get(doc, "sha256");
	if (v == NULL || v->type != RB_JSON_STRING || v->len != 64)
	{
		missing(err, "sha256");
		goto done;
	}
	memcpy(m->sha256, v->text, 65);
	if (rb_json_get_double(doc, "duration_seconds", &m->duration_seconds) < 0)
	{
		missing(err, "duration_seconds");
		goto done;
	}
	/* optional */
	(void) rb_json_get_uint64(doc, "uncompressed_bytes", &m->uncompressed_bytes);
	v = rb_json_get(doc, "timeline");
	if (v != NULL && v->type != RB_JSON_NULL)
	{
		if (rb_json_get_int64(doc, "timeline", &i64) < 0 || i64 < 1 || i64 > UINT32_MAX)
		{
			missing(err, "timeline");
			goto done;
		}
		m->timeline = (uint32_t) i64;
	}

	if (get_str(doc, "kind", &m->kind, true, err) < 0 ||
		(m->kind != NULL && strcmp(m->kind, "logical") != 0 && strcmp(m->kind, "physical") != 0))
	{
		if (m->kind != NULL)
			rb_error_set(err, RB_ERR_INTEGRITY, "invalid backup metadata: unknown kind \"%s\"", m->kind);
		goto done;
	}
	if (get_str(doc, "dbname", &m->dbname, rb_backup_metadata_is_physical(m), err) < 0 ||
		get_str(doc, "start_lsn", &m->start_lsn, true, err) < 0 ||
		get_str(doc, "stop_lsn", &m->stop_lsn, true, err) < 0 ||
		get_str(doc, "backup_label", &m->backup_label, true, err) < 0 ||
		get_str(doc, "backup_type", &m->backup_type, false, err) < 0 ||
		get_str(doc, "label", &m->label, true, err) < 0 ||
		get_str(doc, "compression", &m->compression, false, err) < 0 ||
		get_str(doc, "pg_dump_format", &m->pg_dump_format, false, err) < 0 ||
		get_str(doc, "server_version", &m->server_version, true, err) < 0 ||
		get_str(doc, "extension_version", &m->extension_version, true, err) < 0 ||
		get_str(doc, "object_key", &m->object_key, true, err) < 0 ||
		get_str(doc, "incarnation", &m->incarnation, true, err) < 0 ||
		get_str(doc, "host_name", &m->host_name, true, err) < 0 ||
		get_str(doc, "cluster_name", &m->cluster_name, true, err) < 0 ||
		get_str(doc, "encryption", &m->encryption, true, err) < 0 ||
		get_str(doc, "key_id", &m->key_id, true, err) < 0)
		goto done;
	if (rb_backup_metadata_encrypted(m) &&
		(m->key_id == NULL || strlen(m->key_id) != 16 ||
		 strspn(m->key_id, "0123456789abcdef") != 16))
	{
		missing(err, "key_id");
		goto done;
	}

	v = rb_json_get(doc, "table_counts");
	if (v == NULL || v->type != RB_JSON_OBJECT)
	{
		missing(err, "table_counts");
		goto done;
	}
	for (const rb_json *t = v->child; t; t = t->next)
	{
		char	   *schema,
				   *table,
				   *end;
		long long	rows;

		if (t->type != RB_JSON_NUMBER || rb_table_key_parse(t->key, &schema, &table) < 0)
		{
			rb_error_set(err, RB_ERR_INTEGRITY,
						 "invalid backup metadata: bad table_counts entry \"%s\"", t->key);
			goto done;
		}
		rows = strtoll(t->text, &end, 10);
		if (*end != '\0' || rows < 0)
		{
			free(schema);
			free(table);
			rb_error_set(err, RB_ERR_INTEGRITY,
						 "invalid backup metadata: bad row count for \"%s\"", t->key);
			goto done;
		}
		rb_table_counts_add(&m->table_counts, schema, table, rows);
		free(schema);
		free(table);
	}
	rc = 0;
done:
	rb_json_free(doc);
	return rc;
}
