/*
 * s3_sigv4.c — AWS Signature Version 4 for S3 (see s3_sigv4.h): canonical request,
 * string to sign, signing-key derivation and the header lines to send.
 */
#include "s3_sigv4.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "rb_alloc.h"
#include "rb_crypto.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"

/* One header of the canonical request: lowercased name, normalised value. */
typedef struct sig_header
{
	char	   *name;
	char	   *value;
	size_t		order;			/* position in the input, for a stable sort */
} sig_header;

/* One encoded query pair. */
typedef struct sig_param
{
	char	   *name;
	char	   *value;
} sig_param;

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

void
rb_sigv4_uri_encode(const char *s, bool keep_slash, rb_buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	if (s == NULL || s[0] == '\0')
		return;
	rb_buf_reserve(out, strlen(s) * 3);
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (is_unreserved(*p) || (keep_slash && *p == '/'))
			rb_buf_append_char(out, (char) *p);
		else
		{
			char		esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};

			rb_buf_append(out, esc, 3);
		}
	}
}

void
rb_sigv4_encode_path(const char *path, rb_buf *out)
{
	if (path == NULL || path[0] == '\0')
	{
		rb_buf_append_char(out, '/');
		return;
	}
	rb_sigv4_uri_encode(path, true, out);
}

static int
param_cmp(const void *a, const void *b)
{
	const sig_param *pa = a;
	const sig_param *pb = b;
	int			c = strcmp(pa->name, pb->name);

	return c != 0 ? c : strcmp(pa->value, pb->value);
}

static char *
encode_dup(const char *s, bool keep_slash)
{
	rb_buf		b = RB_BUF_INIT;
	char	   *r;

	rb_sigv4_uri_encode(s ? s : "", keep_slash, &b);
	r = rb_malloc(b.len + 1);
	if (b.len > 0)
		memcpy(r, b.data, b.len);
	r[b.len] = '\0';
	rb_buf_free(&b);
	return r;
}

void
rb_sigv4_canonical_query(const rb_kv *query, size_t n, rb_buf *out)
{
	sig_param  *params;

	if (n == 0)
		return;
	params = rb_malloc(n * sizeof(*params));
	for (size_t i = 0; i < n; i++)
	{
		params[i].name = encode_dup(query[i].name, false);
		params[i].value = encode_dup(query[i].value, false);
	}
	qsort(params, n, sizeof(*params), param_cmp);
	for (size_t i = 0; i < n; i++)
	{
		if (i > 0)
			rb_buf_append_char(out, '&');
		rb_buf_append_str(out, params[i].name);
		rb_buf_append_char(out, '=');
		rb_buf_append_str(out, params[i].value);
		free(params[i].name);
		free(params[i].value);
	}
	free(params);
}

void
rb_sigv4_format_time(time_t t, char out[17])
{
	struct tm	tm;

	gmtime_r(&t, &tm);
	snprintf(out, 17, "%04d%02d%02dT%02d%02d%02dZ",
			 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* An HTTP token (RFC 9110 tchar): what a header name or method may contain. */
static bool
is_token(const char *s)
{
	if (s == NULL || *s == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (!(isalnum(*p) || strchr("!#$%&'*+-.^_`|~", *p) != NULL))
			return false;
	}
	return true;
}

/* A header value we can send: no CR, LF or other control character but tab. */
static bool
is_sendable_value(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return false;
	}
	return true;
}

static char *
lower_dup(const char *s)
{
	size_t		n = strlen(s);
	char	   *r = rb_malloc(n + 1);

	for (size_t i = 0; i <= n; i++)
		r[i] = (char) tolower((unsigned char) s[i]);
	return r;
}

/* Trims the value and collapses runs of spaces and tabs into one space. */
static char *
normalise_value(const char *s)
{
	char	   *r = rb_malloc(strlen(s) + 1);
	size_t		o = 0;
	bool		pending_space = false;

	for (const char *p = s; *p; p++)
	{
		if (*p == ' ' || *p == '\t')
		{
			pending_space = (o > 0);
			continue;
		}
		if (pending_space)
			r[o++] = ' ';
		pending_space = false;
		r[o++] = *p;
	}
	r[o] = '\0';
	return r;
}

static int
header_cmp(const void *a, const void *b)
{
	const sig_header *ha = a;
	const sig_header *hb = b;
	int			c = strcmp(ha->name, hb->name);

	if (c != 0)
		return c;
	return ha->order < hb->order ? -1 : (ha->order > hb->order ? 1 : 0);
}

static bool
is_signer_header(const char *lname)
{
	return strcmp(lname, "host") == 0 || strcmp(lname, "x-amz-date") == 0 ||
		strcmp(lname, "x-amz-content-sha256") == 0 ||
		strcmp(lname, "x-amz-security-token") == 0 ||
		strcmp(lname, "authorization") == 0;
}

static bool
valid_payload_hash(const char *h)
{
	size_t		n = strlen(h);

	if (strcmp(h, RB_SIGV4_UNSIGNED_PAYLOAD) == 0 || strncmp(h, "STREAMING-", 10) == 0)
		return is_token(h);
	if (n != 64)
		return false;
	for (size_t i = 0; i < n; i++)
	{
		if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
			return false;
	}
	return true;
}

/* Checks what the request and credentials must provide; returns 0 or -1. */
static int
check_request(const rb_sigv4_request *req, const rb_aws_credentials *cred, rb_error *err)
{
	if (req == NULL || cred == NULL)
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: no request or credentials");
	if (!is_token(req->method))
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: invalid HTTP method");
	if (req->host == NULL || req->host[0] == '\0' || !is_sendable_value(req->host) ||
		strpbrk(req->host, " \t/") != NULL)
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: invalid host \"%s\"",
							req->host ? req->host : "");
	if (req->path != NULL && req->path[0] != '\0' && req->path[0] != '/')
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: path must start with \"/\"");
	if (req->region == NULL || req->region[0] == '\0' || strchr(req->region, '/') ||
		!is_sendable_value(req->region) || strlen(req->region) > 64)
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: invalid region");
	if (req->service != NULL && (req->service[0] == '\0' || strchr(req->service, '/') ||
								 !is_sendable_value(req->service) ||
								 strlen(req->service) > 64))
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: invalid service name");
	if (req->payload_sha256_hex != NULL && !valid_payload_hash(req->payload_sha256_hex))
		return rb_error_set(err, RB_ERR_INVALID,
							"SigV4: payload hash must be 64 lowercase hex digits or UNSIGNED-PAYLOAD");
	if (req->nquery > 0 && req->query == NULL)
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: query parameters missing");
	for (size_t i = 0; i < req->nquery; i++)
	{
		if (req->query[i].name == NULL || req->query[i].name[0] == '\0')
			return rb_error_set(err, RB_ERR_INVALID, "SigV4: empty query parameter name");
	}
	if (req->nheaders > 0 && req->headers == NULL)
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: headers missing");
	for (size_t i = 0; i < req->nheaders; i++)
	{
		const rb_kv *h = &req->headers[i];
		char	   *lname;
		bool		reserved;

		if (!is_token(h->name))
			return rb_error_set(err, RB_ERR_INVALID, "SigV4: invalid header name");
		if (h->value == NULL || !is_sendable_value(h->value))
			return rb_error_set(err, RB_ERR_INVALID,
								"SigV4: invalid value for header \"%s\"", h->name);
		lname = lower_dup(h->name);
		reserved = is_signer_header(lname);
		free(lname);
		if (reserved)
			return rb_error_set(err, RB_ERR_INVALID,
								"SigV4: header \"%s\" is set by the signer", h->name);
	}
	if (cred->access_key_id[0] == '\0' || !is_sendable_value(cred->access_key_id) ||
		strpbrk(cred->access_key_id, " ,/=") != NULL)
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: invalid or empty access key id");
	if (cred->secret_access_key[0] == '\0')
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: empty secret access key");
	if (!is_sendable_value(cred->session_token))
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: invalid session token");
	return 0;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request") */
static int
derive_signing_key(const char *secret, const char *date8, const char *region,
				   const char *service, unsigned char key[RB_SHA256_LEN], rb_error *err)
{
	char		ksecret[4 + sizeof(((rb_aws_credentials *) 0)->secret_access_key)];
	unsigned char k1[RB_SHA256_LEN];
	unsigned char k2[RB_SHA256_LEN];
	size_t		slen = strnlen(secret, sizeof(((rb_aws_credentials *) 0)->secret_access_key));
	int			rc = -1;

	memcpy(ksecret, "AWS4", 4);
	memcpy(ksecret + 4, secret, slen);
	if (rb_hmac_sha256(ksecret, 4 + slen, date8, strlen(date8), k1, err) == 0 &&
		rb_hmac_sha256(k1, sizeof(k1), region, strlen(region), k2, err) == 0 &&
		rb_hmac_sha256(k2, sizeof(k2), service, strlen(service), k1, err) == 0 &&
		rb_hmac_sha256(k1, sizeof(k1), "aws4_request", 12, key, err) == 0)
		rc = 0;
	OPENSSL_cleanse(ksecret, sizeof(ksecret));
	OPENSSL_cleanse(k1, sizeof(k1));
	OPENSSL_cleanse(k2, sizeof(k2));
	return rc;
}

static int
fit(char *dst, size_t size, rb_error *err, const char *what, const char *fmt,...)
__attribute__((format(printf, 5, 6)));

static int
fit(char *dst, size_t size, rb_error *err, const char *what, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= size)
	{
		dst[0] = '\0';
		return rb_error_set(err, RB_ERR_INVALID, "SigV4: %s too long", what);
	}
	return 0;
}

int
rb_sigv4_sign_debug(const rb_sigv4_request *req, const rb_aws_credentials *cred,
					rb_sigv4_signed *out, rb_buf *canonical_request,
					rb_buf *string_to_sign, rb_error *err)
{
	const char *service;
	const char *payload;
	char		date8[9];
	sig_header *hdrs = NULL;
	size_t		nh = 0;
	rb_buf		creq = RB_BUF_INIT;
	rb_buf		sts = RB_BUF_INIT;
	rb_buf		signed_names = RB_BUF_INIT;
	char		creq_hash[RB_SHA256_HEX_SIZE];
	unsigned char key[RB_SHA256_LEN];
	unsigned char sig[RB_SHA256_LEN];
	int			rc = -1;

	memset(out, 0, sizeof(*out));
	if (check_request(req, cred, err) != 0)
		return -1;
	service = req->service ? req->service : "s3";
	payload = req->payload_sha256_hex ? req->payload_sha256_hex : RB_SHA256_EMPTY_HEX;

	rb_sigv4_format_time(req->now, out->date_iso8601);
	memcpy(date8, out->date_iso8601, 8);
	date8[8] = '\0';

	/* The headers to sign: the signer's own, then the caller's. */
	hdrs = rb_malloc((req->nheaders + 4) * sizeof(*hdrs));
#define ADD_HEADER(n, v) do { \
		hdrs[nh].name = lower_dup(n); hdrs[nh].value = normalise_value(v); \
		hdrs[nh].order = nh; nh++; } while (0)
	ADD_HEADER("host", req->host);
	ADD_HEADER("x-amz-date", out->date_iso8601);
	if (!req->omit_content_sha256)
		ADD_HEADER("x-amz-content-sha256", payload);
	if (cred->session_token[0] != '\0')
		ADD_HEADER("x-amz-security-token", cred->session_token);
	for (size_t i = 0; i < req->nheaders; i++)
		ADD_HEADER(req->headers[i].name, req->headers[i].value);
#undef ADD_HEADER
	qsort(hdrs, nh, sizeof(*hdrs), header_cmp);

	/* Canonical request. */
	rb_buf_appendf(&creq, "%s\n", req->method);
	rb_sigv4_encode_path(req->path, &creq);
	rb_buf_append_char(&creq, '\n');
	rb_sigv4_canonical_query(req->query, req->nquery, &creq);
	rb_buf_append_char(&creq, '\n');
	for (size_t i = 0; i < nh; i++)
	{
		/* repeated names: one line, values joined by commas in input order */
		if (i > 0 && strcmp(hdrs[i].name, hdrs[i - 1].name) == 0)
		{
			creq.len--;			/* drop the previous line's "\n" */
			creq.data[creq.len] = '\0';
			rb_buf_appendf(&creq, ",%s\n", hdrs[i].value);
			continue;
		}
		rb_buf_appendf(&creq, "%s:%s\n", hdrs[i].name, hdrs[i].value);
		if (signed_names.len > 0)
			rb_buf_append_char(&signed_names, ';');
		rb_buf_append_str(&signed_names, hdrs[i].name);
	}
	rb_buf_appendf(&creq, "\n%s\n%s", rb_buf_str(&signed_names), payload);

	if (rb_sha256_hex(creq.data, creq.len, creq_hash, err) != 0)
		goto done;

	/* String to sign. */
	rb_buf_appendf(&sts, SIGV4_ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s",
				   out->date_iso8601, date8, req->region, service, creq_hash);

	if (derive_signing_key(cred->secret_access_key, date8, req->region, service,
						   key, err) != 0)
		goto done;
	if (rb_hmac_sha256(key, sizeof(key), sts.data, sts.len, sig, err) != 0)
		goto done;
	rb_hex_encode(sig, sizeof(sig), out->signature);

	if (fit(out->signed_headers, sizeof(out->signed_headers), err, "signed header list",
			"%s", rb_buf_str(&signed_names)) != 0 ||
		fit(out->authorization, sizeof(out->authorization), err, "Authorization header",
			"Authorization: " SIGV4_ALGORITHM
			" Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, Signature=%s",
			cred->access_key_id, date8, req->region, service,
			rb_buf_str(&signed_names), out->signature) != 0 ||
		fit(out->amz_date, sizeof(out->amz_date), err, "date header",
			"x-amz-date: %s", out->date_iso8601) != 0)
		goto done;
	if (!req->omit_content_sha256 &&
		fit(out->content_sha256, sizeof(out->content_sha256), err, "payload hash header",
			"x-amz-content-sha256: %s", payload) != 0)
		goto done;
	if (cred->session_token[0] != '\0' &&
		fit(out->security_token, sizeof(out->security_token), err, "session token",
			"x-amz-security-token: %s", cred->session_token) != 0)
		goto done;

	if (canonical_request != NULL)
		rb_buf_append(canonical_request, creq.data, creq.len);
	if (string_to_sign != NULL)
		rb_buf_append(string_to_sign, sts.data, sts.len);
	rc = 0;

done:
	OPENSSL_cleanse(key, sizeof(key));
	for (size_t i = 0; i < nh; i++)
	{
		free(hdrs[i].name);
		free(hdrs[i].value);
	}
	free(hdrs);
	rb_buf_free_secure(&creq);
	rb_buf_free(&sts);
	rb_buf_free(&signed_names);
	if (rc != 0)
		memset(out, 0, sizeof(*out));	/* never hand back half-filled lines */
	return rc;
}

int
rb_sigv4_sign(const rb_sigv4_request *req, const rb_aws_credentials *cred,
			  rb_sigv4_signed *out, rb_error *err)
{
	return rb_sigv4_sign_debug(req, cred, out, NULL, NULL, err);
}
