/*
 * stream_store.h — one stream of bytes into one new stored object through the
 * stages every stored object passes: SHA-256 of the original bytes →
 * compressor → (encryptor) → SHA-256 and count of the stored bytes →
 * destination writer.  The stage chain (stage_chain.h) drives it for every
 * stored object: logical and base backups, and each WAL file (wal_archive.c,
 * through rb_stream_store_fd); any other producer of an object can write to it
 * directly.
 *
 * Memory is bounded (the compressor's and the encryptor's buffers, one part of
 * the destination writer) whatever the size.  The object appears only at
 * commit; abort (or a failed commit) leaves nothing behind.
 */
#ifndef RB_STREAM_STORE_H
#define RB_STREAM_STORE_H

#include <stdbool.h>
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

	/*
	 * What the object is ("backup", "base backup"), for the errors: when set, a
	 * failure to store says "could not store the <what> at <URL>: ..." and one
	 * to start the encryptor "could not start the encryption of the <what>:
	 * ...".  NULL = the stages' own words (the caller adds its context).
	 */
	const char *what;
	bool		no_original_sha256; /* true: the bytes written in are not hashed
									 * (original_sha256 stays "") */
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
/*
 * Drives the destination's transfers already queued (S3 parts in flight) for
 * up to timeout_ms while the producer has nothing new (rb_dest_writer_pump).
 */
int			rb_stream_store_pump(rb_stream_store *s, int timeout_ms, rb_error *err);
/* Bytes written in and bytes handed to the destination so far. */
void		rb_stream_store_counts(const rb_stream_store *s, uint64_t *original_bytes,
								   uint64_t *stored_bytes);
/* Flushes every stage and makes the object appear; frees s whatever the outcome. */
int			rb_stream_store_commit(rb_stream_store *s, rb_stream_store_result *res,
								   rb_error *err);
/* Removes every trace (the multipart upload aborted) and frees s; NULL is fine. */
void		rb_stream_store_abort(rb_stream_store *s);

/*
 * The whole of a file descriptor (read to its end) as one object through the
 * stage chain: open, write, commit, or abort on any failure.  hooks->cancel is
 * polled between reads.
 */
int			rb_stream_store_fd(const rb_stream_store_params *p, int fd,
							   rb_stream_store_result *res, const rb_hooks *hooks,
							   rb_error *err);

#endif							/* RB_STREAM_STORE_H */
