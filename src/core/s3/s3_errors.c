/*
 * s3_errors.c — the tables of S3 error codes and HTTP statuses, and the rb_error a
 * refused request reports (see s3_errors.h).
 */
#include "s3_errors.h"

#include <stddef.h>
#include <string.h>

_Static_assert(sizeof(((rb_error *) 0)->remote_code) >= sizeof(((rb_s3_error_info *) 0)->code),
			   "an S3 error code fits in rb_error.remote_code");

static bool
code_in(const char *s3_code, const char *const *list)
{
	for (int i = 0; list[i] != NULL; i++)
		if (strcmp(s3_code, list[i]) == 0)
			return true;
	return false;
}

rb_error_code
rb_s3_error_class(const char *s3_code, int http_status)
{
	static const char *const auth[] = {
		"AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "ExpiredToken",
		"InvalidToken", "TokenRefreshRequired", "AllAccessDisabled",
		"AccountProblem", "InvalidSecurity", "MissingSecurityHeader",
		"RequestTimeTooSkewed", NULL
	};
	static const char *const not_found[] = {
		"NoSuchBucket", "NoSuchKey", "NoSuchUpload", "NoSuchVersion", NULL
	};
	static const char *const integrity[] = {
		"BadDigest", "InvalidDigest", "InvalidPart", "InvalidPartOrder",
		"IncompleteBody", "XAmzContentSHA256Mismatch", NULL
	};

	if (s3_code != NULL && s3_code[0] != '\0')
	{
		if (code_in(s3_code, auth))
			return RB_ERR_AUTH;
		if (code_in(s3_code, not_found))
			return RB_ERR_NOT_FOUND;
		if (code_in(s3_code, integrity))
			return RB_ERR_INTEGRITY;
		/* a code that says nothing about the class: the status decides, but only
		 * for auth and not-found statuses (other codes keep RB_ERR_REMOTE) */
	}
	if (http_status == 401 || http_status == 403)
		return RB_ERR_AUTH;
	if (http_status == 404)
		return RB_ERR_NOT_FOUND;
	return RB_ERR_REMOTE;
}

bool
rb_s3_code_is_transient(const char *s3_code)
{
	static const char *const transient[] = {
		"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottled", "RequestThrottledException", "TooManyRequestsException",
		"RequestLimitExceeded", "BandwidthLimitExceeded", "RequestTimeoutException",
		"PriorRequestNotComplete", "OperationAborted", NULL
	};

	if (s3_code == NULL || s3_code[0] == '\0')
		return false;
	return code_in(s3_code, transient);
}

const char *
rb_http_reason_phrase(int http_status)
{
	switch (http_status)
	{
		case 200: return "OK";
		case 204: return "No Content";
		case 206: return "Partial Content";
		case 301: return "Moved Permanently";
		case 304: return "Not Modified";
		case 307: return "Temporary Redirect";
		case 400: return "Bad Request";
		case 401: return "Unauthorized";
		case 403: return "Forbidden";
		case 404: return "Not Found";
		case 405: return "Method Not Allowed";
		case 408: return "Request Timeout";
		case 409: return "Conflict";
		case 411: return "Length Required";
		case 412: return "Precondition Failed";
		case 416: return "Range Not Satisfiable";
		case 429: return "Too Many Requests";
		case 500: return "Internal Server Error";
		case 501: return "Not Implemented";
		case 502: return "Bad Gateway";
		case 503: return "Service Unavailable";
		case 504: return "Gateway Timeout";
	}
	return "";
}

/* Copies src (NUL-terminated within size) into dst[size], control characters as spaces. */
static void
copy_printable(char *dst, size_t size, const char *src)
{
	size_t		n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
	for (char *d = dst; *d; d++)
		if ((unsigned char) *d < 0x20 || *d == 0x7f)
			*d = ' ';
}

int
rb_s3_error_from_info(rb_error *err, int http_status, const rb_s3_error_info *info)
{
	char		message[sizeof(info->message)];
	char		code[sizeof(info->code)];
	const char *reason;

	if (info != NULL && info->code[0] != '\0')
	{
		/* both come from the server: no control characters into our messages */
		copy_printable(message, sizeof(message), info->message);
		copy_printable(code, sizeof(code), info->code);
		rb_error_set(err, rb_s3_error_class(info->code, http_status),
					 message[0] ? "%d %s: %s" : "%d %s%s", http_status, code, message);
		if (err != NULL)
		{
			err->http_status = http_status;
			memcpy(err->remote_code, code, sizeof(code));
		}
		return -1;
	}

	reason = rb_http_reason_phrase(http_status);
	rb_error_set(err, rb_s3_error_class(NULL, http_status), "%d %s", http_status,
				 reason[0] ? reason : "HTTP error");
	if (err != NULL)
	{
		err->http_status = http_status;
		err->remote_code[0] = '\0';
	}
	return -1;
}
