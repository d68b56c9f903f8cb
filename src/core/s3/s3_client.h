/*
 * s3_client.h — an S3 client for one bucket on one endpoint: options, the client
 * object, and the single-request operations (PutObject, GetObject streamed to a
 * callback with an optional Range, HeadObject, ListObjectsV2 with pagination,
 * DeleteObject, DeleteObjects in batches of 1000).  The streaming multipart writer
 * is in s3_upload.h.
 *
 * Every request is signed with SigV4 (s3_sigv4.h) over the real SHA-256 of its body,
 * runs on libcurl's multi interface (so the caller's cancel hook is polled at
 * least every 100 ms, during transfers and backoff sleeps alike), is retried on
 * transient failures with exponential backoff and jitter (s3_retry.h), and passes the
 * circuit breaker before its first attempt (s3_breaker.h; while it is open a new
 * request fails fast with RB_ERR_CIRCUIT_OPEN and the last real error, while its
 * half-open trial runs a new request waits for the trial's outcome).  The breaker
 * counts failed requests, not attempts: a request once admitted runs its whole
 * retry schedule, within its deadline (request_timeout_ms; each attempt also ends
 * when the transfer stalls for low_speed_time_s).  Retries are logged through
 * hooks->log, e.g.
 *   s3: PUT part 3 of db/x.dump.zst failed: could not connect to endpoint
 *     http://127.0.0.1:9000: Connection refused; retrying in 1.6 s (attempt 2 of 6)
 * and final errors read
 *   PUT s3://b/k: 403 SignatureDoesNotMatch: The request signature we calculated ...
 * with err->http_status and err->remote_code set.  Secrets never appear in logs or
 * errors.  Not thread-safe: one client per thread.  All functions run in the
 * caller's thread (hooks are only called from it).
 */
#ifndef RB_S3_CLIENT_H
#define RB_S3_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "s3_credentials.h"
#include "s3_breaker.h"
#include "rb_buf.h"
#include "rb_error.h"
#include "s3_retry.h"

#define RB_S3_DEFAULT_REGION		"us-east-1"
#define RB_S3_DEFAULT_PART_SIZE		((size_t) 16 * 1024 * 1024)
#define RB_S3_MIN_PART_SIZE			((size_t) 5 * 1024 * 1024)
#define RB_S3_MAX_PART_SIZE			((size_t) 5 * 1024 * 1024 * 1024)
#define RB_S3_MAX_PARTS				10000
#define RB_S3_DEFAULT_IN_FLIGHT		2
#define RB_S3_MAX_IN_FLIGHT			16
#define RB_S3_DEFAULT_CONNECT_TIMEOUT_S	10
#define RB_S3_DEFAULT_LOW_SPEED_TIME_S	30
#define RB_S3_DEFAULT_REQUEST_TIMEOUT_MS	((int64_t) 120 * 1000)
#define RB_S3_MAX_KEY_LEN			1024

typedef enum rb_s3_uri_style
{
	RB_S3_URI_AUTO = 0,			/* virtual-hosted for AWS's endpoint (bucket without
								 * dots), path-style for a custom endpoint */
	RB_S3_URI_PATH,				/* http://host/bucket/key */
	RB_S3_URI_VIRTUAL			/* http://bucket.host/key */
} rb_s3_uri_style;

/* "path", "virtual", "auto" (or NULL/"" = auto) → style; RB_ERR_INVALID otherwise. */
int			rb_s3_uri_style_parse(const char *name, rb_s3_uri_style *style, rb_error *err);

/* Current time in milliseconds for the breaker (the caller's clock). */
typedef int64_t (*rb_s3_clock_fn) (void *arg);

/*
 * Options of a client.  Zero / NULL fields take the default.  The strings and the
 * credentials are copied by rb_s3_client_new; the breaker is not (see below).
 */
typedef struct rb_s3_options
{
	const char *endpoint;		/* NULL/"" = https://s3.<region>.amazonaws.com; else
								 * "http(s)://host[:port]" (MinIO, R2, test server) */
	const char *region;			/* NULL/"" = us-east-1 */
	const char *bucket;			/* required */
	rb_s3_uri_style uri_style;
	const rb_aws_credentials *credentials;	/* required; loaded by the caller */

	bool		tls_insecure;	/* true = do not verify the server's certificate
								 * (tests only; verification is on by default) */
	bool		log_requests;	/* log every attempt of every request through the
								 * hooks at RB_LOG_INFO: "s3: GET k: 200 in 12 ms"
								 * (method, key, status, time); off by default.
								 * Retries are logged as warnings either way. */
	const char *ca_file;		/* extra CA bundle (PEM); NULL = the system's */
	const char *sse;			/* server-side encryption of new objects: NULL/"" =
								 * none (the bucket's default), "AES256" or
								 * "aws:kms" (s3_sse.h) */
	const char *sse_kms_key_id; /* with "aws:kms": the KMS key; NULL/"" = the
								 * account's default key */
	long		connect_timeout_s;	/* 0 = 10 */
	long		low_speed_time_s;	/* a transfer slower than 1 byte/s for this long
									 * is stalled and fails (retryable); 0 = 30 */

	const rb_retry_policy *retry;	/* NULL = rb_retry_policy_default(): 6 attempts,
									 * waits of 1, 2, 4, 8, 16 s with equal jitter
									 * (each in [d/2, d]) */
	int64_t		request_timeout_ms; /* deadline of one request, all its attempts
									 * and waits included: an attempt running at
									 * the deadline is stopped, a retry that would
									 * start after it is not made; a GET moves
									 * it on while its body arrives; 0 = 120 s,
									 * < 0 = none */
	int64_t		operation_timeout_ms;	/* every request fails once this long has
										 * passed since rb_s3_client_new (a
										 * deadline of the whole operation, e.g.
										 * a backup); cleanup requests (aborts)
										 * are exempt; 0 = none */
	uint64_t	rng_seed;		/* jitter seed; 0 = from the clock and pid */

	size_t		part_size;		/* every multipart part but the last; 0 = 16 MiB;
								 * minimum 5 MiB */
	bool		allow_small_parts;	/* testing only: accept part_size below 5 MiB
									 * (real S3 refuses such parts, s3rver does not) */
	int			parts_in_flight;	/* parts uploading at once; 0 = 2; max 16 */
	int			max_parts;		/* testing only: fewer parts than S3's 10,000 per
								 * upload; 0 = RB_S3_MAX_PARTS */

	/*
	 * Circuit breaker for the endpoint.  NULL = a private breaker inside the client
	 * (breaker_threshold / breaker_open_ms, 0 = 5 failures / 60 s).  Otherwise the
	 * caller's (it may live in shared memory; it must outlive the client), and
	 * breaker_lock / breaker_unlock (either may be NULL) are called around every
	 * access with breaker_lock_arg.
	 */
	rb_breaker *breaker;
	void		(*breaker_lock) (void *arg);
	void		(*breaker_unlock) (void *arg);
	void	   *breaker_lock_arg;
	int			breaker_threshold;
	int64_t		breaker_open_ms;
	rb_s3_clock_fn clock;		/* breaker's clock; NULL = CLOCK_MONOTONIC in ms */
	void	   *clock_arg;
} rb_s3_options;

typedef struct rb_s3_client rb_s3_client;

/*
 * Checks the options and creates the client (no network I/O).  hooks may be NULL
 * and must outlive the client.  Returns NULL with err (RB_ERR_INVALID for a bad
 * endpoint, region, bucket, part size or server-side encryption; RB_ERR_NOMEM).
 */
rb_s3_client *rb_s3_client_new(const rb_s3_options *opt, const rb_hooks *hooks, rb_error *err);
/* Frees the client, its curl handles and its copy of the credentials.  NULL is fine. */
void		rb_s3_client_free(rb_s3_client *c);

const char *rb_s3_client_bucket(const rb_s3_client *c);
/* The endpoint actually used, e.g. "https://s3.eu-west-1.amazonaws.com". */
const char *rb_s3_client_endpoint(const rb_s3_client *c);

/* Bytes a caller-supplied callback receives (GET); same shape as rb_write_fn. */
typedef int (*rb_s3_write_fn) (void *arg, const void *data, size_t len, rb_error *err);

/* PutObject from memory (one request; S3 allows up to 5 GiB).  content_type may be NULL. */
int			rb_s3_put_object(rb_s3_client *c, const char *key, const void *data, size_t len,
							 const char *content_type, rb_error *err);

/*
 * The same as a conditional write that never replaces an object: the request
 * carries If-None-Match: *, and a server that honours it (AWS S3) answers 412
 * when the key exists: RB_ERR_EXISTS, "... an object already exists at this key
 * (412 PreconditionFailed): another writer stored it first; nothing was
 * overwritten".  A 412 to a retry whose object is the one the earlier attempt
 * stored (same ETag) is a success.  A server that ignores the header (s3rver)
 * replaces the object: HEAD the key first (the s3:// destination does).
 */
int			rb_s3_put_object_if_absent(rb_s3_client *c, const char *key, const void *data,
									   size_t len, const char *content_type, rb_error *err);

/*
 * GetObject: streams the body to out.  first/last: byte range, inclusive
 * (Range: bytes=first-last); first < 0 = the whole object, last < 0 = to the end.
 * A retry after part of the body was delivered resumes where it stopped (If-Match
 * on the ETag first seen), so out never sees a byte twice.  RB_ERR_NOT_FOUND when
 * the key does not exist; an error returned by out stops the transfer (no retry).
 */
int			rb_s3_get_object(rb_s3_client *c, const char *key, int64_t first, int64_t last,
							 rb_s3_write_fn out, void *out_arg, rb_error *err);

/* GetObject of a small object into buf (appended); fails when larger than max_size. */
int			rb_s3_get_object_buf(rb_s3_client *c, const char *key, size_t max_size,
								 rb_buf *buf, rb_error *err);

typedef struct rb_s3_object_info
{
	char		key[RB_S3_MAX_KEY_LEN + 1];
	uint64_t	size;
	char		etag[80];		/* without the quotes */
	char		last_modified[64];	/* as the server sent it */
	int64_t		mtime;			/* last_modified in seconds since the epoch, 0 unknown */
} rb_s3_object_info;

/* HeadObject.  A missing key fails with RB_ERR_NOT_FOUND (err->http_status 404). */
int			rb_s3_head_object(rb_s3_client *c, const char *key, rb_s3_object_info *info,
							  rb_error *err);

/*
 * ListObjectsV2 of every key starting with prefix (NULL = all), following
 * continuation tokens; page_size = max-keys per request (0 = 1000).  cb is called
 * once per object in key order and returns 0 to go on, 1 to stop early (the call
 * then returns 0) or -1 with err filled (the call returns -1 with that error).
 */
typedef int (*rb_s3_list_fn) (void *arg, const rb_s3_object_info *obj, rb_error *err);
int			rb_s3_list_objects(rb_s3_client *c, const char *prefix, int page_size,
							   rb_s3_list_fn cb, void *cb_arg, rb_error *err);

/* DeleteObject (deleting a key that does not exist succeeds, as in S3). */
int			rb_s3_delete_object(rb_s3_client *c, const char *key, rb_error *err);

/*
 * DeleteObjects in requests of up to 1000 keys.  Per-key failures are passed to
 * on_error (may be NULL) and counted in *nfailed (may be NULL); if any key failed
 * the call returns -1 with RB_ERR_REMOTE and a message naming the first one
 * ("DELETE s3://b: 2 of 1500 keys not deleted; first: k: AccessDenied: ...").
 * A request that fails as a whole returns -1 at once.
 */
typedef void (*rb_s3_delete_error_fn) (void *arg, const char *key, const char *code,
									   const char *message);
int			rb_s3_delete_objects(rb_s3_client *c, const char *const *keys, size_t nkeys,
								 rb_s3_delete_error_fn on_error, void *on_error_arg,
								 size_t *nfailed, rb_error *err);

/* Total HTTP requests sent (attempts included) and retries, since creation. */
typedef struct rb_s3_stats
{
	uint64_t	requests;
	uint64_t	retries;
	uint64_t	bytes_sent;
	uint64_t	bytes_received;
} rb_s3_stats;
void		rb_s3_client_stats(const rb_s3_client *c, rb_s3_stats *out);

#endif							/* RB_S3_CLIENT_H */
