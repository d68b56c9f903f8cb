/*
 * rb_time.h — the monotonic clock every part measures durations and deadlines
 * with (CLOCK_MONOTONIC: never jumps with the wall clock), and the wait between
 * retries that a cancel ends early.
 */
#ifndef RB_TIME_H
#define RB_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "rb_error.h"

/* Seconds on the monotonic clock, with nanosecond resolution. */
double		rb_now_seconds(void);

/* Milliseconds on the monotonic clock. */
int64_t		rb_now_ms(void);

/*
 * Sleeps delay_s seconds, polling hooks->cancel every 200 ms at most.  Returns
 * true after the full wait, false as soon as the cancel hook says stop.
 */
bool		rb_sleep_polling(double delay_s, const rb_hooks *hooks);

#endif							/* RB_TIME_H */
