/*
 * s3_retry.c — backoff schedule, the retry decision and the PRNG behind the jitter
 * (see s3_retry.h; what each S3 error code means is in s3_errors.c).
 */
#include "s3_retry.h"

#include <math.h>

#include "s3_errors.h"

rb_retry_policy
rb_retry_policy_default(void)
{
	rb_retry_policy p;

	p.max_attempts = RB_RETRY_DEFAULT_MAX_ATTEMPTS;
	p.base_delay_s = RB_RETRY_DEFAULT_BASE_DELAY_S;
	p.max_delay_s = RB_RETRY_DEFAULT_MAX_DELAY_S;
	p.jitter = RB_RETRY_DEFAULT_JITTER;
	return p;
}

int
rb_retry_policy_validate(const rb_retry_policy *policy, rb_error *err)
{
	if (policy->max_attempts < 1 || policy->max_attempts > 100)
		return rb_error_set(err, RB_ERR_INVALID,
							"retry attempts must be between 1 and 100, not %d",
							policy->max_attempts);
	if (!(policy->base_delay_s >= 0.0) || !(policy->max_delay_s <= 3600.0) ||
		!(policy->base_delay_s <= policy->max_delay_s))
		return rb_error_set(err, RB_ERR_INVALID,
							"retry delays must satisfy 0 <= base (%g s) <= maximum (%g s) <= 3600 s",
							policy->base_delay_s, policy->max_delay_s);
	if (!(policy->jitter >= 0.0 && policy->jitter <= 1.0))
		return rb_error_set(err, RB_ERR_INVALID,
							"retry jitter must be between 0 and 1, not %g", policy->jitter);
	return 0;
}

uint64_t
rb_rng_next(uint64_t *state)
{
	uint64_t	z = (*state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

double
rb_rng_double(uint64_t *state)
{
	/* 53 random bits → [0, 1) */
	return (double) (rb_rng_next(state) >> 11) * (1.0 / 9007199254740992.0);
}

double
rb_retry_delay(const rb_retry_policy *policy, int failed_attempt, uint64_t *rng_state)
{
	double		d;
	double		cap = policy->max_delay_s > 0 ? policy->max_delay_s : 0.0;

	if (failed_attempt < 1)
		failed_attempt = 1;
	/* 2^62 is far beyond any cap; avoid overflow in the exponent */
	d = policy->base_delay_s * ldexp(1.0, failed_attempt - 1 > 62 ? 62 : failed_attempt - 1);
	if (!(d >= 0.0))
		d = 0.0;
	if (d > cap)
		d = cap;
	/* jitter only shortens a wait, so the nominal schedule is an upper bound */
	if (rng_state != NULL && policy->jitter > 0.0)
		d -= d * policy->jitter * rb_rng_double(rng_state);
	if (d < 0.0)
		d = 0.0;
	return d;
}

bool
rb_retry_should_retry(const rb_error *err)
{
	if (err == NULL)
		return false;
	switch (err->code)
	{
		case RB_ERR_NETWORK:
			return true;
		case RB_ERR_REMOTE:
			break;
		default:
			/* OK, cancelled, invalid, auth, not found, integrity, local failures */
			return false;
	}
	if (rb_s3_code_is_transient(err->remote_code))
		return true;
	/* 501 Not Implemented: the server lacks the operation, no retry changes that */
	if (err->http_status >= 500 && err->http_status <= 599 && err->http_status != 501)
		return true;
	if (err->http_status == 429 || err->http_status == 408)
		return true;
	return false;
}
