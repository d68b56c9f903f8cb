/*
 * base_backup_runner.h — the runner's physical backup: pg_basebackup through the
 * src/core pipeline (base_backup.h), its metadata written last, and the SQL
 * function that queues one, with its setting.
 */
#ifndef RB_BASE_BACKUP_RUNNER_H
#define RB_BASE_BACKUP_RUNNER_H

#include "postgres.h"

#include "runner_outcome.h"
#include "shmem.h"

extern bool rb_guc_base_backup_fast_checkpoint;

extern void rb_base_backup_define_gucs(void);

/*
 * Takes the base backup of the slot (inside a transaction, connected to the
 * catalog database), fills out, and leaves the WAL positions and backup_label
 * text in the slot for the launcher.  Never raises an ERROR for a failed backup.
 */
extern void rb_base_backup_pipeline(RbRunnerSlot *slot, RunOutcome *out);

#endif							/* RB_BASE_BACKUP_RUNNER_H */
