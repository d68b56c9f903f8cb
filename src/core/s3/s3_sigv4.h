/*
 * s3_sigv4.h — AWS Signature Version 4 for S3 requests (header-based signing), and the
 * path and query encoders the transport must also use to build the request URL, so
 * that what is sent and what is signed are always the same bytes.
 *
 * Building a request (the S3 transport):
 *   rb_buf url = RB_BUF_INIT;
 *   rb_buf_appendf(&url, "%s://%s", scheme, host);     host as in req.host
 *   rb_sigv4_encode_path(path, &url);                  raw "/bucket/key" or "/key"
 *   if (nquery > 0) { rb_buf_append_char(&url, '?'); rb_sigv4_canonical_query(q, n, &url); }
 *   rb_sigv4_sign(&req, &cred, &sig, &err);
 *   headers: sig.authorization, sig.amz_date, sig.content_sha256, and
 *            sig.security_token when non-empty; plus every req.headers entry sent
 *            with the same value (e.g. "Content-MD5: ..."), and a Host header equal
 *            to req.host (libcurl's own Host header matches when req.host is the
 *            URL's host, with ":port" only when the port is not the scheme default).
 *
 * Canonical request (S3 rules): the path is URI-encoded once per segment ("/" kept,
 * RFC 3986 unreserved characters A-Z a-z 0-9 - _ . ~ kept, everything else %XX with
 * uppercase hex, never normalised: "//" and "." stay as given); the query is sorted
 * by encoded name then encoded value, every name and value encoded, "name=" for a
 * parameter without value ("?uploads" signs as "uploads="); headers are lowercased,
 * values trimmed with inner runs of spaces collapsed to one, sorted by name; host,
 * x-amz-content-sha256, x-amz-date and (when a session token is set)
 * x-amz-security-token are always signed.  The secret key never leaves this module.
 */
#ifndef RB_SIGV4_H
#define RB_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "s3_credentials.h"
#include "rb_buf.h"
#include "rb_error.h"

/* A name/value pair (query parameter or header); value "" for a valueless one. */
typedef struct rb_kv
{
	const char *name;
	const char *value;
} rb_kv;

#define RB_SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

typedef struct rb_sigv4_request
{
	const char *method;			/* "GET", "PUT", ... */
	const char *host;			/* Host header value, ":port" when not the default */
	const char *path;			/* raw, unencoded, starting with "/" */
	const rb_kv *query;			/* raw names and values, any order */
	size_t		nquery;
	const rb_kv *headers;		/* extra headers to sign (content-md5, content-type,
								 * range, ...): any case; must not repeat host or
								 * the x-amz-date / x-amz-content-sha256 /
								 * x-amz-security-token set by the signer */
	size_t		nheaders;
	const char *payload_sha256_hex; /* lowercase hex SHA-256 of the body, or
									 * RB_SIGV4_UNSIGNED_PAYLOAD; NULL = empty body */
	time_t		now;			/* request time (UTC seconds) */
	const char *region;			/* "us-east-1" */
	const char *service;		/* "s3"; NULL = "s3" */
	/*
	 * For the generic AWS test suite only (S3 requires the header): do not add
	 * x-amz-content-sha256 to the signed (and returned) headers.
	 */
	bool		omit_content_sha256;
} rb_sigv4_request;

/*
 * The header lines to add to the request, complete ("Name: value", no CRLF).
 * security_token is "" when the credentials carry no session token.
 */
typedef struct rb_sigv4_signed
{
	char		authorization[2048];	/* "Authorization: AWS4-HMAC-SHA256 Credential=..." */
	char		amz_date[40];			/* "x-amz-date: 20130524T000000Z" */
	char		content_sha256[128];	/* "x-amz-content-sha256: <hex>" ("" if omitted) */
	char		security_token[4200];	/* "x-amz-security-token: ..." or "" */
	char		signature[65];			/* the signature, lowercase hex */
	char		date_iso8601[17];		/* "20130524T000000Z" */
	char		signed_headers[1024];	/* "host;range;x-amz-content-sha256;x-amz-date" */
} rb_sigv4_signed;

/*
 * Signs the request.  Returns 0 and fills *out, or -1 with RB_ERR_INVALID (missing
 * field, header name or value that cannot be sent, result too long) or
 * RB_ERR_INTERNAL (OpenSSL failure).  Error messages never contain the secret.
 */
int			rb_sigv4_sign(const rb_sigv4_request *req, const rb_aws_credentials *cred,
						  rb_sigv4_signed *out, rb_error *err);

/*
 * Same as rb_sigv4_sign, and appends the canonical request and the string to sign
 * to the given buffers (either may be NULL).  For tests and debugging tools: the
 * canonical request includes the session token, so do not log it.
 */
int			rb_sigv4_sign_debug(const rb_sigv4_request *req, const rb_aws_credentials *cred,
								rb_sigv4_signed *out, rb_buf *canonical_request,
								rb_buf *string_to_sign, rb_error *err);

/* Appends the S3-encoded path (see above) to out.  NULL or "" appends "/". */
void		rb_sigv4_encode_path(const char *path, rb_buf *out);

/* Appends the canonical query string (no leading "?"; nothing when n == 0) to out. */
void		rb_sigv4_canonical_query(const rb_kv *query, size_t n, rb_buf *out);

/*
 * Appends s URI-encoded (RFC 3986 unreserved kept, uppercase %XX); "/" is kept when
 * keep_slash.  The building block of the two functions above.
 */
void		rb_sigv4_uri_encode(const char *s, bool keep_slash, rb_buf *out);

/* Formats t as "YYYYMMDDTHHMMSSZ" (UTC) into out (17 bytes). */
void		rb_sigv4_format_time(time_t t, char out[17]);

#endif							/* RB_SIGV4_H */
