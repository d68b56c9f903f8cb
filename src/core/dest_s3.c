/*
 * dest_s3.c — the s3:// destination on the S3 client (s3_client.h, s3_upload.h):
 * keys are prefixed with the URL's prefix; large objects go through the streaming
 * multipart upload, which is aborted on failure so no partial object remains.
 * New objects (the writer, create_small) are conditional writes (If-None-Match: *)
 * after dest.c's HEAD.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"
#include "s3/s3_credentials.h"
#include "dest_impl.h"
#include "s3/s3_client.h"
#include "s3/s3_upload.h"

/* prefix + "/" + key, malloc'd */
static char *
full_key(const rb_destination *d, const char *key)
{
	size_t		n = strlen(d->prefix) + strlen(key) + 2;
	char	   *r = rb_malloc(n);

	snprintf(r, n, "%s%s%s", d->prefix, d->prefix[0] ? "/" : "", key);
	return r;
}

static void *
s3_writer_open(rb_destination *d, const char *key, rb_error *err)
{
	char	   *k = full_key(d, key);
	rb_s3_upload *w = rb_s3_upload_begin_if_absent(d->impl, k, NULL, err);

	free(k);
	return w;
}

static int
s3_writer_write(void *w, const void *data, size_t len, rb_error *err)
{
	return rb_s3_upload_write(w, data, len, err);
}

static int
s3_writer_pump(void *w, int timeout_ms, rb_error *err)
{
	return rb_s3_upload_pump(w, timeout_ms, err);
}

static int
s3_writer_commit(void *w, rb_error *err)
{
	return rb_s3_upload_finish(w, NULL, err);
}

static void
s3_writer_abort(void *w)
{
	rb_s3_upload_abort(w);
}

static int
put_one(rb_destination *d, const char *key, const void *data, size_t len, bool if_absent,
		rb_error *err)
{
	char	   *k = full_key(d, key);
	size_t		kl = strlen(k);
	const char *ctype = kl > 5 && strcmp(k + kl - 5, ".json") == 0 ? "application/json" : NULL;
	int			rc = if_absent ? rb_s3_put_object_if_absent(d->impl, k, data, len, ctype, err)
		: rb_s3_put_object(d->impl, k, data, len, ctype, err);

	free(k);
	return rc;
}

static int
s3_put_small(rb_destination *d, const char *key, const void *data, size_t len, rb_error *err)
{
	return put_one(d, key, data, len, false, err);
}

static int
s3_create_small(rb_destination *d, const char *key, const void *data, size_t len, rb_error *err)
{
	return put_one(d, key, data, len, true, err);
}

static int
s3_get(rb_destination *d, const char *key, uint64_t offset, uint64_t length,
	   rb_write_fn out, void *out_arg, rb_error *err)
{
	char	   *k = full_key(d, key);
	int64_t		first = (offset == 0 && length == 0) ? -1 : (int64_t) offset;
	int64_t		last = length == 0 ? -1 : (int64_t) (offset + length - 1);
	int			rc = rb_s3_get_object(d->impl, k, first, last, out, out_arg, err);

	free(k);
	return rc;
}

static int
s3_head(rb_destination *d, const char *key, uint64_t *size, int64_t *mtime, rb_error *err)
{
	char	   *k = full_key(d, key);
	rb_s3_object_info *info = rb_calloc(1, sizeof(*info));
	int			rc;

	rc = rb_s3_head_object(d->impl, k, info, err);
	if (rc == 0)
	{
		*size = info->size;
		*mtime = info->mtime;
	}
	free(info);
	free(k);
	return rc;
}

typedef struct list_adapter
{
	const rb_destination *d;
	rb_list_fn	cb;
	void	   *arg;
} list_adapter;

static int
list_one(void *arg, const rb_s3_object_info *obj, rb_error *err)
{
	list_adapter *a = arg;
	size_t		plen = strlen(a->d->prefix);
	rb_object_info info;

	info.key = obj->key + (plen ? plen + 1 : 0);
	if (plen && (strncmp(obj->key, a->d->prefix, plen) != 0 || obj->key[plen] != '/'))
		return 0;				/* "prefix2/..." when the prefix is "prefix" */
	info.size = obj->size;
	info.mtime = obj->mtime;
	return a->cb(a->arg, &info, err) < 0 ? -1 : 0;
}

static int
s3_list(rb_destination *d, const char *prefix, rb_list_fn cb, void *cb_arg, rb_error *err)
{
	char	   *k;
	list_adapter a = {d, cb, cb_arg};
	int			rc;

	/* full_key would add a slash after the prefix even for an empty key prefix */
	if (prefix[0] == '\0')
	{
		size_t		n = strlen(d->prefix) + 2;

		k = rb_malloc(n);
		snprintf(k, n, "%s%s", d->prefix, d->prefix[0] ? "/" : "");
	}
	else
		k = full_key(d, prefix);
	rc = rb_s3_list_objects(d->impl, k, 0, list_one, &a, err);
	free(k);
	return rc;
}

static int
s3_delete(rb_destination *d, const char *key, rb_error *err)
{
	char	   *k = full_key(d, key);
	int			rc = rb_s3_delete_object(d->impl, k, err);

	free(k);
	return rc;
}

static void
s3_close(rb_destination *d)
{
	rb_s3_client_free(d->impl);
	d->impl = NULL;
}

static const rb_dest_ops s3_ops = {
	s3_writer_open, s3_writer_write, s3_writer_commit, s3_writer_abort, s3_writer_pump,
	s3_put_small, s3_get, s3_head, s3_list, s3_delete, s3_close, s3_create_small
};

int
rb_dest_s3_init(rb_destination *d, const rb_destination_options *opt, rb_error *err)
{
	rb_aws_credentials *cred = rb_calloc(1, sizeof(*cred));
	rb_s3_options so;
	rb_retry_policy retry = rb_retry_policy_default();

	memset(&so, 0, sizeof(so));
	if (rb_s3_uri_style_parse(opt->s3_uri_style, &so.uri_style, err) < 0 ||
		rb_aws_credentials_load(opt->s3_credentials_file, opt->s3_profile, cred, d->hooks, err) < 0)
	{
		rb_error_prefix(err, "destination \"%s\": ", d->url);
		free(cred);
		return -1;
	}
	so.endpoint = opt->s3_endpoint;
	so.region = opt->s3_region;
	so.bucket = d->location;
	so.credentials = cred;
	so.tls_insecure = opt->s3_tls_no_verify;
	so.log_requests = opt->s3_log_requests;
	so.ca_file = opt->s3_ca_file;
	so.sse = opt->s3_sse;
	so.sse_kms_key_id = opt->s3_sse_kms_key_id;
	so.part_size = opt->s3_part_size;
	if (opt->s3_expected_bytes > 0)
	{
		/* every non-final part the same size, chosen now for the whole stream */
		so.part_size = rb_s3_part_size_choose(opt->s3_expected_bytes, opt->s3_part_size);
		if (so.part_size > (opt->s3_part_size ? opt->s3_part_size : RB_S3_DEFAULT_PART_SIZE))
			rb_log(d->hooks, RB_LOG_INFO,
				   "s3: multipart parts of %zu MiB, so that 10,000 of them hold twice the database's %" PRIu64 " MiB",
				   so.part_size / (1024 * 1024), opt->s3_expected_bytes / (1024 * 1024));
	}
	so.allow_small_parts = opt->s3_allow_small_parts;
	so.parts_in_flight = opt->s3_parts_in_flight;
	so.request_timeout_ms = opt->s3_request_timeout_ms;
	so.operation_timeout_ms = opt->s3_operation_timeout_ms;
	so.breaker = opt->s3_breaker;
	so.breaker_lock = opt->s3_breaker_lock;
	so.breaker_unlock = opt->s3_breaker_unlock;
	so.breaker_lock_arg = opt->s3_breaker_lock_arg;
	so.breaker_threshold = opt->s3_breaker_threshold;
	so.breaker_open_ms = opt->s3_breaker_open_ms;
	so.clock = opt->s3_clock;
	so.clock_arg = opt->s3_breaker_lock_arg;
	if (opt->max_attempts > 0)
	{
		retry.max_attempts = opt->max_attempts;
		so.retry = &retry;
	}
	d->impl = rb_s3_client_new(&so, d->hooks, err);
	rb_aws_credentials_clear(cred);
	free(cred);
	if (d->impl == NULL)
	{
		rb_error_prefix(err, "destination \"%s\": ", d->url);
		return -1;
	}
	d->ops = &s3_ops;
	return 0;
}
