/*
 * s3_internal.h — what s3_client.c, s3_upload.c and s3_http.c share and nobody
 * else sees: the client structure and one S3 HTTP exchange (rb_s3_xfer) with the
 * engine that runs many of them at once on a curl multi handle, each with its own
 * attempts, backoff and breaker checks.
 *
 * An xfer is described by the caller (method, key, query, headers, body, where
 * the response body goes), handed to rb_s3_engine_submit, and driven by
 * rb_s3_engine_wait until it is RB_XFER_DONE, with ok true or err filled with the
 * final error (already prefixed with the operation, e.g. "PUT s3://b/k: ").
 */
#ifndef RB_S3_INTERNAL_H
#define RB_S3_INTERNAL_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "s3_credentials.h"
#include "s3_breaker.h"
#include "rb_crypto.h"
#include "rb_buf.h"
#include "rb_error.h"
#include "rb_time.h"
#include "s3_retry.h"
#include "s3_client.h"
#include "s3_url.h"

#define RB_S3_MAX_ACTIVE		(RB_S3_MAX_IN_FLIGHT + 4)
#define RB_S3_MAX_QUERY			6
#define RB_S3_RESPONSE_MAX		((size_t) 16 * 1024 * 1024)	/* collected bodies */
#define RB_S3_POLL_MS			100

typedef enum rb_xfer_state
{
	RB_XFER_IDLE = 0,
	RB_XFER_WAITING,			/* submitted; next attempt at retry_at_ms */
	RB_XFER_RUNNING,			/* an attempt is on the multi handle */
	RB_XFER_DONE
} rb_xfer_state;

typedef struct rb_s3_xfer rb_s3_xfer;

/*
 * Checks a 2xx response (ETag of a part, <Error> inside a 200).  Returns 0, or -1
 * with err filled; *retry = true asks for another attempt even when
 * rb_retry_should_retry would not (an ETag mismatch: the bytes were damaged on
 * the way).
 */
typedef int (*rb_s3_check_fn) (rb_s3_xfer *x, bool *retry, rb_error *err);

struct rb_s3_xfer
{
	/* --- the request (set before submit; freed by rb_s3_xfer_cleanup) --- */
	const char *method;			/* static string: GET PUT HEAD POST DELETE */
	char	   *key;			/* NULL = the bucket itself */
	char	   *qname[RB_S3_MAX_QUERY];
	char	   *qvalue[RB_S3_MAX_QUERY];
	int			nquery;
	bool		query_overflow; /* more than RB_S3_MAX_QUERY were added: submit fails x */
	const unsigned char *body;	/* PUT/POST body (not owned unless in own_body) */
	size_t		body_len;
	rb_buf		own_body;
	char		payload_sha256[RB_SHA256_HEX_SIZE];
	char		content_md5[32];	/* base64, "" = none */
	char		content_type[128];	/* "" = none */
	char		expect_md5_hex[33]; /* ETag the response must carry, "" = no check */
	int64_t		range_first;	/* < 0: no Range */
	int64_t		range_last;		/* < 0: to the end */
	rb_s3_write_fn sink;		/* 2xx GET body goes here; NULL = into resp */
	void	   *sink_arg;
	size_t		resp_max;		/* limit of resp (0 = RB_S3_RESPONSE_MAX) */
	rb_s3_check_fn check;
	void	   *check_arg;
	int			max_attempts;	/* 0 = the client's policy */
	bool		ignore_cancel;	/* cleanup requests (abort) run even when cancelled */
	bool		if_none_match;	/* If-None-Match: * (a conditional write: 412 when the key exists) */
	bool		sse;			/* send the client's server-side encryption headers
								 * (PutObject, CreateMultipartUpload) */
	char		what_log[RB_S3_MAX_KEY_LEN + 96];	/* "PUT part 3 of db/x" */
	char		what_err[RB_S3_MAX_KEY_LEN + 352];	/* "PUT part 3 of s3://b/db/x" */

	/* --- the response of the last attempt --- */
	long		status;
	rb_buf		resp;
	char		etag[128];		/* without quotes */
	int64_t		content_length; /* -1 = absent */
	char		last_modified[64];
	bool		etag_not_md5;	/* SSE-KMS or SSE-C: the ETag is not the body's MD5 */

	/* --- outcome --- */
	rb_xfer_state state;
	bool		ok;
	rb_error	err;
	int			attempt;		/* attempts started */

	/* --- engine bookkeeping --- */
	int64_t		retry_at_ms;
	int64_t		attempt_started_ms; /* monotonic start of the current attempt */
	uint64_t	delivered;		/* body bytes given to sink over all attempts */
	uint64_t	delivered_before;	/* delivered when the current attempt started */
	char		resume_etag[128];
	CURL	   *easy;
	struct curl_slist *headers;
	size_t		read_off;
	bool		sink_failed;
	rb_error	sink_err;
	bool		resp_overflow;
	bool		breaker_trial;	/* this request is the breaker's half-open trial */
	int64_t		deadline_ms;	/* monotonic; 0 = none */
	int64_t		deadline_span_ms;	/* the timeout it came from, for messages */
	bool		deadline_overall;	/* the client's operation deadline, not the request's */
	int64_t		progress_ms;	/* when the body of a 2xx GET last delivered bytes
								 * (0 = never): the request deadline counts from it */
	char		curl_errbuf[CURL_ERROR_SIZE];
	void	   *user;			/* owner's pointer (the upload's part slot) */
};

struct rb_s3_client
{
	rb_s3_endpoint ep;
	char	   *bucket;
	char	   *region;
	rb_aws_credentials cred;
	bool		tls_insecure;
	bool		log_requests;	/* rb_s3_options.log_requests */
	char	   *ca_file;
	char	   *sse;			/* x-amz-server-side-encryption value; NULL = none */
	char	   *sse_kms_key_id; /* ...-aws-kms-key-id value; NULL = none */
	long		connect_timeout_s;
	long		low_speed_time_s;
	int64_t		request_timeout_ms; /* 0 = none */
	int64_t		operation_timeout_ms;	/* 0 = none */
	int64_t		expires_at_ms;	/* monotonic end of the operation; 0 = none */
	rb_retry_policy retry;
	uint64_t	rng;
	size_t		part_size;
	int			in_flight;
	int			max_parts;		/* RB_S3_MAX_PARTS unless a test asks for fewer */

	rb_breaker	own_breaker;
	rb_breaker *breaker;
	void		(*breaker_lock) (void *arg);
	void		(*breaker_unlock) (void *arg);
	void	   *breaker_lock_arg;
	rb_s3_clock_fn clock;
	void	   *clock_arg;

	const rb_hooks *hooks;
	CURLM	   *multi;
	rb_s3_xfer *active[RB_S3_MAX_ACTIVE];
	int			nactive;
	uint64_t	done_seq;		/* bumped whenever an xfer becomes DONE */
	rb_s3_stats stats;
};

/* --- xfers (s3_http.c) --- */

/* Zeroes x for a request "method" on key (NULL = bucket); what: e.g. "part 3 of " or "". */
void		rb_s3_xfer_init(rb_s3_xfer *x, rb_s3_client *c, const char *method, const char *key,
							const char *what_prefix);
void		rb_s3_xfer_add_query(rb_s3_xfer *x, const char *name, const char *value);
/* Sets the body (not copied) and its SHA-256; Content-MD5 when want_md5. */
int			rb_s3_xfer_set_body(rb_s3_xfer *x, const void *body, size_t len, bool want_md5,
								rb_error *err);
/* Frees what x owns (it must not be active). */
void		rb_s3_xfer_cleanup(rb_s3_xfer *x);

/* --- the engine (s3_http.c) --- */

void		rb_s3_engine_submit(rb_s3_client *c, rb_s3_xfer *x);

/*
 * Drives the active xfers until x is DONE (x != NULL), or until any xfer becomes
 * DONE or none is active (x == NULL).  timeout_ms < 0 = no limit, 0 = one pass
 * without waiting.  Returns 0, or -1 with RB_ERR_CANCELLED when the cancel hook
 * fired (every active xfer without ignore_cancel is then DONE and cancelled).
 */
int			rb_s3_engine_wait(rb_s3_client *c, rb_s3_xfer *x, int64_t timeout_ms, rb_error *err);

/* Stops x if it is active (its attempt is dropped); x becomes DONE and not ok. */
void		rb_s3_engine_cancel(rb_s3_client *c, rb_s3_xfer *x);

/* Submits x, waits for it; returns 0 or -1 with x->err copied to err. */
int			rb_s3_xfer_run(rb_s3_client *c, rb_s3_xfer *x, rb_error *err);

/* --- conditional writes (s3_client.c) --- */

/* True when a conditional write was refused: 412 PreconditionFailed, 409 ConditionalRequestConflict. */
bool		rb_s3_error_is_conflict(const rb_error *e);

/*
 * x, a finished conditional write (If-None-Match: *), was refused.  Returns 0 when
 * the object at the key is the one an earlier attempt of x stored (its ETag is
 * expect_etag; that attempt's answer was lost), else -1 with RB_ERR_EXISTS.
 */
int			rb_s3_conditional_write_refused(rb_s3_client *c, const rb_s3_xfer *x,
											const char *expect_etag, rb_error *err);

/* Strips surrounding quotes of an ETag into out. */
void		rb_s3_etag_unquote(const char *in, char *out, size_t outsize);

/* "2024-01-02T03:04:05.000Z" or "Tue, 02 Jan 2024 03:04:05 GMT" → epoch seconds, 0 if neither. */
int64_t		rb_s3_parse_date(const char *s);

#endif							/* RB_S3_INTERNAL_H */
