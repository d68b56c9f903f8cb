/*
 * verify_record.c — "<dump>.verify.json" (see verify_record.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_json.h"
#include "retention_keys.h"
#include "verify_record.h"

const char *
rb_verify_record_status(const rb_verify_record *r)
{
	return r->verified ? "verified" : "failed";
}

void
rb_verify_record_to_json(const rb_verify_record *r, rb_buf *out)
{
	rb_buf_appendf(out, "{\"format_version\": 1, \"backup_id\": %" PRId64 ", \"status\": ",
				   r->backup_id);
	rb_json_append_string(out, rb_verify_record_status(r));
	rb_buf_append_str(out, ", \"level\": ");
	rb_json_append_string(out, r->level);
	rb_buf_append_str(out, ", \"verified_at\": ");
	rb_json_append_string(out, r->verified_at);
	rb_buf_append_str(out, ", \"rows\": ");
	rb_json_append_string(out, r->rows);
	if (r->restore_seconds >= 0)
		rb_buf_appendf(out, ", \"restore_seconds\": %.3f", r->restore_seconds);
	else
		rb_buf_append_str(out, ", \"restore_seconds\": null");
	rb_buf_append_str(out, ", \"error\": ");
	rb_json_append_string(out, r->verified ? NULL : r->error);
	rb_buf_append_char(out, '}');
}

static void
copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

int
rb_verify_record_from_json(const char *text, size_t len, rb_verify_record *r, rb_error *err)
{
	rb_json    *doc = rb_json_parse(text, len, err);
	const char *status;

	memset(r, 0, sizeof(*r));
	r->restore_seconds = -1;
	if (doc == NULL)
		return -1;
	status = rb_json_get_string(doc, "status");
	if (doc->type != RB_JSON_OBJECT || status == NULL ||
		(strcmp(status, "verified") != 0 && strcmp(status, "failed") != 0))
	{
		rb_json_free(doc);
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"not a verification record: \"status\" must be \"verified\" or \"failed\"");
	}
	r->verified = strcmp(status, "verified") == 0;
	(void) rb_json_get_int64(doc, "backup_id", &r->backup_id);
	copy_str(r->level, sizeof(r->level), rb_json_get_string(doc, "level"));
	copy_str(r->verified_at, sizeof(r->verified_at), rb_json_get_string(doc, "verified_at"));
	copy_str(r->rows, sizeof(r->rows), rb_json_get_string(doc, "rows"));
	copy_str(r->error, sizeof(r->error), rb_json_get_string(doc, "error"));
	if (rb_json_get_double(doc, "restore_seconds", &r->restore_seconds) != 0)
		r->restore_seconds = -1;
	rb_json_free(doc);
	return 0;
}

void
rb_verify_record_store(rb_destination *d, const char *dump_key, const rb_verify_record *r,
					   const rb_hooks *hooks)
{
	char	   *key = rb_key_with_suffix(dump_key, RB_VERIFY_RECORD_SUFFIX);
	rb_buf		json = RB_BUF_INIT;
	rb_error	err;

	rb_verify_record_to_json(r, &json);
	rb_buf_append_char(&json, '\n');
	rb_error_clear(&err);
	if (rb_destination_put_small(d, key, json.data, json.len, &err) < 0)
		rb_log(hooks, RB_LOG_WARNING, "could not store the verification record \"%s\": %s",
			   key, err.msg);
	rb_buf_free(&json);
	free(key);
	rb_retention_mark_verified(d, dump_key, r->verified, hooks);
}
