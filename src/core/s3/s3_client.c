/*
 * s3_client.c — the S3 client object and its single-request operations: PutObject,
 * GetObject (streamed, ranged), HeadObject, ListObjectsV2 (paginated),
 * DeleteObject and DeleteObjects.  Transport, retries and the breaker are in
 * s3_http.c; the streaming multipart writer in s3_upload.c.
 */
#include "s3_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "rb_alloc.h"
#include "rb_crypto.h"
#include "s3_sse.h"
#include "s3_xml.h"

/* --- options and lifecycle ------------------------------------------------------- */

int
rb_s3_uri_style_parse(const char *name, rb_s3_uri_style *style, rb_error *err)
{
	if (name == NULL || name[0] == '\0' || strcmp(name, "auto") == 0)
		*style = RB_S3_URI_AUTO;
	else if (strcmp(name, "path") == 0)
		*style = RB_S3_URI_PATH;
	else if (strcmp(name, "virtual") == 0)
		*style = RB_S3_URI_VIRTUAL;
	else
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid S3 URI style \"%s\": must be path, virtual or auto", name);
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return (s && s[0]) ? strdup(s) : NULL;
}

rb_s3_client *
rb_s3_client_new(const rb_s3_options *opt, const rb_hooks *hooks, rb_error *err)
{
	rb_s3_client *c;
	const char *region;

	if (opt == NULL || opt->credentials == NULL || opt->credentials->access_key_id[0] == '\0' ||
		opt->credentials->secret_access_key[0] == '\0')
	{
		rb_error_set(err, RB_ERR_AUTH, "S3 credentials are missing (access key id and secret access key)");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	region = (opt->region && opt->region[0]) ? opt->region : RB_S3_DEFAULT_REGION;
	if (rb_s3_sse_check(opt->sse, opt->sse_kms_key_id, err) < 0)
		goto fail;
	if (rb_s3_endpoint_init(&c->ep, opt->endpoint, region, opt->bucket, opt->uri_style, err) < 0)
		goto fail;

	c->bucket = strdup(opt->bucket);
	c->region = strdup(region);
	c->ca_file = dup_or_null(opt->ca_file);
	c->sse = dup_or_null(opt->sse);
	c->sse_kms_key_id = dup_or_null(opt->sse_kms_key_id);
	if (c->bucket == NULL || c->region == NULL || (opt->ca_file && opt->ca_file[0] && c->ca_file == NULL) ||
		(opt->sse && opt->sse[0] && c->sse == NULL) ||
		(opt->sse_kms_key_id && opt->sse_kms_key_id[0] && c->sse_kms_key_id == NULL))
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto fail;
	}
	c->cred = *opt->credentials;
	c->tls_insecure = opt->tls_insecure;
	c->log_requests = opt->log_requests;
	c->connect_timeout_s = opt->connect_timeout_s > 0 ? opt->connect_timeout_s : RB_S3_DEFAULT_CONNECT_TIMEOUT_S;
	c->low_speed_time_s = opt->low_speed_time_s > 0 ? opt->low_speed_time_s : RB_S3_DEFAULT_LOW_SPEED_TIME_S;

	c->request_timeout_ms = opt->request_timeout_ms > 0 ? opt->request_timeout_ms
		: opt->request_timeout_ms == 0 ? RB_S3_DEFAULT_REQUEST_TIMEOUT_MS : 0;
	if (opt->operation_timeout_ms > 0)
	{
		c->operation_timeout_ms = opt->operation_timeout_ms;
		c->expires_at_ms = rb_now_ms() + opt->operation_timeout_ms;
	}

	c->retry = opt->retry ? *opt->retry : rb_retry_policy_default();
	if (rb_retry_policy_validate(&c->retry, err) < 0)
		goto fail;
	c->rng = opt->rng_seed ? opt->rng_seed
		: ((uint64_t) rb_now_ms() * 2654435761u) ^ ((uint64_t) getpid() << 32) ^ (uint64_t) time(NULL);

	c->part_size = opt->part_size ? opt->part_size : RB_S3_DEFAULT_PART_SIZE;
	if (c->part_size > RB_S3_MAX_PART_SIZE)
	{
		rb_error_set(err, RB_ERR_INVALID, "S3 part size %zu is larger than the maximum of 5 GiB", c->part_size);
		goto fail;
	}
	if (c->part_size < RB_S3_MIN_PART_SIZE && !opt->allow_small_parts)
	{
		rb_error_set(err, RB_ERR_INVALID, "S3 part size %zu is smaller than the minimum of 5 MiB", c->part_size);
		goto fail;
	}
	if (c->part_size < 1024)
	{
		rb_error_set(err, RB_ERR_INVALID, "S3 part size %zu is smaller than 1 kB", c->part_size);
		goto fail;
	}
	c->max_parts = opt->max_parts > 0 && opt->max_parts < RB_S3_MAX_PARTS ? opt->max_parts : RB_S3_MAX_PARTS;
	c->in_flight = opt->parts_in_flight ? opt->parts_in_flight : RB_S3_DEFAULT_IN_FLIGHT;
	if (c->in_flight < 1 || c->in_flight > RB_S3_MAX_IN_FLIGHT)
	{
		rb_error_set(err, RB_ERR_INVALID, "S3 parts in flight must be between 1 and %d", RB_S3_MAX_IN_FLIGHT);
		goto fail;
	}

	if (opt->breaker)
		c->breaker = opt->breaker;
	else
	{
		rb_breaker_init(&c->own_breaker,
						opt->breaker_threshold ? opt->breaker_threshold : RB_BREAKER_DEFAULT_THRESHOLD,
						opt->breaker_open_ms ? opt->breaker_open_ms : RB_BREAKER_DEFAULT_OPEN_INTERVAL_MS);
		c->breaker = &c->own_breaker;
	}
	c->breaker_lock = opt->breaker_lock;
	c->breaker_unlock = opt->breaker_unlock;
	c->breaker_lock_arg = opt->breaker_lock_arg;
	c->clock = opt->clock;
	c->clock_arg = opt->clock_arg;
	c->hooks = hooks;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
	{
		rb_error_set(err, RB_ERR_INTERNAL, "could not initialise libcurl");
		goto fail;
	}
	c->multi = curl_multi_init();
	if (c->multi == NULL)
	{
		curl_global_cleanup();
		rb_error_set(err, RB_ERR_NOMEM, "could not create a curl multi handle");
		goto fail;
	}
	return c;

fail:
	rb_aws_credentials_clear(&c->cred);
	free(c->bucket);
	free(c->region);
	free(c->ca_file);
	free(c->sse);
	free(c->sse_kms_key_id);
	free(c);
	return NULL;
}

void
rb_s3_client_free(rb_s3_client *c)
{
	if (c == NULL)
		return;
	while (c->nactive > 0)
		rb_s3_engine_cancel(c, c->active[0]);
	curl_multi_cleanup(c->multi);
	curl_global_cleanup();
	rb_aws_credentials_clear(&c->cred);
	free(c->bucket);
	free(c->region);
	free(c->ca_file);
	free(c->sse);
	free(c->sse_kms_key_id);
	free(c);
}

const char *
rb_s3_client_bucket(const rb_s3_client *c)
{
	return c->bucket;
}

const char *
rb_s3_client_endpoint(const rb_s3_client *c)
{
	return c->ep.normalized;
}

void
rb_s3_client_stats(const rb_s3_client *c, rb_s3_stats *out)
{
	*out = c->stats;
}

/* --- dates ------------------------------------------------------------------------- */

/* "2024-01-02T03:04:05.000Z" or "Tue, 02 Jan 2024 03:04:05 GMT" → epoch seconds, 0 if neither. */
int64_t
rb_s3_parse_date(const char *s)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm	tm;
	char		mon[4];
	int			y, mo, d, h, mi, sec;

	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) == 6)
	{
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
	}
	else
	{
		const char *comma = strchr(s, ',');

		if (comma == NULL || sscanf(comma + 1, " %d %3s %d %d:%d:%d", &d, mon, &y, &h, &mi, &sec) != 6)
			return 0;
		tm.tm_mon = -1;
		for (int i = 0; i < 12; i++)
			if (strcasecmp(mon, months[i]) == 0)
				tm.tm_mon = i;
		if (tm.tm_mon < 0)
			return 0;
		tm.tm_year = y - 1900;
	}
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t) timegm(&tm);
}

/* --- operations ------------------------------------------------------------------- */

static int
check_key(rb_s3_client *c, const char *op, const char *key, rb_error *err)
{
	if (rb_s3_key_validate(key, err) < 0)
	{
		rb_error_prefix(err, "%s s3://%s: ", op, c->bucket);
		return -1;
	}
	return 0;
}

/* --- conditional writes ------------------------------------------------------------ */

bool
rb_s3_error_is_conflict(const rb_error *e)
{
	return e->http_status == 412 || strcmp(e->remote_code, "PreconditionFailed") == 0 ||
		strcmp(e->remote_code, "ConditionalRequestConflict") == 0;
}

int
rb_s3_conditional_write_refused(rb_s3_client *c, const rb_s3_xfer *x, const char *expect_etag,
								rb_error *err)
{
	int			status = x->err.http_status;
	char		code[sizeof(x->err.remote_code)];

	snprintf(code, sizeof(code), "%s", x->err.remote_code);
	/*
	 * When an earlier attempt of this very request was sent, its answer may have
	 * been lost after the server stored the object: then the object at the key
	 * is ours, and its ETag says so.
	 */
	if (x->attempt > 1 && expect_etag != NULL && expect_etag[0] != '\0')
	{
		rb_s3_object_info *info = malloc(sizeof(*info));
		rb_error	herr;
		bool		ours;

		if (info == NULL)
			return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		rb_error_clear(&herr);
		ours = rb_s3_head_object(c, x->key, info, &herr) == 0 && strcasecmp(info->etag, expect_etag) == 0;
		free(info);
		if (ours)
		{
			rb_log(c->hooks, RB_LOG_INFO,
				   "s3: %s: the object at the key is the one an earlier attempt stored", x->what_log);
			if (err)
				rb_error_clear(err);
			return 0;
		}
	}
	rb_error_set(err, RB_ERR_EXISTS,
				 "%s: an object already exists at this key (%d %s): another writer stored it first; nothing was overwritten",
				 x->what_err, status, code[0] ? code : "PreconditionFailed");
	if (err)
	{
		err->http_status = status;
		snprintf(err->remote_code, sizeof(err->remote_code), "%s", code);
	}
	return -1;
}

static int
put_object(rb_s3_client *c, const char *key, const void *data, size_t len,
		   const char *content_type, bool if_absent, rb_error *err)
{
	rb_s3_xfer	x;
	int			rc;

	if (check_key(c, "PUT", key, err) < 0)
		return -1;
	rb_s3_xfer_init(&x, c, "PUT", key, NULL);
	snprintf(x.content_type, sizeof(x.content_type), "%s",
			 content_type ? content_type : "application/octet-stream");
	x.if_none_match = if_absent;
	x.sse = true;
	if (rb_s3_xfer_set_body(&x, data, len, true, err) < 0 ||
		rb_md5_hex(data ? data : "", len, x.expect_md5_hex, err) < 0)
	{
		rb_s3_xfer_cleanup(&x);
		rb_error_prefix(err, "PUT s3://%s/%s: ", c->bucket, key);
		return -1;
	}
	rc = rb_s3_xfer_run(c, &x, err);
	if (rc < 0 && if_absent && x.state == RB_XFER_DONE && rb_s3_error_is_conflict(&x.err))
		rc = rb_s3_conditional_write_refused(c, &x, x.expect_md5_hex, err);
	rb_s3_xfer_cleanup(&x);
	return rc;
}

int
rb_s3_put_object(rb_s3_client *c, const char *key, const void *data, size_t len,
				 const char *content_type, rb_error *err)
{
	return put_object(c, key, data, len, content_type, false, err);
}

int
rb_s3_put_object_if_absent(rb_s3_client *c, const char *key, const void *data, size_t len,
						   const char *content_type, rb_error *err)
{
	return put_object(c, key, data, len, content_type, true, err);
}

int
rb_s3_get_object(rb_s3_client *c, const char *key, int64_t first, int64_t last,
				 rb_s3_write_fn out, void *out_arg, rb_error *err)
{
	rb_s3_xfer	x;
	int			rc;

	if (check_key(c, "GET", key, err) < 0)
		return -1;
	if (first < 0 && last >= 0)
		return rb_error_set(err, RB_ERR_INVALID, "GET s3://%s/%s: a range end needs a range start",
							c->bucket, key);
	if (first >= 0 && last >= 0 && last < first)
		return rb_error_set(err, RB_ERR_INVALID, "GET s3://%s/%s: range end %lld is before its start %lld",
							c->bucket, key, (long long) last, (long long) first);
	rb_s3_xfer_init(&x, c, "GET", key, NULL);
	x.range_first = first;
	x.range_last = first >= 0 ? last : -1;
	x.sink = out;
	x.sink_arg = out_arg;
	rc = rb_s3_xfer_run(c, &x, err);
	rb_s3_xfer_cleanup(&x);
	return rc;
}

typedef struct buf_sink
{
	rb_buf	   *buf;
	size_t		max;
	size_t		got;
} buf_sink;

static int
buf_sink_write(void *arg, const void *data, size_t len, rb_error *err)
{
	buf_sink   *s = arg;

	if (s->got + len > s->max)
		return rb_error_set(err, RB_ERR_INVALID, "object is larger than %zu bytes", s->max);
	rb_buf_append(s->buf, data, len);
	s->got += len;
	return 0;
}

int
rb_s3_get_object_buf(rb_s3_client *c, const char *key, size_t max_size, rb_buf *buf, rb_error *err)
{
	buf_sink	s = {buf, max_size, 0};

	return rb_s3_get_object(c, key, -1, -1, buf_sink_write, &s, err);
}

int
rb_s3_head_object(rb_s3_client *c, const char *key, rb_s3_object_info *info, rb_error *err)
{
	rb_s3_xfer	x;
	int			rc;

	if (check_key(c, "HEAD", key, err) < 0)
		return -1;
	rb_s3_xfer_init(&x, c, "HEAD", key, NULL);
	rc = rb_s3_xfer_run(c, &x, err);
	if (rc == 0 && info)
	{
		memset(info, 0, sizeof(*info));
		snprintf(info->key, sizeof(info->key), "%s", key);
		info->size = x.content_length >= 0 ? (uint64_t) x.content_length : 0;
		snprintf(info->etag, sizeof(info->etag), "%s", x.etag);
		snprintf(info->last_modified, sizeof(info->last_modified), "%s", x.last_modified);
		info->mtime = rb_s3_parse_date(x.last_modified);
	}
	rb_s3_xfer_cleanup(&x);
	return rc;
}

int
rb_s3_list_objects(rb_s3_client *c, const char *prefix, int page_size,
				   rb_s3_list_fn cb, void *cb_arg, rb_error *err)
{
	char	   *token = NULL;
	char		maxkeys[16];
	int			rc = 0;
	rb_s3_object_info *info;

	if (page_size <= 0 || page_size > 1000)
		page_size = 1000;
	snprintf(maxkeys, sizeof(maxkeys), "%d", page_size);
	info = malloc(sizeof(*info));
	if (info == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");

	for (;;)
	{
		rb_s3_xfer	x;
		rb_s3_list_page page;
		bool		stop = false;

		memset(&page, 0, sizeof(page));
		rb_s3_xfer_init(&x, c, "GET", NULL, "list of ");
		if (prefix && prefix[0])
			snprintf(x.what_err, sizeof(x.what_err), "GET list of s3://%s/%s", c->bucket, prefix);
		rb_s3_xfer_add_query(&x, "list-type", "2");
		rb_s3_xfer_add_query(&x, "max-keys", maxkeys);
		if (prefix && prefix[0])
			rb_s3_xfer_add_query(&x, "prefix", prefix);
		if (token)
			rb_s3_xfer_add_query(&x, "continuation-token", token);
		rc = rb_s3_xfer_run(c, &x, err);
		if (rc == 0 && rb_s3_parse_list_objects_v2(rb_buf_str(&x.resp), x.resp.len, &page, err) < 0)
		{
			rb_error_prefix(err, "%s: ", x.what_err);
			rc = -1;
		}
		rb_s3_xfer_cleanup(&x);
		if (rc < 0)
			break;

		for (size_t i = 0; i < page.nobjects && !stop; i++)
		{
			const rb_s3_object *o = &page.objects[i];
			int			r;

			memset(info, 0, sizeof(*info));
			snprintf(info->key, sizeof(info->key), "%s", o->key ? o->key : "");
			info->size = o->size;
			rb_s3_etag_unquote(o->etag ? o->etag : "", info->etag, sizeof(info->etag));
			snprintf(info->last_modified, sizeof(info->last_modified), "%s",
					 o->last_modified ? o->last_modified : "");
			info->mtime = rb_s3_parse_date(info->last_modified);
			r = cb(cb_arg, info, err);
			if (r < 0)
				rc = -1;
			if (r != 0)
				stop = true;
		}
		free(token);
		token = NULL;
		if (!stop && page.is_truncated && page.next_continuation_token)
			token = rb_strdup(page.next_continuation_token);
		rb_s3_list_page_free(&page);
		if (stop || token == NULL)
			break;
	}
	free(token);
	free(info);
	return rc;
}

int
rb_s3_delete_object(rb_s3_client *c, const char *key, rb_error *err)
{
	rb_s3_xfer	x;
	int			rc;

	if (check_key(c, "DELETE", key, err) < 0)
		return -1;
	rb_s3_xfer_init(&x, c, "DELETE", key, NULL);
	rc = rb_s3_xfer_run(c, &x, err);
	/* S3 answers 204 for a missing key; some servers say NoSuchKey: the same thing. */
	if (rc < 0 && err && err->code == RB_ERR_NOT_FOUND && strcmp(err->remote_code, "NoSuchBucket") != 0)
	{
		rb_error_clear(err);
		rc = 0;
	}
	rb_s3_xfer_cleanup(&x);
	return rc;
}

int
rb_s3_delete_objects(rb_s3_client *c, const char *const *keys, size_t nkeys,
					 rb_s3_delete_error_fn on_error, void *on_error_arg,
					 size_t *nfailed, rb_error *err)
{
	size_t		failed = 0;
	char		first_failure[RB_ERROR_MSG_LEN / 2] = "";

	if (nfailed)
		*nfailed = 0;
	for (size_t i = 0; i < nkeys; i++)
		if (check_key(c, "DELETE", keys[i], err) < 0)
			return -1;

	for (size_t start = 0; start < nkeys; start += 1000)
	{
		size_t		n = nkeys - start < 1000 ? nkeys - start : 1000;
		rb_s3_xfer	x;
		rb_s3_delete_result res;
		int			rc;

		memset(&res, 0, sizeof(res));
		rb_s3_xfer_init(&x, c, "POST", NULL, "delete of keys in ");
		rb_s3_xfer_add_query(&x, "delete", "");
		rb_s3_build_delete_body(keys + start, n, true, &x.own_body);
		snprintf(x.content_type, sizeof(x.content_type), "application/xml");
		if (rb_s3_xfer_set_body(&x, x.own_body.data, x.own_body.len, true, err) < 0)
		{
			rb_s3_xfer_cleanup(&x);
			return -1;
		}
		rc = rb_s3_xfer_run(c, &x, err);
		if (rc == 0 && rb_s3_parse_delete_result(rb_buf_str(&x.resp), x.resp.len, &res, err) < 0)
		{
			rb_error_prefix(err, "%s: ", x.what_err);
			rc = -1;
		}
		rb_s3_xfer_cleanup(&x);
		if (rc < 0)
		{
			if (nfailed)
				*nfailed = failed;
			return -1;
		}
		for (size_t j = 0; j < res.nerrors; j++)
		{
			const rb_s3_delete_error *de = &res.errors[j];

			if (failed == 0)
				snprintf(first_failure, sizeof(first_failure), "%s: %s: %s",
						 de->key ? de->key : "", de->code ? de->code : "",
						 de->message ? de->message : "");
			failed++;
			if (on_error)
				on_error(on_error_arg, de->key ? de->key : "", de->code ? de->code : "",
						 de->message ? de->message : "");
		}
		rb_s3_delete_result_free(&res);
	}
	if (nfailed)
		*nfailed = failed;
	if (failed > 0)
		return rb_error_set(err, RB_ERR_REMOTE, "DELETE s3://%s: %zu of %zu keys not deleted; first: %s",
							c->bucket, failed, nkeys, first_failure);
	return 0;
}
