/*
 * test_s3_breaker.c — unit tests of the circuit breaker (src/core/s3/s3_breaker.c) on an
 * injected clock: opens after 5 consecutive failures, fails fast while open,
 * half-opens after the interval with one trial only, closes on the trial's
 * success, reopens on its failure; a lost trial does not wedge it; a running
 * trial is visible (others wait for it rather than count as rejected) and a
 * cancelled one can be released; the last error is kept, truncated; the struct has
 * no pointers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3_breaker.h"

#define T0 1000000				/* an arbitrary start time, ms */

static void
test_opens_after_threshold(void **state)
{
	rb_breaker	b;

	(void) state;
	rb_breaker_init(&b, 5, 60000);
	assert_string_equal(rb_breaker_state_name(&b), "closed");
	for (int i = 0; i < 4; i++)
	{
		assert_true(rb_breaker_allow(&b, T0 + i));
		rb_breaker_record_failure(&b, T0 + i);
		assert_int_equal(b.state, RB_BREAKER_CLOSED);
	}
	assert_int_equal(b.consecutive_failures, 4);
	assert_true(rb_breaker_allow(&b, T0 + 4));
	rb_breaker_record_failure(&b, T0 + 4);
	assert_int_equal(b.state, RB_BREAKER_OPEN);
	assert_string_equal(rb_breaker_state_name(&b), "open");
	assert_true(b.opened_at_ms == T0 + 4);
	assert_true(b.times_opened == 1);
	assert_true(b.total_failures == 5);
}

static void
test_success_resets_count(void **state)
{
	rb_breaker	b;

	(void) state;
	rb_breaker_init(&b, 5, 60000);
	for (int i = 0; i < 4; i++)
		rb_breaker_record_failure(&b, T0);
	rb_breaker_record_success(&b, T0);
	assert_int_equal(b.consecutive_failures, 0);
	for (int i = 0; i < 4; i++)
		rb_breaker_record_failure(&b, T0);
	assert_int_equal(b.state, RB_BREAKER_CLOSED);	/* 4 + 4, never 5 in a row */
	assert_true(b.total_successes == 1);
	assert_true(b.total_failures == 8);
}

static rb_breaker
opened_breaker(void)
{
	rb_breaker	b;

	rb_breaker_init(&b, 5, 60000);
	for (int i = 0; i < 5; i++)
		rb_breaker_record_failure(&b, T0);
	assert_int_equal(b.state, RB_BREAKER_OPEN);
	return b;
}

static void
test_fails_fast_while_open(void **state)
{
	rb_breaker	b = opened_breaker();

	(void) state;
	assert_false(rb_breaker_allow(&b, T0));
	assert_false(rb_breaker_allow(&b, T0 + 30000));
	assert_false(rb_breaker_allow(&b, T0 + 59999));
	assert_true(b.rejected == 3);
	assert_true(rb_breaker_retry_after_ms(&b, T0) == 60000);
	assert_true(rb_breaker_retry_after_ms(&b, T0 + 59999) == 1);
	assert_true(rb_breaker_retry_after_ms(&b, T0 + 60000) == 0);
	assert_int_equal(b.state, RB_BREAKER_OPEN);
}

static void
test_half_open_one_trial_then_close(void **state)
{
	rb_breaker	b = opened_breaker();

	(void) state;
	assert_true(rb_breaker_allow(&b, T0 + 60000));	/* the trial */
	assert_int_equal(b.state, RB_BREAKER_HALF_OPEN);
	assert_string_equal(rb_breaker_state_name(&b), "half-open");
	/* nobody else while the trial runs */
	assert_false(rb_breaker_allow(&b, T0 + 60001));
	assert_false(rb_breaker_allow(&b, T0 + 61000));
	assert_true(rb_breaker_retry_after_ms(&b, T0 + 61000) > 0);
	rb_breaker_record_success(&b, T0 + 62000);
	assert_int_equal(b.state, RB_BREAKER_CLOSED);
	assert_int_equal(b.consecutive_failures, 0);
	assert_true(rb_breaker_allow(&b, T0 + 62001));
	assert_true(rb_breaker_allow(&b, T0 + 62002));
	assert_true(rb_breaker_retry_after_ms(&b, T0 + 62002) == 0);
}

static void
test_trial_failure_reopens(void **state)
{
	rb_breaker	b = opened_breaker();

	(void) state;
	assert_true(rb_breaker_allow(&b, T0 + 60000));
	rb_breaker_record_failure(&b, T0 + 60500);
	assert_int_equal(b.state, RB_BREAKER_OPEN);
	assert_true(b.opened_at_ms == T0 + 60500);	/* a new interval */
	assert_true(b.times_opened == 2);
	assert_false(rb_breaker_allow(&b, T0 + 61000));
	assert_false(rb_breaker_allow(&b, T0 + 120499));
	assert_true(rb_breaker_allow(&b, T0 + 120500));	/* next trial */
	assert_int_equal(b.state, RB_BREAKER_HALF_OPEN);
}

static void
test_lost_trial(void **state)
{
	rb_breaker	b = opened_breaker();

	(void) state;
	assert_true(rb_breaker_allow(&b, T0 + 60000));
	/* the trial's process died and never reported */
	assert_false(rb_breaker_allow(&b, T0 + 119999));
	assert_true(rb_breaker_allow(&b, T0 + 120000));
	assert_false(rb_breaker_allow(&b, T0 + 120001));
}

static void
test_failure_while_open_keeps_interval(void **state)
{
	rb_breaker	b = opened_breaker();

	(void) state;
	/* a request that started before the breaker opened fails late */
	rb_breaker_record_failure(&b, T0 + 30000);
	assert_int_equal(b.state, RB_BREAKER_OPEN);
	assert_true(b.opened_at_ms == T0);
	assert_true(b.times_opened == 1);
	assert_true(rb_breaker_allow(&b, T0 + 60000));
}

static void
test_short_interval_and_disabled(void **state)
{
	rb_breaker	b;

	(void) state;
	rb_breaker_init(&b, 2, 100);
	rb_breaker_record_failure(&b, 0);
	rb_breaker_record_failure(&b, 0);
	assert_false(rb_breaker_allow(&b, 99));
	assert_true(rb_breaker_allow(&b, 100));

	rb_breaker_init(&b, 0, 60000);	/* disabled */
	for (int i = 0; i < 100; i++)
		rb_breaker_record_failure(&b, i);
	assert_int_equal(b.state, RB_BREAKER_CLOSED);
	assert_true(rb_breaker_allow(&b, 100));
	assert_true(b.total_failures == 100);
}

static void
test_plain_struct(void **state)
{
	rb_breaker	a;
	rb_breaker	copy;

	(void) state;
	/* it can be copied bytewise (shared memory) and keeps working */
	rb_breaker_init(&a, RB_BREAKER_DEFAULT_THRESHOLD, RB_BREAKER_DEFAULT_OPEN_INTERVAL_MS);
	for (int i = 0; i < 5; i++)
		rb_breaker_record_failure(&a, T0);
	memcpy(&copy, &a, sizeof(a));
	assert_false(rb_breaker_allow(&copy, T0 + 1));
	assert_true(rb_breaker_allow(&copy, T0 + 60000));
	assert_string_equal(rb_breaker_state_to_string(RB_BREAKER_HALF_OPEN), "half-open");
	/* a corrupt state does not refuse forever */
	copy.state = 77;
	assert_string_equal(rb_breaker_state_name(&copy), "unknown");
	assert_true(rb_breaker_allow(&copy, T0));
	assert_int_equal(copy.state, RB_BREAKER_CLOSED);
}

static void
test_trial_running_release_and_last_error(void **state)
{
	rb_breaker	b;
	char		longmsg[600];

	(void) state;
	rb_breaker_init(&b, 1, 1000);
	assert_false(rb_breaker_trial_running(&b, 0));
	rb_breaker_record_failure(&b, 0);
	rb_breaker_set_last_error(&b, "Connection refused");
	assert_string_equal(b.last_error, "Connection refused");
	assert_false(rb_breaker_trial_running(&b, 500));	/* open, no trial */
	assert_true(rb_breaker_allow(&b, 1000));	/* the trial */
	assert_true(rb_breaker_trial_running(&b, 1500));
	assert_false(rb_breaker_trial_running(&b, 2000));	/* lost after the interval */
	assert_int_equal(b.rejected, 0);
	/* the trial was cancelled: the next request may be the trial at once */
	rb_breaker_release_trial(&b);
	assert_false(rb_breaker_trial_running(&b, 1500));
	assert_true(rb_breaker_allow(&b, 1500));
	rb_breaker_record_success(&b, 1600);
	rb_breaker_release_trial(&b);	/* closed: a no-op */
	assert_int_equal(b.state, RB_BREAKER_CLOSED);

	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	rb_breaker_set_last_error(&b, longmsg);
	assert_int_equal(strlen(b.last_error), RB_BREAKER_LAST_ERROR_LEN - 1);
	rb_breaker_set_last_error(&b, NULL);
	assert_string_equal(b.last_error, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opens_after_threshold),
		cmocka_unit_test(test_success_resets_count),
		cmocka_unit_test(test_fails_fast_while_open),
		cmocka_unit_test(test_half_open_one_trial_then_close),
		cmocka_unit_test(test_trial_failure_reopens),
		cmocka_unit_test(test_lost_trial),
		cmocka_unit_test(test_failure_while_open_keeps_interval),
		cmocka_unit_test(test_short_interval_and_disabled),
		cmocka_unit_test(test_plain_struct),
		cmocka_unit_test(test_trial_running_release_and_last_error),
	};

	return cmocka_run_group_tests_name("breaker", tests, NULL, NULL);
}
