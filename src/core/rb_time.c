/*
 * rb_time.c — the monotonic clock and the cancellable wait (see rb_time.h).
 */
#include "rb_time.h"

#include <time.h>

double
rb_now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

int64_t
rb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define SLEEP_POLL_MS 200

bool
rb_sleep_polling(double delay_s, const rb_hooks *hooks)
{
	int64_t		deadline = rb_now_ms() + (int64_t) (delay_s * 1000.0);

	for (;;)
	{
		int64_t		left = deadline - rb_now_ms();
		struct timespec ts;

		if (rb_cancelled(hooks))
			return false;
		if (left <= 0)
			return true;
		if (left > SLEEP_POLL_MS)
			left = SLEEP_POLL_MS;
		ts.tv_sec = 0;
		ts.tv_nsec = (long) left * 1000000L;
		nanosleep(&ts, NULL);
	}
}
