/*
 * stream_store.h — one stream of bytes into one new stored object through the
 * stages every stored object passes: SHA-256 of the original bytes →
 * compressor → (encryptor) → SHA-256 and count of the stored bytes →
 * destination writer.  The same stage order as the backup pipeline (backup.c);
 * WAL archiving (wal_archive.c) stores each segment through it, and any other
 * producer of an object can.
 *
 * Memory is bounded (the compressor's and the encryptor's buffers, one part of
 * the destination writer) whatever the size.  The object appears only at
 * commit; abort (or a failed commit) leaves nothing behind.
 */
#ifndef RB_STREAM_STORE_H
#define RB_STREAM_STORE_H

#include <stdint.h>

#include "backup_compress.h"
#include "dest.h"
#include "encrypt_key.h"
#include "rb_error.h"

typedef struct rb_stream_store_params
{
	rb_destination *dest;
	const char *key;			/* relative to the destination's prefix */
	rb_compress_kind compression;
	int			compression_level;	/* -1 = the kind's default */
	int			compression_workers;	/* zstd threads; 0 = in the calling thread */
	const rb_key *encryption_key;	/* NULL = stored unencrypted */
} rb_stream_store_params;

typedef struct rb_stream_store_result
{
	uint64_t	original_bytes;
	char		original_sha256[65];	/* hex, of the bytes written in */
	uint64_t	stored_bytes;
	char		stored_sha256[65];	/* hex, of the object's bytes */
} rb_stream_store_result;

typedef struct rb_stream_store rb_stream_store;

/* Opens the writer (RB_ERR_EXISTS when the key is taken: nothing written). */
rb_stream_store *rb_stream_store_open(const rb_stream_store_params *p, rb_error *err);
int			rb_stream_store_write(rb_stream_store *s, const void *data, size_t len,
								  rb_error *err);
/* Flushes every stage and makes the object appear; frees s whatever the outcome. */
int			rb_stream_store_commit(rb_stream_store *s, rb_stream_store_result *res,
								   rb_error *err);
/* Removes every trace (the multipart upload aborted) and frees s; NULL is fine. */
void		rb_stream_store_abort(rb_stream_store *s);

/*
 * The whole of a file descriptor (read to its end) as one object: open, write,
 * commit, or abort on any failure.  hooks->cancel is polled between reads.
 */
int			rb_stream_store_fd(const rb_stream_store_params *p, int fd,
							   rb_stream_store_result *res, const rb_hooks *hooks,
							   rb_error *err);

#endif							/* RB_STREAM_STORE_H */
