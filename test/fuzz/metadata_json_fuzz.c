/*
 * metadata_json_fuzz.c — libFuzzer harness of the metadata JSON reader and writer
 * (src/core/rb_json.c, backup_metadata.c, backup_table_counts.c).  Invariants: no crash or sanitizer
 * report on any input; a document that parses writes back to JSON that parses to
 * the same metadata (every field, every table name and count).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_json.h"
#include "backup_metadata.h"

static int
streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void
check(int ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "metadata_json_fuzz: round trip changed %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	rb_backup_metadata a,
				b;
	rb_error	err = {0};
	rb_buf		json = RB_BUF_INIT;
	rb_json    *doc;

	/* the bare JSON parser on everything */
	doc = rb_json_parse((const char *) data, size, &err);
	rb_json_free(doc);

	if (rb_backup_metadata_from_json((const char *) data, size, &a, &err) != 0)
	{
		rb_backup_metadata_free(&a);
		return 0;
	}
	rb_backup_metadata_to_json(&a, &json);
	if (rb_backup_metadata_from_json(json.data, json.len, &b, &err) != 0)
	{
		fprintf(stderr, "metadata_json_fuzz: our own output does not parse: %s\n%s\n", err.msg, json.data);
		abort();
	}
	check(a.backup_id == b.backup_id, "backup_id");
	check(strcmp(a.timestamp, b.timestamp) == 0, "timestamp");
	check(a.system_identifier == b.system_identifier, "system_identifier");
	check(a.size_bytes == b.size_bytes, "size_bytes");
	check(strcmp(a.sha256, b.sha256) == 0, "sha256");
	check(streq(a.dbname, b.dbname) && streq(a.label, b.label) && streq(a.backup_type, b.backup_type) &&
		  streq(a.compression, b.compression) && streq(a.object_key, b.object_key), "a string");
	check(a.table_counts.n == b.table_counts.n, "the number of tables");
	for (size_t i = 0; i < a.table_counts.n; i++)
		check(strcmp(a.table_counts.items[i].schema, b.table_counts.items[i].schema) == 0 &&
			  strcmp(a.table_counts.items[i].table, b.table_counts.items[i].table) == 0 &&
			  a.table_counts.items[i].rows == b.table_counts.items[i].rows, "a table count");
	rb_backup_metadata_free(&a);
	rb_backup_metadata_free(&b);
	rb_buf_free(&json);
	return 0;
}
