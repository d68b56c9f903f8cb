/*
 * dest_sweep.c — batch deletion and the abort of stale multipart uploads for
 * the retention sweep (see dest_sweep.h), over both destination kinds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest_sweep.h"
#include "dest_impl.h"
#include "rb_alloc.h"
#include "s3/s3_client.h"
#include "s3/s3_multipart.h"

/* prefix + "/" + key (S3), malloc'd */
static char *
s3_full_key(const rb_destination *d, const char *key)
{
	size_t		n = strlen(d->prefix) + strlen(key) + 2;
	char	   *r = rb_malloc(n);

	snprintf(r, n, "%s%s%s", d->prefix, d->prefix[0] ? "/" : "", key);
	return r;
}

static const char *
relative_key(const rb_destination *d, const char *full)
{
	size_t		plen = strlen(d->prefix);

	if (plen && strncmp(full, d->prefix, plen) == 0 && full[plen] == '/')
		return full + plen + 1;
	return full;
}

typedef struct batch_failures
{
	const rb_destination *d;
	rb_delete_failed_fn failed;
	void	   *arg;
	size_t		reported;
} batch_failures;

static void
on_batch_error(void *arg, const char *key, const char *code, const char *message)
{
	batch_failures *f = arg;
	char		reason[512];

	snprintf(reason, sizeof(reason), "%s: %s", code, message);
	f->reported++;
	if (f->failed)
		f->failed(f->arg, relative_key(f->d, key), reason);
}

static int
delete_one_by_one(rb_destination *d, const char *const *keys, size_t n,
				  rb_delete_failed_fn failed, void *failed_arg, rb_error *err)
{
	size_t		nfailed = 0;
	rb_error	first;

	rb_error_clear(&first);
	for (size_t i = 0; i < n; i++)
	{
		rb_error	e;

		rb_error_clear(&e);
		if (rb_destination_delete(d, keys[i], &e) == 0)
			continue;
		if (nfailed++ == 0)
			first = e;
		if (failed)
			failed(failed_arg, keys[i], e.msg);
		if (e.code == RB_ERR_CANCELLED)
			break;
	}
	if (nfailed == 0)
		return 0;
	*err = first;
	if (nfailed > 1)
		rb_error_prefix(err, "%zu of %zu keys not deleted; first: ", nfailed, n);
	return -1;
}

int
rb_destination_delete_keys(rb_destination *d, const char *const *keys, size_t n,
						   rb_delete_failed_fn failed, void *failed_arg,
						   bool *batch_unsupported, rb_error *err)
{
	char	  **full;
	batch_failures f = {d, failed, failed_arg, 0};
	int			rc;

	if (n == 0)
		return 0;
	if (d->kind != RB_DEST_S3 || n == 1)
		return delete_one_by_one(d, keys, n, failed, failed_arg, err);

	full = rb_malloc(n * sizeof(*full));
	for (size_t i = 0; i < n; i++)
		full[i] = s3_full_key(d, keys[i]);
	rc = rb_s3_delete_objects(d->impl, (const char *const *) full, n, on_batch_error, &f, NULL, err);
	for (size_t i = 0; i < n; i++)
		free(full[i]);
	free(full);
	if (rc < 0 && (err->http_status == 501 || err->http_status == 405))
	{
		if (batch_unsupported)
			*batch_unsupported = true;
		rb_error_clear(err);
		return delete_one_by_one(d, keys, n, failed, failed_arg, err);
	}
	/* a request that failed as a whole named no key: every key failed */
	if (rc < 0 && f.reported == 0 && failed)
		for (size_t i = 0; i < n; i++)
			failed(failed_arg, keys[i], err->msg);
	return rc;
}

typedef struct stale_ctx
{
	rb_destination *d;
	int64_t		before;
	size_t		aborted;
	char	  **keys;
	char	  **ids;
	size_t		n;
	size_t		cap;
} stale_ctx;

static int
collect_upload(void *arg, const char *key, const char *upload_id, int64_t initiated, rb_error *err)
{
	stale_ctx  *s = arg;

	(void) err;
	if (initiated == 0 || initiated >= s->before)
		return 0;
	if (s->n == s->cap)
	{
		s->cap = s->cap ? s->cap * 2 : 16;
		s->keys = rb_realloc(s->keys, s->cap * sizeof(char *));
		s->ids = rb_realloc(s->ids, s->cap * sizeof(char *));
	}
	s->keys[s->n] = rb_strdup(key);
	s->ids[s->n] = rb_strdup(upload_id);
	s->n++;
	return 0;
}

int
rb_destination_abort_stale_uploads(rb_destination *d, const char *prefix, int64_t before,
								   size_t *aborted, rb_error *err)
{
	stale_ctx	s;
	char	   *full;
	int			rc;

	*aborted = 0;
	if (d->kind != RB_DEST_S3)
		return 0;
	memset(&s, 0, sizeof(s));
	s.d = d;
	s.before = before;
	full = s3_full_key(d, prefix);
	rc = rb_s3_list_multipart_uploads(d->impl, full, collect_upload, &s, err);
	free(full);
	for (size_t i = 0; i < s.n; i++)
	{
		if (rc == 0)
		{
			if (rb_s3_abort_multipart_upload(d->impl, s.keys[i], s.ids[i], err) < 0)
				rc = -1;
			else
				(*aborted)++;
		}
		free(s.keys[i]);
		free(s.ids[i]);
	}
	free(s.keys);
	free(s.ids);
	return rc;
}

int
rb_destination_abort_upload(rb_destination *d, const char *bucket_key, const char *upload_id,
							rb_error *err)
{
	if (d->kind != RB_DEST_S3)
		return 0;
	return rb_s3_abort_multipart_upload(d->impl, bucket_key, upload_id, err);
}
