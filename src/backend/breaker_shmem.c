/*
 * breaker_shmem.c — the shared table of S3 circuit breakers, its settings and
 * ripple_backup_destinations(), the function behind the view
 * ripple_backup.destinations (see breaker_shmem.h).
 *
 * Every access to a breaker is under breakers_lock (exclusive), taken by the S3
 * client through the lock callbacks around each call into the state machine: a
 * few integer updates, never any I/O, so the lock is held for microseconds.  The
 * half-open trial is claimed under that lock, so exactly one process gets it.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "s3/s3_breaker.h"

#include "breaker_shmem.h"
#include "guc.h"

typedef struct RbBreakerSlot
{
	bool		used;
	char		endpoint[RB_BREAKER_ENDPOINT_LEN];
	rb_breaker	breaker;
} RbBreakerSlot;

typedef struct RbBreakerTable
{
	LWLock	   *lock;
	RbBreakerSlot slots[RB_BREAKER_SLOTS];
} RbBreakerTable;

static RbBreakerTable *breakers = NULL;

static int	rb_guc_s3_breaker_threshold = RB_BREAKER_DEFAULT_THRESHOLD;
static int	rb_guc_s3_breaker_open_time_s = RB_BREAKER_DEFAULT_OPEN_INTERVAL_MS / 1000;

PG_FUNCTION_INFO_V1(ripple_backup_destinations);

void
rb_breaker_define_gucs(void)
{
	DefineCustomIntVariable("ripple_backup.s3_breaker_threshold",
							"Consecutive failed S3 requests to an endpoint that open its circuit breaker; 0 means never.",
							"A failed request is one that exhausted its retries or its deadline. The breaker is shared by every process of the server that talks to the endpoint.",
							&rb_guc_s3_breaker_threshold, RB_BREAKER_DEFAULT_THRESHOLD, 0, 1000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.s3_breaker_open_time",
							"How long an open S3 circuit breaker refuses requests before it lets one trial request through.",
							NULL,
							&rb_guc_s3_breaker_open_time_s, RB_BREAKER_DEFAULT_OPEN_INTERVAL_MS / 1000, 1, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

Size
rb_breaker_shmem_size(void)
{
	return MAXALIGN(sizeof(RbBreakerTable));
}

void
rb_breaker_shmem_request(void)
{
	RequestAddinShmemSpace(rb_breaker_shmem_size());
	RequestNamedLWLockTranche("ripple_backup_breakers", 1);
}

/* Called with AddinShmemInitLock held. */
void
rb_breaker_shmem_startup(void)
{
	bool		found;

	breakers = ShmemInitStruct("ripple_backup_breakers", sizeof(RbBreakerTable), &found);
	if (!found)
	{
		memset(breakers, 0, sizeof(RbBreakerTable));
		breakers->lock = &(GetNamedLWLockTranche("ripple_backup_breakers"))->lock;
	}
}

static void
breaker_lock(void *arg)
{
	(void) arg;
	LWLockAcquire(breakers->lock, LW_EXCLUSIVE);
}

static void
breaker_unlock(void *arg)
{
	(void) arg;
	LWLockRelease(breakers->lock);
}

/* Milliseconds since the Unix epoch: one clock for every process. */
static int64_t
breaker_clock(void *arg)
{
	(void) arg;
	return (int64_t) (GetCurrentTimestamp() / 1000) +
		(int64_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;
}

static TimestampTz
ms_to_timestamptz(int64_t ms)
{
	return (TimestampTz) (ms - (int64_t) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000) * 1000;
}

/*
 * The endpoint the breaker is kept for: the configured endpoint without any
 * user:password@ and trailing slashes, or AWS's regional endpoint.
 */
static void
endpoint_key(const rb_destination_options *opt, char *out, size_t outlen)
{
	const char *ep = opt->s3_endpoint;

	if (ep == NULL || ep[0] == '\0')
		snprintf(out, outlen, "https://s3.%s.amazonaws.com",
				 opt->s3_region && opt->s3_region[0] ? opt->s3_region : "us-east-1");
	else
	{
		const char *scheme_end = strstr(ep, "://");
		const char *host = scheme_end ? scheme_end + 3 : ep;
		const char *slash = strchr(host, '/');
		const char *at = strchr(host, '@');
		size_t		n;

		if (at && (slash == NULL || at < slash))
			snprintf(out, outlen, "%.*s%s", (int) (host - ep), ep, at + 1);
		else
			snprintf(out, outlen, "%s", ep);
		n = strlen(out);
		while (n > 0 && out[n - 1] == '/')
			out[--n] = '\0';
	}
}

static int64_t
last_activity(const rb_breaker *b)
{
	return Max(b->last_failure_ms, b->last_success_ms);
}

void
rb_breaker_shared_options(rb_destination_options *opt)
{
	char		key[RB_BREAKER_ENDPOINT_LEN];
	RbBreakerSlot *slot = NULL;
	RbBreakerSlot *spare = NULL;

	if (breakers == NULL)
		return;
	endpoint_key(opt, key, sizeof(key));
	LWLockAcquire(breakers->lock, LW_EXCLUSIVE);
	for (int i = 0; i < RB_BREAKER_SLOTS && slot == NULL; i++)
	{
		RbBreakerSlot *s = &breakers->slots[i];

		if (s->used && strcmp(s->endpoint, key) == 0)
			slot = s;
		else if (!s->used)
		{
			if (spare == NULL || spare->used)
				spare = s;
		}
		/* else a closed breaker of another endpoint, least recently used first */
		else if (s->breaker.state == RB_BREAKER_CLOSED &&
				 (spare == NULL || (spare->used && last_activity(&s->breaker) < last_activity(&spare->breaker))))
			spare = s;
	}
	if (slot == NULL && spare != NULL)
	{
		slot = spare;
		slot->used = true;
		strlcpy(slot->endpoint, key, sizeof(slot->endpoint));
		rb_breaker_init(&slot->breaker, rb_guc_s3_breaker_threshold,
						(int64_t) rb_guc_s3_breaker_open_time_s * 1000);
	}
	if (slot != NULL)
	{
		/* the settings may have changed since the slot was claimed */
		slot->breaker.threshold = rb_guc_s3_breaker_threshold;
		slot->breaker.open_interval_ms = (int64_t) rb_guc_s3_breaker_open_time_s * 1000;
		opt->s3_breaker = &slot->breaker;
		opt->s3_breaker_lock = breaker_lock;
		opt->s3_breaker_unlock = breaker_unlock;
		opt->s3_breaker_lock_arg = NULL;
		opt->s3_clock = breaker_clock;
	}
	LWLockRelease(breakers->lock);
	opt->s3_breaker_threshold = rb_guc_s3_breaker_threshold;
	opt->s3_breaker_open_ms = (int64_t) rb_guc_s3_breaker_open_time_s * 1000;
}

/*
 * RETURNS TABLE (endpoint text, state text, consecutive_failures integer,
 * opened_at timestamptz, next_trial timestamptz, last_failure timestamptz,
 * last_error text, last_success timestamptz)
 */
Datum
ripple_backup_destinations(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	RbBreakerSlot copy[RB_BREAKER_SLOTS];
	int64_t		now = breaker_clock(NULL);

	InitMaterializedSRF(fcinfo, 0);
	if (breakers == NULL)
		return (Datum) 0;
	LWLockAcquire(breakers->lock, LW_SHARED);
	memcpy(copy, breakers->slots, sizeof(copy));
	LWLockRelease(breakers->lock);

	for (int i = 0; i < RB_BREAKER_SLOTS; i++)
	{
		rb_breaker *b = &copy[i].breaker;
		Datum		values[8];
		bool		nulls[8] = {false};
		int64_t		after;

		if (!copy[i].used)
			continue;
		b->last_error[sizeof(b->last_error) - 1] = '\0';
		values[0] = CStringGetTextDatum(copy[i].endpoint);
		values[1] = CStringGetTextDatum(rb_breaker_state_name(b));
		values[2] = Int32GetDatum(b->consecutive_failures);
		if (b->opened_at_ms > 0)
			values[3] = TimestampTzGetDatum(ms_to_timestamptz(b->opened_at_ms));
		else
			nulls[3] = true;
		if (b->state == RB_BREAKER_CLOSED)
			nulls[4] = true;
		else
		{
			after = rb_breaker_retry_after_ms(b, now);
			values[4] = TimestampTzGetDatum(ms_to_timestamptz(now + after));
		}
		if (b->last_failure_ms > 0)
			values[5] = TimestampTzGetDatum(ms_to_timestamptz(b->last_failure_ms));
		else
			nulls[5] = true;
		if (b->last_error[0] != '\0')
			values[6] = CStringGetTextDatum(b->last_error);
		else
			nulls[6] = true;
		if (b->last_success_ms > 0)
			values[7] = TimestampTzGetDatum(ms_to_timestamptz(b->last_success_ms));
		else
			nulls[7] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
