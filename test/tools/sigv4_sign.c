/*
 * sigv4_sign.c — signs one request description with src/core's SigV4 signer and
 * prints what it computed, for comparison with botocore (test/tools/botocore_sign.py,
 * test/t/011_sigv4_botocore.pl).
 *
 * Input (stdin, one "name=value" per line; values are raw and may contain "="):
 *   scheme=http|https          method=PUT            host=127.0.0.1:9000
 *   path=/bucket/raw key       query=name=value (repeatable; "query=uploads" = no value)
 *   header=Name: value (repeatable; "Content-MD5: @body" = base64 MD5 of the body)
 *   body_hex=<hex bytes>       payload=<hash or UNSIGNED-PAYLOAD> (overrides the body's hash)
 *   time=YYYYMMDDTHHMMSSZ      region=us-east-1      service=s3
 *   access_key=...  secret_key=...  token=... (optional)
 * Secrets come on stdin, never in argv.
 *
 * Output (stdout), one "name=value" per line:
 *   url=<scheme>://<host><encoded path>[?<canonical query>]
 *   canonical_request_hex=<hex of the canonical request>
 *   string_to_sign_hex=<hex of the string to sign>
 *   signed_headers=...   signature=...   authorization=<header value>
 *   content_sha256=<value>   security_token_set=0|1
 *   header=<Name: value> for each extra header as sent (after @body expansion)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rb_buf.h"
#include "rb_crypto.h"
#include "s3/s3_sigv4.h"

#define MAX_ITEMS 64

static void
die(const char *msg)
{
	fprintf(stderr, "sigv4_sign: %s\n", msg);
	exit(2);
}

static char *
xstrdup(const char *s)
{
	char	   *r = strdup(s);

	if (r == NULL)
		die("out of memory");
	return r;
}

static void
print_hex(const char *name, const rb_buf *b)
{
	char	   *hex = malloc(b->len * 2 + 1);

	if (hex == NULL)
		die("out of memory");
	rb_hex_encode((const unsigned char *) rb_buf_str(b), b->len, hex);
	printf("%s=%s\n", name, hex);
	free(hex);
}

/* "20130524T000000Z" → time_t (UTC) */
static time_t
parse_time(const char *s)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (strlen(s) != 16 ||
		sscanf(s, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		die("time must look like 20130524T000000Z");
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

int
main(void)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		n;
	const char *scheme = "http";
	char	   *method = NULL, *host = NULL, *path = NULL, *region = NULL, *service = NULL;
	char	   *payload = NULL, *access_key = NULL, *secret_key = NULL, *token = NULL;
	char	   *time_s = NULL;
	rb_buf		body = RB_BUF_INIT;
	rb_kv		query[MAX_ITEMS];
	rb_kv		headers[MAX_ITEMS];
	size_t		nq = 0;
	size_t		nh = 0;
	char		body_hash[RB_SHA256_HEX_SIZE];
	char		body_md5[RB_MD5_BASE64_SIZE];
	rb_aws_credentials cred;
	rb_sigv4_request req;
	rb_sigv4_signed sig;
	rb_buf		creq = RB_BUF_INIT;
	rb_buf		sts = RB_BUF_INIT;
	rb_buf		url = RB_BUF_INIT;
	rb_error	err;

	while ((n = getline(&line, &cap, stdin)) >= 0)
	{
		char	   *eq;
		char	   *v;

		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
			die("input line without \"=\"");
		*eq = '\0';
		v = eq + 1;
		if (strcmp(line, "scheme") == 0)
			scheme = xstrdup(v);
		else if (strcmp(line, "method") == 0)
			method = xstrdup(v);
		else if (strcmp(line, "host") == 0)
			host = xstrdup(v);
		else if (strcmp(line, "path") == 0)
			path = xstrdup(v);
		else if (strcmp(line, "region") == 0)
			region = xstrdup(v);
		else if (strcmp(line, "service") == 0)
			service = xstrdup(v);
		else if (strcmp(line, "payload") == 0)
			payload = xstrdup(v);
		else if (strcmp(line, "access_key") == 0)
			access_key = xstrdup(v);
		else if (strcmp(line, "secret_key") == 0)
			secret_key = xstrdup(v);
		else if (strcmp(line, "token") == 0)
			token = xstrdup(v);
		else if (strcmp(line, "time") == 0)
			time_s = xstrdup(v);
		else if (strcmp(line, "body_hex") == 0)
		{
			size_t		len = strlen(v);

			if (len % 2 != 0)
				die("body_hex has an odd length");
			for (size_t i = 0; i < len; i += 2)
			{
				int			hi = rb_hex_digit(v[i]);
				int			lo = rb_hex_digit(v[i + 1]);

				if (hi < 0 || lo < 0)
					die("body_hex is not hex");
				rb_buf_append_char(&body, (char) (hi * 16 + lo));
			}
		}
		else if (strcmp(line, "query") == 0)
		{
			char	   *qeq = strchr(v, '=');

			if (nq == MAX_ITEMS)
				die("too many query parameters");
			if (qeq != NULL)
				*qeq = '\0';
			query[nq].name = xstrdup(v);
			query[nq].value = xstrdup(qeq ? qeq + 1 : "");
			nq++;
		}
		else if (strcmp(line, "header") == 0)
		{
			char	   *colon = strchr(v, ':');
			const char *hv;

			if (colon == NULL)
				die("header without \":\"");
			if (nh == MAX_ITEMS)
				die("too many headers");
			*colon = '\0';
			hv = colon + 1;
			while (*hv == ' ')
				hv++;
			headers[nh].name = xstrdup(v);
			headers[nh].value = xstrdup(hv);
			nh++;
		}
		else
			die("unknown input field");
	}
	free(line);
	if (!method || !host || !path || !region || !access_key || !secret_key || !time_s)
		die("method, host, path, region, access_key, secret_key and time are required");

	if (rb_sha256_hex(body.data, body.len, body_hash, &err) != 0 ||
		rb_md5_base64(body.data, body.len, body_md5, &err) != 0)
		die(err.msg);
	for (size_t i = 0; i < nh; i++)
	{
		if (strcmp(headers[i].value, "@body") == 0)
		{
			free((char *) headers[i].value);
			headers[i].value = xstrdup(body_md5);
		}
	}

	if (rb_aws_credentials_set(&cred, access_key, secret_key, token, "stdin", &err) != 0)
		die(err.msg);

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.host = host;
	req.path = path;
	req.query = query;
	req.nquery = nq;
	req.headers = headers;
	req.nheaders = nh;
	req.payload_sha256_hex = payload ? payload : body_hash;
	req.now = parse_time(time_s);
	req.region = region;
	req.service = service ? service : "s3";

	if (rb_sigv4_sign_debug(&req, &cred, &sig, &creq, &sts, &err) != 0)
	{
		fprintf(stderr, "sigv4_sign: %s\n", err.msg);
		return 1;
	}

	rb_buf_appendf(&url, "%s://%s", scheme, host);
	rb_sigv4_encode_path(path, &url);
	if (nq > 0)
	{
		rb_buf_append_char(&url, '?');
		rb_sigv4_canonical_query(query, nq, &url);
	}
	printf("url=%s\n", rb_buf_str(&url));
	print_hex("canonical_request_hex", &creq);
	print_hex("string_to_sign_hex", &sts);
	printf("signed_headers=%s\n", sig.signed_headers);
	printf("signature=%s\n", sig.signature);
	printf("authorization=%s\n", sig.authorization + strlen("Authorization: "));
	printf("content_sha256=%s\n", sig.content_sha256 + strlen("x-amz-content-sha256: "));
	printf("security_token_set=%d\n", sig.security_token[0] != '\0');
	for (size_t i = 0; i < nh; i++)
		printf("header=%s: %s\n", headers[i].name, headers[i].value);

	rb_aws_credentials_clear(&cred);
	rb_buf_free_secure(&creq);
	rb_buf_free(&sts);
	rb_buf_free(&url);
	rb_buf_free(&body);
	return 0;
}
