/*
 * launcher.h — the launcher background worker: connected to the catalog
 * database, it claims queued backups, starts one runner per backup (at most
 * ripple_backup.max_workers at once) and records what each runner reports.
 */
#ifndef RB_LAUNCHER_H
#define RB_LAUNCHER_H

#include "postgres.h"

#include "catalog.h"

/* Registers the launcher as a static background worker (from _PG_init). */
extern void rb_launcher_register(void);

extern PGDLLEXPORT void rb_launcher_main(Datum main_arg);

/*
 * For a backup queued by the caller's own, still open transaction: asks the
 * launcher to start it now through shared memory.  Returns true, with
 * *succeeded (and, when it failed, its error in error[error_len]), once its
 * runner has finished; false while it is pending.
 */
extern bool rb_launcher_expedite(const RbBackupRow *row, bool *succeeded,
								 char *error, size_t error_len);

/* Does a runner slot still hold this backup (running, or its result unrecorded)? */
extern bool rb_launcher_slot_in_use(int64 backup_id);

#endif							/* RB_LAUNCHER_H */
