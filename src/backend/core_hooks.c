/*
 * core_hooks.c — the log and cancel callbacks that the runner and the verifier
 * give to src/core (see core_hooks.h for why they never let an interrupt out),
 * and what src/core's allocation failures do in the server.
 */
#include "postgres.h"

#include <unistd.h>

#include "miscadmin.h"
#include "storage/pmsignal.h"
#include "storage/procsignal.h"
#include "utils/timestamp.h"

#include "core_hooks.h"
#include "rb_alloc.h"

/*
 * The emergency reserve of a worker running src/core: enough for an operation
 * that ran out of memory to wind down (kill and reap pg_dump, abort an upload,
 * log) once the reserve is given back.
 */
#define RB_CORE_MEMORY_RESERVE	(1024 * 1024)

static bool reserve_armed = false;

/*
 * src/core's allocation failure without a reserve to fall back on (rb_alloc.h).
 * A FATAL ends this process through proc_exit (exit callbacks run, the runner's
 * records the reason in its slot) with exit code 1, which the postmaster counts
 * as a normal exit: the other backends go on.  In a child forked by src/core
 * before its exec, the exit callbacks are the parent's and must not run.
 */
static void
backend_alloc_failed(size_t size)
{
	if (getpid() != MyProcPid)
		_exit(127);
	ereport(FATAL,
			(errcode(ERRCODE_OUT_OF_MEMORY),
			 errmsg("out of memory"),
			 errdetail("Failed on request of size %zu in ripple_backup.", size)));
}

void
rb_core_hooks_install_alloc_handler(void)
{
	(void) rb_alloc_set_failure_handler(backend_alloc_failed);
}

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
	if (rb_alloc_reserve_spent())
	{
		ctx->out_of_memory = true;
		return true;
	}
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
	ctx->out_of_memory = false;
	/* (re)armed for each operation: one that ran out of memory spent it */
	if (rb_alloc_reserve_spent() || !reserve_armed)
		reserve_armed = rb_alloc_reserve(RB_CORE_MEMORY_RESERVE);
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

void
rb_core_hooks_explain(const RbCoreHookContext *ctx, rb_error *err)
{
	if (ctx->out_of_memory && err->code == RB_ERR_CANCELLED)
		rb_error_set(err, RB_ERR_NOMEM, "out of memory: the operation was stopped and cleaned up");
}
