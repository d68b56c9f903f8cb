/*
 * s3_multipart.h — the S3 operations on multipart uploads that exist apart from
 * the writer (s3_upload.h): ListMultipartUploads under a prefix (paginated) and
 * AbortMultipartUpload of an upload named by key and upload id.  The retention
 * sweep uses them to abort uploads that their writer could not abort.
 * Servers without them answer 501 (s3rver: ListMultipartUploads) or 405
 * (s3rver: AbortMultipartUpload): the error then carries that http_status.
 */
#ifndef RB_S3_MULTIPART_H
#define RB_S3_MULTIPART_H

#include <stdint.h>

#include "s3_client.h"

/* One incomplete upload: cb returns 0 to go on, -1 (with err) to stop with an error. */
typedef int (*rb_s3_upload_list_fn) (void *arg, const char *key, const char *upload_id,
									 int64_t initiated, rb_error *err);

/* Lists every incomplete multipart upload whose key starts with prefix ("" = all). */
int			rb_s3_list_multipart_uploads(rb_s3_client *c, const char *prefix,
										 rb_s3_upload_list_fn cb, void *cb_arg, rb_error *err);

/* AbortMultipartUpload; an upload already gone (404 NoSuchUpload) counts as aborted. */
int			rb_s3_abort_multipart_upload(rb_s3_client *c, const char *key, const char *upload_id,
										 rb_error *err);

#endif							/* RB_S3_MULTIPART_H */
