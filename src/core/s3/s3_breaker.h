/*
 * s3_breaker.h — a circuit breaker for one endpoint: after `threshold` consecutive
 * failed requests it opens and refuses requests at once (fail fast) for
 * open_interval_ms; then it half-opens and lets ONE trial request through; the
 * trial's success closes it, its failure opens it again for another interval.
 *
 * The state is a plain struct of fixed-size integers with no pointers, so the
 * extension can keep it in shared memory and show it in SQL.  Every call takes the
 * current time in milliseconds (any monotonic or wall clock, as long as the caller
 * is consistent), so tests drive time themselves.  Not thread-safe: callers
 * serialise access (the backend holds an LWLock around each call).
 *
 * A trial that never reports back (its process died) does not wedge the breaker:
 * after open_interval_ms another trial is allowed.  threshold <= 0 disables the
 * breaker (it never opens; counters still count).
 *
 * What counts as one failure is the caller's choice; the S3 client records one per
 * failed request (a request that exhausted its retries or its deadline), never one
 * per attempt, so the breaker never cuts short the retries of a request already
 * admitted.  The message of the last failure is kept (last_error) so that a fast
 * failure can name the real cause.
 */
#ifndef RB_BREAKER_H
#define RB_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

typedef enum rb_breaker_state
{
	RB_BREAKER_CLOSED = 0,
	RB_BREAKER_OPEN = 1,
	RB_BREAKER_HALF_OPEN = 2
} rb_breaker_state;

#define RB_BREAKER_DEFAULT_THRESHOLD		5
#define RB_BREAKER_DEFAULT_OPEN_INTERVAL_MS	60000
#define RB_BREAKER_LAST_ERROR_LEN			256

typedef struct rb_breaker
{
	int32_t		state;			/* rb_breaker_state */
	int32_t		threshold;		/* consecutive failures that open it */
	int64_t		open_interval_ms;	/* how long it stays open */
	int32_t		consecutive_failures;
	int32_t		trial_in_flight;	/* 1 while the half-open trial runs */
	int64_t		opened_at_ms;	/* when it last opened (0 = never) */
	int64_t		trial_started_ms;	/* when the current trial was allowed */
	int64_t		last_failure_ms;	/* 0 = never */
	int64_t		last_success_ms;	/* 0 = never */
	uint64_t	total_failures;
	uint64_t	total_successes;
	uint64_t	times_opened;
	uint64_t	rejected;		/* requests refused while open or during a trial */
	char		last_error[RB_BREAKER_LAST_ERROR_LEN];	/* "" = none recorded */
} rb_breaker;

/* Closed, counters zero.  threshold <= 0 disables; open_interval_ms < 0 → 0. */
void		rb_breaker_init(rb_breaker *b, int threshold, int64_t open_interval_ms);

/*
 * May a request go now?  CLOSED: yes.  OPEN: no until open_interval_ms has passed
 * since opened_at_ms; then it becomes HALF_OPEN and this call is the trial (yes).
 * HALF_OPEN: no while the trial runs (yes again if the trial is older than
 * open_interval_ms: it was lost).  Every "no" counts in rejected.
 */
bool		rb_breaker_allow(rb_breaker *b, int64_t now_ms);

/* The request succeeded: CLOSED, consecutive failures reset. */
void		rb_breaker_record_success(rb_breaker *b, int64_t now_ms);

/*
 * The request failed (only failures that say the endpoint is unwell should count:
 * network errors, 5xx, throttling; not 404 or AccessDenied).  HALF_OPEN → OPEN with
 * a new opened_at; CLOSED → OPEN when consecutive failures reach the threshold.
 */
void		rb_breaker_record_failure(rb_breaker *b, int64_t now_ms);

/* Keeps msg (truncated) as the last failure's message; NULL or "" clears it. */
void		rb_breaker_set_last_error(rb_breaker *b, const char *msg);

/*
 * The half-open trial will not report back (it was cancelled): the next request
 * may be the trial at once.  A no-op unless HALF_OPEN with a trial running.
 */
void		rb_breaker_release_trial(rb_breaker *b);

/*
 * True while HALF_OPEN with a trial running that is not yet older than
 * open_interval_ms: a request should wait for the trial's outcome (which
 * rb_breaker_allow would refuse, counting it as rejected).
 */
bool		rb_breaker_trial_running(const rb_breaker *b, int64_t now_ms);

/* "closed", "open", "half-open" */
const char *rb_breaker_state_name(const rb_breaker *b);
const char *rb_breaker_state_to_string(rb_breaker_state state);

/*
 * Milliseconds until a request may be allowed: 0 when CLOSED, or OPEN with the
 * interval over, or HALF_OPEN without a trial; otherwise the time left.
 */
int64_t		rb_breaker_retry_after_ms(const rb_breaker *b, int64_t now_ms);

#endif							/* RB_BREAKER_H */
