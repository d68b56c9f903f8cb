/*
 * s3_upload.h — a streaming upload of one S3 object of unknown length, with bounded
 * memory: bytes written fill a part buffer; each full part is handed to libcurl
 * (multipart UploadPart, parts_in_flight at once, 2 by default) while the next one
 * fills.  A stream shorter than one part is stored with a single PutObject at
 * finish.
 *
 * Every part but the last has exactly the client's part_size: some storage
 * (Cloudflare R2) refuses a multipart upload whose non-final parts differ in
 * length.  The caller chooses that size at the start for the stream it expects
 * (rb_s3_part_size_choose), since it cannot grow later; a stream that needs more
 * than 10,000 parts fails when the 10,001st would begin (RB_ERR_INVALID, naming
 * the part size to set), before anything unequal is sent.  Memory: at most
 * part_size × (parts_in_flight + 1) plus a small constant (48 MiB at the
 * default 16 MiB and 2 parts in flight).
 *
 * Each part carries Content-MD5 and its real SHA-256 (x-amz-content-sha256), both
 * hashed as the bytes arrive; the ETag the server returns is checked against the
 * part's MD5, and the CompleteMultipartUpload answer is checked (a 200 with an
 * <Error> inside fails).  A failed part is retried alone, with backoff; when its
 * attempts are exhausted the upload fails with that part's error and is aborted.
 *
 * Lifecycle:
 *   w = rb_s3_upload_begin(client, key, content_type, err);   no network I/O yet
 *   rb_s3_upload_write(w, data, len, err) ...                  0 / -1
 *   rb_s3_upload_pump(w, timeout_ms, err)                      while input is idle
 *   rb_s3_upload_finish(w, &result, err)                        commits, frees w
 *   or rb_s3_upload_abort(w)                                    aborts, frees w
 * After a failed write the writer must still be released with abort (or finish,
 * which then fails with the same error and aborts).  The client must outlive w.
 */
#ifndef RB_S3_UPLOAD_H
#define RB_S3_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_error.h"
#include "s3_client.h"

typedef struct rb_s3_upload rb_s3_upload;

typedef struct rb_s3_upload_result
{
	uint64_t	size;			/* bytes stored */
	int			parts;			/* parts uploaded; 0 for a single PutObject */
	bool		multipart;
	char		etag[80];		/* the object's ETag, without quotes */
} rb_s3_upload_result;

/* Starts an upload to key (content_type NULL = application/octet-stream). */
rb_s3_upload *rb_s3_upload_begin(rb_s3_client *c, const char *key, const char *content_type,
								 rb_error *err);

/*
 * The same for an upload that never replaces an object: the PutObject (stream
 * shorter than a part) or the CompleteMultipartUpload carries If-None-Match: *,
 * and a 412 from a server that honours it fails the upload with RB_ERR_EXISTS
 * (the multipart upload is then aborted).  Servers that ignore the header
 * replace the object: the caller checks with HEAD before it begins.
 */
rb_s3_upload *rb_s3_upload_begin_if_absent(rb_s3_client *c, const char *key,
										   const char *content_type, rb_error *err);

/*
 * Appends bytes.  Returns when they are buffered (it waits only when every part
 * buffer is uploading), or -1 with err when the upload has failed (a part's
 * attempts exhausted, cancellation, the breaker open).
 */
int			rb_s3_upload_write(rb_s3_upload *w, const void *data, size_t len, rb_error *err);

/*
 * Drives the parts in flight for up to timeout_ms (0 = one pass without waiting)
 * without adding data.  The transfers only move while the caller is inside this
 * module, so a producer that blocks on its own input (a pipe from pg_dump) should
 * call this while it waits, e.g. poll(fd, 0) → nothing to read → pump(w, 50).
 * Returns the number of parts still in flight (0 = nothing to drive), or -1 with
 * err when the upload has failed.
 */
int			rb_s3_upload_pump(rb_s3_upload *w, int timeout_ms, rb_error *err);

/* Same, with the shape of rb_write_fn (arg is the rb_s3_upload *). */
int			rb_s3_upload_write_cb(void *w, const void *data, size_t len, rb_error *err);

/*
 * Uploads what remains, completes the upload and frees w whatever the outcome.
 * On failure the multipart upload is aborted and no object appears at the key.
 * result may be NULL.
 */
int			rb_s3_upload_finish(rb_s3_upload *w, rb_s3_upload_result *result, rb_error *err);

/*
 * Stops the upload, aborts the multipart upload on the server (a server that
 * cannot abort, like s3rver's 405, is logged as a warning) and frees w.  NULL is fine.
 */
void		rb_s3_upload_abort(rb_s3_upload *w);

/* Bytes written so far. */
uint64_t	rb_s3_upload_bytes(const rb_s3_upload *w);

/* Largest total size of the part buffers held at once so far (memory accounting). */
size_t		rb_s3_upload_buffer_peak(const rb_s3_upload *w);

/*
 * The part size for a stream expected to be about expected_bytes long:
 * expected_bytes × RB_S3_PART_SIZE_SAFETY spread over RB_S3_MAX_PARTS parts,
 * rounded up to a whole MiB, and never below minimum (0 = the default 16 MiB)
 * nor above RB_S3_MAX_PART_SIZE.  expected_bytes 0 (unknown) gives minimum.
 * With the default minimum the size first grows for streams expected above
 * 10,000 × 16 MiB / 2 ≈ 78 GiB.
 */
#define RB_S3_PART_SIZE_SAFETY 2
size_t		rb_s3_part_size_choose(uint64_t expected_bytes, size_t minimum);

#endif							/* RB_S3_UPLOAD_H */
