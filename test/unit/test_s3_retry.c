/*
 * test_s3_retry.c — unit tests of the retry policy (src/core/s3/s3_retry.c): 6 attempts
 * (5 retries), the backoff schedule 1, 2, 4, 8, 16 s with equal jitter (each wait
 * in [d/2, d], drawn from a fixed random source), the cap, determinism of the
 * seeded PRNG, policy validation, and which errors are retried.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3_errors.h"
#include "s3/s3_retry.h"

static void
test_defaults(void **state)
{
	rb_retry_policy p = rb_retry_policy_default();
	rb_error	err;

	(void) state;
	/* 5 retries after the first attempt: one wait for each of 1, 2, 4, 8, 16 s */
	assert_int_equal(p.max_attempts, 6);
	assert_true(p.base_delay_s == 1.0);
	assert_true(p.max_delay_s >= 16.0);
	assert_true(p.jitter == 0.5);	/* equal jitter */
	assert_int_equal(rb_retry_policy_validate(&p, &err), 0);
}

static void
test_schedule_without_jitter(void **state)
{
	rb_retry_policy p = rb_retry_policy_default();
	const double want[] = {1, 2, 4, 8, 16};

	(void) state;
	for (int i = 0; i < 5; i++)
		assert_true(rb_retry_delay(&p, i + 1, NULL) == want[i]);
	p.jitter = 0.0;
	{
		uint64_t	seed = 42;

		for (int i = 0; i < 5; i++)
			assert_true(rb_retry_delay(&p, i + 1, &seed) == want[i]);
	}
}

/*
 * The default schedule with a fixed random source: wait n is d - d/2 * u for
 * d = 2^(n-1) s and u the n-th draw of the PRNG from the same seed, so every wait
 * lies in [d/2, d]; the whole schedule has exactly one wait per retry.
 */
static void
test_schedule_with_fixed_random_source(void **state)
{
	rb_retry_policy p = rb_retry_policy_default();
	const double want[] = {1, 2, 4, 8, 16};
	uint64_t	seed = 20261203;
	uint64_t	mirror = 20261203;
	double		total = 0;
	int			waits = 0;

	(void) state;
	for (int failed = 1; failed < p.max_attempts; failed++)
	{
		double		d = rb_retry_delay(&p, failed, &seed);
		double		u = rb_rng_double(&mirror);

		assert_true(fabs(d - (want[failed - 1] - want[failed - 1] / 2 * u)) < 1e-12);
		assert_true(d >= want[failed - 1] / 2 && d <= want[failed - 1]);
		total += d;
		waits++;
	}
	assert_int_equal(waits, 5);
	assert_true(total >= 15.5 && total <= 31.0);
}

static void
test_schedule_with_jitter(void **state)
{
	rb_retry_policy p = rb_retry_policy_default();
	const double want[] = {1, 2, 4, 8, 16};
	uint64_t	seed = 12345;
	double		lo[5], hi[5];

	(void) state;
	for (int i = 0; i < 5; i++)
	{
		lo[i] = 1e9;
		hi[i] = 0;
	}
	for (int round = 0; round < 2000; round++)
	{
		for (int i = 0; i < 5; i++)
		{
			double		d = rb_retry_delay(&p, i + 1, &seed);

			assert_true(d >= want[i] * 0.5 - 1e-9);
			assert_true(d <= want[i] + 1e-9);
			if (d < lo[i])
				lo[i] = d;
			if (d > hi[i])
				hi[i] = d;
		}
	}
	/* the jitter really spreads: close to both bounds over 2000 draws */
	for (int i = 0; i < 5; i++)
	{
		assert_true(lo[i] < want[i] * 0.52);
		assert_true(hi[i] > want[i] * 0.98);
	}
	/* a smaller jitter narrows the range from the top: [0.8 d, d] */
	p.jitter = 0.2;
	for (int round = 0; round < 200; round++)
	{
		double		d = rb_retry_delay(&p, 3, &seed);

		assert_true(d >= 3.2 - 1e-9 && d <= 4.0 + 1e-9);
	}
}

static void
test_cap(void **state)
{
	rb_retry_policy p = rb_retry_policy_default();
	uint64_t	seed = 7;

	(void) state;
	assert_true(rb_retry_delay(&p, 6, NULL) == 30.0);	/* 32 capped */
	assert_true(rb_retry_delay(&p, 1000, NULL) == 30.0);	/* no overflow */
	for (int i = 0; i < 1000; i++)
		assert_true(rb_retry_delay(&p, 10, &seed) <= 30.0);
	p.max_delay_s = 5.0;
	assert_true(rb_retry_delay(&p, 4, NULL) == 5.0);
	assert_true(rb_retry_delay(&p, 0, NULL) == 1.0);	/* clamped to attempt 1 */
	p.base_delay_s = 0.0;
	assert_true(rb_retry_delay(&p, 3, &seed) == 0.0);
}

static void
test_rng_deterministic(void **state)
{
	uint64_t	a = 99;
	uint64_t	b = 99;
	uint64_t	c = 100;
	bool		differs = false;

	(void) state;
	for (int i = 0; i < 100; i++)
	{
		uint64_t	x = rb_rng_next(&a);

		assert_true(x == rb_rng_next(&b));
		if (x != rb_rng_next(&c))
			differs = true;
		{
			double		d = rb_rng_double(&a);

			(void) rb_rng_double(&b);
			(void) rb_rng_double(&c);
			assert_true(d >= 0.0 && d < 1.0);
		}
	}
	assert_true(differs);
	/* splitmix64 from seed 0: the reference first output */
	a = 0;
	assert_true(rb_rng_next(&a) == UINT64_C(0xE220A8397B1DCDAF));
}

static void
test_validate(void **state)
{
	rb_retry_policy p;
	rb_error	err;

	(void) state;
	p = rb_retry_policy_default();
	p.max_attempts = 0;
	assert_int_equal(rb_retry_policy_validate(&p, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	p = rb_retry_policy_default();
	p.base_delay_s = 40.0;		/* above the maximum */
	assert_int_equal(rb_retry_policy_validate(&p, &err), -1);
	p = rb_retry_policy_default();
	p.jitter = 1.5;
	assert_int_equal(rb_retry_policy_validate(&p, &err), -1);
	p = rb_retry_policy_default();
	p.base_delay_s = -1.0;
	assert_int_equal(rb_retry_policy_validate(&p, &err), -1);
	p = rb_retry_policy_default();
	p.max_attempts = 1;
	p.jitter = 0.0;
	assert_int_equal(rb_retry_policy_validate(&p, &err), 0);
}

typedef struct retry_case
{
	rb_error_code code;
	int			status;
	const char *remote;
	bool		retry;
} retry_case;

static void
test_classification(void **state)
{
	static const retry_case cases[] = {
		{RB_ERR_NETWORK, 0, "", true},	/* connect refused, timeout, stall */
		{RB_ERR_REMOTE, 500, "InternalError", true},
		{RB_ERR_REMOTE, 500, "", true},
		{RB_ERR_REMOTE, 502, "", true},
		{RB_ERR_REMOTE, 503, "SlowDown", true},
		{RB_ERR_REMOTE, 503, "ServiceUnavailable", true},
		{RB_ERR_REMOTE, 504, "", true},
		{RB_ERR_REMOTE, 429, "", true},
		{RB_ERR_REMOTE, 408, "", true},
		{RB_ERR_REMOTE, 400, "RequestTimeout", true},
		{RB_ERR_REMOTE, 400, "Throttling", true},
		{RB_ERR_REMOTE, 200, "InternalError", true},	/* complete: error in a 200 */
		{RB_ERR_REMOTE, 200, "SlowDown", true},
		{RB_ERR_AUTH, 403, "AccessDenied", false},
		{RB_ERR_AUTH, 403, "SignatureDoesNotMatch", false},
		{RB_ERR_AUTH, 403, "InvalidAccessKeyId", false},
		{RB_ERR_NOT_FOUND, 404, "NoSuchBucket", false},
		{RB_ERR_NOT_FOUND, 404, "NoSuchKey", false},
		{RB_ERR_REMOTE, 400, "InvalidArgument", false},
		{RB_ERR_REMOTE, 400, "", false},
		{RB_ERR_REMOTE, 405, "MethodNotAllowed", false},
		/* the server lacks the operation (s3rver: ListMultipartUploads): permanent */
		{RB_ERR_REMOTE, 501, "NotImplemented", false},
		{RB_ERR_REMOTE, 501, "", false},
		{RB_ERR_REMOTE, 409, "BucketAlreadyExists", false},
		{RB_ERR_REMOTE, 416, "InvalidRange", false},
		{RB_ERR_REMOTE, 0, "", false},	/* unparseable answer */
		{RB_ERR_INTEGRITY, 400, "BadDigest", false},
		{RB_ERR_CANCELLED, 0, "", false},
		{RB_ERR_INVALID, 0, "", false},
		{RB_ERR_AUTH, 0, "", false},
		{RB_ERR_IO, 0, "", false},
		{RB_ERR_NOMEM, 0, "", false},
		{RB_ERR_INTERNAL, 0, "", false},
		{RB_ERR_CIRCUIT_OPEN, 0, "", false},
		/* a code that forbids retrying wins over a retryable status... */
		{RB_ERR_AUTH, 503, "AccessDenied", false},
		/* ...and cancellation wins over everything */
		{RB_ERR_CANCELLED, 503, "SlowDown", false},
		{RB_OK, 0, "", false},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		rb_error	err;

		memset(&err, 0, sizeof(err));
		err.code = cases[i].code;
		err.http_status = cases[i].status;
		strcpy(err.remote_code, cases[i].remote);
		if (rb_retry_should_retry(&err) != cases[i].retry)
			fail_msg("case %zu (%s, %d, %s): expected %s", i,
					 rb_error_code_name(cases[i].code), cases[i].status, cases[i].remote,
					 cases[i].retry ? "retry" : "no retry");
	}
	assert_false(rb_retry_should_retry(NULL));
	assert_true(rb_s3_code_is_transient("SlowDown"));
	assert_false(rb_s3_code_is_transient("slowdown"));
	assert_false(rb_s3_code_is_transient(""));
	assert_false(rb_s3_code_is_transient(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_schedule_without_jitter),
		cmocka_unit_test(test_schedule_with_fixed_random_source),
		cmocka_unit_test(test_schedule_with_jitter),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_rng_deterministic),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_classification),
	};

	return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
