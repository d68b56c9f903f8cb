/*
 * s3_upload.c — the streaming multipart writer (see s3_upload.h): part buffers
 * filled as bytes arrive and hashed on the way (SHA-256 and MD5), full parts
 * handed to the client's engine (s3_http.c) while the next fills, completion and
 * abort.
 */
#include "s3_upload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rb_crypto.h"
#include "s3_internal.h"
#include "s3_xml.h"

#define PUMP_EVERY	((size_t) 256 * 1024)	/* let curl send after this many bytes */
#define PUMP_MS		20						/* ... or after this long, whichever first */
#define COPY_CHUNK	((size_t) 1024 * 1024)
#define MIB			((uint64_t) 1024 * 1024)

typedef struct part_slot
{
	unsigned char *buf;
	size_t		cap;
	size_t		len;
	int			part_no;
	bool		busy;			/* x is submitted and not yet harvested */
	rb_s3_xfer	x;
} part_slot;

struct rb_s3_upload
{
	rb_s3_client *c;
	char	   *key;
	char		content_type[128];
	char	   *upload_id;		/* NULL until the multipart upload exists */
	part_slot  *slots;
	int			nslots;
	part_slot  *fill;			/* the slot being filled, or NULL */
	rb_digest  *sha;
	rb_digest  *md5;
	char	  **etags;			/* etags[n - 1] = ETag of part n */
	int			etags_cap;
	int			next_part;		/* number the next filled slot gets */
	int			parts_done;
	uint64_t	total;
	size_t		since_pump;
	int64_t		last_pump_ms;
	size_t		buffer_bytes;
	size_t		buffer_peak;
	bool		if_absent;		/* If-None-Match: * on the PutObject or the completion */
	bool		failed;
	rb_error	err;
};

size_t
rb_s3_part_size_choose(uint64_t expected_bytes, size_t minimum)
{
	uint64_t	need;

	if (minimum == 0)
		minimum = RB_S3_DEFAULT_PART_SIZE;
	if (minimum > RB_S3_MAX_PART_SIZE)
		minimum = RB_S3_MAX_PART_SIZE;
	if (expected_bytes == 0)
		return minimum;
	/* expected × safety over the part limit, rounded up to a whole MiB */
	if (expected_bytes > UINT64_MAX / RB_S3_PART_SIZE_SAFETY)
		return RB_S3_MAX_PART_SIZE;
	need = (expected_bytes * RB_S3_PART_SIZE_SAFETY + RB_S3_MAX_PARTS - 1) / RB_S3_MAX_PARTS;
	need = (need + MIB - 1) / MIB * MIB;
	if (need > RB_S3_MAX_PART_SIZE)
		return RB_S3_MAX_PART_SIZE;
	return need > minimum ? (size_t) need : minimum;
}

uint64_t
rb_s3_upload_bytes(const rb_s3_upload *w)
{
	return w->total;
}

size_t
rb_s3_upload_buffer_peak(const rb_s3_upload *w)
{
	return w->buffer_peak;
}

/* Records the first failure; later ones keep the first message. */
static int
upload_fail(rb_s3_upload *w, const rb_error *e, rb_error *err)
{
	if (!w->failed)
	{
		w->failed = true;
		w->err = *e;
	}
	if (err && err != &w->err)
		*err = w->err;
	return -1;
}

static rb_s3_upload *
upload_begin(rb_s3_client *c, const char *key, const char *content_type, bool if_absent,
			 rb_error *err)
{
	rb_s3_upload *w;

	if (rb_s3_key_validate(key, err) < 0)
	{
		rb_error_prefix(err, "PUT s3://%s: ", c->bucket);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL)
		goto nomem;
	w->c = c;
	w->key = strdup(key);
	w->nslots = c->in_flight + 1;
	w->slots = calloc((size_t) w->nslots, sizeof(part_slot));
	if (w->key == NULL || w->slots == NULL)
		goto nomem;
	snprintf(w->content_type, sizeof(w->content_type), "%s",
			 content_type ? content_type : "application/octet-stream");
	w->sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (w->sha == NULL)
		goto fail;
	w->md5 = rb_digest_new(RB_DIGEST_MD5, err);
	if (w->md5 == NULL)
		goto fail;
	w->next_part = 1;
	w->if_absent = if_absent;
	return w;

nomem:
	rb_error_set(err, RB_ERR_NOMEM, "out of memory");
fail:
	if (w)
	{
		rb_digest_free(w->sha);
		free(w->slots);
		free(w->key);
		free(w);
	}
	return NULL;
}

rb_s3_upload *
rb_s3_upload_begin(rb_s3_client *c, const char *key, const char *content_type, rb_error *err)
{
	return upload_begin(c, key, content_type, false, err);
}

rb_s3_upload *
rb_s3_upload_begin_if_absent(rb_s3_client *c, const char *key, const char *content_type,
							 rb_error *err)
{
	return upload_begin(c, key, content_type, true, err);
}

/* Moves finished parts out of their slots; -1 when one failed. */
static int
harvest(rb_s3_upload *w, rb_error *err)
{
	for (int i = 0; i < w->nslots; i++)
	{
		part_slot  *s = &w->slots[i];

		if (!s->busy || s->x.state != RB_XFER_DONE)
			continue;
		if (s->x.ok)
		{
			char	   *etag = strdup(s->x.etag);

			if (etag == NULL)
			{
				rb_error	e;

				rb_error_clear(&e);
				rb_error_set(&e, RB_ERR_NOMEM, "out of memory");
				upload_fail(w, &e, NULL);
			}
			else
			{
				free(w->etags[s->part_no - 1]);
				w->etags[s->part_no - 1] = etag;
				w->parts_done++;
			}
		}
		else
			upload_fail(w, &s->x.err, NULL);
		rb_s3_xfer_cleanup(&s->x);
		s->busy = false;
	}
	if (w->failed)
	{
		if (err)
			*err = w->err;
		return -1;
	}
	return 0;
}

/* One pass of the engine without waiting, then harvest. */
static int
pump(rb_s3_upload *w, rb_error *err)
{
	rb_error	e;

	rb_error_clear(&e);
	w->since_pump = 0;
	w->last_pump_ms = rb_now_ms();
	if (rb_s3_engine_wait(w->c, NULL, 0, &e) < 0)
	{
		rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
		return upload_fail(w, &e, err);
	}
	return harvest(w, err);
}

static int
complete_check(rb_s3_xfer *x, bool *retry, rb_error *err)
{
	rb_s3_complete_result res;
	char	   *out = x->user;

	(void) retry;
	memset(&res, 0, sizeof(res));
	if (rb_s3_parse_complete_multipart(rb_buf_str(&x->resp), x->resp.len, &res, err) < 0)
		return -1;
	rb_s3_etag_unquote(res.etag ? res.etag : "", out, 80);
	rb_s3_complete_result_free(&res);
	return 0;
}

static int
initiate_check(rb_s3_xfer *x, bool *retry, rb_error *err)
{
	char	  **out = x->user;

	(void) retry;
	free(*out);
	*out = NULL;
	return rb_s3_parse_initiate_multipart(rb_buf_str(&x->resp), x->resp.len, out, err);
}

static int
create_multipart(rb_s3_upload *w, rb_error *err)
{
	rb_s3_xfer	x;
	rb_error	e;
	int			rc;

	rb_error_clear(&e);
	rb_s3_xfer_init(&x, w->c, "POST", w->key, "create multipart upload of ");
	rb_s3_xfer_add_query(&x, "uploads", "");
	snprintf(x.content_type, sizeof(x.content_type), "%s", w->content_type);
	x.check = initiate_check;
	x.user = &w->upload_id;
	x.sse = true;				/* the object's encryption is chosen here, not per part */
	rc = rb_s3_xfer_run(w->c, &x, &e);
	rb_s3_xfer_cleanup(&x);
	if (rc < 0)
	{
		free(w->upload_id);
		w->upload_id = NULL;
		if (e.code == RB_ERR_CANCELLED)
			rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
		return upload_fail(w, &e, err);
	}
	if (w->c->hooks != NULL && w->c->hooks->upload_started != NULL)
		w->c->hooks->upload_started(w->c->hooks->arg, w->c->bucket, w->key, w->upload_id);
	return 0;
}

/* Finishes the digests of the filled slot into sha hex, MD5 base64 and hex. */
static int
finish_digests(rb_s3_upload *w, char *sha_hex, char *md5_b64, char *md5_hex, rb_error *err)
{
	unsigned char md5[RB_MD5_LEN];
	rb_error	e;

	rb_error_clear(&e);
	if (rb_digest_final_hex(w->sha, sha_hex, &e) < 0 || rb_digest_final(w->md5, md5, &e) < 0)
	{
		rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
		return upload_fail(w, &e, err);
	}
	rb_base64_encode(md5, RB_MD5_LEN, md5_b64);
	rb_hex_encode(md5, RB_MD5_LEN, md5_hex);
	return 0;
}

/* Hands the filled slot to the engine as the next part. */
static int
submit_part(rb_s3_upload *w, rb_error *err)
{
	part_slot  *s = w->fill;
	char		what[48];
	char		num[16];

	if (w->upload_id == NULL && create_multipart(w, err) < 0)
		return -1;
	/* At most in_flight parts upload at once; the spare buffer waits full. */
	for (;;)
	{
		int			n = 0;

		if (harvest(w, err) < 0)
			return -1;
		for (int i = 0; i < w->nslots; i++)
			n += w->slots[i].busy ? 1 : 0;
		if (n < w->c->in_flight)
			break;
		{
			rb_error	e;

			rb_error_clear(&e);
			if (rb_s3_engine_wait(w->c, NULL, -1, &e) < 0)
			{
				rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
				return upload_fail(w, &e, err);
			}
		}
	}
	if (s->part_no > w->etags_cap)
	{
		int			ncap = w->etags_cap ? w->etags_cap * 2 : 64;
		char	  **n;

		while (ncap < s->part_no)
			ncap *= 2;
		n = realloc(w->etags, (size_t) ncap * sizeof(char *));
		if (n == NULL)
		{
			rb_error	e;

			rb_error_clear(&e);
			rb_error_set(&e, RB_ERR_NOMEM, "out of memory");
			return upload_fail(w, &e, err);
		}
		memset(n + w->etags_cap, 0, (size_t) (ncap - w->etags_cap) * sizeof(char *));
		w->etags = n;
		w->etags_cap = ncap;
	}

	snprintf(what, sizeof(what), "part %d of ", s->part_no);
	rb_s3_xfer_init(&s->x, w->c, "PUT", w->key, what);
	if (finish_digests(w, s->x.payload_sha256, s->x.content_md5, s->x.expect_md5_hex, err) < 0)
	{
		rb_s3_xfer_cleanup(&s->x);
		return -1;
	}
	snprintf(num, sizeof(num), "%d", s->part_no);
	rb_s3_xfer_add_query(&s->x, "partNumber", num);
	rb_s3_xfer_add_query(&s->x, "uploadId", w->upload_id);
	s->x.body = s->buf;
	s->x.body_len = s->len;
	s->x.user = s;
	s->busy = true;
	w->fill = NULL;
	rb_s3_engine_submit(w->c, &s->x);
	return pump(w, err);
}

/* Makes sure a slot is being filled, waiting for a part to finish if all are busy. */
static int
get_fill_slot(rb_s3_upload *w, rb_error *err)
{
	part_slot  *s = NULL;
	size_t		need;

	if (w->fill)
		return 0;
	if (w->next_part > w->c->max_parts)
	{
		/*
		 * Every part but the last has the same size (storage such as R2 refuses
		 * anything else), so the size cannot grow now: fail before a 10,001st
		 * part, naming the part size that would have fitted this stream.
		 */
		rb_error	e;
		uint64_t	suggest = rb_s3_part_size_choose(w->total + 1, w->c->part_size * 2);
		char		psize[32];

		if (w->c->part_size % MIB == 0)
			snprintf(psize, sizeof(psize), "%zu MiB", (size_t) (w->c->part_size / MIB));
		else
			snprintf(psize, sizeof(psize), "%zu bytes", w->c->part_size);
		rb_error_clear(&e);
		rb_error_set(&e, RB_ERR_INVALID,
					 "PUT s3://%s/%s: the stream is larger than %d parts of %s (%" PRIu64 " bytes): "
					 "every part but the last must have the same size, chosen at the start from the database's size; "
					 "set ripple_backup.s3_part_size to at least %" PRIu64 "MB and take the backup again",
					 w->c->bucket, w->key, w->c->max_parts, psize, w->total, suggest / MIB);
		return upload_fail(w, &e, err);
	}
	for (;;)
	{
		if (harvest(w, err) < 0)
			return -1;
		for (int i = 0; i < w->nslots && s == NULL; i++)
			if (!w->slots[i].busy)
				s = &w->slots[i];
		if (s)
			break;
		{
			rb_error	e;

			rb_error_clear(&e);
			if (rb_s3_engine_wait(w->c, NULL, -1, &e) < 0)
			{
				rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
				return upload_fail(w, &e, err);
			}
		}
	}

	need = w->c->part_size;		/* every part the same size: see s3_upload.h */
	if (s->cap != need)
	{
		w->buffer_bytes -= s->cap;
		free(s->buf);
		s->cap = 0;
		s->buf = malloc(need);
		if (s->buf == NULL)
		{
			rb_error	e;

			rb_error_clear(&e);
			rb_error_set(&e, RB_ERR_NOMEM, "out of memory for a part buffer of %zu bytes", need);
			return upload_fail(w, &e, err);
		}
		s->cap = need;
		w->buffer_bytes += need;
		if (w->buffer_bytes > w->buffer_peak)
			w->buffer_peak = w->buffer_bytes;
	}
	s->len = 0;
	s->part_no = w->next_part++;
	w->fill = s;
	return 0;
}

int
rb_s3_upload_write(rb_s3_upload *w, const void *data, size_t len, rb_error *err)
{
	const unsigned char *p = data;

	if (w->failed)
	{
		if (err)
			*err = w->err;
		return -1;
	}
	while (len > 0)
	{
		part_slot  *s;
		size_t		n;
		rb_error	e;

		if (get_fill_slot(w, err) < 0)
			return -1;
		s = w->fill;
		n = s->cap - s->len;
		if (n > len)
			n = len;
		if (n > COPY_CHUNK)
			n = COPY_CHUNK;
		memcpy(s->buf + s->len, p, n);
		rb_error_clear(&e);
		if (rb_digest_update(w->sha, p, n, &e) < 0 || rb_digest_update(w->md5, p, n, &e) < 0)
		{
			rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
			return upload_fail(w, &e, err);
		}
		s->len += n;
		w->total += n;
		w->since_pump += n;
		p += n;
		len -= n;
		if (s->len == s->cap)
		{
			if (submit_part(w, err) < 0)
				return -1;
		}
		else if ((w->since_pump >= PUMP_EVERY ||
				  (w->c->nactive > 0 && rb_now_ms() - w->last_pump_ms >= PUMP_MS)) &&
				 pump(w, err) < 0)
			return -1;
	}
	return 0;
}

static int
busy_parts(const rb_s3_upload *w)
{
	int			n = 0;

	for (int i = 0; i < w->nslots; i++)
		n += w->slots[i].busy ? 1 : 0;
	return n;
}

int
rb_s3_upload_pump(rb_s3_upload *w, int timeout_ms, rb_error *err)
{
	rb_error	e;

	if (w->failed)
	{
		if (err)
			*err = w->err;
		return -1;
	}
	if (busy_parts(w) == 0)
		return 0;
	rb_error_clear(&e);
	w->since_pump = 0;
	w->last_pump_ms = rb_now_ms();
	if (rb_s3_engine_wait(w->c, NULL, timeout_ms < 0 ? 0 : timeout_ms, &e) < 0)
	{
		rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
		return upload_fail(w, &e, err);
	}
	if (harvest(w, err) < 0)
		return -1;
	return busy_parts(w);
}

int
rb_s3_upload_write_cb(void *w, const void *data, size_t len, rb_error *err)
{
	return rb_s3_upload_write((rb_s3_upload *) w, data, len, err);
}

static void
upload_free(rb_s3_upload *w)
{
	for (int i = 0; i < w->nslots; i++)
	{
		part_slot  *s = &w->slots[i];

		if (s->busy)
		{
			rb_s3_engine_cancel(w->c, &s->x);
			rb_s3_xfer_cleanup(&s->x);
		}
		free(s->buf);
	}
	for (int i = 0; i < w->etags_cap; i++)
		free(w->etags[i]);
	free(w->etags);
	free(w->slots);
	rb_digest_free(w->sha);
	rb_digest_free(w->md5);
	free(w->upload_id);
	free(w->key);
	free(w);
}

/* A single PutObject of the stream, when it never filled a part. */
static int
put_single(rb_s3_upload *w, rb_s3_upload_result *result, rb_error *err)
{
	rb_s3_xfer	x;
	const unsigned char *data = w->fill ? w->fill->buf : (const unsigned char *) "";
	size_t		len = w->fill ? w->fill->len : 0;
	int			rc;

	rb_s3_xfer_init(&x, w->c, "PUT", w->key, NULL);
	if (finish_digests(w, x.payload_sha256, x.content_md5, x.expect_md5_hex, err) < 0)
	{
		rb_s3_xfer_cleanup(&x);
		return -1;
	}
	snprintf(x.content_type, sizeof(x.content_type), "%s", w->content_type);
	x.body = data;
	x.body_len = len;
	x.if_none_match = w->if_absent;
	x.sse = true;
	rc = rb_s3_xfer_run(w->c, &x, err);
	if (rc < 0 && w->if_absent && x.state == RB_XFER_DONE && rb_s3_error_is_conflict(&x.err))
		rc = rb_s3_conditional_write_refused(w->c, &x, x.expect_md5_hex, err);
	if (rc == 0 && result)
	{
		result->size = w->total;
		result->parts = 0;
		result->multipart = false;
		snprintf(result->etag, sizeof(result->etag), "%s", x.etag);
	}
	rb_s3_xfer_cleanup(&x);
	return rc;
}

/*
 * The ETag S3 gives the object the parts make: the MD5 of the parts' binary
 * MD5s, then "-<parts>".  "" when a part's ETag is not an MD5 (SSE-KMS).
 */
static void
multipart_etag(const rb_s3_upload *w, char *out, size_t outsize)
{
	rb_digest  *d;
	unsigned char md5[RB_MD5_LEN];
	char		hex[RB_MD5_LEN * 2 + 1];
	rb_error	e;

	out[0] = '\0';
	rb_error_clear(&e);
	d = rb_digest_new(RB_DIGEST_MD5, &e);
	if (d == NULL)
		return;
	for (int i = 0; i < w->parts_done; i++)
	{
		if (w->etags[i] == NULL || !rb_hex_decode(w->etags[i], md5, RB_MD5_LEN) ||
			rb_digest_update(d, md5, RB_MD5_LEN, &e) < 0)
			goto done;
	}
	if (rb_digest_final(d, md5, &e) == 0)
	{
		rb_hex_encode(md5, RB_MD5_LEN, hex);
		snprintf(out, outsize, "%s-%d", hex, w->parts_done);
	}
done:
	rb_digest_free(d);
}

/*
 * After a CompleteMultipartUpload that failed in the end: whether an earlier
 * attempt of it took effect and only its answer was lost (the connection dropped,
 * the server restarted).  Its retries then find the upload gone (NoSuchUpload, or
 * a 500 from some servers), but the object at the key is ours: its ETag is the
 * multipart ETag of exactly the parts sent.
 */
static bool
completed_by_earlier_attempt(rb_s3_upload *w, const rb_s3_xfer *x, const rb_error *e)
{
	rb_s3_object_info *info;
	rb_error	herr;
	char		expect[80];
	bool		ours;

	if (x->attempt < 2 || (e != NULL && e->code == RB_ERR_CANCELLED))
		return false;
	multipart_etag(w, expect, sizeof(expect));
	if (expect[0] == '\0')
		return false;
	info = malloc(sizeof(*info));
	if (info == NULL)
		return false;
	rb_error_clear(&herr);
	ours = rb_s3_head_object(w->c, w->key, info, &herr) == 0 && strcasecmp(info->etag, expect) == 0;
	free(info);
	if (ours)
		rb_log(w->c->hooks, RB_LOG_INFO,
			   "s3: complete multipart upload of %s: the object at the key is the one an earlier attempt completed",
			   w->key);
	return ours;
}

static int
complete_multipart(rb_s3_upload *w, rb_s3_upload_result *result, rb_error *err)
{
	rb_s3_xfer	x;
	char		etag[80] = "";
	int			rc;

	for (int i = 0; i < w->parts_done; i++)
		if (w->etags[i] == NULL)
			return rb_error_set(err, RB_ERR_INTERNAL, "PUT s3://%s/%s: part %d has no ETag",
								w->c->bucket, w->key, i + 1);
	rb_s3_xfer_init(&x, w->c, "POST", w->key, "complete multipart upload of ");
	rb_s3_xfer_add_query(&x, "uploadId", w->upload_id);
	rb_s3_build_complete_body((const char *const *) w->etags, (size_t) w->parts_done, &x.own_body);
	snprintf(x.content_type, sizeof(x.content_type), "application/xml");
	if (rb_s3_xfer_set_body(&x, x.own_body.data, x.own_body.len, false, err) < 0)
	{
		rb_s3_xfer_cleanup(&x);
		return -1;
	}
	x.check = complete_check;
	x.user = etag;
	x.if_none_match = w->if_absent;
	rc = rb_s3_xfer_run(w->c, &x, err);
	if (rc < 0 && w->if_absent && x.state == RB_XFER_DONE && rb_s3_error_is_conflict(&x.err))
	{
		char		expect[80];

		multipart_etag(w, expect, sizeof(expect));
		rc = rb_s3_conditional_write_refused(w->c, &x, expect, err);
		if (rc == 0)
			snprintf(etag, sizeof(etag), "%s", expect);
	}
	else if (rc < 0 && completed_by_earlier_attempt(w, &x, err))
	{
		multipart_etag(w, etag, sizeof(etag));
		if (err)
			rb_error_clear(err);
		rc = 0;
	}
	rb_s3_xfer_cleanup(&x);
	if (rc == 0 && result)
	{
		result->size = w->total;
		result->parts = w->parts_done;
		result->multipart = true;
		snprintf(result->etag, sizeof(result->etag), "%s", etag);
	}
	return rc;
}

/*
 * Aborts the multipart upload on the server (if any); failures are warnings
 * naming the upload id, and go to the upload_abandoned hook so the caller can
 * record the upload for a later abort.
 */
static void
abort_remote(rb_s3_upload *w)
{
	rb_s3_xfer	x;
	rb_error	e;
	int			rc;

	for (int i = 0; i < w->nslots; i++)
	{
		part_slot  *s = &w->slots[i];

		if (s->busy)
		{
			rb_s3_engine_cancel(w->c, &s->x);
			rb_s3_xfer_cleanup(&s->x);
			s->busy = false;
		}
	}
	if (w->upload_id == NULL)
		return;
	rb_error_clear(&e);
	rb_s3_xfer_init(&x, w->c, "DELETE", w->key, "multipart upload of ");
	rb_s3_xfer_add_query(&x, "uploadId", w->upload_id);
	x.ignore_cancel = true;
	x.max_attempts = 2;
	rc = rb_s3_xfer_run(w->c, &x, &e);
	if (rc == 0)
		rb_log(w->c->hooks, RB_LOG_INFO, "s3: aborted the multipart upload of %s", w->key);
	else if (e.http_status == 405 || e.http_status == 501)
		rb_log(w->c->hooks, RB_LOG_WARNING,
			   "s3: the server cannot abort multipart uploads (%d); the parts uploaded for %s (upload id %s) remain until a lifecycle rule removes them",
			   e.http_status, w->key, w->upload_id);
	else
		rb_log(w->c->hooks, RB_LOG_WARNING,
			   "s3: could not abort the multipart upload of %s (upload id %s): %s",
			   w->key, w->upload_id, e.msg);
	if (rc != 0 && w->c->hooks != NULL && w->c->hooks->upload_abandoned != NULL)
		w->c->hooks->upload_abandoned(w->c->hooks->arg, w->c->bucket, w->key, w->upload_id, e.msg);
	rb_s3_xfer_cleanup(&x);
	free(w->upload_id);
	w->upload_id = NULL;
}

int
rb_s3_upload_finish(rb_s3_upload *w, rb_s3_upload_result *result, rb_error *err)
{
	rb_error	e;

	rb_error_clear(&e);
	if (result)
		memset(result, 0, sizeof(*result));
	if (w->failed)
		goto failed;

	if (w->upload_id == NULL)
	{
		/* Nothing was handed over yet: one PutObject (even of zero bytes). */
		if (put_single(w, result, &e) < 0)
		{
			upload_fail(w, &e, NULL);
			goto failed;
		}
		upload_free(w);
		return 0;
	}

	if (w->fill && w->fill->len > 0)
	{
		if (submit_part(w, &e) < 0)
			goto failed;
	}
	w->fill = NULL;
	for (;;)
	{
		bool		busy = false;

		if (harvest(w, &e) < 0)
			goto failed;
		for (int i = 0; i < w->nslots; i++)
			busy |= w->slots[i].busy;
		if (!busy)
			break;
		if (rb_s3_engine_wait(w->c, NULL, -1, &e) < 0)
		{
			rb_error_prefix(&e, "PUT s3://%s/%s: ", w->c->bucket, w->key);
			upload_fail(w, &e, NULL);
			goto failed;
		}
	}
	if (complete_multipart(w, result, &e) < 0)
	{
		upload_fail(w, &e, NULL);
		goto failed;
	}
	upload_free(w);
	return 0;

failed:
	if (err)
		*err = w->err;
	abort_remote(w);
	upload_free(w);
	if (result)
		memset(result, 0, sizeof(*result));
	return -1;
}

void
rb_s3_upload_abort(rb_s3_upload *w)
{
	if (w == NULL)
		return;
	abort_remote(w);
	upload_free(w);
}
