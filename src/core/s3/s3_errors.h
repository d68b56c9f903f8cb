/*
 * s3_errors.h — what an S3 error means: the class of an S3 error code and HTTP
 * status, which codes name a transient condition, HTTP reason phrases, and the
 * rb_error a refused request reports.
 *
 * Classes (rb_s3_error_class): AccessDenied, SignatureDoesNotMatch,
 * InvalidAccessKeyId, ExpiredToken, ... and any other 401/403 → RB_ERR_AUTH;
 * NoSuchBucket, NoSuchKey, NoSuchUpload and any other 404 → RB_ERR_NOT_FOUND;
 * BadDigest, InvalidDigest, InvalidPart, ... → RB_ERR_INTEGRITY; everything else →
 * RB_ERR_REMOTE, which the retry policy (s3_retry.h) retries when the status is 5xx,
 * 429 or 408 or the code is transient (rb_s3_code_is_transient).  The code and
 * message come from the <Error> document that s3_xml.h reads.
 */
#ifndef RB_S3_ERRORS_H
#define RB_S3_ERRORS_H

#include <stdbool.h>

#include "rb_error.h"

/* What an S3 <Error> document says; each field truncated to fit (at a UTF-8 boundary). */
typedef struct rb_s3_error_info
{
	char		code[64];			/* "NoSuchKey", "SlowDown", ... */
	char		message[512];
	char		request_id[128];
} rb_s3_error_info;

/* Maps an S3 error code (may be NULL or "") and HTTP status to an rb_error_code. */
rb_error_code rb_s3_error_class(const char *s3_code, int http_status);

/*
 * Whether an S3 error code names a transient condition (SlowDown, RequestTimeout,
 * InternalError, ServiceUnavailable, the throttling family, ...), whatever the
 * status.  Case-sensitive, as S3's codes are; NULL and "" are not transient.
 */
bool		rb_s3_code_is_transient(const char *s3_code);

/* "Not Found" for 404, ...; "" for an unknown status. */
const char *rb_http_reason_phrase(int http_status);

/*
 * Fills err for a request the server refused: err->http_status = http_status,
 * err->code classified by rb_s3_error_class(info->code, http_status).  With an
 * info whose code is not "": err->remote_code = the code and err->msg
 * "<status> <Code>: <Message>" (e.g. "403 SignatureDoesNotMatch: The request
 * signature we calculated does not match ..."), control characters from the server
 * turned into spaces.  With info NULL (or no code): err->remote_code "" and err->msg
 * "<status> <reason phrase>", or "<status> HTTP error" for an unknown status.
 * Always returns -1.
 */
int			rb_s3_error_from_info(rb_error *err, int http_status,
								  const rb_s3_error_info *info);

#endif							/* RB_S3_ERRORS_H */
