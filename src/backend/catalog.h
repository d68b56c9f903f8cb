/*
 * catalog.h — every read and write of the backup catalog (the tables in schema
 * ripple_backup of the catalog database), through SPI with parameters.
 *
 * Each function connects to SPI and finishes itself; the caller provides the
 * transaction (and, in a background worker, the active snapshot).  Results are
 * allocated in the caller's memory context.
 */
#ifndef RB_CATALOG_H
#define RB_CATALOG_H

#include "postgres.h"

#include "datatype/timestamp.h"

#include "shmem.h"

/* One row of ripple_backup.backups, as the workers and functions need it. */
typedef struct RbBackupRow
{
	int64		id;
	char		dbname[NAMEDATALEN];
	char		backup_type[16];
	char	   *label;			/* NULL when none */
	char		status[16];
	char	   *error;			/* NULL unless failed */
	TimestampTz queued_at;
	TransactionId xmin;			/* inserting (or last updating) transaction */
	bool		db_exists;		/* the database exists and accepts connections */
	char		kind[16];		/* "logical" or "physical" (dbname "" then) */
} RbBackupRow;

/* Is extension ripple_backup installed in the current database? */
extern bool rb_catalog_extension_exists(void);

/*
 * Marks rows left 'running' (except those in exclude[]) as failed with
 * "interrupted by server restart"; returns how many.
 */
extern int	rb_catalog_fail_interrupted(const int64 *exclude, int nexclude);

/*
 * The oldest queued rows (at most limit), skipping ids in exclude[]; returns the
 * count and a palloc'd array in *rows.
 */
extern int	rb_catalog_fetch_queued(int limit, const int64 *exclude, int nexclude,
									RbBackupRow **rows);

extern void rb_catalog_mark_running(int64 id);
extern void rb_catalog_mark_failed(int64 id, const char *error);

/*
 * Persists a runner's result (slot is a private copy) and, for a successful
 * backup, its per-table row counts.  Returns false when no queued or running row
 * with that id exists.
 */
extern bool rb_catalog_record_result(const RbRunnerSlot *slot, uint64 system_identifier,
									 const RbCountsHeader *counts);

/*
 * Verify-after-backup is queued in the row itself: verify_status 'pending' until
 * a verifier records the outcome, so neither a busy server (no worker slot) nor a
 * launcher restart loses it.  mark_verify_pending queues a succeeded backup;
 * fetch_verify_pending returns the oldest pending ids (at most limit, skipping
 * exclude[]) in a palloc'd *ids; verify_lost fails a still-pending verification
 * whose verifier exited without recording one.
 */
extern void rb_catalog_mark_verify_pending(int64 id);
extern int	rb_catalog_fetch_verify_pending(int limit, const int64 *exclude, int nexclude,
											int64 **ids);
extern void rb_catalog_verify_lost(int64 id, const char *error);

/*
 * Records a multipart upload that could not be aborted (bucket, key in it, upload
 * id) in ripple_backup.pending_aborts, for a later abort; once only.
 */
extern void rb_catalog_record_pending_abort(int64 backup_id, const char *bucket,
											const char *key, const char *upload_id,
											const char *reason);

/* Inserts a queued manual backup; returns its id. */
extern int64 rb_catalog_insert_queued(const char *dbname, const char *label,
									  const char *requested_by);

/*
 * The server incarnation stored for this timeline and system identifier, into
 * id (RB_INCARNATION_LEN bytes); false when none is (never drawn, or drawn on
 * another timeline or system: a promoted standby's copy of its primary's).
 */
extern bool rb_catalog_incarnation(uint32 timeline, uint64 system_identifier, char *id);

/* Stores a new incarnation, replacing the one before (kept as previous_incarnation_id). */
extern void rb_catalog_store_incarnation(const char *id, uint32 timeline,
										 uint64 system_identifier);

/* Reads one row; returns false when it does not exist. */
extern bool rb_catalog_get_backup(int64 id, RbBackupRow *row);
/* Queues a physical base backup (dbname NULL); returns its id. */
extern int64 rb_catalog_insert_queued_physical(const char *label, const char *requested_by);

#endif							/* RB_CATALOG_H */
