/*
 * backup_compress.c — streaming zstd / gzip / none compression and decompression for the
 * backup pipeline (see backup_compress.h).  Output goes to the downstream callback in
 * chunks of at most OUT_CHUNK bytes; nothing grows with the input.
 */
#include "backup_compress.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define OUT_CHUNK (256 * 1024)

struct rb_compressor
{
	rb_compress_kind kind;
	rb_write_fn out;
	void	   *out_arg;
	unsigned char *buf;
	ZSTD_CCtx  *zc;
	z_stream	zs;
	int			zs_ready;
	int			finished;
};

struct rb_decompressor
{
	rb_compress_kind kind;
	rb_write_fn out;
	void	   *out_arg;
	unsigned char *buf;
	ZSTD_DCtx  *zd;
	size_t		zstd_hint;		/* last ZSTD_decompressStream result: 0 = frame complete */
	int			seen_input;
	z_stream	zs;
	int			zs_ready;
	int			zs_end;			/* gzip stream end reached */
};

int
rb_compress_kind_parse(const char *name, rb_compress_kind *kind, rb_error *err)
{
	if (name != NULL && strcmp(name, "zstd") == 0)
		*kind = RB_COMPRESS_ZSTD;
	else if (name != NULL && strcmp(name, "gzip") == 0)
		*kind = RB_COMPRESS_GZIP;
	else if (name != NULL && strcmp(name, "none") == 0)
		*kind = RB_COMPRESS_NONE;
	else
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid compression \"%s\": must be zstd, gzip or none",
							name ? name : "");
	return 0;
}

const char *
rb_compress_kind_name(rb_compress_kind kind)
{
	switch (kind)
	{
		case RB_COMPRESS_ZSTD: return "zstd";
		case RB_COMPRESS_GZIP: return "gzip";
		case RB_COMPRESS_NONE: return "none";
	}
	return "none";
}

const char *
rb_compress_suffix(rb_compress_kind kind)
{
	switch (kind)
	{
		case RB_COMPRESS_ZSTD: return ".zst";
		case RB_COMPRESS_GZIP: return ".gz";
		case RB_COMPRESS_NONE: return "";
	}
	return "";
}

int
rb_compress_default_level(rb_compress_kind kind)
{
	switch (kind)
	{
		case RB_COMPRESS_ZSTD: return 3;
		case RB_COMPRESS_GZIP: return 6;
		case RB_COMPRESS_NONE: return 0;
	}
	return 0;
}

int
rb_compress_check_level(rb_compress_kind kind, int level, rb_error *err)
{
	int			lo = 0,
				hi = 0;

	if (level == -1 || kind == RB_COMPRESS_NONE)
		return 0;				/* none ignores the level */
	switch (kind)
	{
		case RB_COMPRESS_ZSTD: lo = 1; hi = 19; break;
		case RB_COMPRESS_GZIP: lo = 1; hi = 9; break;
		case RB_COMPRESS_NONE: lo = 0; hi = 0; break;
	}
	if (level < lo || level > hi)
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid compression level %d for %s: must be between %d and %d",
							level, rb_compress_kind_name(kind), lo, hi);
	return 0;
}

rb_compress_kind
rb_compress_detect(const void *data, size_t len)
{
	const unsigned char *p = data;

	if (len >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
		return RB_COMPRESS_ZSTD;
	if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		return RB_COMPRESS_GZIP;
	return RB_COMPRESS_NONE;
}

/* --- compression ------------------------------------------------------------ */

rb_compressor *
rb_compressor_new(rb_compress_kind kind, int level, int workers, rb_write_fn out,
				  void *out_arg, rb_error *err)
{
	rb_compressor *c;

	if (rb_compress_check_level(kind, level, err) < 0)
		return NULL;
	if (level == -1)
		level = rb_compress_default_level(kind);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto nomem;
	c->kind = kind;
	c->out = out;
	c->out_arg = out_arg;
	if (kind == RB_COMPRESS_NONE)
		return c;
	c->buf = malloc(OUT_CHUNK);
	if (c->buf == NULL)
		goto nomem;
	if (kind == RB_COMPRESS_ZSTD)
	{
		size_t		r;

		c->zc = ZSTD_createCCtx();
		if (c->zc == NULL)
			goto nomem;
		r = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_compressionLevel, level);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_checksumFlag, 1);
		if (!ZSTD_isError(r) && workers > 0)
		{
			r = ZSTD_CCtx_setParameter(c->zc, ZSTD_c_nbWorkers, workers);
			if (ZSTD_isError(r))
				r = 0;			/* a libzstd without threads: compress in this thread */
		}
		if (ZSTD_isError(r))
		{
			rb_error_set(err, RB_ERR_INTERNAL, "could not set up zstd compression: %s",
						 ZSTD_getErrorName(r));
			rb_compressor_free(c);
			return NULL;
		}
	}
	else
	{
		/* windowBits 15 + 16: a gzip wrapper, as gzip(1) writes */
		if (deflateInit2(&c->zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		{
			rb_error_set(err, RB_ERR_INTERNAL, "could not set up gzip compression");
			rb_compressor_free(c);
			return NULL;
		}
		c->zs_ready = 1;
	}
	return c;
nomem:
	rb_compressor_free(c);
	rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	return NULL;
}

static int
zstd_run(rb_compressor *c, const void *data, size_t len, ZSTD_EndDirective mode, rb_error *err)
{
	ZSTD_inBuffer in = {data, len, 0};

	for (;;)
	{
		ZSTD_outBuffer ob = {c->buf, OUT_CHUNK, 0};
		size_t		r = ZSTD_compressStream2(c->zc, &ob, &in, mode);

		if (ZSTD_isError(r))
			return rb_error_set(err, RB_ERR_INTERNAL, "zstd compression failed: %s",
								ZSTD_getErrorName(r));
		if (ob.pos > 0 && c->out(c->out_arg, c->buf, ob.pos, err) < 0)
			return -1;
		if (mode == ZSTD_e_continue ? in.pos == in.size : r == 0)
			return 0;
	}
}

static int
gzip_run(rb_compressor *c, const void *data, size_t len, int flush, rb_error *err)
{
	c->zs.next_in = (Bytef *) data;
	c->zs.avail_in = (uInt) len;
	for (;;)
	{
		int			r;
		size_t		have;

		c->zs.next_out = c->buf;
		c->zs.avail_out = OUT_CHUNK;
		r = deflate(&c->zs, flush);
		if (r == Z_STREAM_ERROR)
			return rb_error_set(err, RB_ERR_INTERNAL, "gzip compression failed");
		have = OUT_CHUNK - c->zs.avail_out;
		if (have > 0 && c->out(c->out_arg, c->buf, have, err) < 0)
			return -1;
		if (flush == Z_FINISH ? r == Z_STREAM_END : (c->zs.avail_in == 0 && c->zs.avail_out != 0))
			return 0;
	}
}

int
rb_compressor_write(rb_compressor *c, const void *data, size_t len, rb_error *err)
{
	if (len == 0)
		return 0;
	switch (c->kind)
	{
		case RB_COMPRESS_NONE:
			return c->out(c->out_arg, data, len, err);
		case RB_COMPRESS_ZSTD:
			return zstd_run(c, data, len, ZSTD_e_continue, err);
		case RB_COMPRESS_GZIP:
			{
				/* zlib counts in uInt: feed at most 1 GiB at a time */
				const unsigned char *p = data;

				while (len > 0)
				{
					size_t		n = len > (1u << 30) ? (1u << 30) : len;

					if (gzip_run(c, p, n, Z_NO_FLUSH, err) < 0)
						return -1;
					p += n;
					len -= n;
				}
				return 0;
			}
	}
	return 0;
}

int
rb_compressor_finish(rb_compressor *c, rb_error *err)
{
	if (c->finished)
		return rb_error_set(err, RB_ERR_INTERNAL, "compressor already finished");
	c->finished = 1;
	switch (c->kind)
	{
		case RB_COMPRESS_NONE:
			return 0;
		case RB_COMPRESS_ZSTD:
			return zstd_run(c, NULL, 0, ZSTD_e_end, err);
		case RB_COMPRESS_GZIP:
			return gzip_run(c, NULL, 0, Z_FINISH, err);
	}
	return 0;
}

void
rb_compressor_free(rb_compressor *c)
{
	if (c == NULL)
		return;
	if (c->zc)
		ZSTD_freeCCtx(c->zc);
	if (c->zs_ready)
		deflateEnd(&c->zs);
	free(c->buf);
	free(c);
}

/* --- decompression ---------------------------------------------------------- */

rb_decompressor *
rb_decompressor_new(rb_compress_kind kind, rb_write_fn out, void *out_arg, rb_error *err)
{
	rb_decompressor *d = calloc(1, sizeof(*d));

	if (d == NULL)
		goto nomem;
	d->kind = kind;
	d->out = out;
	d->out_arg = out_arg;
	if (kind == RB_COMPRESS_NONE)
		return d;
	d->buf = malloc(OUT_CHUNK);
	if (d->buf == NULL)
		goto nomem;
	if (kind == RB_COMPRESS_ZSTD)
	{
		d->zd = ZSTD_createDCtx();
		if (d->zd == NULL)
			goto nomem;
		d->zstd_hint = 1;
	}
	else
	{
		if (inflateInit2(&d->zs, 15 + 16) != Z_OK)
		{
			rb_decompressor_free(d);
			rb_error_set(err, RB_ERR_INTERNAL, "could not set up gzip decompression");
			return NULL;
		}
		d->zs_ready = 1;
	}
	return d;
nomem:
	rb_decompressor_free(d);
	rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	return NULL;
}

int
rb_decompressor_write(rb_decompressor *d, const void *data, size_t len, rb_error *err)
{
	if (len == 0)
		return 0;
	d->seen_input = 1;
	if (d->kind == RB_COMPRESS_NONE)
		return d->out(d->out_arg, data, len, err);
	if (d->kind == RB_COMPRESS_ZSTD)
	{
		ZSTD_inBuffer in = {data, len, 0};

		/* until the input is consumed and the decoder has nothing more to flush */
		for (;;)
		{
			ZSTD_outBuffer ob = {d->buf, OUT_CHUNK, 0};
			size_t		r = ZSTD_decompressStream(d->zd, &ob, &in);

			if (ZSTD_isError(r))
				return rb_error_set(err, RB_ERR_INTEGRITY, "corrupt zstd data: %s",
									ZSTD_getErrorName(r));
			d->zstd_hint = r;
			if (ob.pos > 0 && d->out(d->out_arg, d->buf, ob.pos, err) < 0)
				return -1;
			if (in.pos == in.size && (ob.pos < ob.size || r == 0))
				break;
		}
		return 0;
	}
	/* gzip */
	d->zs.next_in = (Bytef *) data;
	d->zs.avail_in = (uInt) len;
	while (d->zs.avail_in > 0)
	{
		int			r;
		size_t		have;

		if (d->zs_end)
		{
			/* concatenated gzip members (gzip -c a b) are one stream */
			if (inflateReset(&d->zs) != Z_OK)
				return rb_error_set(err, RB_ERR_INTERNAL, "gzip decompression failed");
			d->zs_end = 0;
		}
		d->zs.next_out = d->buf;
		d->zs.avail_out = OUT_CHUNK;
		r = inflate(&d->zs, Z_NO_FLUSH);
		if (r != Z_OK && r != Z_STREAM_END && r != Z_BUF_ERROR)
			return rb_error_set(err, RB_ERR_INTEGRITY, "corrupt gzip data: %s",
								d->zs.msg ? d->zs.msg : "inflate failed");
		have = OUT_CHUNK - d->zs.avail_out;
		if (have > 0 && d->out(d->out_arg, d->buf, have, err) < 0)
			return -1;
		if (r == Z_STREAM_END)
			d->zs_end = 1;
		else if (r == Z_BUF_ERROR && have == 0)
			break;
	}
	return 0;
}

int
rb_decompressor_finish(rb_decompressor *d, rb_error *err)
{
	if (d->kind == RB_COMPRESS_ZSTD && d->zstd_hint != 0)
		return rb_error_set(err, RB_ERR_INTEGRITY, "truncated zstd data");
	if (d->kind == RB_COMPRESS_GZIP && !d->zs_end)
		return rb_error_set(err, RB_ERR_INTEGRITY, "truncated gzip data");
	return 0;
}

void
rb_decompressor_free(rb_decompressor *d)
{
	if (d == NULL)
		return;
	if (d->zd)
		ZSTD_freeDCtx(d->zd);
	if (d->zs_ready)
		inflateEnd(&d->zs);
	free(d->buf);
	free(d);
}
