/*
 * scheduler.h — the launcher's side of scheduled jobs: fires the due jobs of
 * ripple_backup.jobs (through ripple_backup.run_due_jobs in the install script),
 * tells the launcher how long it may sleep until the next fire time, and prunes
 * old history about once an hour.  Also defines ripple_backup.catch_up and
 * ripple_backup.history_days.
 */
#ifndef RB_SCHEDULER_H
#define RB_SCHEDULER_H

#include <stdbool.h>

/* ripple_backup.catch_up: run a fire missed during downtime once at start-up */
extern bool rb_guc_catch_up;
/* ripple_backup.history_days: age after which skips and failed backups are pruned */
extern int	rb_guc_history_days;

/* Defines the settings above (called from rb_guc_define). */
extern void rb_scheduler_define_gucs(void);

/*
 * In the launcher's transaction, once the extension exists: fires every due job
 * (queues its backup or records a skip) and lowers *nap_ms to the time until the
 * earliest next fire.  `first` is true on the launcher's first look at the
 * catalog: with catch_up off, fires missed before then are skipped.  Never
 * raises an error (it is logged).  Returns the number of backups queued; the
 * caller claims them after its commit.
 */
extern int	rb_scheduler_run_due(bool first, long *nap_ms);

#endif							/* RB_SCHEDULER_H */
