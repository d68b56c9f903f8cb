/*
 * s3_sse.h — server-side encryption of the objects the S3 client writes: the
 * values S3 accepts in x-amz-server-side-encryption ("AES256" for SSE-S3,
 * "aws:kms" for SSE-KMS, with an optional x-amz-server-side-encryption-aws-kms-key-id),
 * checked once here for the client, the server's settings and the tools.
 *
 * The headers go on PutObject and CreateMultipartUpload only (S3 refuses them on
 * UploadPart, GET and HEAD for these two kinds), and are signed like every other
 * header the client sends.  SSE-C (customer-provided keys) is not offered: the key
 * would have to travel with every request, reads included.
 */
#ifndef RB_S3_SSE_H
#define RB_S3_SSE_H

#include <stdbool.h>

#include "rb_error.h"

#define RB_S3_SSE_HEADER			"x-amz-server-side-encryption"
#define RB_S3_SSE_KMS_KEY_HEADER	"x-amz-server-side-encryption-aws-kms-key-id"
#define RB_S3_SSE_AES256			"AES256"
#define RB_S3_SSE_KMS				"aws:kms"
#define RB_S3_SSE_KMS_KEY_ID_MAX	2048

/* True when sse is NULL, "" (none), "AES256" or "aws:kms" (exact spelling, as S3). */
bool		rb_s3_sse_valid(const char *sse);

/*
 * NULL when id (NULL or "" = none) can be sent as a KMS key id (a key id, key
 * ARN, alias name or alias ARN: letters, digits and ":/_-." only, at most 2048
 * characters), else a sentence saying what is wrong.
 */
const char *rb_s3_sse_kms_key_id_problem(const char *id);

/*
 * Checks a pair of settings: sse valid, the key id valid and set only with
 * aws:kms.  Returns 0, or -1 with RB_ERR_INVALID, e.g.
 *   invalid S3 server-side encryption "aes256": must be "", "AES256" or "aws:kms"
 *   an S3 KMS key id is set but the server-side encryption is "AES256": a key id needs "aws:kms"
 */
int			rb_s3_sse_check(const char *sse, const char *kms_key_id, rb_error *err);

#endif							/* RB_S3_SSE_H */
