/*
 * shmem.h — ripple_backup's shared memory: the launcher's identity, one slot per
 * running backup (what the runner is doing, its progress counters, and the result
 * it hands back to the launcher), under one LWLock.
 *
 * A runner is connected to the database it backs up, not to the catalog
 * database, so it never writes the catalog: it fills its slot (and a pinned DSM
 * segment with the per-table row counts) and exits; the launcher, connected to
 * the catalog database, persists the result.  Slots outlive a launcher restart
 * (not a postmaster restart, which resets them; the launcher then marks the
 * rows left running as interrupted).
 */
#ifndef RB_SHMEM_H
#define RB_SHMEM_H

#include "postgres.h"

#include "access/transam.h"
#include "datatype/timestamp.h"
#include "port/atomics.h"
#include "storage/dsm.h"
#include "storage/latch.h"
#include "storage/lwlock.h"

#include "guc.h"

#define RB_LABEL_LEN 1024
#define RB_TEXT_LEN 1024
#define RB_INCARNATION_LEN 17	/* 16 hex digits and a NUL (see incarnation.h) */

typedef enum RbSlotState
{
	RB_SLOT_FREE = 0,
	RB_SLOT_REQUESTED,			/* a waiting backend asks the launcher to start it */
	RB_SLOT_ASSIGNED,			/* the launcher registered a runner for it */
	RB_SLOT_FINISHED			/* the runner stored its result and is exiting */
} RbSlotState;

typedef enum RbPhase
{
	RB_PHASE_STARTING = 0,
	RB_PHASE_DUMPING,
	RB_PHASE_METADATA,
	RB_PHASE_DONE
} RbPhase;

/* One per-table row count, as stored in the counts DSM segment. */
typedef struct RbTableCount
{
	char		schema_name[NAMEDATALEN];
	char		table_name[NAMEDATALEN];
	int64		row_count;
} RbTableCount;

/* Header of the counts DSM segment; the entries follow. */
typedef struct RbCountsHeader
{
	int64		backup_id;
	int32		ncounts;
	RbTableCount counts[FLEXIBLE_ARRAY_MEMBER];
} RbCountsHeader;

typedef struct RbRunnerSlot
{
	/* Set by the launcher when it assigns the slot (under the lock). */
	RbSlotState state;
	int64		backup_id;
	char		dbname[NAMEDATALEN];
	char		backup_type[16];
	char		label[RB_LABEL_LEN];
	bool		has_label;
	TimestampTz queued_at;
	TimestampTz started_at;		/* when the launcher claimed it */
	TransactionId requester_xid;	/* valid when started before its row committed */

	/* Set by the runner. */
	pid_t		pid;
	int			phase;			/* RbPhase */
	pg_atomic_uint64 bytes_read;	/* from pg_dump's stdout */
	pg_atomic_uint64 bytes_stored;	/* after compression, to the destination */

	/* The result, set by the runner before state becomes RB_SLOT_FINISHED. */
	bool		succeeded;
	TimestampTz finished_at;
	double		duration_seconds;
	int64		size_bytes;
	char		sha256[65];
	char		compression[8];
	char		encryption[40];	/* RB_ENCRYPT_ALGORITHM_NAME or "none" ("" = unknown) */
	char		key_id[17];		/* the key's id when encrypted, else "" */
	char		location[RB_TEXT_LEN];
	char		object_key[RB_TEXT_LEN];
	char		error[RB_TEXT_LEN];
	dsm_handle	counts_handle;	/* pinned segment with RbCountsHeader, or 0 */
	char		incarnation[RB_INCARNATION_LEN];	/* the key's incarnation ("" = none yet) */
	uint32		timeline;

	/*
	 * A multipart upload the runner could not abort ("" = none): recorded by the
	 * launcher in ripple_backup.pending_aborts for a later abort.
	 */
	char		abandoned_bucket[NAMEDATALEN];
	char		abandoned_key[RB_TEXT_LEN];
	char		abandoned_upload_id[RB_TEXT_LEN];
	char		abandoned_reason[RB_TEXT_LEN];

	/*
	 * Physical base backups (base_backup.c): the kind set by the launcher
	 * ("logical" or "physical"), the WAL positions and backup_label text set
	 * by the runner with the result.
	 */
	char		kind[16];
	char		start_lsn[24];
	char		stop_lsn[24];
	char		backup_label[RB_TEXT_LEN];
} RbRunnerSlot;

typedef struct RbShared
{
	LWLock	   *lock;
	pid_t		launcher_pid;
	int			launcher_procno;	/* pgprocno of the launcher, or -1 */
	/* the server incarnation backups carry, set by the launcher (incarnation.h) */
	char		incarnation[RB_INCARNATION_LEN];
	uint32		incarnation_timeline;
	RbRunnerSlot slots[RB_MAX_RUNNERS];

	/*
	 * The backup the launcher could not start because no background worker slot
	 * was free (0 = none waits): shown by ripple_backup.progress as "waiting for
	 * a worker slot".  Set and cleared by the launcher.
	 */
	int64		slot_wait_backup_id;
	char		slot_wait_dbname[NAMEDATALEN];
	TimestampTz slot_wait_since;
} RbShared;

/* NULL unless the library was loaded through shared_preload_libraries. */
extern RbShared *rb_shared;

/* Installs the shmem request and startup hooks (from _PG_init). */
extern void rb_shmem_init(void);

/*
 * Raises a clear error when the library was not loaded by
 * shared_preload_libraries (no shared memory, no workers).
 */
extern void rb_require_preload(void);

/* Sets the launcher's latch, if a launcher is running. */
extern void rb_wake_launcher(void);

/* True when a launcher has attached to shared memory and not exited since. */
extern bool rb_launcher_running(void);

#endif							/* RB_SHMEM_H */
