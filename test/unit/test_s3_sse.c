/*
 * test_s3_sse.c — unit tests of server-side encryption in the S3 client
 * (src/core/s3/s3_sse.c and the headers s3_http.c sends), against a scripted
 * local server (fake_s3.h) that records each request's head:
 * x-amz-server-side-encryption (and -aws-kms-key-id with aws:kms) go on PutObject
 * and CreateMultipartUpload, never on UploadPart, CompleteMultipartUpload, HEAD
 * or GET; they are listed in SignedHeaders, and the signature recomputed here from
 * the request as received (its canonical request includes both headers and their
 * values) is the one sent.  Bad settings are refused by the client.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "fake_s3.h"
#include "rb_buf.h"
#include "s3/s3_client.h"
#include "s3/s3_credentials.h"
#include "s3/s3_sigv4.h"
#include "s3/s3_sse.h"
#include "s3/s3_upload.h"

#define KMS_KEY "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

/* --- reading back what the fake server received ----------------------------------- */

/* The value of header name in a recorded head, into out; false when absent. */
static bool
head_header(const char *head, const char *name, char *out, size_t outsize)
{
	size_t		nl = strlen(name);

	for (const char *p = strstr(head, "\r\n"); p != NULL && p[2] != '\0'; p = strstr(p + 2, "\r\n"))
	{
		const char *line = p + 2;
		size_t		len = strcspn(line, "\r\n");

		if (len > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':')
		{
			const char *v = line + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, outsize, "%.*s", (int) (len - (size_t) (v - line)), v);
			return true;
		}
	}
	return false;
}

/* Text after key (e.g. "SignedHeaders=") up to the next ',' or end, into out. */
static void
auth_field(const char *auth, const char *key, char *out, size_t outsize)
{
	const char *p = strstr(auth, key);

	assert_non_null(p);
	p += strlen(key);
	snprintf(out, outsize, "%.*s", (int) strcspn(p, ", "), p);
}

static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c - 'a' + 10;
}

/* Decodes %XX in place. */
static void
pct_decode(char *s)
{
	char	   *o = s;

	for (; *s; s++)
	{
		if (s[0] == '%' && s[1] && s[2])
		{
			*o++ = (char) (hexval(s[1]) * 16 + hexval(s[2]));
			s += 2;
		}
		else
			*o++ = *s;
	}
	*o = '\0';
}

static bool
in_list(const char *list, const char *name)
{
	size_t		nl = strlen(name);

	for (const char *p = list; *p;)
	{
		size_t		len = strcspn(p, ";");

		if (len == nl && strncmp(p, name, nl) == 0)
			return true;
		p += len;
		if (*p == ';')
			p++;
	}
	return false;
}

/*
 * Recomputes the SigV4 signature of a recorded request from what arrived (method,
 * path, query, the values of the signed headers, x-amz-date, the payload hash)
 * and asserts it is the one in its Authorization header.  The canonical request
 * is appended to canonical.
 */
static void
assert_signature_matches(const char *head, const rb_aws_credentials *cred, rb_buf *canonical)
{
	char		method[16];
	char		target[1024];
	char		path[1024];
	char		query[1024] = "";
	char		auth[2048];
	char		signed_headers[1024];
	char		signature[80];
	char		amz_date[32];
	char		sha[80];
	char		host[256];
	char		names[16][64];
	char		values[16][512];
	char		qn[8][128];
	char		qv[8][256];
	rb_kv		h[16];
	rb_kv		q[8];
	size_t		nh = 0;
	size_t		nq = 0;
	struct tm	tm;
	rb_sigv4_request req;
	rb_sigv4_signed out;
	rb_error	err;
	const char *sh;

	assert_int_equal(sscanf(head, "%15s %1023s", method, target), 2);
	snprintf(path, sizeof(path), "%.*s", (int) strcspn(target, "?"), target);
	if (strchr(target, '?'))
		snprintf(query, sizeof(query), "%s", strchr(target, '?') + 1);
	pct_decode(path);
	for (char *p = query; *p && nq < 8;)
	{
		size_t		len = strcspn(p, "&");
		char		pair[384];
		char	   *eq;

		snprintf(pair, sizeof(pair), "%.*s", (int) len, p);
		eq = strchr(pair, '=');
		snprintf(qn[nq], sizeof(qn[nq]), "%.*s", (int) (eq ? (size_t) (eq - pair) : strlen(pair)), pair);
		snprintf(qv[nq], sizeof(qv[nq]), "%s", eq ? eq + 1 : "");
		pct_decode(qn[nq]);
		pct_decode(qv[nq]);
		q[nq] = (rb_kv) {qn[nq], qv[nq]};
		nq++;
		p += len;
		if (*p == '&')
			p++;
	}

	assert_true(head_header(head, "Authorization", auth, sizeof(auth)));
	assert_true(head_header(head, "x-amz-date", amz_date, sizeof(amz_date)));
	assert_true(head_header(head, "x-amz-content-sha256", sha, sizeof(sha)));
	assert_true(head_header(head, "Host", host, sizeof(host)));
	auth_field(auth, "SignedHeaders=", signed_headers, sizeof(signed_headers));
	auth_field(auth, "Signature=", signature, sizeof(signature));

	/* the headers the signer adds itself are not passed to it */
	for (sh = signed_headers; *sh;)
	{
		size_t		len = strcspn(sh, ";");

		snprintf(names[nh], sizeof(names[nh]), "%.*s", (int) len, sh);
		sh += len;
		if (*sh == ';')
			sh++;
		if (strcmp(names[nh], "host") == 0 || strcmp(names[nh], "x-amz-date") == 0 ||
			strcmp(names[nh], "x-amz-content-sha256") == 0)
			continue;
		assert_true(head_header(head, names[nh], values[nh], sizeof(values[nh])));
		h[nh] = (rb_kv) {names[nh], values[nh]};
		nh++;
	}

	memset(&tm, 0, sizeof(tm));
	assert_int_equal(sscanf(amz_date, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
							&tm.tm_hour, &tm.tm_min, &tm.tm_sec), 6);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.host = host;
	req.path = path;
	req.query = q;
	req.nquery = nq;
	req.headers = h;
	req.nheaders = nh;
	req.payload_sha256_hex = sha;
	req.now = timegm(&tm);
	req.region = "us-east-1";
	req.service = "s3";
	rb_error_clear(&err);
	if (rb_sigv4_sign_debug(&req, cred, &out, canonical, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(out.signed_headers, signed_headers);
	assert_string_equal(out.signature, signature);
}

/* Whether the recorded request names header in its SignedHeaders. */
static bool
header_signed(const char *head, const char *header)
{
	char		auth[2048];
	char		signed_headers[1024];

	assert_true(head_header(head, "Authorization", auth, sizeof(auth)));
	auth_field(auth, "SignedHeaders=", signed_headers, sizeof(signed_headers));
	return in_list(signed_headers, header);
}

/* --- the client ------------------------------------------------------------------ */

static rb_aws_credentials test_cred;

static rb_s3_client *
client_for(fake_s3 *f, const char *sse, const char *kms_key_id, size_t part_size)
{
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;

	rb_error_clear(&err);
	assert_int_equal(rb_aws_credentials_set(&test_cred, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
											NULL, NULL, &err), 0);
	memset(&opt, 0, sizeof(opt));
	opt.endpoint = f ? f->endpoint : "http://127.0.0.1:9";
	opt.uri_style = RB_S3_URI_PATH;
	opt.bucket = "b";
	opt.credentials = &test_cred;
	opt.sse = sse;
	opt.sse_kms_key_id = kms_key_id;
	opt.part_size = part_size;
	opt.allow_small_parts = part_size > 0;
	opt.parts_in_flight = 1;
	c = rb_s3_client_new(&opt, NULL, &err);
	if (c == NULL)
		fail_msg("%s", err.msg);
	return c;
}

static void
test_put_object_aes256(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = client_for(f, "AES256", NULL, 0);
	rb_buf		creq = RB_BUF_INIT;
	rb_error	err;
	char		v[256];

	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	rb_error_clear(&err);
	if (rb_s3_put_object(c, "db/x.metadata.json", "{}", 2, "application/json", &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(f->nreq, 1);
	assert_true(head_header(f->req[0].head, RB_S3_SSE_HEADER, v, sizeof(v)));
	assert_string_equal(v, "AES256");
	assert_false(head_header(f->req[0].head, RB_S3_SSE_KMS_KEY_HEADER, v, sizeof(v)));
	assert_true(header_signed(f->req[0].head, RB_S3_SSE_HEADER));
	assert_signature_matches(f->req[0].head, &test_cred, &creq);
	assert_non_null(strstr(rb_buf_str(&creq), "\nx-amz-server-side-encryption:AES256\n"));
	assert_null(strstr(rb_buf_str(&creq), "kms-key-id"));

	rb_buf_free(&creq);
	rb_s3_client_free(c);
	rb_aws_credentials_clear(&test_cred);
	fake_s3_stop(f);
}

/* A stream smaller than one part is one PutObject (put_single): encrypted too. */
static void
test_small_stream_kms(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = client_for(f, "aws:kms", KMS_KEY, 4096);
	rb_s3_upload *w;
	rb_buf		creq = RB_BUF_INIT;
	rb_error	err;
	char		v[256];

	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	rb_error_clear(&err);
	w = rb_s3_upload_begin(c, "db/small.dump.zst", NULL, &err);
	assert_non_null(w);
	assert_int_equal(rb_s3_upload_write(w, "abc", 3, &err), 0);
	if (rb_s3_upload_finish(w, NULL, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(f->nreq, 1);
	assert_true(strncmp(f->req[0].line, "PUT /b/db/small.dump.zst HTTP", 29) == 0);
	assert_true(head_header(f->req[0].head, RB_S3_SSE_HEADER, v, sizeof(v)));
	assert_string_equal(v, "aws:kms");
	assert_true(head_header(f->req[0].head, RB_S3_SSE_KMS_KEY_HEADER, v, sizeof(v)));
	assert_string_equal(v, KMS_KEY);
	assert_signature_matches(f->req[0].head, &test_cred, &creq);
	assert_non_null(strstr(rb_buf_str(&creq),
						   "\nx-amz-server-side-encryption:aws:kms\n"
						   "x-amz-server-side-encryption-aws-kms-key-id:" KMS_KEY "\n"));

	rb_buf_free(&creq);
	rb_s3_client_free(c);
	rb_aws_credentials_clear(&test_cred);
	fake_s3_stop(f);
}

/*
 * A multipart upload: CreateMultipartUpload carries both headers, signed; the
 * parts and the completion carry none (S3 refuses them there).  HEAD and GET
 * carry none either.
 */
static void
test_multipart_kms(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = client_for(f, "aws:kms", KMS_KEY, 1024);
	rb_s3_upload *w;
	rb_s3_upload_result res;
	rb_s3_object_info info;
	rb_buf		got = RB_BUF_INIT;
	unsigned char data[2500];
	rb_error	err;
	char		v[256];

	memset(data, 'z', sizeof(data));
	fake_s3_answer(f, 200, NULL,
				   "<InitiateMultipartUploadResult><UploadId>UPK</UploadId></InitiateMultipartUploadResult>");
	for (int i = 0; i < 3; i++)
		fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	fake_s3_answer(f, 200, NULL,
				   "<CompleteMultipartUploadResult><ETag>\"abc-3\"</ETag></CompleteMultipartUploadResult>");
	fake_s3_answer_head(f, 200, "abc-3", 2500);
	fake_s3_answer(f, 200, NULL, "x");

	rb_error_clear(&err);
	w = rb_s3_upload_begin(c, "db/big.dump.zst", NULL, &err);
	assert_non_null(w);
	assert_int_equal(rb_s3_upload_write(w, data, sizeof(data), &err), 0);
	if (rb_s3_upload_finish(w, &res, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(res.parts, 3);
	if (rb_s3_head_object(c, "db/big.dump.zst", &info, &err) < 0)
		fail_msg("%s", err.msg);
	if (rb_s3_get_object_buf(c, "db/big.dump.zst", 16, &got, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(f->nreq, 7);

	assert_true(strncmp(f->req[0].line, "POST /b/db/big.dump.zst?uploads", 31) == 0);
	assert_true(head_header(f->req[0].head, RB_S3_SSE_HEADER, v, sizeof(v)));
	assert_string_equal(v, "aws:kms");
	assert_true(head_header(f->req[0].head, RB_S3_SSE_KMS_KEY_HEADER, v, sizeof(v)));
	assert_string_equal(v, KMS_KEY);
	assert_true(header_signed(f->req[0].head, RB_S3_SSE_HEADER));
	assert_true(header_signed(f->req[0].head, RB_S3_SSE_KMS_KEY_HEADER));

	for (int i = 0; i < 7; i++)
	{
		rb_buf		creq = RB_BUF_INIT;

		/* every request's signature holds, whatever it carries */
		assert_signature_matches(f->req[i].head, &test_cred, &creq);
		if (i == 0)
			assert_non_null(strstr(rb_buf_str(&creq),
								   "x-amz-server-side-encryption:aws:kms\n"
								   "x-amz-server-side-encryption-aws-kms-key-id:" KMS_KEY "\n"));
		else
		{
			/* parts 1-3, the completion, HEAD, GET */
			assert_false(head_header(f->req[i].head, RB_S3_SSE_HEADER, v, sizeof(v)));
			assert_false(head_header(f->req[i].head, RB_S3_SSE_KMS_KEY_HEADER, v, sizeof(v)));
			assert_null(strstr(rb_buf_str(&creq), "server-side-encryption"));
		}
		rb_buf_free(&creq);
	}
	assert_true(strncmp(f->req[1].line, "PUT /b/db/big.dump.zst?", 23) == 0);
	assert_non_null(strstr(f->req[1].line, "partNumber=1"));
	assert_non_null(strstr(f->req[3].line, "partNumber=3"));
	assert_true(strncmp(f->req[4].line, "POST /b/db/big.dump.zst?uploadId=UPK", 36) == 0);
	assert_true(strncmp(f->req[5].line, "HEAD ", 5) == 0);
	assert_true(strncmp(f->req[6].line, "GET ", 4) == 0);

	rb_buf_free(&got);
	rb_s3_client_free(c);
	rb_aws_credentials_clear(&test_cred);
	fake_s3_stop(f);
}

/* No encryption configured: no header at all (the bucket's default applies). */
static void
test_none_sends_nothing(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = client_for(f, "", NULL, 0);
	rb_error	err;
	char		v[256];

	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	rb_error_clear(&err);
	assert_int_equal(rb_s3_put_object(c, "k", "x", 1, NULL, &err), 0);
	assert_false(head_header(f->req[0].head, RB_S3_SSE_HEADER, v, sizeof(v)));
	assert_false(header_signed(f->req[0].head, RB_S3_SSE_HEADER));
	rb_s3_client_free(c);
	rb_aws_credentials_clear(&test_cred);
	fake_s3_stop(f);
}

/* Values S3 would refuse later are refused when the client is made. */
static void
test_bad_settings_refused(void **state)
{
	static const struct
	{
		const char *sse;
		const char *key;
		const char *msg;
	}			bad[] = {
		{"aes256", NULL, "invalid S3 server-side encryption \"aes256\": must be \"\", \"AES256\" or \"aws:kms\""},
		{"AWS:KMS", NULL, "invalid S3 server-side encryption \"AWS:KMS\""},
		{"aws:kms:dsse", NULL, "invalid S3 server-side encryption"},
		{"AES256", KMS_KEY, "an S3 KMS key id is set but the server-side encryption is \"AES256\": a key id needs \"aws:kms\""},
		{NULL, "alias/backups", "an S3 KMS key id is set but the server-side encryption is \"\""},
		{"aws:kms", "alias/with space", "invalid S3 KMS key id"},
		{"aws:kms", "key\r\nx-amz-acl: public-read", "invalid S3 KMS key id"},
	};
	rb_aws_credentials cred;
	rb_s3_options opt;
	rb_error	err;

	rb_error_clear(&err);
	assert_int_equal(rb_aws_credentials_set(&cred, "AKIDEXAMPLE", "secret", NULL, NULL, &err), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		memset(&opt, 0, sizeof(opt));
		opt.endpoint = "http://127.0.0.1:9";
		opt.bucket = "b";
		opt.credentials = &cred;
		opt.sse = bad[i].sse;
		opt.sse_kms_key_id = bad[i].key;
		rb_error_clear(&err);
		assert_null(rb_s3_client_new(&opt, NULL, &err));
		assert_int_equal(err.code, RB_ERR_INVALID);
		if (strstr(err.msg, bad[i].msg) == NULL)
			fail_msg("case %zu: \"%s\" does not contain \"%s\"", i, err.msg, bad[i].msg);
		rb_error_clear(&err);
		assert_int_equal(rb_s3_sse_check(bad[i].sse, bad[i].key, &err), -1);
	}
	/* the accepted ones */
	rb_error_clear(&err);
	assert_int_equal(rb_s3_sse_check(NULL, NULL, &err), 0);
	assert_int_equal(rb_s3_sse_check("", "", &err), 0);
	assert_int_equal(rb_s3_sse_check("AES256", "", &err), 0);
	assert_int_equal(rb_s3_sse_check("aws:kms", NULL, &err), 0);
	assert_int_equal(rb_s3_sse_check("aws:kms", "alias/backups", &err), 0);
	assert_int_equal(rb_s3_sse_check("aws:kms", "1234abcd-12ab-34cd-56ef-1234567890ab", &err), 0);
	assert_int_equal(rb_s3_sse_check("aws:kms", KMS_KEY, &err), 0);
	assert_null(rb_s3_sse_kms_key_id_problem(NULL));
	assert_non_null(rb_s3_sse_kms_key_id_problem("a;b"));
	{
		char		longid[RB_S3_SSE_KMS_KEY_ID_MAX + 2];

		memset(longid, 'k', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = '\0';
		assert_non_null(rb_s3_sse_kms_key_id_problem(longid));
		longid[RB_S3_SSE_KMS_KEY_ID_MAX] = '\0';
		assert_null(rb_s3_sse_kms_key_id_problem(longid));
	}
	rb_aws_credentials_clear(&cred);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_object_aes256),
		cmocka_unit_test(test_small_stream_kms),
		cmocka_unit_test(test_multipart_kms),
		cmocka_unit_test(test_none_sends_nothing),
		cmocka_unit_test(test_bad_settings_refused),
	};

	return cmocka_run_group_tests_name("s3_sse", tests, NULL, NULL);
}
