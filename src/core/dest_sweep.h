/*
 * dest_sweep.h — the destination operations of the retention sweep: deleting
 * many keys at once (S3 DeleteObjects in batches of 1000, single DELETEs where
 * the server has no DeleteObjects; unlink for file://) and aborting incomplete
 * multipart uploads older than a cutoff (S3 ListMultipartUploads; a file://
 * destination has none).
 */
#ifndef RB_DEST_SWEEP_H
#define RB_DEST_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"

/* A key (relative to the destination) that could not be deleted, and why. */
typedef void (*rb_delete_failed_fn) (void *arg, const char *key, const char *reason);

/*
 * Deletes keys (relative to the destination; a missing key counts as deleted).
 * Every key that could not be deleted is passed to failed (may be NULL).  Returns
 * 0 when all were deleted, else -1 with err describing the first failure.  On an
 * S3 server that answers DeleteObjects with 501 or 405, *batch_unsupported (may
 * be NULL) is set and the keys are deleted one request each.
 */
int			rb_destination_delete_keys(rb_destination *d, const char *const *keys, size_t n,
									   rb_delete_failed_fn failed, void *failed_arg,
									   bool *batch_unsupported, rb_error *err);

/*
 * Aborts every incomplete multipart upload under prefix (relative) initiated
 * before `before` (seconds since the epoch); *aborted counts them.  0, or -1
 * with err; err->http_status is 501 or 405 when the server cannot list or abort
 * uploads.  A file:// destination has no such uploads: 0 at once.
 */
int			rb_destination_abort_stale_uploads(rb_destination *d, const char *prefix,
											   int64_t before, size_t *aborted, rb_error *err);

/*
 * Aborts one multipart upload named by its key in the bucket (the destination's
 * prefix included, as the upload_abandoned hook reports it) and upload id.  0, or
 * -1 with err (http_status 405 or 501 where the server cannot abort uploads).
 * A file:// destination has none: 0.
 */
int			rb_destination_abort_upload(rb_destination *d, const char *bucket_key,
										const char *upload_id, rb_error *err);

#endif							/* RB_DEST_SWEEP_H */
