/*
 * core_hooks.h — the rb_hooks that background workers hand to src/core: log
 * lines go to the server log, cancellation follows SIGTERM and postmaster death.
 *
 * src/core must never be left by a longjmp: its cleanup (killing and reaping
 * children, aborting uploads, unlinking temporary files) runs on its way back.
 * So the log hook holds interrupts around its ereport (errfinish would otherwise
 * run CHECK_FOR_INTERRUPTS and turn a pending SIGTERM into a FATAL in the middle
 * of core code), and the cancel hook only reads flags.  The caller acts on
 * pending interrupts after core has returned.
 */
#ifndef RB_CORE_HOOKS_H
#define RB_CORE_HOOKS_H

#include "rb_error.h"

typedef struct RbCoreHookContext
{
	char		what[96];		/* "backup 12", "verify of backup 12": the log prefix */
	int64		deadline;		/* TimestampTz after which cancel says stop; 0 = none */
	bool		deadline_passed;	/* set once cancel said stop because of it */
	bool		out_of_memory;	/* set once cancel said stop because memory ran out */
} RbCoreHookContext;

/* Fills hooks with the worker hooks; ctx must outlive every use of hooks. */
extern void rb_core_hooks_init(rb_hooks *hooks, RbCoreHookContext *ctx, const char *what_fmt,...)
			pg_attribute_printf(3, 4);

/* From now on the cancel hook also says stop once timeout_ms have passed. */
extern void rb_core_hooks_set_timeout(RbCoreHookContext *ctx, int64 timeout_ms);

/*
 * When the cancel hook stopped the operation because memory ran out (src/core
 * spent the emergency reserve that rb_core_hooks_init arms), turns err's
 * RB_ERR_CANCELLED into RB_ERR_NOMEM saying so.
 */
extern void rb_core_hooks_explain(const RbCoreHookContext *ctx, rb_error *err);

/*
 * Makes src/core's allocation failures without a reserve end this process with
 * ereport(FATAL) (rb_alloc.h); called from _PG_init.
 */
extern void rb_core_hooks_install_alloc_handler(void);

/* True once SIGTERM (die) arrived or the postmaster is gone: what the cancel hook says. */
extern bool rb_core_hooks_stop_requested(void);

#endif							/* RB_CORE_HOOKS_H */
