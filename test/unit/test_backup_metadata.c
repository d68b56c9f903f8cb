/*
 * test_backup_metadata.c — unit tests of the backup metadata JSON (round trip with hostile
 * names and labels, required fields, malformed documents, the server fields —
 * timeline, incarnation, host and cluster name — optional for documents written
 * before them; encryption and key_id, optional too, and a key id required
 * when encrypted), of the table keys
 * "schema.table" and of the JSON reader/writer underneath.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rb_json.h"
#include "backup_metadata.h"

static void
fill(rb_backup_metadata *m, const char *label)
{
	rb_backup_metadata_init(m);
	m->backup_id = 9007199254740993LL;	/* beyond 2^53 */
	rb_metadata_format_time(1795665600, m->timestamp, sizeof(m->timestamp));
	rb_metadata_set_str(&m->dbname, "app \"prod\"\\db");
	m->system_identifier = 7312345678901234567ULL;
	m->timeline = label == NULL ? 0 : 4294967295U;
	rb_metadata_set_str(&m->incarnation, label == NULL ? NULL : "5f0c2a9e7b1d4c36");
	rb_metadata_set_str(&m->host_name, label == NULL ? NULL : "db-2.\"example\"");
	rb_metadata_set_str(&m->cluster_name, label == NULL ? NULL : "main ✓");
	rb_metadata_set_str(&m->backup_type, "manual");
	rb_metadata_set_str(&m->label, label);
	m->size_bytes = 1234567890123ULL;
	memset(m->sha256, 'a', 64);
	m->sha256[64] = '\0';
	rb_metadata_set_str(&m->compression, "zstd");
	/* encrypted when a label is given; NULL (not encrypted) otherwise */
	rb_metadata_set_str(&m->encryption, label == NULL ? NULL : "xchacha20poly1305-secretstream-v1");
	rb_metadata_set_str(&m->key_id, label == NULL ? NULL : "3fa2b4c5d6e7f809");
	rb_metadata_set_str(&m->pg_dump_format, "custom");
	rb_metadata_set_str(&m->server_version, "15.20");
	rb_metadata_set_str(&m->extension_version, "1.0");
	m->duration_seconds = 12.345;
	m->uncompressed_bytes = 99;
	rb_metadata_set_str(&m->object_key, "73/app/20261126T040000Z-7.dump.zst");
	rb_table_counts_add(&m->table_counts, "public", "plain", 1000);
	rb_table_counts_add(&m->table_counts, "odd.schema", "Table \"With\" Spaces", 42);
	rb_table_counts_add(&m->table_counts, "sales", "", 0);
	rb_table_counts_add(&m->table_counts, "ünï", "tab\there\nnl\\back\x01\x1f\x7f", 5);
	rb_table_counts_add(&m->table_counts, "a\"b", "c.d", 9223372036854775807LL);
}

static void
check_equal(const rb_backup_metadata *a, const rb_backup_metadata *b)
{
	assert_int_equal(a->format_version, b->format_version);
	assert_int_equal(a->backup_id, b->backup_id);
	assert_string_equal(a->timestamp, b->timestamp);
	assert_string_equal(a->dbname, b->dbname);
	assert_true(a->system_identifier == b->system_identifier);
	assert_int_equal(a->timeline, b->timeline);
	{
		const char *const sa[] = {a->incarnation, a->host_name, a->cluster_name};
		const char *const sb[] = {b->incarnation, b->host_name, b->cluster_name};

		for (int i = 0; i < 3; i++)
		{
			if (sa[i] == NULL)
				assert_null(sb[i]);
			else
				assert_string_equal(sa[i], sb[i]);
		}
	}
	assert_string_equal(a->backup_type, b->backup_type);
	if (a->label == NULL)
		assert_null(b->label);
	else
		assert_string_equal(a->label, b->label);
	assert_true(a->size_bytes == b->size_bytes);
	assert_string_equal(a->sha256, b->sha256);
	assert_string_equal(a->compression, b->compression);
	assert_true(rb_backup_metadata_encrypted(a) == rb_backup_metadata_encrypted(b));
	if (rb_backup_metadata_encrypted(a))
	{
		assert_string_equal(a->encryption, b->encryption);
		assert_string_equal(a->key_id, b->key_id);
	}
	else
		assert_null(b->key_id);
	assert_string_equal(a->pg_dump_format, b->pg_dump_format);
	assert_string_equal(a->server_version, b->server_version);
	assert_string_equal(a->extension_version, b->extension_version);
	assert_true(a->duration_seconds - b->duration_seconds < 0.001 &&
				b->duration_seconds - a->duration_seconds < 0.001);
	assert_true(a->uncompressed_bytes == b->uncompressed_bytes);
	assert_string_equal(a->object_key, b->object_key);
	assert_int_equal(a->table_counts.n, b->table_counts.n);
	for (size_t i = 0; i < a->table_counts.n; i++)
	{
		assert_string_equal(a->table_counts.items[i].schema, b->table_counts.items[i].schema);
		assert_string_equal(a->table_counts.items[i].table, b->table_counts.items[i].table);
		assert_int_equal(a->table_counts.items[i].rows, b->table_counts.items[i].rows);
	}
}

static void
test_roundtrip(void **state)
{
	const char *labels[] = {NULL, "", "nightly \"before\" upgrade\\n\n\t\x02 ✓ 😀", "</script>"};

	for (size_t i = 0; i < 4; i++)
	{
		rb_backup_metadata m,
					back;
		rb_buf		json = RB_BUF_INIT;
		rb_error	err = {0};

		fill(&m, labels[i]);
		rb_backup_metadata_to_json(&m, &json);
		/* no raw control character may appear in the document but newlines between members */
		for (size_t j = 0; j < json.len; j++)
			assert_true((unsigned char) json.data[j] >= 0x20 || json.data[j] == '\n');
		assert_non_null(strstr(json.data, "\"system_identifier\": \"7312345678901234567\""));
		assert_non_null(strstr(json.data, "\"public.plain\": 1000"));
		assert_non_null(strstr(json.data, "\"\\\"odd.schema\\\".\\\"Table \\\"\\\"With\\\"\\\" Spaces\\\"\": 42"));
		assert_non_null(strstr(json.data, "\\u0001\\u001f\\u007f"));
		if (labels[i] == NULL)
		{
			assert_non_null(strstr(json.data, "\"label\": null"));
			assert_non_null(strstr(json.data, "\"timeline\": null"));
			assert_non_null(strstr(json.data, "\"incarnation\": null"));
			assert_non_null(strstr(json.data, "\"encryption\": \"none\""));
			assert_non_null(strstr(json.data, "\"key_id\": null"));
		}
		else
		{
			assert_non_null(strstr(json.data, "\"timeline\": 4294967295,"));
			assert_non_null(strstr(json.data, "\"incarnation\": \"5f0c2a9e7b1d4c36\""));
			assert_non_null(strstr(json.data, "\"encryption\": \"xchacha20poly1305-secretstream-v1\""));
			assert_non_null(strstr(json.data, "\"key_id\": \"3fa2b4c5d6e7f809\""));
		}
		if (rb_backup_metadata_from_json(json.data, json.len, &back, &err) != 0)
			fail_msg("%s\n%s", err.msg, json.data);
		check_equal(&m, &back);
		rb_backup_metadata_free(&m);
		rb_backup_metadata_free(&back);
		rb_buf_free(&json);
	}
}

static void
test_empty_counts_and_unicode_escapes(void **state)
{
	const char *doc =
		"{\"format_version\":1,\"backup_id\":7,\"timestamp\":\"2026-11-26T04:00:00Z\","
		"\"dbname\":\"d\\u00e9j\\u00E0 \\ud83d\\ude00\\/x\",\"system_identifier\":7312345678,"
		"\"backup_type\":\"scheduled\",\"label\":null,\"size_bytes\":0,"
		"\"sha256\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\","
		"\"compression\":\"none\",\"pg_dump_format\":\"custom\",\"server_version\":\"15\","
		"\"extension_version\":\"1.0\",\"duration_seconds\":1e-3,\"table_counts\":{},"
		"\"future_field\":[1,{\"x\":[true,false,null]}]}";
	rb_backup_metadata m;
	rb_error	err = {0};

	assert_int_equal(rb_backup_metadata_from_json(doc, strlen(doc), &m, &err), 0);
	assert_string_equal(m.dbname, "d\xc3\xa9j\xc3\xa0 \xf0\x9f\x98\x80/x");
	assert_true(m.system_identifier == 7312345678ULL);
	assert_int_equal(m.table_counts.n, 0);
	assert_null(m.label);
	assert_null(m.object_key);
	/* written before the server fields: they are unknown, not an error */
	assert_int_equal(m.timeline, 0);
	assert_null(m.incarnation);
	assert_null(m.host_name);
	assert_null(m.cluster_name);
	rb_backup_metadata_free(&m);
}

static void
expect_fail(const char *doc, const char *needle)
{
	rb_backup_metadata m;
	rb_error	err = {0};

	assert_int_equal(rb_backup_metadata_from_json(doc, strlen(doc), &m, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	if (strstr(err.msg, needle) == NULL)
		fail_msg("\"%s\" not in \"%s\"", needle, err.msg);
	rb_backup_metadata_free(&m);
}

/* A malloc'd copy of s with the first `from` replaced by `to`. */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	char	   *out = malloc(strlen(s) + strlen(to) + 1);

	assert_non_null(at);
	memcpy(out, s, (size_t) (at - s));
	strcpy(out + (at - s), to);
	strcat(out, at + strlen(from));
	return out;
}

static void
test_bad_documents(void **state)
{
	rb_backup_metadata m;
	rb_buf		json = RB_BUF_INIT;
	char	   *s;

	expect_fail("", "unexpected end of input");
	expect_fail("[]", "not a JSON object");
	expect_fail("{\"format_version\":1,}", "expected a member name");
	expect_fail("{\"format_version\":2}", "format_version 2 is not supported");
	expect_fail("{\"format_version\":1}", "\"backup_id\"");
	expect_fail("{\"a\":\"x\ty\"}", "control character");
	expect_fail("{\"a\":\"\\ud800\"}", "invalid escape");
	expect_fail("{\"a\":01}", "expected ',' or '}'");
	expect_fail("{} x", "trailing characters");
	expect_fail("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]",
				"nested too deeply");

	/* a complete document with one field broken at a time */
	fill(&m, "l");
	rb_backup_metadata_to_json(&m, &json);
	rb_backup_metadata_free(&m);
	s = replace(json.data, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "abc");
	expect_fail(s, "\"sha256\"");
	free(s);
	s = replace(json.data, "\"size_bytes\": 1234567890123", "\"size_bytes\": -1");
	expect_fail(s, "\"size_bytes\"");
	free(s);
	s = strdup(json.data);
	memcpy(strstr(s, "\"public.plain\""), "\"public-plain\"", 14);
	expect_fail(s, "bad table_counts entry \"public-plain\"");
	free(s);
	s = strdup(json.data);
	memcpy(strstr(s, "\"dbname\""), "\"dbnamX\"", 8);
	expect_fail(s, "\"dbname\" is missing");
	free(s);
	s = replace(json.data, "\"timeline\": 4294967295", "\"timeline\": 0");
	expect_fail(s, "\"timeline\"");
	free(s);
	s = replace(json.data, "\"timeline\": 4294967295", "\"timeline\": 4294967296");
	expect_fail(s, "\"timeline\"");
	free(s);
	s = replace(json.data, "\"timeline\": 4294967295", "\"timeline\": \"2\"");
	expect_fail(s, "\"timeline\"");
	free(s);
	s = replace(json.data, "\"incarnation\": \"5f0c2a9e7b1d4c36\"", "\"incarnation\": 5");
	expect_fail(s, "\"incarnation\"");
	free(s);
	rb_buf_free(&json);
}

/*
 * The one JSON string escaping of src/core and the CLI: the two-character
 * escapes of RFC 8259 where it has one (\b \f \n \r \t \" \\), \u00XX for
 * every other control character and for DEL (0x7f, which a terminal would act
 * on), UTF-8 passed through; the parser reads every form back.
 */
/* An encrypted document must name a valid key id; without "encryption" it is plain. */
static void
test_encryption_fields(void **state)
{
	static const char *const bad_ids[] = {"", "3FA2B4C5D6E7F809", "3fa2b4c5d6e7f8", "3fa2b4c5d6e7f809aa", "3fa2b4c5d6e7f8zz"};
	rb_backup_metadata m,
				back;
	rb_buf		json = RB_BUF_INIT;
	rb_error	err = {0};
	char	   *p;

	fill(&m, "x");
	rb_backup_metadata_to_json(&m, &json);
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
	{
		rb_buf		doc = RB_BUF_INIT;

		p = strstr(json.data, "\"key_id\": \"3fa2b4c5d6e7f809\"");
		assert_non_null(p);
		rb_buf_append(&doc, json.data, (size_t) (p - json.data));
		rb_buf_appendf(&doc, "\"key_id\": \"%s\"", bad_ids[i]);
		rb_buf_append_str(&doc, p + strlen("\"key_id\": \"3fa2b4c5d6e7f809\""));
		assert_int_not_equal(rb_backup_metadata_from_json(doc.data, doc.len, &back, &err), 0);
		assert_non_null(strstr(err.msg, "key_id"));
		rb_backup_metadata_free(&back);
		rb_buf_free(&doc);
	}
	/* key_id null while encrypted */
	{
		rb_buf		doc = RB_BUF_INIT;

		p = strstr(json.data, "\"key_id\": \"3fa2b4c5d6e7f809\"");
		rb_buf_append(&doc, json.data, (size_t) (p - json.data));
		rb_buf_append_str(&doc, "\"key_id\": null");
		rb_buf_append_str(&doc, p + strlen("\"key_id\": \"3fa2b4c5d6e7f809\""));
		assert_int_not_equal(rb_backup_metadata_from_json(doc.data, doc.len, &back, &err), 0);
		rb_backup_metadata_free(&back);
		rb_buf_free(&doc);
	}
	rb_buf_free(&json);
	rb_backup_metadata_free(&m);

	/* a document without the two fields (written before them) is not encrypted */
	fill(&m, NULL);
	rb_backup_metadata_to_json(&m, &json);
	p = strstr(json.data, "  \"encryption\": \"none\",\n  \"key_id\": null,\n");
	assert_non_null(p);
	memmove(p, p + strlen("  \"encryption\": \"none\",\n  \"key_id\": null,\n"),
			strlen(p + strlen("  \"encryption\": \"none\",\n  \"key_id\": null,\n")) + 1);
	assert_int_equal(rb_backup_metadata_from_json(json.data, strlen(json.data), &back, &err), 0);
	assert_false(rb_backup_metadata_encrypted(&back));
	assert_null(back.encryption);
	assert_null(back.key_id);
	rb_backup_metadata_free(&back);
	rb_backup_metadata_free(&m);
	rb_buf_free(&json);
}

static void
test_json_string_escapes(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	rb_error	err;
	rb_json    *v;

	rb_json_append_string(&b, "\b\f\x7f");
	assert_string_equal(rb_buf_str(&b), "\"\\b\\f\\u007f\"");
	rb_buf_reset(&b);
	rb_json_append_string(&b, "q\"s\\n\nr\rt\t\x01\x1f~\xc3\xa9");
	assert_string_equal(rb_buf_str(&b), "\"q\\\"s\\\\n\\nr\\rt\\t\\u0001\\u001f~\xc3\xa9\"");
	rb_buf_reset(&b);
	rb_json_append_string(&b, NULL);
	assert_string_equal(rb_buf_str(&b), "null");
	rb_buf_reset(&b);

	rb_error_clear(&err);
	rb_json_append_string(&b, "\b\f\x7f\x01\"\\\xc3\xa9");
	v = rb_json_parse(b.data, b.len, &err);
	assert_non_null(v);
	assert_int_equal(v->type, RB_JSON_STRING);
	assert_string_equal(v->text, "\b\f\x7f\x01\"\\\xc3\xa9");
	rb_json_free(v);
	rb_buf_free(&b);
}

static void
test_table_keys(void **state)
{
	static const char *names[][2] = {
		{"public", "t"}, {"a.b", "c"}, {"a", "b.c"}, {"\"", "\"\""}, {"", "x"},
		{"x y", "Z W"}, {"ünï", "✓"}, {"a\"b.c", "..."},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
	{
		char	   *key = rb_table_key_format(names[i][0], names[i][1]);
		char	   *s,
				   *t;

		assert_int_equal(rb_table_key_parse(key, &s, &t), 0);
		assert_string_equal(s, names[i][0]);
		assert_string_equal(t, names[i][1]);
		free(key);
		free(s);
		free(t);
	}
	{
		char	   *key = rb_table_key_format("public", "t");

		assert_string_equal(key, "public.t");
		free(key);
		key = rb_table_key_format("a.b", "say \"hi\"");
		assert_string_equal(key, "\"a.b\".\"say \"\"hi\"\"\"");
		free(key);
	}
	{
		const char *bad[] = {"nodot", "\"unterminated.x", "a.", ".b", "\"a\"x.b", "a\"b.c"};

		for (size_t i = 0; i < 6; i++)
		{
			char	   *s = (char *) 1,
					   *t = (char *) 1;

			if (rb_table_key_parse(bad[i], &s, &t) == 0)
				fail_msg("accepted \"%s\"", bad[i]);
			assert_null(s);
			assert_null(t);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_empty_counts_and_unicode_escapes),
		cmocka_unit_test(test_bad_documents),
		cmocka_unit_test(test_encryption_fields),
		cmocka_unit_test(test_json_string_escapes),
		cmocka_unit_test(test_table_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
