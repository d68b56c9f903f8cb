/*
 * s3_retry.h — when to retry a failed request and how long to wait first.
 *
 * Exponential backoff with jitter: the nominal delay after the n-th failed attempt
 * is d = base_delay_s * 2^(n-1), capped at max_delay_s; the wait is d minus a
 * uniform random fraction of up to jitter * d, so it lies in [d * (1 - jitter), d]
 * and never exceeds the nominal delay.  The default policy makes 6 attempts (the
 * first and 5 retries) with d = 1, 2, 4, 8, 16 s and jitter 0.5 ("equal jitter":
 * each wait in [d/2, d]), so a request keeps trying for at least 15.5 s and at most
 * 31 s of waiting, plus the time its attempts take.
 * The random numbers come from a tiny PRNG (splitmix64) whose state the caller
 * owns and seeds, so tests are deterministic and threads need no locking.
 *
 * What is retried (rb_retry_should_retry): network failures (connect, DNS, TLS
 * handshakes, timeouts, stalled transfers: RB_ERR_NETWORK), HTTP 5xx, 429 and 408, and the S3
 * codes SlowDown, RequestTimeout, InternalError, ServiceUnavailable and the
 * throttling family (Throttling, RequestLimitExceeded, ...; rb_s3_code_is_transient()
 * in s3_errors.h lists them), whatever the status
 * (CompleteMultipartUpload can report InternalError inside a 200).  Never retried:
 * AccessDenied, NoSuchBucket, NoSuchKey, SignatureDoesNotMatch, InvalidAccessKeyId,
 * any other 4xx, and RB_ERR_CANCELLED, RB_ERR_INVALID, RB_ERR_AUTH, RB_ERR_NOT_FOUND,
 * RB_ERR_INTEGRITY, RB_ERR_IO, RB_ERR_NOMEM, RB_ERR_INTERNAL, RB_ERR_CIRCUIT_OPEN,
 * RB_ERR_CHILD.  The S3 transport (s3_http.c) narrows two network cases further: a
 * host name that does not resolve gets RB_RETRY_RESOLVE_MAX_ATTEMPTS attempts at
 * most (a name that does not resolve is rarely a passing failure: a typo, a
 * removed record; one retry covers a resolver's hiccup), and a TLS certificate
 * that fails verification, a CA file that cannot be read or a URL that cannot be
 * used is final at once (another attempt meets the same certificate).
 */
#ifndef RB_RETRY_H
#define RB_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "rb_error.h"

typedef struct rb_retry_policy
{
	int			max_attempts;	/* attempts in all, first included (default 6) */
	double		base_delay_s;	/* delay after the first failure (default 1.0) */
	double		max_delay_s;	/* cap on any delay (default 30.0) */
	double		jitter;			/* random fraction taken off each delay: 0.5 = each
								 * wait in [d/2, d] (default 0.5) */
} rb_retry_policy;

#define RB_RETRY_DEFAULT_MAX_ATTEMPTS	6
#define RB_RETRY_DEFAULT_BASE_DELAY_S	1.0
#define RB_RETRY_DEFAULT_MAX_DELAY_S	30.0
#define RB_RETRY_DEFAULT_JITTER			0.5
/* attempts in all when the host name does not resolve (the first and one retry) */
#define RB_RETRY_RESOLVE_MAX_ATTEMPTS	2

rb_retry_policy rb_retry_policy_default(void);

/*
 * Checks the values: 1 <= max_attempts <= 100, 0 <= base_delay_s <= max_delay_s <=
 * 3600, 0 <= jitter <= 1.  Returns 0, or -1 with RB_ERR_INVALID.
 */
int			rb_retry_policy_validate(const rb_retry_policy *policy, rb_error *err);

/*
 * Seconds to wait after failed attempt number failed_attempt (1-based) before the
 * next one.  rng_state may be NULL (no jitter).
 */
double		rb_retry_delay(const rb_retry_policy *policy, int failed_attempt,
						   uint64_t *rng_state);

/* Whether another attempt might succeed, from err->code, http_status, remote_code. */
bool		rb_retry_should_retry(const rb_error *err);

/* splitmix64: next 64 random bits; the state may start at any value (a seed). */
uint64_t	rb_rng_next(uint64_t *state);
/* Uniform in [0, 1). */
double		rb_rng_double(uint64_t *state);

#endif							/* RB_RETRY_H */
