/*
 * notify_http.c — webhook POST (signed with HMAC-SHA256) and heartbeat signals in
 * the healthchecks.io protocol, on libcurl (see notify_http.h).
 */
#include "notify_http.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "rb_crypto.h"

#define REPLY_EXCERPT 200		/* bytes of an error answer quoted in the error */
#define FAIL_BODY_MAX 10000		/* bytes of error text sent with a fail signal */

int
rb_webhook_secret_load(const char *path, rb_buf *out, rb_error *err)
{
	if (rb_notify_read_secret_file(path, "webhook secret file", out, err) != 0)
		return -1;
	while (out->len > 0 && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r' ||
							out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
		out->data[--out->len] = '\0';
	if (out->len == 0)
	{
		rb_buf_free_secure(out);
		return rb_error_set(err, RB_ERR_INVALID, "webhook secret file \"%s\" is empty", path);
	}
	return 0;
}

int
rb_webhook_signature(const void *secret, size_t secret_len, const char *body, size_t len,
					 char out[RB_WEBHOOK_SIGNATURE_SIZE], rb_error *err)
{
	unsigned char mac[RB_SHA256_LEN];

	if (rb_hmac_sha256(secret, secret_len, body, len, mac, err) != 0)
		return -1;
	memcpy(out, "sha256=", 7);
	rb_hex_encode(mac, sizeof(mac), out + 7);
	return 0;
}

/* --- one HTTP request ------------------------------------------------------------ */

typedef struct http_request
{
	const char *method;			/* GET or POST */
	const char *url;
	const char *content_type;	/* POST only */
	const char *body;
	size_t		len;
	const char *signature;		/* X-Ripple-Signature value, or NULL */
	const rb_notify_delivery *d;
	const rb_hooks *hooks;
	rb_buf		reply;			/* the first bytes of the answer */
} http_request;

static size_t
write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	http_request *r = arg;
	size_t		n = size * nmemb;

	if (r->reply.len < REPLY_EXCERPT)
		rb_buf_append(&r->reply, data, n < REPLY_EXCERPT - r->reply.len ? n : REPLY_EXCERPT - r->reply.len);
	return n;
}

/* The answer's first bytes as one printable line, for an error message. */
static void
reply_excerpt(const rb_buf *reply, char *out, size_t size)
{
	size_t		j = 0;

	for (size_t i = 0; i < reply->len && j + 1 < size; i++)
	{
		unsigned char c = (unsigned char) reply->data[i];

		out[j++] = (c >= 0x20 && c < 0x7F) ? (char) c : ' ';
	}
	while (j > 0 && out[j - 1] == ' ')
		j--;
	out[j] = '\0';
}

static int
http_result(CURL *h, http_request *r, CURLcode rc, const char *errbuf, int timeout_ms,
			rb_error *err)
{
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
	long		status = 0;
	char		excerpt[REPLY_EXCERPT + 1];

	switch (rc)
	{
		case CURLE_OK:
			break;
		case CURLE_OPERATION_TIMEDOUT:
			return rb_error_set(err, RB_ERR_NETWORK, "no answer within %d ms", timeout_ms);
		case CURLE_COULDNT_CONNECT:
			return rb_error_set(err, RB_ERR_NETWORK, "could not connect: %s",
								rb_notify_connect_error(h, why));
		case CURLE_COULDNT_RESOLVE_HOST:
			return rb_error_set(err, RB_ERR_NETWORK, "could not connect: %s", why);
		case CURLE_PEER_FAILED_VERIFICATION:
			return rb_error_set(err, RB_ERR_REMOTE, "the TLS certificate could not be verified: %s",
								why);
		default:
			return rb_error_set(err, RB_ERR_NETWORK, "%s request failed: %s", r->method, why);
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (status >= 200 && status <= 299)
		return 0;
	reply_excerpt(&r->reply, excerpt, sizeof(excerpt));
	rb_error_set(err, RB_ERR_REMOTE, "the receiver answered HTTP %ld%s%s%s", status,
				 status >= 300 && status <= 399 ? " (redirects are not followed)" : "",
				 excerpt[0] ? ": " : "", excerpt);
	err->http_status = (int) status;
	return -1;
}

static int
http_attempt(void *arg, rb_error *err)
{
	http_request *r = arg;
	int			timeout_ms = rb_notify_timeout_ms(r->d);
	CURL	   *h = curl_easy_init();
	struct curl_slist *headers = NULL;
	char		errbuf[CURL_ERROR_SIZE] = "";
	bool		cancelled = false;
	int			rc = -1;
	CURLcode	res;

	if (h == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "could not create a curl handle");
	rb_buf_reset(&r->reply);
	if (strcmp(r->method, "POST") == 0)
	{
		char		line[128];
		struct curl_slist *n;

		snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
		n = curl_slist_append(headers, line);
		if (n != NULL)
			headers = n;
		if (n != NULL && r->signature != NULL)
		{
			snprintf(line, sizeof(line), "%s: %s", RB_WEBHOOK_SIGNATURE_HEADER, r->signature);
			n = curl_slist_append(headers, line);
			if (n != NULL)
				headers = n;
		}
		/* no "Expect: 100-continue" round trip for a small body */
		if (n != NULL)
			n = curl_slist_append(headers, "Expect:");
		if (n == NULL)
		{
			rb_error_set(err, RB_ERR_NOMEM, "out of memory");
			goto done;
		}
		headers = n;
		RB_NOTIFY_SETOPT(h, CURLOPT_POST, 1L);
		RB_NOTIFY_SETOPT(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		RB_NOTIFY_SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) r->len);
		RB_NOTIFY_SETOPT(h, CURLOPT_HTTPHEADER, headers);
	}
	else
		RB_NOTIFY_SETOPT(h, CURLOPT_HTTPGET, 1L);
	if (rb_notify_curl_setup(h, r->url, "http,https", r->d, errbuf, err) != 0)
		goto done;
	RB_NOTIFY_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	RB_NOTIFY_SETOPT(h, CURLOPT_USERAGENT, "ripple_backup");
	RB_NOTIFY_SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
	RB_NOTIFY_SETOPT(h, CURLOPT_WRITEDATA, (void *) r);

	res = (CURLcode) rb_notify_curl_run(h, r->hooks, &cancelled);
	if (cancelled)
		rb_error_set(err, RB_ERR_CANCELLED, "cancelled");
	else
		rc = http_result(h, r, res, errbuf, timeout_ms, err);

done:
	curl_easy_cleanup(h);
	curl_slist_free_all(headers);
	return rc;
}

int
rb_http_url_check(const char *url, const char *what, rb_error *err)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL;
	char	   *host = NULL;
	int			rc = 0;

	if (u == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	if (url == NULL || url[0] == '\0')
		rc = rb_error_set(err, RB_ERR_INVALID, "no %s URL was given", what);
	else if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
			 curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
			 curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = rb_error_set(err, RB_ERR_INVALID, "invalid %s URL: expected http://host/... or https://host/...",
						  what);
	else if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
		rc = rb_error_set(err, RB_ERR_INVALID, "invalid %s URL scheme \"%s\": use http:// or https://",
						  what, scheme);
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

static int
run_request(http_request *r, const char *what_kind, rb_error *err)
{
	char		where[300];
	char		what[340];
	int			rc;

	rb_notify_url_for_log(r->url, where, sizeof(where));
	snprintf(what, sizeof(what), "%s to %s", what_kind, where);
	rb_buf_init(&r->reply);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return rb_error_set(err, RB_ERR_INTERNAL, "could not initialise libcurl");
	rc = rb_notify_with_retry(r->d, what, http_attempt, NULL, r, r->hooks, err);
	curl_global_cleanup();
	rb_buf_free(&r->reply);
	if (rc == 0)
		rb_log(r->hooks, RB_LOG_DEBUG, "%s: delivered", what);
	return rc;
}

int
rb_webhook_post(const char *url, const char *body, size_t len,
				const void *secret, size_t secret_len,
				const rb_notify_delivery *d, const rb_hooks *hooks, rb_error *err)
{
	http_request r;
	char		sig[RB_WEBHOOK_SIGNATURE_SIZE];

	if (rb_http_url_check(url, "webhook", err) != 0)
		return -1;
	memset(&r, 0, sizeof(r));
	if (secret_len > 0)
	{
		if (rb_webhook_signature(secret, secret_len, body, len, sig, err) != 0)
			return -1;
		r.signature = sig;
	}
	r.method = "POST";
	r.url = url;
	r.content_type = "application/json";
	r.body = body;
	r.len = len;
	r.d = d;
	r.hooks = hooks;
	return run_request(&r, "webhook", err);
}

/* --- heartbeat --------------------------------------------------------------------- */

const char *
rb_heartbeat_signal_name(rb_heartbeat_signal sig)
{
	switch (sig)
	{
		case RB_HEARTBEAT_START: return "start";
		case RB_HEARTBEAT_SUCCESS: return "success";
		case RB_HEARTBEAT_FAIL: return "fail";
	}
	return "unknown";
}

int
rb_heartbeat_signal_parse(const char *name, rb_heartbeat_signal *out, rb_error *err)
{
	if (name != NULL && strcmp(name, "start") == 0)
		*out = RB_HEARTBEAT_START;
	else if (name != NULL && strcmp(name, "success") == 0)
		*out = RB_HEARTBEAT_SUCCESS;
	else if (name != NULL && strcmp(name, "fail") == 0)
		*out = RB_HEARTBEAT_FAIL;
	else
		return rb_error_set(err, RB_ERR_INVALID,
							"unknown heartbeat signal \"%s\": use start, success or fail",
							name ? name : "");
	return 0;
}

int
rb_heartbeat_url(const char *url, rb_heartbeat_signal sig, rb_buf *out, rb_error *err)
{
	CURLU	   *u;
	char	   *path = NULL;
	char	   *full = NULL;
	rb_buf		p = RB_BUF_INIT;
	int			rc = 0;

	if (rb_http_url_check(url, "heartbeat", err) != 0)
		return -1;
	if (sig == RB_HEARTBEAT_SUCCESS)
	{
		rb_buf_append_str(out, url);
		return 0;
	}
	u = curl_url();
	if (u == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		rc = rb_error_set(err, RB_ERR_INVALID, "invalid heartbeat URL");
	else
	{
		size_t		n = strlen(path);

		while (n > 0 && path[n - 1] == '/')
			n--;
		rb_buf_append(&p, path, n);
		rb_buf_append_str(&p, sig == RB_HEARTBEAT_START ? "/start" : "/fail");
		if (curl_url_set(u, CURLUPART_PATH, rb_buf_str(&p), 0) != CURLUE_OK ||
			curl_url_get(u, CURLUPART_URL, &full, 0) != CURLUE_OK)
			rc = rb_error_set(err, RB_ERR_INVALID, "invalid heartbeat URL");
		else
			rb_buf_append_str(out, full);
	}
	curl_free(path);
	curl_free(full);
	rb_buf_free(&p);
	curl_url_cleanup(u);
	return rc;
}

int
rb_heartbeat_send(const char *url, rb_heartbeat_signal sig, const char *error_text,
				  const rb_notify_delivery *d, const rb_hooks *hooks, rb_error *err)
{
	http_request r;
	rb_buf		target = RB_BUF_INIT;
	char		what[40];
	int			rc;

	if (rb_heartbeat_url(url, sig, &target, err) != 0)
		return -1;
	memset(&r, 0, sizeof(r));
	r.url = rb_buf_str(&target);
	r.d = d;
	r.hooks = hooks;
	if (sig == RB_HEARTBEAT_FAIL)
	{
		size_t		n = error_text ? strlen(error_text) : 0;

		r.method = "POST";
		r.content_type = "text/plain; charset=utf-8";
		r.body = error_text ? error_text : "";
		if (n > FAIL_BODY_MAX)
		{
			/* cut at a character boundary, not inside a UTF-8 sequence */
			n = FAIL_BODY_MAX;
			while (n > 0 && ((unsigned char) error_text[n] & 0xC0) == 0x80)
				n--;
		}
		r.len = n;
	}
	else
		r.method = "GET";
	snprintf(what, sizeof(what), "heartbeat %s", rb_heartbeat_signal_name(sig));
	rc = run_request(&r, what, err);
	rb_buf_free(&target);
	return rc;
}
