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

#define READ_CHUNK (256 * 1024)

struct rb_stream_store
{
	rb_digest  *original_sha;
	uint64_t	original_bytes;
	rb_compressor *comp;
	rb_encryptor *enc;
	rb_digest  *stored_sha;
	uint64_t	stored_bytes;
	rb_dest_writer *writer;
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

void		rb_stream_store_abort(rb_stream_store *s);

static void
stream_store_free(rb_stream_store *s)
{
	if (s == NULL)
		return;
	rb_compressor_free(s->comp);
	rb_encryptor_free(s->enc);
	rb_digest_free(s->original_sha);
	rb_digest_free(s->stored_sha);
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
	s->original_sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (s->original_sha == NULL)
		goto fail;
	s->stored_sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (s->stored_sha == NULL)
		goto fail;
	/* first: the encryptor may hand its header to the sink at once */
	s->writer = rb_destination_writer_open(p->dest, p->key, err);
	if (s->writer == NULL)
		goto fail;
	if (p->encryption_key != NULL)
	{
		s->enc = rb_encryptor_new(p->encryption_key, sink_write, s, err);
		if (s->enc == NULL)
			goto fail;
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
	if (rb_digest_update(s->original_sha, data, len, err) < 0)
		return -1;
	s->original_bytes += len;
	return rb_compressor_write(s->comp, data, len, err);
}

int
rb_stream_store_commit(rb_stream_store *s, rb_stream_store_result *res, rb_error *err)
{
	rb_dest_writer *w;

	memset(res, 0, sizeof(*res));
	if (rb_compressor_finish(s->comp, err) < 0 ||
		(s->enc != NULL && rb_encryptor_finish(s->enc, err) < 0) ||
		rb_digest_final_hex(s->original_sha, res->original_sha256, err) < 0 ||
		rb_digest_final_hex(s->stored_sha, res->stored_sha256, err) < 0)
	{
		rb_stream_store_abort(s);
		return -1;
	}
	res->original_bytes = s->original_bytes;
	res->stored_bytes = s->stored_bytes;
	w = s->writer;
	s->writer = NULL;
	stream_store_free(s);
	return rb_dest_writer_commit(w, err);	/* frees w whatever happens */
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

int
rb_stream_store_fd(const rb_stream_store_params *p, int fd, rb_stream_store_result *res,
				   const rb_hooks *hooks, rb_error *err)
{
	rb_stream_store *s;
	unsigned char *buf;

	memset(res, 0, sizeof(*res));
	buf = malloc(READ_CHUNK);
	if (buf == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	s = rb_stream_store_open(p, err);
	if (s == NULL)
	{
		free(buf);
		return -1;
	}
	for (;;)
	{
		ssize_t		n = read(fd, buf, READ_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			rb_error_set(err, RB_ERR_IO, "could not read the file: %s", strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		if (rb_stream_store_write(s, buf, (size_t) n, err) < 0)
			goto fail;
		if (rb_cancelled(hooks))
		{
			rb_error_set(err, RB_ERR_CANCELLED, "cancelled");
			goto fail;
		}
	}
	free(buf);
	return rb_stream_store_commit(s, res, err);

fail:
	free(buf);
	rb_stream_store_abort(s);
	return -1;
}
