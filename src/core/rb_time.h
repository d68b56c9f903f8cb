/*
 * rb_time.h — the monotonic clock every part measures durations and deadlines
 * with (CLOCK_MONOTONIC: never jumps with the wall clock).
 */
#ifndef RB_TIME_H
#define RB_TIME_H

#include <stdint.h>

/* Seconds on the monotonic clock, with nanosecond resolution. */
double		rb_now_seconds(void);

/* Milliseconds on the monotonic clock. */
int64_t		rb_now_ms(void);

#endif							/* RB_TIME_H */
