/*
 * s3_sse.c — the checks of the server-side encryption settings (see s3_sse.h).
 */
#include "s3_sse.h"

#include <string.h>

bool
rb_s3_sse_valid(const char *sse)
{
	return sse == NULL || sse[0] == '\0' || strcmp(sse, RB_S3_SSE_AES256) == 0 ||
		strcmp(sse, RB_S3_SSE_KMS) == 0;
}

const char *
rb_s3_sse_kms_key_id_problem(const char *id)
{
	size_t		len = id ? strlen(id) : 0;

	if (len == 0)
		return NULL;
	if (len > RB_S3_SSE_KMS_KEY_ID_MAX)
		return "A KMS key id has at most 2048 characters.";
	if (strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:/_-.") != len)
		return "A KMS key id is a key id, key ARN, alias name or alias ARN: letters, digits and \":/_-.\" only.";
	return NULL;
}

int
rb_s3_sse_check(const char *sse, const char *kms_key_id, rb_error *err)
{
	if (!rb_s3_sse_valid(sse))
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid S3 server-side encryption \"%s\": must be \"\", \"AES256\" or \"aws:kms\"",
							sse);
	if (rb_s3_sse_kms_key_id_problem(kms_key_id) != NULL)
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid S3 KMS key id: it must be a key id, key ARN, alias name or alias ARN of at most %d letters, digits and \":/_-.\"",
							RB_S3_SSE_KMS_KEY_ID_MAX);
	if (kms_key_id && kms_key_id[0] && (sse == NULL || strcmp(sse, RB_S3_SSE_KMS) != 0))
		return rb_error_set(err, RB_ERR_INVALID,
							"an S3 KMS key id is set but the server-side encryption is \"%s\": a key id needs \"aws:kms\"",
							sse ? sse : "");
	return 0;
}
