/*
 * s3_http.c — one S3 HTTP exchange (rb_s3_xfer) and the engine that runs many at
 * once on the client's curl multi handle: signing each attempt, the circuit
 * breaker check before a request's first attempt and the record of its final
 * outcome (one failure per failed request, never per attempt, so the breaker
 * cannot cut short the retries of a request it admitted), classification of the
 * outcome, retries with backoff (the wait is spent polling, so the cancel hook is
 * checked every RB_S3_POLL_MS), the request's deadline, and the log line of each
 * retry.  See s3_internal.h.
 *
 * Secrets: the Authorization and x-amz-security-token header lines live only in
 * the curl_slist of an attempt; CURLOPT_VERBOSE is never set, and error messages
 * are built from curl's error buffer (which never holds headers) and the S3 error
 * document.
 */
#include "s3_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "rb_alloc.h"
#include "rb_crypto.h"
#include "s3_errors.h"
#include "s3_sse.h"
#include "s3_xml.h"
#include "s3_sigv4.h"

void
rb_s3_etag_unquote(const char *in, char *out, size_t outsize)
{
	size_t		n;

	if (outsize == 0)
		return;
	while (*in == ' ' || *in == '\t')
		in++;
	if (strncmp(in, "W/", 2) == 0)
		in += 2;
	if (*in == '"')
		in++;
	n = strlen(in);
	while (n > 0 && (in[n - 1] == '"' || in[n - 1] == ' ' || in[n - 1] == '\t' ||
					 in[n - 1] == '\r' || in[n - 1] == '\n'))
		n--;
	if (n >= outsize)
		n = outsize - 1;
	memcpy(out, in, n);
	out[n] = '\0';
}

/* --- xfer description ----------------------------------------------------------- */

void
rb_s3_xfer_init(rb_s3_xfer *x, rb_s3_client *c, const char *method, const char *key,
				const char *what_prefix)
{
	memset(x, 0, sizeof(*x));
	x->method = method;
	x->key = key ? rb_strdup(key) : NULL;
	rb_buf_init(&x->own_body);
	rb_buf_init(&x->resp);
	strcpy(x->payload_sha256, RB_SHA256_EMPTY_HEX);
	x->range_first = -1;
	x->range_last = -1;
	x->content_length = -1;
	if (what_prefix == NULL)
		what_prefix = "";
	snprintf(x->what_log, sizeof(x->what_log), "%s %s%s", method, what_prefix,
			 key ? key : c->bucket);
	snprintf(x->what_err, sizeof(x->what_err), "%s %ss3://%s%s%s", method, what_prefix,
			 c->bucket, key ? "/" : "", key ? key : "");
}

void
rb_s3_xfer_add_query(rb_s3_xfer *x, const char *name, const char *value)
{
	if (x->nquery >= RB_S3_MAX_QUERY)
	{
		x->query_overflow = true;	/* a bug: rb_s3_engine_submit fails the request */
		return;
	}
	x->qname[x->nquery] = rb_strdup(name);
	x->qvalue[x->nquery] = rb_strdup(value ? value : "");
	x->nquery++;
}

int
rb_s3_xfer_set_body(rb_s3_xfer *x, const void *body, size_t len, bool want_md5, rb_error *err)
{
	x->body = body;
	x->body_len = len;
	if (rb_sha256_hex(body ? body : "", len, x->payload_sha256, err) < 0)
		return -1;
	if (want_md5)
	{
		if (rb_md5_base64(body ? body : "", len, x->content_md5, err) < 0)
			return -1;
	}
	return 0;
}

void
rb_s3_xfer_cleanup(rb_s3_xfer *x)
{
	free(x->key);
	x->key = NULL;
	for (int i = 0; i < x->nquery; i++)
	{
		free(x->qname[i]);
		free(x->qvalue[i]);
	}
	x->nquery = 0;
	rb_buf_free(&x->own_body);
	rb_buf_free(&x->resp);
	if (x->easy)
		curl_easy_cleanup(x->easy);
	x->easy = NULL;
	curl_slist_free_all(x->headers);
	x->headers = NULL;
}

/* --- curl callbacks ------------------------------------------------------------- */

static size_t
header_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	rb_s3_xfer *x = arg;
	size_t		len = size * nitems;
	const char *colon;
	char		name[32];
	char		value[256];
	size_t		nlen;
	size_t		vlen;
	const char *v;

	if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0)
	{
		const char *sp = memchr(buf, ' ', len);

		x->status = sp ? strtol(sp + 1, NULL, 10) : 0;
		x->etag[0] = '\0';
		x->content_length = -1;
		x->last_modified[0] = '\0';
		x->etag_not_md5 = false;
		return len;
	}
	colon = memchr(buf, ':', len);
	if (colon == NULL)
		return len;
	nlen = (size_t) (colon - buf);
	if (nlen >= sizeof(name))
		return len;
	memcpy(name, buf, nlen);
	name[nlen] = '\0';
	v = colon + 1;
	vlen = len - nlen - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= sizeof(value))
		vlen = sizeof(value) - 1;
	memcpy(value, v, vlen);
	value[vlen] = '\0';

	if (strcasecmp(name, "etag") == 0)
		rb_s3_etag_unquote(value, x->etag, sizeof(x->etag));
	else if (strcasecmp(name, "content-length") == 0)
		x->content_length = strtoll(value, NULL, 10);
	else if (strcasecmp(name, "last-modified") == 0)
		snprintf(x->last_modified, sizeof(x->last_modified), "%s", value);
	else if ((strcasecmp(name, "x-amz-server-side-encryption") == 0 && strncmp(value, "aws:kms", 7) == 0) ||
			 strcasecmp(name, "x-amz-server-side-encryption-customer-algorithm") == 0)
		x->etag_not_md5 = true;
	return len;
}

static size_t
write_cb(char *ptr, size_t size, size_t nmemb, void *arg)
{
	rb_s3_xfer *x = arg;
	size_t		len = size * nmemb;
	size_t		limit = x->resp_max ? x->resp_max : RB_S3_RESPONSE_MAX;

	if (x->sink && x->status >= 200 && x->status < 300)
	{
		/*
		 * A ranged or resumed GET must get a 206 with the bytes asked for, not the
		 * whole object from its start.
		 */
		if ((x->range_first >= 0 || x->delivered_before > 0) && x->status != 206)
		{
			rb_error_set(&x->sink_err, RB_ERR_INTEGRITY,
						 "server answered %ld instead of 206 Partial Content to a ranged GET", x->status);
			x->sink_failed = true;
			return 0;
		}
		if (x->sink(x->sink_arg, ptr, len, &x->sink_err) < 0)
		{
			x->sink_failed = true;
			return 0;
		}
		x->delivered += len;
		x->progress_ms = rb_now_ms();
		return len;
	}
	if (x->resp.len + len > limit)
	{
		x->resp_overflow = true;
		return 0;
	}
	rb_buf_append(&x->resp, ptr, len);
	return len;
}

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	rb_s3_xfer *x = arg;
	size_t		want = size * nitems;
	size_t		avail = x->body_len - x->read_off;

	if (want > avail)
		want = avail;
	if (want > 0)
		memcpy(buf, x->body + x->read_off, want);
	x->read_off += want;
	return want;
}

static int
seek_cb(void *arg, curl_off_t offset, int origin)
{
	rb_s3_xfer *x = arg;

	if (origin != SEEK_SET || offset < 0 || (size_t) offset > x->body_len)
		return CURL_SEEKFUNC_FAIL;
	x->read_off = (size_t) offset;
	return CURL_SEEKFUNC_OK;
}

/* --- breaker ---------------------------------------------------------------------- */

static int64_t
breaker_now(rb_s3_client *c)
{
	return c->clock ? c->clock(c->clock_arg) : rb_now_ms();
}

static void
breaker_lock(rb_s3_client *c)
{
	if (c->breaker_lock)
		c->breaker_lock(c->breaker_lock_arg);
}

static void
breaker_unlock(rb_s3_client *c)
{
	if (c->breaker_unlock)
		c->breaker_unlock(c->breaker_lock_arg);
}

typedef enum gate_result
{
	GATE_GO,					/* the request may start */
	GATE_WAIT,					/* a half-open trial is running: look again soon */
	GATE_FAIL					/* open: e holds the fast failure */
} gate_result;

/*
 * May x, a request that has not started yet, go?  While the breaker is open it
 * fails fast, naming the last real error with the breaker as context; while its
 * half-open trial runs (here or in another process sharing the breaker) it waits
 * for the trial's outcome; when the interval is over it becomes the trial.
 */
static gate_result
breaker_gate(rb_s3_client *c, rb_s3_xfer *x, rb_error *e)
{
	int64_t		now = breaker_now(c);
	bool		ok;
	int32_t		was;
	int64_t		after = 0;
	int			failures = 0;
	char		last[RB_BREAKER_LAST_ERROR_LEN] = "";

	breaker_lock(c);
	if (rb_breaker_trial_running(c->breaker, now))
	{
		breaker_unlock(c);
		return GATE_WAIT;
	}
	was = c->breaker->state;
	ok = rb_breaker_allow(c->breaker, now);
	if (!ok)
	{
		after = rb_breaker_retry_after_ms(c->breaker, now);
		failures = c->breaker->consecutive_failures;
		memcpy(last, c->breaker->last_error, sizeof(last));
		last[sizeof(last) - 1] = '\0';
	}
	breaker_unlock(c);
	if (ok)
	{
		x->breaker_trial = (was != RB_BREAKER_CLOSED);
		if (x->breaker_trial)
			rb_log(c->hooks, RB_LOG_INFO, "s3: circuit breaker for %s half-open: %s is the trial request",
				   c->ep.normalized, x->what_log);
		return GATE_GO;
	}
	if (last[0])
		rb_error_set(e, RB_ERR_CIRCUIT_OPEN,
					 "%s (the last error of %s; circuit breaker open after %d consecutive failures, failing fast: next trial in %.1f s)",
					 last, c->ep.normalized, failures, (double) after / 1000.0);
	else
		rb_error_set(e, RB_ERR_CIRCUIT_OPEN,
					 "circuit breaker open for %s after %d consecutive failures; failing fast (next trial in %.1f s)",
					 c->ep.normalized, failures, (double) after / 1000.0);
	return GATE_FAIL;
}

/*
 * Records the final outcome of request x: a failure that says the endpoint is
 * unwell (e, its message kept as the breaker's last error), or a success (any
 * answer that shows the endpoint works, 404 and 403 included).
 */
static void
breaker_record(rb_s3_client *c, rb_s3_xfer *x, bool failure, const rb_error *e)
{
	int64_t		now = breaker_now(c);
	int32_t		before;
	int32_t		after;
	int32_t		failures;

	breaker_lock(c);
	before = c->breaker->state;
	if (failure)
	{
		rb_breaker_record_failure(c->breaker, now);
		rb_breaker_set_last_error(c->breaker, e ? e->msg : NULL);
	}
	else
		rb_breaker_record_success(c->breaker, now);
	after = c->breaker->state;
	failures = c->breaker->consecutive_failures;
	breaker_unlock(c);
	x->breaker_trial = false;
	if (before != after && after == RB_BREAKER_OPEN)
		rb_log(c->hooks, RB_LOG_WARNING, "s3: circuit breaker for %s opened after %d consecutive failures",
			   c->ep.normalized, failures);
	else if (before != after && after == RB_BREAKER_CLOSED)
		rb_log(c->hooks, RB_LOG_INFO, "s3: circuit breaker for %s closed", c->ep.normalized);
}

/* x was the half-open trial and ends without an outcome (cancelled): free the slot. */
static void
breaker_release_trial(rb_s3_client *c, rb_s3_xfer *x)
{
	if (!x->breaker_trial)
		return;
	x->breaker_trial = false;
	breaker_lock(c);
	rb_breaker_release_trial(c->breaker);
	breaker_unlock(c);
}

/* --- engine ----------------------------------------------------------------------- */

static void
active_remove(rb_s3_client *c, rb_s3_xfer *x)
{
	for (int i = 0; i < c->nactive; i++)
	{
		if (c->active[i] == x)
		{
			c->active[i] = c->active[c->nactive - 1];
			c->nactive--;
			return;
		}
	}
}

static void
attempt_release(rb_s3_client *c, rb_s3_xfer *x)
{
	if (x->easy)
	{
		curl_multi_remove_handle(c->multi, x->easy);
		curl_easy_cleanup(x->easy);
		x->easy = NULL;
	}
	curl_slist_free_all(x->headers);
	x->headers = NULL;
}

/* Marks x DONE; on failure e (not yet prefixed) becomes x->err with the operation. */
static void
xfer_finish(rb_s3_client *c, rb_s3_xfer *x, const rb_error *e)
{
	attempt_release(c, x);
	active_remove(c, x);
	breaker_release_trial(c, x);
	x->state = RB_XFER_DONE;
	x->ok = (e == NULL);
	if (e)
	{
		x->err = *e;
		rb_error_prefix(&x->err, "%s: ", x->what_err);
	}
	c->done_seq++;
}

static int
add_header(struct curl_slist **list, const char *line)
{
	struct curl_slist *n = curl_slist_append(*list, line);

	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

#define SETOPT(opt, val) \
	do { if (curl_easy_setopt(x->easy, (opt), (val)) != CURLE_OK) goto setopt_failed; } while (0)

/* Starts one attempt of x.  Returns -1 with e when it cannot (not retried). */
static int
attempt_start(rb_s3_client *c, rb_s3_xfer *x, rb_error *e)
{
	rb_buf		host = RB_BUF_INIT;
	rb_buf		path = RB_BUF_INIT;
	rb_buf		url = RB_BUF_INIT;
	rb_buf		line = RB_BUF_INIT;
	rb_kv		q[RB_S3_MAX_QUERY];
	rb_kv		h[8];
	size_t		nh = 0;
	char		range[96];
	char		ifmatch[140];
	rb_sigv4_request req;
	rb_sigv4_signed *sig = NULL;
	int64_t		first = x->range_first;
	int			rc = -1;

	x->attempt++;
	x->attempt_started_ms = rb_now_ms();
	c->stats.requests++;
	x->status = 0;
	x->etag[0] = '\0';
	x->content_length = -1;
	x->last_modified[0] = '\0';
	x->read_off = 0;
	x->delivered_before = x->delivered;
	x->sink_failed = false;
	x->resp_overflow = false;
	x->curl_errbuf[0] = '\0';
	rb_buf_reset(&x->resp);

	rb_s3_target(&c->ep, c->bucket, x->key, &host, &path);
	for (int i = 0; i < x->nquery; i++)
	{
		q[i].name = x->qname[i];
		q[i].value = x->qvalue[i];
	}
	if (x->content_md5[0])
		h[nh++] = (rb_kv) {"Content-MD5", x->content_md5};
	if (x->content_type[0])
		h[nh++] = (rb_kv) {"Content-Type", x->content_type};
	if (x->delivered > 0)
		first = (first < 0 ? 0 : first) + (int64_t) x->delivered;
	if (first >= 0)
	{
		if (x->range_last >= 0)
			snprintf(range, sizeof(range), "bytes=%lld-%lld", (long long) first, (long long) x->range_last);
		else
			snprintf(range, sizeof(range), "bytes=%lld-", (long long) first);
		h[nh++] = (rb_kv) {"Range", range};
	}
	if (x->delivered > 0 && x->resume_etag[0])
	{
		snprintf(ifmatch, sizeof(ifmatch), "\"%s\"", x->resume_etag);
		h[nh++] = (rb_kv) {"If-Match", ifmatch};
	}
	/* signed like every header above, so the server cannot be told to drop it */
	if (x->if_none_match)
		h[nh++] = (rb_kv) {"If-None-Match", "*"};
	/* signed too: a proxy cannot strip the encryption the object was sent with */
	if (x->sse && c->sse)
		h[nh++] = (rb_kv) {RB_S3_SSE_HEADER, c->sse};
	if (x->sse && c->sse && c->sse_kms_key_id)
		h[nh++] = (rb_kv) {RB_S3_SSE_KMS_KEY_HEADER, c->sse_kms_key_id};

	memset(&req, 0, sizeof(req));
	req.method = x->method;
	req.host = rb_buf_str(&host);
	req.path = rb_buf_str(&path);
	req.query = q;
	req.nquery = (size_t) x->nquery;
	req.headers = h;
	req.nheaders = nh;
	req.payload_sha256_hex = x->payload_sha256;
	req.now = time(NULL);
	req.region = c->region;
	req.service = "s3";

	sig = malloc(sizeof(*sig));
	if (sig == NULL)
	{
		rb_error_set(e, RB_ERR_NOMEM, "out of memory");
		goto out;
	}
	if (rb_sigv4_sign(&req, &c->cred, sig, e) < 0)
		goto out;
	rb_s3_build_url(&c->ep, rb_buf_str(&host), rb_buf_str(&path), q, (size_t) x->nquery, &url);

	rb_buf_appendf(&line, "Host: %s", rb_buf_str(&host));
	if (add_header(&x->headers, rb_buf_str(&line)) < 0 ||
		add_header(&x->headers, sig->authorization) < 0 ||
		add_header(&x->headers, sig->amz_date) < 0 ||
		(sig->content_sha256[0] && add_header(&x->headers, sig->content_sha256) < 0) ||
		(sig->security_token[0] && add_header(&x->headers, sig->security_token) < 0) ||
		add_header(&x->headers, "Expect:") < 0)
		goto nomem;
	for (size_t i = 0; i < nh; i++)
	{
		rb_buf_reset(&line);
		rb_buf_appendf(&line, "%s: %s", h[i].name, h[i].value);
		if (add_header(&x->headers, rb_buf_str(&line)) < 0)
			goto nomem;
	}
	if (strcmp(x->method, "POST") == 0 && !x->content_type[0] &&
		add_header(&x->headers, "Content-Type:") < 0)
		goto nomem;

	x->easy = curl_easy_init();
	if (x->easy == NULL)
		goto nomem;
	SETOPT(CURLOPT_URL, rb_buf_str(&url));
	SETOPT(CURLOPT_HTTPHEADER, x->headers);
	SETOPT(CURLOPT_PRIVATE, (void *) x);
	SETOPT(CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(CURLOPT_HEADERDATA, (void *) x);
	SETOPT(CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(CURLOPT_WRITEDATA, (void *) x);
	SETOPT(CURLOPT_ERRORBUFFER, x->curl_errbuf);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_CONNECTTIMEOUT, c->connect_timeout_s);
	SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
	SETOPT(CURLOPT_LOW_SPEED_TIME, c->low_speed_time_s);
	SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
	if (c->tls_insecure)
	{
		SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->ca_file)
		SETOPT(CURLOPT_CAINFO, c->ca_file);

	if (strcmp(x->method, "GET") == 0)
		SETOPT(CURLOPT_HTTPGET, 1L);
	else if (strcmp(x->method, "HEAD") == 0)
		SETOPT(CURLOPT_NOBODY, 1L);
	else if (strcmp(x->method, "PUT") == 0)
	{
		SETOPT(CURLOPT_UPLOAD, 1L);
		SETOPT(CURLOPT_READFUNCTION, read_cb);
		SETOPT(CURLOPT_READDATA, (void *) x);
		SETOPT(CURLOPT_SEEKFUNCTION, seek_cb);
		SETOPT(CURLOPT_SEEKDATA, (void *) x);
		SETOPT(CURLOPT_INFILESIZE_LARGE, (curl_off_t) x->body_len);
	}
	else if (strcmp(x->method, "POST") == 0)
	{
		SETOPT(CURLOPT_POST, 1L);
		SETOPT(CURLOPT_POSTFIELDS, x->body ? (const char *) x->body : "");
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) x->body_len);
	}
	else
		SETOPT(CURLOPT_CUSTOMREQUEST, x->method);

	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
	{
		rb_error_set(e, RB_ERR_INTERNAL, "could not add a transfer to the curl multi handle");
		goto out;
	}
	x->state = RB_XFER_RUNNING;
	rc = 0;
	goto out;

setopt_failed:
	rb_error_set(e, RB_ERR_INTERNAL, "could not set a curl option (libcurl too old?)");
	goto out;
nomem:
	rb_error_set(e, RB_ERR_NOMEM, "out of memory");
out:
	if (rc < 0)
		attempt_release(c, x);
	if (sig)
	{
		volatile char *p = (volatile char *) sig;

		for (size_t i = 0; i < sizeof(*sig); i++)
			p[i] = 0;
		free(sig);
	}
	rb_buf_free(&host);
	rb_buf_free(&path);
	rb_buf_free(&url);
	rb_buf_free(&line);
	return rc;
}

/* The host name a request of c connects to: "bucket.host" when virtual-hosted. */
static void
request_host(const rb_s3_client *c, char *out, size_t outsize)
{
	if (c->ep.virtual_host)
		snprintf(out, outsize, "%s.%s", c->bucket, c->ep.host);
	else
		snprintf(out, outsize, "%s", c->ep.host);
}

/*
 * The error of an attempt that got no HTTP answer.  Failures to reach the
 * endpoint name it (the bucket is already in the operation's prefix), e.g.
 *   could not connect to endpoint http://127.0.0.1:1: Connection refused
 *   could not resolve host "s3.example.invalid" of endpoint https://s3.example.invalid
 *   could not verify the TLS certificate of endpoint https://127.0.0.1:9000: SSL certificate problem: ...
 *   timed out: could not connect to endpoint http://10.0.0.5:9000: Connection timed out after 10001 milliseconds
 * connected: the attempt sent its request (a timeout after that is a stalled or
 * slow transfer, not an unreachable endpoint).
 */
static void
network_error(const rb_s3_client *c, rb_error *e, CURLcode cc, long oserr, bool connected,
			  const char *errbuf)
{
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	const char *endpoint = c->ep.normalized;
	char		host[320];

	switch (cc)
	{
		case CURLE_COULDNT_RESOLVE_HOST:
			request_host(c, host, sizeof(host));
			rb_error_set(e, RB_ERR_NETWORK, "could not resolve host \"%s\" of endpoint %s", host, endpoint);
			break;
		case CURLE_COULDNT_RESOLVE_PROXY:
			rb_error_set(e, RB_ERR_NETWORK, "could not resolve the proxy for endpoint %s: %s", endpoint, detail);
			break;
		case CURLE_COULDNT_CONNECT:
			rb_error_set(e, RB_ERR_NETWORK, "could not connect to endpoint %s: %s", endpoint,
						 oserr != 0 ? strerror((int) oserr) : detail);
			break;
		case CURLE_PEER_FAILED_VERIFICATION:
			rb_error_set(e, RB_ERR_NETWORK, "could not verify the TLS certificate of endpoint %s: %s",
						 endpoint, detail);
			break;
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CONNECT_ERROR:
			rb_error_set(e, RB_ERR_NETWORK, "TLS connection to endpoint %s failed: %s", endpoint, detail);
			break;
		case CURLE_OPERATION_TIMEDOUT:
			if (connected)
				rb_error_set(e, RB_ERR_NETWORK, "timed out: %s", detail);
			else
				rb_error_set(e, RB_ERR_NETWORK, "timed out: could not connect to endpoint %s: %s",
							 endpoint, detail);
			break;
		default:
			rb_error_set(e, RB_ERR_NETWORK, "%s", detail);
			break;
	}
}

/* Errors libcurl reports that another attempt cannot fix. */
static bool
curl_error_is_final(CURLcode cc)
{
	switch (cc)
	{
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_NOT_BUILT_IN:
		case CURLE_OUT_OF_MEMORY:
			return true;
		default:
			return false;
	}
}

/*
 * When x's deadline is (0 = none): the request's start plus its timeout, moved on
 * while a long download delivers bytes (so that a GET streaming a large object is
 * never cut while it moves, and a retry after a broken stream still has the whole
 * timeout); the operation's deadline does not move.
 */
static int64_t
xfer_deadline(const rb_s3_xfer *x)
{
	if (x->deadline_ms > 0 && !x->deadline_overall && x->progress_ms > 0 &&
		x->progress_ms + x->deadline_span_ms > x->deadline_ms)
		return x->progress_ms + x->deadline_span_ms;
	return x->deadline_ms;
}

/*
 * The final error of x when its deadline passed (or would pass before its next
 * attempt): "timed out: no success within the request deadline of 120 s
 * (4 attempts; last error: ...)"; last = the last attempt's error or NULL.
 */
static void
deadline_error(const rb_s3_xfer *x, const rb_error *last, rb_error *e)
{
	char		last_msg[RB_ERROR_MSG_LEN / 2] = "";

	if (last && last->msg[0])
		snprintf(last_msg, sizeof(last_msg), "; last error: %s", last->msg);
	rb_error_clear(e);
	if (x->attempt == 0)
		rb_error_set(e, RB_ERR_NETWORK, "timed out: the %s deadline of %g s had passed; no attempt was made",
					 x->deadline_overall ? "overall" : "request", (double) x->deadline_span_ms / 1000.0);
	else
		rb_error_set(e, RB_ERR_NETWORK, "timed out: no success within the %s deadline of %g s (%d attempt%s%s)",
					 x->deadline_overall ? "overall" : "request", (double) x->deadline_span_ms / 1000.0,
					 x->attempt, x->attempt == 1 ? "" : "s", last_msg);
	if (last)
	{
		e->http_status = last->http_status;
		snprintf(e->remote_code, sizeof(e->remote_code), "%s", last->remote_code);
	}
}

/* x's deadline passed while it ran or waited: stop it, record the failure. */
static void
deadline_fail(rb_s3_client *c, rb_s3_xfer *x)
{
	rb_error	last = x->err;		/* the previous attempt's error, if any */
	rb_error	e;

	deadline_error(x, x->attempt > 0 ? &last : NULL, &e);
	breaker_record(c, x, true, &e);
	xfer_finish(c, x, &e);
}

/* An attempt ended (curl says cc): success, retry later or final failure. */
static void
attempt_done(rb_s3_client *c, rb_s3_xfer *x, CURLcode cc)
{
	rb_error	e;
	bool		endpoint_failure = false;
	bool		force_retry = false;
	bool		no_retry = false;
	long		status = 0;
	long		oserr = 0;
	curl_off_t	up = 0;
	curl_off_t	down = 0;
	long		request_size = 0;	/* bytes of request headers sent: 0 = never connected */
	int			max_attempts;

	rb_error_clear(&e);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(x->easy, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(x->easy, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(x->easy, CURLINFO_REQUEST_SIZE, &request_size);
	c->stats.bytes_sent += (uint64_t) up;
	c->stats.bytes_received += (uint64_t) down;
	attempt_release(c, x);
	x->status = status;
	if (c->log_requests)
	{
		long long	ms = (long long) (rb_now_ms() - x->attempt_started_ms);

		if (cc == CURLE_OK)
			rb_log(c->hooks, RB_LOG_INFO, "s3: %s: %ld in %lld ms (attempt %d)",
				   x->what_log, status, ms, x->attempt);
		else
			rb_log(c->hooks, RB_LOG_INFO, "s3: %s: no response in %lld ms (attempt %d): %s",
				   x->what_log, ms, x->attempt,
				   x->curl_errbuf[0] ? x->curl_errbuf : curl_easy_strerror(cc));
	}

	if (x->sink_failed)
	{
		e = x->sink_err;
		no_retry = true;
	}
	else if (x->resp_overflow)
	{
		rb_error_set(&e, RB_ERR_REMOTE, "response body larger than %zu bytes",
					 x->resp_max ? x->resp_max : RB_S3_RESPONSE_MAX);
		e.http_status = (int) status;
		no_retry = true;
	}
	else if (cc != CURLE_OK)
	{
		network_error(c, &e, cc, oserr, request_size > 0, x->curl_errbuf);
		if (curl_error_is_final(cc))
			no_retry = true;
		else
			endpoint_failure = true;
	}
	else if (status >= 200 && status < 300)
	{
		/*
		 * With SSE-KMS or SSE-C the ETag is not the MD5 of the body; the server
		 * has checked Content-MD5 itself then.
		 */
		if (x->expect_md5_hex[0] && !x->etag_not_md5 && strcasecmp(x->etag, x->expect_md5_hex) != 0)
		{
			rb_error_set(&e, RB_ERR_INTEGRITY,
						 "ETag \"%s\" returned by the server does not match the MD5 %s of the bytes sent",
						 x->etag, x->expect_md5_hex);
			e.http_status = (int) status;
			force_retry = true;
		}
		else if (x->check && x->check(x, &force_retry, &e) < 0)
			endpoint_failure = rb_retry_should_retry(&e);
		else
		{
			breaker_record(c, x, false, NULL);
			xfer_finish(c, x, NULL);
			return;
		}
	}
	else
	{
		rb_s3_error_from_response(&e, (int) status, rb_buf_str(&x->resp), x->resp.len);
		/* 501: an operation the server lacks, not a failing endpoint */
		endpoint_failure = (status >= 500 && status != 501) || status == 429 ||
			(e.remote_code[0] && rb_s3_code_is_transient(e.remote_code));
	}

	max_attempts = x->max_attempts > 0 ? x->max_attempts : c->retry.max_attempts;
	/* a name that does not resolve rarely resolves a second later: one retry */
	if ((cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_RESOLVE_PROXY) &&
		max_attempts > RB_RETRY_RESOLVE_MAX_ATTEMPTS)
		max_attempts = RB_RETRY_RESOLVE_MAX_ATTEMPTS;
	if (!no_retry && (force_retry || rb_retry_should_retry(&e)) && x->attempt < max_attempts)
	{
		double		delay = rb_retry_delay(&c->retry, x->attempt, &c->rng);
		int64_t		now = rb_now_ms();

		if (x->deadline_ms > 0 && now + (int64_t) (delay * 1000.0) >= xfer_deadline(x))
		{
			/* the next attempt would start after the deadline: give up now */
			rb_error	last = e;

			deadline_error(x, &last, &e);
			breaker_record(c, x, true, &e);
			xfer_finish(c, x, &e);
			return;
		}

		if (x->delivered > 0 && x->resume_etag[0] == '\0')
			snprintf(x->resume_etag, sizeof(x->resume_etag), "%s", x->etag);
		rb_log(c->hooks, RB_LOG_WARNING, "s3: %s failed: %s; retrying in %.*f s (attempt %d of %d)",
			   x->what_log, e.msg, delay < 0.95 ? 2 : 1, delay, x->attempt + 1, max_attempts);
		c->stats.retries++;
		x->err = e;				/* kept for the deadline's message */
		x->state = RB_XFER_WAITING;
		x->retry_at_ms = now + (int64_t) (delay * 1000.0);
		return;
	}
	/* one failed request is one failure for the breaker, whatever its attempts */
	if (endpoint_failure)
		breaker_record(c, x, true, &e);
	else if (status > 0)
		breaker_record(c, x, false, NULL);	/* the endpoint answered: it works */
	if (x->attempt > 1 && !no_retry && (force_retry || rb_retry_should_retry(&e)))
	{
		size_t		n = strlen(e.msg);

		snprintf(e.msg + n, sizeof(e.msg) - n, " (gave up after %d attempts)", x->attempt);
	}
	xfer_finish(c, x, &e);
}

void
rb_s3_engine_submit(rb_s3_client *c, rb_s3_xfer *x)
{
	x->state = RB_XFER_WAITING;
	x->ok = false;
	x->attempt = 0;
	x->retry_at_ms = 0;
	x->delivered = 0;
	x->resume_etag[0] = '\0';
	x->breaker_trial = false;
	x->deadline_ms = 0;
	x->deadline_span_ms = 0;
	x->deadline_overall = false;
	x->progress_ms = 0;
	if (c->request_timeout_ms > 0)
	{
		x->deadline_ms = rb_now_ms() + c->request_timeout_ms;
		x->deadline_span_ms = c->request_timeout_ms;
	}
	/* cleanup requests (aborts) run even after the operation's deadline */
	if (c->expires_at_ms > 0 && !x->ignore_cancel &&
		(x->deadline_ms == 0 || c->expires_at_ms < x->deadline_ms))
	{
		x->deadline_ms = c->expires_at_ms;
		x->deadline_span_ms = c->operation_timeout_ms;
		x->deadline_overall = true;
	}
	rb_error_clear(&x->err);
	/* broken bounds are bugs: this request fails (RB_ERR_INTERNAL), the process goes on */
	if (c->nactive >= RB_S3_MAX_ACTIVE || x->query_overflow)
	{
		rb_error	e;

		rb_error_set(&e, RB_ERR_INTERNAL, "%s",
					 x->query_overflow ? "too many query parameters in one S3 request" :
					 "too many S3 requests at once");
		xfer_finish(c, x, &e);
		return;
	}
	c->active[c->nactive++] = x;
}

void
rb_s3_engine_cancel(rb_s3_client *c, rb_s3_xfer *x)
{
	rb_error	e;

	if (x->state != RB_XFER_WAITING && x->state != RB_XFER_RUNNING)
		return;
	rb_error_clear(&e);
	rb_error_set(&e, RB_ERR_CANCELLED, "cancelled");
	xfer_finish(c, x, &e);
}

int
rb_s3_engine_wait(rb_s3_client *c, rb_s3_xfer *x, int64_t timeout_ms, rb_error *err)
{
	int64_t		start = rb_now_ms();
	uint64_t	seq0 = c->done_seq;

	for (;;)
	{
		int64_t		now;
		int			running = 0;
		int			left = 0;
		int64_t		wait_ms = RB_S3_POLL_MS;
		CURLMsg    *m;

		if ((x == NULL || x->state != RB_XFER_DONE) && rb_cancelled(c->hooks))
		{
			for (int i = c->nactive - 1; i >= 0; i--)
			{
				if (i < c->nactive && !c->active[i]->ignore_cancel)
					rb_s3_engine_cancel(c, c->active[i]);
			}
			if (x == NULL || !x->ignore_cancel)
				return rb_error_set(err, RB_ERR_CANCELLED, "cancelled");
		}

		/* Start the attempts that are due. */
		now = rb_now_ms();
		for (int i = 0; i < c->nactive; i++)
		{
			rb_s3_xfer *a = c->active[i];

			if (a->state == RB_XFER_WAITING && a->retry_at_ms <= now)
			{
				rb_error	e;

				rb_error_clear(&e);
				if (a->deadline_ms > 0 && now >= xfer_deadline(a))
				{
					deadline_fail(c, a);
					i--;		/* the list shrank: look at this slot again */
					continue;
				}
				if (a->attempt == 0)
				{
					gate_result g = breaker_gate(c, a, &e);

					if (g == GATE_WAIT)
					{
						a->retry_at_ms = now + RB_S3_POLL_MS;
						continue;
					}
					if (g == GATE_FAIL)
					{
						xfer_finish(c, a, &e);
						i--;
						continue;
					}
				}
				if (attempt_start(c, a, &e) < 0)
				{
					xfer_finish(c, a, &e);
					i--;
				}
			}
		}

		curl_multi_perform(c->multi, &running);
		while ((m = curl_multi_info_read(c->multi, &left)) != NULL)
		{
			if (m->msg == CURLMSG_DONE)
			{
				CURL	   *easy = m->easy_handle;
				CURLcode	cc = m->data.result;
				char	   *priv = NULL;

				curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
				if (priv)
					attempt_done(c, (rb_s3_xfer *) priv, cc);
			}
		}

		/* Stop the attempts whose request deadline has passed. */
		now = rb_now_ms();
		for (int i = 0; i < c->nactive; i++)
		{
			rb_s3_xfer *a = c->active[i];

			if (a->state == RB_XFER_RUNNING && a->deadline_ms > 0 && now >= xfer_deadline(a))
			{
				deadline_fail(c, a);
				i--;
			}
		}

		if (x != NULL ? x->state == RB_XFER_DONE : (c->done_seq != seq0 || c->nactive == 0))
			return 0;
		now = rb_now_ms();
		if (timeout_ms == 0)
			return 0;
		if (timeout_ms > 0)
		{
			if (now - start >= timeout_ms)
				return 0;
			if (timeout_ms - (now - start) < wait_ms)
				wait_ms = timeout_ms - (now - start);
		}
		for (int i = 0; i < c->nactive; i++)
		{
			rb_s3_xfer *a = c->active[i];

			int64_t		d = INT64_MAX;

			if (a->state == RB_XFER_WAITING)
				d = a->retry_at_ms - now;
			if (a->deadline_ms > 0 && xfer_deadline(a) - now < d)
				d = xfer_deadline(a) - now;
			if (d < wait_ms)
				wait_ms = d < 0 ? 0 : d;
		}
		if (wait_ms > 0)
			curl_multi_poll(c->multi, NULL, 0, (int) wait_ms, NULL);
	}
}

int
rb_s3_xfer_run(rb_s3_client *c, rb_s3_xfer *x, rb_error *err)
{
	rb_s3_engine_submit(c, x);
	if (rb_s3_engine_wait(c, x, -1, err) < 0)
	{
		rb_s3_engine_cancel(c, x);
		if (err && x->state == RB_XFER_DONE && !x->ok)
			*err = x->err;		/* "PUT s3://b/k: cancelled" */
		return -1;
	}
	if (!x->ok)
	{
		if (err)
			*err = x->err;
		return -1;
	}
	return 0;
}
