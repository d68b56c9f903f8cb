/*
 * backup_compress.h — streaming compression of the backup stream (zstd, gzip, none) and
 * the matching streaming decompression (verify, the CLI).
 *
 * A compressor takes bytes pushed in with rb_compressor_write and hands compressed
 * bytes to a downstream callback as output buffers fill; rb_compressor_finish
 * flushes the end of the frame.  Memory is bounded (a fixed output buffer plus the
 * library's own state) whatever the input size.  The decompressor is the mirror.
 */
#ifndef RB_COMPRESS_H
#define RB_COMPRESS_H

#include <stddef.h>
#include <stdbool.h>

#include "rb_error.h"

typedef enum rb_compress_kind
{
	RB_COMPRESS_NONE = 0,
	RB_COMPRESS_GZIP,
	RB_COMPRESS_ZSTD
} rb_compress_kind;

/*
 * The downstream of a compressor, decompressor or any byte stream in src/core:
 * consumes len bytes; returns 0, or -1 with err filled to stop the stream.
 */
typedef int (*rb_write_fn) (void *arg, const void *data, size_t len, rb_error *err);

/* "zstd", "gzip", "none" -> kind; RB_ERR_INVALID for anything else. */
int			rb_compress_kind_parse(const char *name, rb_compress_kind *kind, rb_error *err);
const char *rb_compress_kind_name(rb_compress_kind kind);	/* "zstd", "gzip", "none" */
const char *rb_compress_suffix(rb_compress_kind kind);	/* ".zst", ".gz", "" */
int			rb_compress_default_level(rb_compress_kind kind);	/* 3, 6, 0 */
/* Checks a level for a kind (zstd 1..19, gzip 1..9; none ignores it); -1 = the default. */
int			rb_compress_check_level(rb_compress_kind kind, int level, rb_error *err);
/* Guesses the kind from the first bytes of a stored object (zstd / gzip magic). */
rb_compress_kind rb_compress_detect(const void *data, size_t len);

typedef struct rb_compressor rb_compressor;

/*
 * level -1 = the kind's default.  workers: zstd worker threads (0 = compress in the
 * calling thread; ignored for gzip and none).
 */
rb_compressor *rb_compressor_new(rb_compress_kind kind, int level, int workers,
								 rb_write_fn out, void *out_arg, rb_error *err);
int			rb_compressor_write(rb_compressor *c, const void *data, size_t len, rb_error *err);
/* Ends the stream (zstd frame end, gzip trailer); call once, then free. */
int			rb_compressor_finish(rb_compressor *c, rb_error *err);
void		rb_compressor_free(rb_compressor *c);

typedef struct rb_decompressor rb_decompressor;

rb_decompressor *rb_decompressor_new(rb_compress_kind kind, rb_write_fn out, void *out_arg,
									 rb_error *err);
int			rb_decompressor_write(rb_decompressor *d, const void *data, size_t len, rb_error *err);
/* Fails with RB_ERR_INTEGRITY if the compressed stream ended early. */
int			rb_decompressor_finish(rb_decompressor *d, rb_error *err);
void		rb_decompressor_free(rb_decompressor *d);

#endif							/* RB_COMPRESS_H */
