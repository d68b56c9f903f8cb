/*
 * core_hooks.c — the log and cancel callbacks that the runner and the verifier
 * give to src/core (see core_hooks.h for why they never let an interrupt out).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/pmsignal.h"
#include "storage/procsignal.h"
#include "utils/timestamp.h"

#include "core_hooks.h"

bool
rb_core_hooks_stop_requested(void)
{
	return ProcDiePending || !PostmasterIsAlive();
}

/*
 * hooks->cancel, polled by src/core at least every 100 ms.  CHECK_FOR_INTERRUPTS
 * is not safe in here (an ERROR would jump over src/core's cleanup), but
 * shared-memory barriers must be absorbed, or DROP DATABASE and friends anywhere
 * in the cluster would wait for the whole operation.
 */
static bool
core_cancel(void *arg)
{
	RbCoreHookContext *ctx = (RbCoreHookContext *) arg;

	if (ProcSignalBarrierPending)
	{
		HOLD_INTERRUPTS();
		ProcessProcSignalBarrier();
		RESUME_INTERRUPTS();
	}
	if (rb_core_hooks_stop_requested())
		return true;
	if (ctx->deadline != 0 && GetCurrentTimestamp() >= ctx->deadline)
	{
		ctx->deadline_passed = true;
		return true;
	}
	return false;
}

/* hooks->log: one line to the server log; a pending interrupt stays pending. */
static void
core_log(void *arg, rb_log_level level, const char *line)
{
	RbCoreHookContext *ctx = (RbCoreHookContext *) arg;
	int			elevel;

	switch (level)
	{
		case RB_LOG_DEBUG:
			elevel = DEBUG1;
			break;
		case RB_LOG_WARNING:
			elevel = WARNING;
			break;
		default:
			elevel = LOG;
			break;
	}
	HOLD_INTERRUPTS();
	ereport(elevel, (errmsg_internal("ripple_backup: %s: %s", ctx->what, line)));
	RESUME_INTERRUPTS();
}

void
rb_core_hooks_init(rb_hooks *hooks, RbCoreHookContext *ctx, const char *what_fmt,...)
{
	va_list		ap;

	va_start(ap, what_fmt);
	vsnprintf(ctx->what, sizeof(ctx->what), what_fmt, ap);
	va_end(ap);
	ctx->deadline = 0;
	ctx->deadline_passed = false;
	memset(hooks, 0, sizeof(*hooks));
	hooks->log = core_log;
	hooks->cancel = core_cancel;
	hooks->arg = ctx;
}

void
rb_core_hooks_set_timeout(RbCoreHookContext *ctx, int64 timeout_ms)
{
	ctx->deadline = timeout_ms > 0 ?
		TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms) : 0;
	ctx->deadline_passed = false;
}
