/*
 * retention.h — retention on the server: the settings ripple_backup.retention,
 * retention_min_keep, retention_keep_daily/weekly/monthly (and the developer
 * setting retention_orphan_age), one retention run (the policy of
 * src/core/retention_policy.h over this server's own catalog rows, then the
 * deletions, the orphan sweep and the abort of stale multipart uploads), and
 * the launcher's automatic runs: after each successful backup and at least
 * once a day.
 */
#ifndef RB_RETENTION_H
#define RB_RETENTION_H

#include "postgres.h"

#include "utils/timestamp.h"

/* One line of a run's answer (ripple_backup_prune's rows). */
typedef struct RbPruneRow
{
	int64		backup_id;		/* 0 = an orphaned object (no catalog row) */
	const char *dbname;			/* NULL for an orphan */
	TimestampTz finished_at;
	bool		finished_null;
	const char *action;			/* keep, delete (dry run), deleted, failed */
	const char *reason;
} RbPruneRow;

typedef void (*RbPruneEmit) (void *arg, const RbPruneRow *row);

/* Defines the retention settings (from rb_guc_define). */
extern void rb_retention_define_gucs(void);

/*
 * One run in the current transaction: decides, and unless dry_run deletes and
 * marks rows expired.  emit (may be NULL) receives every decision.  ERRORs when
 * nothing can be decided (no destination, no incarnation yet, another run in
 * progress); with quiet (the launcher), returns false instead, and the run's S3
 * requests end after two minutes in all.  Only a dry run is allowed on a standby.
 */
extern bool rb_retention_run(bool dry_run, bool quiet, RbPruneEmit emit, void *emit_arg);

/* From the launcher: a backup has just been recorded as succeeded. */
extern void rb_retention_note_success(void);

/*
 * From the launcher, outside any transaction: runs retention in a transaction of
 * its own when a backup has succeeded since the last run or a day has passed;
 * a failure is logged and never stops the launcher.
 */
extern void rb_retention_run_due(void);

#endif							/* RB_RETENTION_H */
