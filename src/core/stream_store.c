/*
 * stream_store.c — original SHA-256 → compressor → (encryptor) → stored SHA-256
 * and count → destination writer (see stream_store.h).
 */
#include "stream_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encrypt_stream.h"
#include "rb_alloc.h"
#include "rb_crypto.h"
#include "stage_chain.h"

struct rb_stream_store
{
	rb_digest  *original_sha;	/* NULL with no_original_sha256 */
	uint64_t	original_bytes;
	rb_compressor *comp;
	rb_encryptor *enc;
	rb_digest  *stored_sha;
	uint64_t	stored_bytes;
	rb_dest_writer *writer;
	char	   *what;			/* see rb_stream_store_params.what; NULL = no context */
	char	   *url;			/* the object's URL, with what */
};

/* The last stage: hash, count, store. */
static int
sink_write(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_stream_store *s = arg;

	if (rb_digest_update(s->stored_sha, data, len, err) < 0)
		return -1;
	if (rb_dest_writer_write(s->writer, data, len, err) < 0)
		return -1;
	s->stored_bytes += len;
	return 0;
}

/* Between the compressor and the sink when the object is encrypted. */
static int
encrypt_write(void *arg, const void *data, size_t len, rb_error *err)
{
	return rb_encryptor_write((rb_encryptor *) arg, data, len, err);
}

/* "could not store the <what> at <URL>: " before a failure to store, with what. */
static void
storing_failed(const rb_stream_store *s, rb_error *err)
{
	if (s->what != NULL)
		rb_error_prefix(err, "could not store the %s at %s: ", s->what, s->url);
}

static void
stream_store_free(rb_stream_store *s)
{
	if (s == NULL)
		return;
	rb_compressor_free(s->comp);
	rb_encryptor_free(s->enc);
	rb_digest_free(s->original_sha);
	rb_digest_free(s->stored_sha);
	free(s->what);
	free(s->url);
	free(s);
}

rb_stream_store *
rb_stream_store_open(const rb_stream_store_params *p, rb_error *err)
{
	rb_stream_store *s;

	if (p == NULL || p->dest == NULL || p->key == NULL)
	{
		rb_error_set(err, RB_ERR_INTERNAL, "stream store parameters incomplete (destination and key are required)");
		return NULL;
	}
	s = rb_calloc(1, sizeof(*s));
	if (p->what != NULL)
	{
		s->what = rb_strdup(p->what);
		s->url = rb_destination_url_for(p->dest, p->key);
	}
	if (!p->no_original_sha256)
	{
		s->original_sha = rb_digest_new(RB_DIGEST_SHA256, err);
		if (s->original_sha == NULL)
			goto fail;
	}
	s->stored_sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (s->stored_sha == NULL)
		goto fail;
	/* first: the encryptor may hand its header to the sink at once */
	s->writer = rb_destination_writer_open(p->dest, p->key, err);
	if (s->writer == NULL)
	{
		storing_failed(s, err);
		goto fail;
	}
	if (p->encryption_key != NULL)
	{
		s->enc = rb_encryptor_new(p->encryption_key, sink_write, s, err);
		if (s->enc == NULL)
		{
			if (s->what != NULL)
				rb_error_prefix(err, "could not start the encryption of the %s: ", s->what);
			goto fail;
		}
	}
	s->comp = rb_compressor_new(p->compression, p->compression_level, p->compression_workers,
								s->enc ? encrypt_write : sink_write,
								s->enc ? (void *) s->enc : (void *) s, err);
	if (s->comp == NULL)
		goto fail;
	return s;

fail:
	rb_stream_store_abort(s);
	return NULL;
}

int
rb_stream_store_write(rb_stream_store *s, const void *data, size_t len, rb_error *err)
{
	if (s->original_sha != NULL && rb_digest_update(s->original_sha, data, len, err) < 0)
		return -1;
	s->original_bytes += len;
	if (rb_compressor_write(s->comp, data, len, err) < 0)
	{
		/* the compressor's own failures are no destination's */
		if (err != NULL && err->code != RB_ERR_INTERNAL)
			storing_failed(s, err);
		return -1;
	}
	return 0;
}

int
rb_stream_store_pump(rb_stream_store *s, int timeout_ms, rb_error *err)
{
	if (rb_dest_writer_pump(s->writer, timeout_ms, err) < 0)
	{
		storing_failed(s, err);
		return -1;
	}
	return 0;
}

void
rb_stream_store_counts(const rb_stream_store *s, uint64_t *original_bytes,
					   uint64_t *stored_bytes)
{
	if (original_bytes != NULL)
		*original_bytes = s->original_bytes;
	if (stored_bytes != NULL)
		*stored_bytes = s->stored_bytes;
}

int
rb_stream_store_commit(rb_stream_store *s, rb_stream_store_result *res, rb_error *err)
{
	rb_dest_writer *w;
	int			rc;

	memset(res, 0, sizeof(*res));
	if (rb_compressor_finish(s->comp, err) < 0 ||
		(s->enc != NULL && rb_encryptor_finish(s->enc, err) < 0))
	{
		storing_failed(s, err);
		rb_stream_store_abort(s);
		return -1;
	}
	if ((s->original_sha != NULL &&
		 rb_digest_final_hex(s->original_sha, res->original_sha256, err) < 0) ||
		rb_digest_final_hex(s->stored_sha, res->stored_sha256, err) < 0)
	{
		rb_stream_store_abort(s);
		return -1;
	}
	res->original_bytes = s->original_bytes;
	res->stored_bytes = s->stored_bytes;
	w = s->writer;
	s->writer = NULL;
	rc = rb_dest_writer_commit(w, err);	/* frees w whatever happens */
	if (rc < 0)
		storing_failed(s, err);
	stream_store_free(s);
	return rc;
}

void
rb_stream_store_abort(rb_stream_store *s)
{
	if (s == NULL)
		return;
	if (s->writer != NULL)
		rb_dest_writer_abort(s->writer);
	s->writer = NULL;
	stream_store_free(s);
}

/* A file descriptor as the chain's source, read to its end (a file: no waits). */
static ssize_t
fd_read(void *arg, void *buf, size_t cap, int timeout_ms, rb_error *err)
{
	int			fd = *(const int *) arg;

	(void) timeout_ms;

	for (;;)
	{
		ssize_t		n = read(fd, buf, cap);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return rb_error_set(err, RB_ERR_IO, "could not read the file: %s", strerror(errno));
	}
}

int
rb_stream_store_fd(const rb_stream_store_params *p, int fd, rb_stream_store_result *res,
				   const rb_hooks *hooks, rb_error *err)
{
	rb_chain_params cp;
	rb_chain_result cr;
	int			rc;

	memset(&cp, 0, sizeof(cp));
	if (p != NULL)
		cp.store = *p;			/* else incomplete: the store says so */
	cp.source.read = fd_read;
	cp.source.arg = &fd;
	rc = rb_chain_run(&cp, &cr, hooks, err);
	*res = rc == 0 ? cr.stored : (rb_stream_store_result) {0};
	return rc;
}
