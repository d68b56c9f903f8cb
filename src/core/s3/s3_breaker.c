/*
 * s3_breaker.c — the circuit breaker state machine (see s3_breaker.h).
 */
#include "s3_breaker.h"

#include <stdio.h>
#include <string.h>

void
rb_breaker_init(rb_breaker *b, int threshold, int64_t open_interval_ms)
{
	memset(b, 0, sizeof(*b));
	b->state = RB_BREAKER_CLOSED;
	b->threshold = threshold > 0 ? threshold : 0;
	b->open_interval_ms = open_interval_ms > 0 ? open_interval_ms : 0;
}

static void
trip(rb_breaker *b, int64_t now_ms)
{
	b->state = RB_BREAKER_OPEN;
	b->opened_at_ms = now_ms;
	b->trial_in_flight = 0;
	b->times_opened++;
}

bool
rb_breaker_allow(rb_breaker *b, int64_t now_ms)
{
	switch ((rb_breaker_state) b->state)
	{
		case RB_BREAKER_CLOSED:
			return true;
		case RB_BREAKER_OPEN:
			if (now_ms - b->opened_at_ms < b->open_interval_ms)
			{
				b->rejected++;
				return false;
			}
			b->state = RB_BREAKER_HALF_OPEN;
			b->trial_in_flight = 1;
			b->trial_started_ms = now_ms;
			return true;
		case RB_BREAKER_HALF_OPEN:
			if (b->trial_in_flight &&
				now_ms - b->trial_started_ms < b->open_interval_ms)
			{
				b->rejected++;
				return false;
			}
			/* no trial running, or the last one never reported back */
			b->trial_in_flight = 1;
			b->trial_started_ms = now_ms;
			return true;
	}
	/* a corrupt state: start over closed rather than refuse forever */
	b->state = RB_BREAKER_CLOSED;
	b->consecutive_failures = 0;
	return true;
}

void
rb_breaker_record_success(rb_breaker *b, int64_t now_ms)
{
	b->total_successes++;
	b->last_success_ms = now_ms;
	b->consecutive_failures = 0;
	b->trial_in_flight = 0;
	b->state = RB_BREAKER_CLOSED;
}

void
rb_breaker_record_failure(rb_breaker *b, int64_t now_ms)
{
	b->total_failures++;
	b->last_failure_ms = now_ms;
	if (b->consecutive_failures < INT32_MAX)
		b->consecutive_failures++;
	switch ((rb_breaker_state) b->state)
	{
		case RB_BREAKER_HALF_OPEN:
			trip(b, now_ms);
			break;
		case RB_BREAKER_CLOSED:
			if (b->threshold > 0 && b->consecutive_failures >= b->threshold)
				trip(b, now_ms);
			break;
		case RB_BREAKER_OPEN:
			/* a request that started before the breaker opened: already open */
			break;
		default:
			b->state = RB_BREAKER_CLOSED;
			break;
	}
}

const char *
rb_breaker_state_to_string(rb_breaker_state state)
{
	switch (state)
	{
		case RB_BREAKER_CLOSED:
			return "closed";
		case RB_BREAKER_OPEN:
			return "open";
		case RB_BREAKER_HALF_OPEN:
			return "half-open";
	}
	return "unknown";
}

const char *
rb_breaker_state_name(const rb_breaker *b)
{
	return rb_breaker_state_to_string((rb_breaker_state) b->state);
}

int64_t
rb_breaker_retry_after_ms(const rb_breaker *b, int64_t now_ms)
{
	int64_t		left;

	switch ((rb_breaker_state) b->state)
	{
		case RB_BREAKER_OPEN:
			left = b->opened_at_ms + b->open_interval_ms - now_ms;
			return left > 0 ? left : 0;
		case RB_BREAKER_HALF_OPEN:
			if (!b->trial_in_flight)
				return 0;
			left = b->trial_started_ms + b->open_interval_ms - now_ms;
			return left > 0 ? left : 0;
		default:
			return 0;
	}
}

void
rb_breaker_set_last_error(rb_breaker *b, const char *msg)
{
	snprintf(b->last_error, sizeof(b->last_error), "%s", msg ? msg : "");
}

void
rb_breaker_release_trial(rb_breaker *b)
{
	if (b->state == RB_BREAKER_HALF_OPEN)
		b->trial_in_flight = 0;
}

bool
rb_breaker_trial_running(const rb_breaker *b, int64_t now_ms)
{
	return b->state == RB_BREAKER_HALF_OPEN && b->trial_in_flight &&
		now_ms - b->trial_started_ms < b->open_interval_ms;
}
