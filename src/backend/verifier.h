/*
 * verifier.h — the verifier background worker: proves one stored backup
 * (src/core/verify.h: checksum, archive or restore level) and records the result
 * in ripple_backup.backups (verify_status, verify_level, verified_at,
 * restore_seconds, verify_error).  Started by ripple_backup_verify() (which waits
 * for it) and, after each successful backup, by the launcher
 * (ripple_backup.verify_after_backup).
 */
#ifndef RB_VERIFIER_H
#define RB_VERIFIER_H

#include "postgres.h"

#include "postmaster/bgworker.h"
#include "storage/dsm.h"

#include "shmem.h"

/* ripple_backup.verify_after_backup */
extern bool rb_guc_verify_after_backup;

/* What the verifier hands back to a waiting caller (in a DSM segment). */
typedef struct RbVerifyOutcome
{
	bool		done;			/* set last, once the catalog row is updated */
	bool		verified;
	double		restore_seconds;	/* < 0 when no restore ran */
	char		error[RB_TEXT_LEN];
} RbVerifyOutcome;

/* What travels in bgw_extra. */
typedef struct RbVerifyArgs
{
	int64		backup_id;
	int32		level;			/* rb_verify_level */
	bool		force;
	int64		timeout_ms;		/* the caller's timeout; 0 = none (a drill) */
	dsm_handle	outcome;		/* RbVerifyOutcome segment; 0 = nobody waits */
	bool		drill;			/* a scheduled restore drill (drill.* notifications) */
} RbVerifyArgs;

/*
 * Registers a verifier worker (never restarted); notify_pid receives its start
 * and exit signals (0 = nobody); the handle (when asked for) is allocated in
 * TopMemoryContext when keep_handle.  Returns false when no worker slot is free.
 */
extern bool rb_verifier_start(const RbVerifyArgs *args, pid_t notify_pid,
							  BackgroundWorkerHandle **handle, bool keep_handle);

/* Defines ripple_backup.verify_after_backup (from rb_guc_define). */
extern void rb_verifier_define_gucs(void);

extern PGDLLEXPORT void rb_verifier_main(Datum main_arg);

#endif							/* RB_VERIFIER_H */
