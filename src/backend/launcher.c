/*
 * launcher.c — the launcher background worker (see launcher.h).
 *
 * Started by the postmaster once recovery has finished (so it does nothing on a
 * standby until promotion), connected to ripple_backup.database.  It sleeps on
 * its latch; ripple_backup_now() sets it at commit, a runner's exit sets it
 * (bgw_notify_pid), SIGHUP sets it.  Each wake-up, in one transaction:
 *   1. if the extension does not exist yet, do nothing (look again next time);
 *   2. the first time it exists: rows left 'running' by a crash or restart
 *      become 'failed' with "interrupted by server restart";
 *   3. finished runners: persist their result (status, size, checksum,
 *      location, per-table row counts from their DSM segment), or queue a
 *      transiently failed backup again for a retry (backup_retry.h);
 *   4. start runners asked for through shared memory by ripple_backup_wait(),
 *      unless the transaction that asked has rolled back meanwhile, and stop a
 *      running one whose requester rolled back (its result is discarded and
 *      whatever it stored deleted, so a rolled-back call leaves nothing behind);
 *   5. claim the oldest queued rows, up to max_workers runners at once;
 *   6. start a verifier for each succeeded backup whose verify-after-backup is
 *      queued in its row (verify_status 'pending', set when its result is
 *      recorded), so a busy server or a launcher restart does not lose it.
 * When no background worker slot is free (max_worker_processes), the launcher
 * logs once that it waits, tries again at every wake-up and at least after a nap
 * that doubles from 250 ms to a minute, shows the waiting backup in
 * ripple_backup.progress, and logs once when nothing waits any more.
 * SIGTERM ends it at the next check (die); runners are separate workers and
 * record their own cancellation.
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "backup_retry.h"
#include "catalog.h"
#include "discard.h"
#include "drill.h"
#include "guc.h"
#include "incarnation.h"
#include "launcher.h"
#include "retention.h"
#include "notifier.h"
#include "notify_queue.h"
#include "rpo_check.h"
#include "wal_health.h"
#include "runner.h"
#include "scheduler.h"
#include "shmem.h"
#include "upload_journal.h"
#include "verifier.h"
#include "verify_cleanup.h"
#include "worker_common.h"

#define RB_LAUNCHER_NAPTIME_MS 10000	/* safety net: look even without a wake-up */
#define RB_LAUNCHER_BUSY_NAPTIME_MS 250 /* while something waits on another transaction */
#define RB_SLOT_WAIT_MIN_MS 250			/* no worker slot: first retry, doubling... */
#define RB_SLOT_WAIT_MAX_MS 60000		/* ...to a minute */

static BackgroundWorkerHandle *handles[RB_MAX_RUNNERS];
static bool stop_sent[RB_MAX_RUNNERS];	/* terminated: its requester rolled back */

/* Verifiers this launcher started for pending verifications, and their backups. */
static BackgroundWorkerHandle *verify_handles[RB_MAX_RUNNERS];
static int64 verify_ids[RB_MAX_RUNNERS];

/*
 * Waiting for a background worker slot: since when, whether the wait was logged
 * (only once it outlasts the first retry: a runner that has stored its result is
 * still exiting for a moment, which is no wait worth a log line), the next nap.
 */
static bool slot_waiting = false;
static bool slot_wait_logged = false;
static TimestampTz slot_wait_started = 0;
static long slot_wait_nap = RB_SLOT_WAIT_MIN_MS;
static bool slot_short = false;	/* this iteration found no free slot */
static bool slot_short_runner = false;	/* ...for a runner (shown in progress) */

void
rb_launcher_register(void)
{
	BackgroundWorker worker;

	rb_worker_init(&worker, "rb_launcher_main", "ripple_backup launcher", 10);
	RegisterBackgroundWorker(&worker);
}

static void
launcher_detach_shmem(int code, Datum arg)
{
	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	if (rb_shared->launcher_pid == MyProcPid)
	{
		rb_shared->launcher_pid = 0;
		rb_shared->launcher_procno = -1;
	}
	LWLockRelease(rb_shared->lock);
}

/* Copies a catalog row into a free slot (caller holds the lock exclusively). */
static void
slot_fill(RbRunnerSlot *slot, const RbBackupRow *row, RbSlotState state, TransactionId xid)
{
	slot->state = state;
	slot->backup_id = row->id;
	strlcpy(slot->dbname, row->dbname, sizeof(slot->dbname));
	strlcpy(slot->backup_type, row->backup_type, sizeof(slot->backup_type));
	strlcpy(slot->kind, row->kind[0] ? row->kind : "logical", sizeof(slot->kind));
	slot->start_lsn[0] = slot->stop_lsn[0] = slot->backup_label[0] = '\0';
	slot->has_label = row->label != NULL;
	if (row->label != NULL)
	{
		/* cut on a character boundary: the label goes into the metadata as is */
		int			len = pg_mbcliplen(row->label, strlen(row->label), sizeof(slot->label) - 1);

		memcpy(slot->label, row->label, len);
		slot->label[len] = '\0';
	}
	else
		slot->label[0] = '\0';
	slot->queued_at = row->queued_at;
	slot->started_at = GetCurrentTimestamp();
	slot->requester_xid = xid;
	slot->pid = 0;
	slot->phase = RB_PHASE_STARTING;
	pg_atomic_write_u64(&slot->bytes_read, 0);
	pg_atomic_write_u64(&slot->bytes_stored, 0);
	slot->succeeded = false;
	slot->finished_at = 0;
	slot->duration_seconds = 0;
	slot->size_bytes = 0;
	slot->sha256[0] = slot->compression[0] = '\0';
	slot->encryption[0] = slot->key_id[0] = '\0';
	slot->location[0] = slot->object_key[0] = slot->error[0] = '\0';
	slot->counts_handle = 0;
	slot->incarnation[0] = '\0';
	slot->timeline = 0;
	slot->abandoned_bucket[0] = slot->abandoned_key[0] = '\0';
	slot->abandoned_upload_id[0] = slot->abandoned_reason[0] = '\0';
}

static void
slot_release(int i)
{
	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	rb_shared->slots[i].state = RB_SLOT_FREE;
	rb_shared->slots[i].backup_id = 0;
	rb_shared->slots[i].pid = 0;
	LWLockRelease(rb_shared->lock);
	stop_sent[i] = false;
	if (handles[i])
	{
		pfree(handles[i]);
		handles[i] = NULL;
	}
}

/*
 * True when the transaction that handed a request over through shared memory
 * (or one of its subtransactions, the row's xmin) has ended without committing:
 * its catalog row is gone, so nothing may be started or stored for it.
 */
static bool
requester_rolled_back(TransactionId xid)
{
	return TransactionIdIsValid(xid) &&
		!TransactionIdIsInProgress(xid) && !TransactionIdDidCommit(xid);
}

/* Ids of every slot in use (palloc'd); returns the count. */
static int
ids_in_use(int64 **ids)
{
	int			n = 0;

	*ids = palloc(sizeof(int64) * RB_MAX_RUNNERS);
	LWLockAcquire(rb_shared->lock, LW_SHARED);
	for (int i = 0; i < RB_MAX_RUNNERS; i++)
		if (rb_shared->slots[i].state != RB_SLOT_FREE)
			(*ids)[n++] = rb_shared->slots[i].backup_id;
	LWLockRelease(rb_shared->lock);
	return n;
}

/* Starts the runner of slot i; false when no background worker slot is free. */
static bool
start_runner(int i)
{
	BackgroundWorker worker;
	RbRunnerSlot *slot = &rb_shared->slots[i];
	int64		id = slot->backup_id;

	rb_worker_init(&worker, "rb_runner_main", "ripple_backup runner", BGW_NEVER_RESTART);
	snprintf(worker.bgw_name, BGW_MAXLEN, "ripple_backup runner for backup %lld", (long long) id);
	worker.bgw_main_arg = Int32GetDatum(i);
	memcpy(worker.bgw_extra, &id, sizeof(id));
	worker.bgw_notify_pid = MyProcPid;

	if (handles[i])
	{
		pfree(handles[i]);
		handles[i] = NULL;
	}
	/* the handle outlives this transaction */
	return rb_worker_start(&worker, &handles[i], true);
}

/*
 * No background worker slot was free for what ("the runner", "the
 * verification") of backup id.  Logged once when the wait outlasts its first
 * retry, not at every retry; a waiting runner is published for
 * ripple_backup.progress at once.
 */
static void
slot_wait_note(const char *what, int64 id, const char *dbname)
{
	slot_short = true;
	if (!slot_waiting)
	{
		slot_waiting = true;
		slot_wait_logged = false;
		slot_wait_started = GetCurrentTimestamp();
		slot_wait_nap = RB_SLOT_WAIT_MIN_MS;
	}
	else if (!slot_wait_logged)
	{
		slot_wait_logged = true;
		ereport(LOG,
				(errmsg("ripple_backup: %s of backup %lld is waiting for a free background worker slot",
						what, (long long) id),
				 errhint("Raise max_worker_processes: every running backup and verification needs a slot. "
						 "The launcher tries again whenever a slot may have freed, and at least once a minute.")));
	}
	if (dbname != NULL && !slot_short_runner)
	{
		slot_short_runner = true;
		LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
		if (rb_shared->slot_wait_backup_id != id)
		{
			rb_shared->slot_wait_backup_id = id;
			strlcpy(rb_shared->slot_wait_dbname, dbname, sizeof(rb_shared->slot_wait_dbname));
			rb_shared->slot_wait_since = GetCurrentTimestamp();
		}
		LWLockRelease(rb_shared->lock);
	}
}

/*
 * After an iteration: the nap while something waits for a slot (doubling), or,
 * when nothing waits any more, the end of the wait logged once.
 */
static long
slot_wait_next_nap(void)
{
	long		nap = RB_LAUNCHER_NAPTIME_MS;

	if (!slot_short_runner)
	{
		LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
		rb_shared->slot_wait_backup_id = 0;
		LWLockRelease(rb_shared->lock);
	}
	if (slot_short)
	{
		nap = slot_wait_nap;
		slot_wait_nap = Min(slot_wait_nap * 2, RB_SLOT_WAIT_MAX_MS);
	}
	else if (slot_waiting)
	{
		long		secs;
		int			usecs;

		TimestampDifference(slot_wait_started, GetCurrentTimestamp(), &secs, &usecs);
		slot_waiting = false;
		if (slot_wait_logged)
			ereport(LOG,
					(errmsg("ripple_backup: nothing waits for a background worker slot any more (waited %ld s)",
							secs)));
	}
	slot_short = slot_short_runner = false;
	return nap;
}

/*
 * Forgets the verifiers that exited; a verification they left pending (the
 * verifier died before recording an outcome) is failed with that reason rather
 * than retried forever.
 */
static void
reap_verifiers(void)
{
	for (int i = 0; i < RB_MAX_RUNNERS; i++)
	{
		pid_t		pid;

		if (verify_handles[i] == NULL ||
			GetBackgroundWorkerPid(verify_handles[i], &pid) != BGWH_STOPPED)
			continue;
		rb_catalog_verify_lost(verify_ids[i], "the verifier exited without recording a result");
		pfree(verify_handles[i]);
		verify_handles[i] = NULL;
		verify_ids[i] = 0;
	}
}

/*
 * Starts verifiers for the verifications queued in the catalog (oldest first),
 * as many as there are free worker slots.  After a launcher restart a verifier
 * its predecessor started may still run: a second one then checks the same
 * backup again, which is harmless.
 */
static void
start_pending_verifications(void)
{
	int64		busy[RB_MAX_RUNNERS];
	int			nbusy = 0;
	int64	   *ids;
	int			n;

	for (int i = 0; i < RB_MAX_RUNNERS; i++)
		if (verify_handles[i] != NULL)
			busy[nbusy++] = verify_ids[i];
	n = rb_catalog_fetch_verify_pending(RB_MAX_RUNNERS - nbusy, busy, nbusy, &ids);
	for (int r = 0; r < n; r++)
	{
		RbVerifyArgs vargs = {.backup_id = ids[r], .level = 0};
		int			k = 0;

		while (verify_handles[k] != NULL)
			k++;
		/* the handle outlives this transaction */
		if (!rb_verifier_start(&vargs, MyProcPid, &verify_handles[k], true))
		{
			verify_handles[k] = NULL;
			slot_wait_note("the verification", ids[r], NULL);
			break;
		}
		verify_ids[k] = ids[r];
	}
}

/* A runner that stopped without storing a result gets an explanatory error. */
static void
detect_dead_runners(void)
{
	for (int i = 0; i < RB_MAX_RUNNERS; i++)
	{
		pid_t		pid;
		BgwHandleStatus st;
		char		why[RB_TEXT_LEN];
		int64		id = 0;
		bool		told = false;

		if (handles[i] == NULL)
			continue;
		st = GetBackgroundWorkerPid(handles[i], &pid);
		if (st != BGWH_STOPPED)
			continue;
		LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
		if (rb_shared->slots[i].state == RB_SLOT_ASSIGNED)
		{
			RbRunnerSlot *slot = &rb_shared->slots[i];

			/*
			 * No pid: the runner never got as far as its slot (the postmaster
			 * could not start it, or it was stopped first); else it died before
			 * its exit callback could record why (a crash is in the log).
			 */
			if (slot->pid == 0)
				strlcpy(slot->error,
						"the backup runner stopped before it started: the postmaster did not start it, or it was stopped first",
						sizeof(slot->error));
			else
				snprintf(slot->error, sizeof(slot->error),
						 "the backup runner (pid %d) exited without recording a result",
						 (int) slot->pid);
			slot->succeeded = false;
			slot->finished_at = GetCurrentTimestamp();
			slot->state = RB_SLOT_FINISHED;
			strlcpy(why, slot->error, sizeof(why));
			id = slot->backup_id;
			told = true;
		}
		LWLockRelease(rb_shared->lock);
		if (told)
			ereport(LOG,
					(errmsg("ripple_backup: backup %lld failed", (long long) id),
					 errdetail("%s", why)));
	}
}

typedef struct RecordArgs
{
	const RbRunnerSlot *copy;
	const RbCountsHeader *counts;
} RecordArgs;

static void
record_result_step(void *arg)
{
	RecordArgs *a = (RecordArgs *) arg;

	if (!rb_catalog_record_result(a->copy, GetSystemIdentifier(), a->counts))
		ereport(LOG,
				(errmsg("ripple_backup: the catalog row of backup %lld is gone; its result is not recorded",
						(long long) a->copy->backup_id)));
	else if (a->copy->succeeded && rb_guc_verify_after_backup)
	{
		/*
		 * ripple_backup.verify_after_backup: queued in the row, started by
		 * start_pending_verifications() once this transaction has committed and
		 * a worker slot is free.
		 */
		rb_catalog_mark_verify_pending(a->copy->backup_id);
	}
}

/*
 * Records one result in a subtransaction: a result the catalog refuses must not
 * stop the launcher (which would retry it forever); the backup is then marked
 * failed with the reason.
 */
static void
record_result(const RbRunnerSlot *copy, const RbCountsHeader *counts)
{
	RecordArgs	a = {copy, counts};
	char	   *err;
	char		msg[RB_TEXT_LEN];

	/* failed transiently with retries left: queued again, nothing recorded or notified */
	if (rb_backup_retry_requeue(copy))
		return;
	if (!rb_worker_try(record_result_step, &a, &err))
	{
		snprintf(msg, sizeof(msg), "could not record the backup result: %s", err);
		ereport(LOG,
				(errmsg("ripple_backup: backup %lld: %s", (long long) copy->backup_id, msg)));
		rb_catalog_mark_failed(copy->backup_id, msg);
		pfree(err);
	}
	/* its final status, whichever branch recorded it: queued for the notifier */
	rb_notify_backup_finished(copy->backup_id);
}

/*
 * A multipart upload the runner could not abort: recorded for a later abort
 * (the retention sweep) and logged with everything needed to abort it by hand.
 */
static void
record_abandoned_upload(const RbRunnerSlot *copy)
{
	if (copy->abandoned_upload_id[0] == '\0')
		return;
	rb_catalog_record_pending_abort(copy->backup_id, copy->abandoned_bucket,
									copy->abandoned_key, copy->abandoned_upload_id,
									copy->abandoned_reason);
	ereport(WARNING,
			(errmsg("ripple_backup: backup %lld left a multipart upload that could not be aborted: bucket \"%s\", key \"%s\", upload id \"%s\"",
					(long long) copy->backup_id, copy->abandoned_bucket, copy->abandoned_key,
					copy->abandoned_upload_id),
			 errdetail("%s", copy->abandoned_reason),
			 errhint("It is recorded in ripple_backup.pending_aborts for a later abort; until then its parts use storage (they never list as an object).")));
}

/*
 * A result whose requester rolled back: no row will ever describe it, so
 * whatever the run stored (object, metadata) is deleted, and the log says so.
 */
static void
discard_result(const RbRunnerSlot *copy)
{
	char		err[RB_TEXT_LEN];

	if (!rb_discard_stored_backup(copy->backup_id, copy->location, copy->object_key,
								  err, sizeof(err)))
		ereport(WARNING,
				(errmsg("ripple_backup: backup %lld is not recorded: the transaction that queued it rolled back; its stored object could not be deleted",
						(long long) copy->backup_id),
				 errdetail("%s", err),
				 errhint("Delete \"%s\" and its \".metadata.json\" by hand; no catalog row refers to them.",
						 copy->location)));
	else if (copy->succeeded)
		ereport(LOG,
				(errmsg("ripple_backup: backup %lld is not recorded: the transaction that queued it rolled back; its stored object and metadata were deleted",
						(long long) copy->backup_id)));
	else
		ereport(LOG,
				(errmsg("ripple_backup: backup %lld is not recorded: the transaction that queued it rolled back; nothing is left in the destination",
						(long long) copy->backup_id)));
}

/*
 * Persists finished runners' results.  Slots to free (and DSM segments to unpin)
 * are returned so the caller frees them only after the transaction commits.
 * Sets *pending when a result waits for its requester's transaction.
 */
static int
persist_finished(int *to_free, dsm_handle *to_unpin, int *nunpin, bool *pending)
{
	int			nfree = 0;
	RbRunnerSlot *copy = palloc(sizeof(RbRunnerSlot));

	for (int i = 0; i < RB_MAX_RUNNERS; i++)
	{
		RbCountsHeader *counts = NULL;
		dsm_segment *seg = NULL;

		LWLockAcquire(rb_shared->lock, LW_SHARED);
		if (rb_shared->slots[i].state != RB_SLOT_FINISHED)
		{
			LWLockRelease(rb_shared->lock);
			continue;
		}
		memcpy(copy, &rb_shared->slots[i], sizeof(RbRunnerSlot));
		LWLockRelease(rb_shared->lock);

		if (TransactionIdIsValid(copy->requester_xid))
		{
			if (TransactionIdIsInProgress(copy->requester_xid))
			{
				*pending = true;
				continue;
			}
			if (!TransactionIdDidCommit(copy->requester_xid))
			{
				record_abandoned_upload(copy);
				discard_result(copy);
				if (copy->counts_handle)
					to_unpin[(*nunpin)++] = copy->counts_handle;
				to_free[nfree++] = i;
				continue;
			}
		}

		if (copy->counts_handle)
		{
			seg = dsm_attach(copy->counts_handle);
			if (seg != NULL)
				counts = (RbCountsHeader *) dsm_segment_address(seg);
			to_unpin[(*nunpin)++] = copy->counts_handle;
		}
		record_abandoned_upload(copy);
		record_result(copy, counts);
		if (copy->succeeded)
			rb_retention_note_success();	/* retention runs after this commit */
		if (seg)
			dsm_detach(seg);
		to_free[nfree++] = i;
	}
	pfree(copy);
	return nfree;
}

/* Whether slot i is in state; if so, its requester's xid, backup id and runner pid. */
static bool
slot_in_state(int i, RbSlotState state, TransactionId *xid, int64 *id, pid_t *pid)
{
	bool		match;

	LWLockAcquire(rb_shared->lock, LW_SHARED);
	match = rb_shared->slots[i].state == state;
	*xid = rb_shared->slots[i].requester_xid;
	*id = rb_shared->slots[i].backup_id;
	*pid = rb_shared->slots[i].pid;
	LWLockRelease(rb_shared->lock);
	return match;
}

/* Starts runners that waiting backends asked for. */
static void
start_requested(bool *pending)
{
	for (int i = 0; i < RB_MAX_RUNNERS; i++)
	{
		TransactionId xid;
		int64		id;
		pid_t		pid;

		if (!slot_in_state(i, RB_SLOT_REQUESTED, &xid, &id, &pid))
			continue;
		if (requester_rolled_back(xid))
		{
			ereport(LOG,
					(errmsg("ripple_backup: backup %lld is not started: the transaction that queued it rolled back",
							(long long) id)));
			slot_release(i);
			continue;
		}
		/*
		 * Assigned before the runner is registered: a runner that starts at once
		 * and finds its slot not yet assigned exits without a result, and the
		 * backup would fail as "exited without recording a result".
		 */
		LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
		rb_shared->slots[i].state = RB_SLOT_ASSIGNED;
		rb_shared->slots[i].started_at = GetCurrentTimestamp();
		LWLockRelease(rb_shared->lock);
		if (!start_runner(i))
		{
			LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
			rb_shared->slots[i].state = RB_SLOT_REQUESTED;
			LWLockRelease(rb_shared->lock);
			slot_wait_note("the runner", id, rb_shared->slots[i].dbname);
		}
	}
}

/*
 * Stops runners whose requester rolled back (their result would be discarded
 * anyway; stopping them early saves the dump and the upload).  Sets *pending
 * while a requester is still in progress, so its end is noticed soon.
 */
static void
stop_abandoned_runners(bool *pending)
{
	for (int i = 0; i < RB_MAX_RUNNERS; i++)
	{
		TransactionId xid;
		int64		id;
		pid_t		pid;

		if (!slot_in_state(i, RB_SLOT_ASSIGNED, &xid, &id, &pid) ||
			!TransactionIdIsValid(xid) || stop_sent[i])
			continue;
		if (TransactionIdIsInProgress(xid))
			*pending = true;
		else if (!TransactionIdDidCommit(xid) && (handles[i] != NULL || pid != 0))
		{
			ereport(LOG,
					(errmsg("ripple_backup: stopping the runner of backup %lld: the transaction that queued it rolled back",
							(long long) id)));
			if (handles[i] != NULL)
				TerminateBackgroundWorker(handles[i]);
			else
			{
				/*
				 * Started by a launcher that exited since (handles do not outlive
				 * it).  While the slot is assigned its pid is a live runner's: a
				 * runner marks its slot finished before it exits.
				 */
				(void) kill(pid, SIGTERM);
			}
			stop_sent[i] = true;
		}
	}
}

/* Claims queued rows and starts their runners, up to max_workers in all. */
static void
claim_queued(bool *pending)
{
	int64	   *busy;
	int			nbusy = ids_in_use(&busy);
	RbBackupRow *rows;
	int			n = rb_catalog_fetch_queued(rb_guc_max_workers - nbusy, busy, nbusy, &rows);

	for (int r = 0; r < n; r++)
	{
		int			free_slot = -1;

		if (!rows[r].db_exists)
		{
			char		msg[RB_TEXT_LEN];

			snprintf(msg, sizeof(msg), "database \"%s\" does not exist or does not accept connections",
					 rows[r].dbname);
			rb_catalog_mark_failed(rows[r].id, msg);
			ereport(LOG,
					(errmsg("ripple_backup: backup %lld of database \"%s\" failed: %s",
							(long long) rows[r].id, rows[r].dbname, msg)));
			rb_notify_backup_finished(rows[r].id);
			continue;
		}

		LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
		for (int i = 0; i < RB_MAX_RUNNERS; i++)
			if (rb_shared->slots[i].state == RB_SLOT_FREE)
			{
				free_slot = i;
				slot_fill(&rb_shared->slots[i], &rows[r], RB_SLOT_ASSIGNED, InvalidTransactionId);
				break;
			}
		LWLockRelease(rb_shared->lock);
		if (free_slot < 0)
			break;
		if (!start_runner(free_slot))
		{
			slot_release(free_slot);
			slot_wait_note("the runner", rows[r].id, rows[r].dbname);
			break;
		}
		rb_catalog_mark_running(rows[r].id);
		rb_notify_backup_started(rows[r].id);	/* a scheduled backup's heartbeat /start */
	}
}

/* One look at the catalog and the slots; returns the next nap in ms. */
static long
launcher_iteration(bool *ext_ready)
{
	int			to_free[RB_MAX_RUNNERS];
	dsm_handle	to_unpin[RB_MAX_RUNNERS];
	int			nfree = 0;
	int			nunpin = 0;
	bool		pending = false;
	bool		first = !*ext_ready;	/* scheduled jobs: catch-up */
	long		sched_nap = RB_LAUNCHER_NAPTIME_MS;
	long		slot_nap;
	int			sched_queued;
	bool		notify_pending;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "ripple_backup launcher: looking for work");

	if (!rb_catalog_extension_exists())
	{
		*ext_ready = false;
		PopActiveSnapshot();
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
		return RB_LAUNCHER_NAPTIME_MS;
	}
	if (!*ext_ready)
	{
		int64	   *busy;
		int			nbusy = ids_in_use(&busy);
		int			n = rb_catalog_fail_interrupted(busy, nbusy);

		if (n > 0)
		{
			ereport(LOG,
					(errmsg("ripple_backup: %d backup(s) left running were marked failed: interrupted by server restart", n)));
			rb_notify_interrupted();
		}
		/* multipart uploads a crash left open: recorded for the sweep */
		(void) rb_upload_journal_recover(busy, nbusy);
		*ext_ready = true;
	}
	/* the incarnation new backups carry: drawn anew after a promotion */
	rb_incarnation_refresh();

	reap_verifiers();
	start_pending_verifications();
	stop_abandoned_runners(&pending);
	detect_dead_runners();
	nfree = persist_finished(to_free, to_unpin, &nunpin, &pending);
	start_requested(&pending);
	claim_queued(&pending);
	/* fire due jobs; their backups are claimed after this commit */
	sched_queued = rb_scheduler_run_due(first, &sched_nap);
	/* a restore drill when due; nap no longer than until the next */
	sched_nap = rb_drill_run_due(sched_nap);
	/* recovery point objectives: rpo.breached / rpo.recovered, once each */
	sched_nap = rb_rpo_check_run(sched_nap);
	/* WAL archiving failing for wal_archive_alert_after, and its recovery: once each */
	sched_nap = rb_wal_alert_run(sched_nap);
	/* a backup queued for a retry: wake when it is due */
	sched_nap = rb_backup_retry_nap(sched_nap);
	notify_pending = rb_notify_pending();

	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_activity(STATE_IDLE, NULL);

	/* The results are stored: free their slots and segments. */
	for (int i = 0; i < nunpin; i++)
		dsm_unpin_segment(to_unpin[i]);
	for (int i = 0; i < nfree; i++)
		slot_release(to_free[i]);
	if (nfree > 0 || sched_queued > 0)
		SetLatch(MyLatch);		/* freed capacity or new scheduled backups: look again */
	if (notify_pending)
		rb_notifier_kick();		/* sends them in its own worker; its exit wakes us */
	/* retention after a successful backup, and at least once a day */
	rb_retention_run_due();

	/* sleep no longer than until the next fire time of a job */
	slot_nap = slot_wait_next_nap();
	return Min(Min(pending ? RB_LAUNCHER_BUSY_NAPTIME_MS : RB_LAUNCHER_NAPTIME_MS,
				   slot_nap), sched_nap);
}

void
rb_launcher_main(Datum main_arg)
{
	bool		ext_ready = false;

	rb_worker_signals(true);

	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	rb_shared->launcher_pid = MyProcPid;
	rb_shared->launcher_procno = MyProc->pgprocno;
	LWLockRelease(rb_shared->lock);
	before_shmem_exit(launcher_detach_shmem, (Datum) 0);

	rb_worker_connect(rb_guc_database, "ripple_backup launcher");
	ereport(LOG, (errmsg("ripple_backup: launcher started in database \"%s\"", rb_guc_database)));
	rb_verify_cleanup_leftovers();	/* what interrupted verifies left behind */

	for (;;)
	{
		long		nap = RB_LAUNCHER_NAPTIME_MS;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		/* Nothing to do on a standby: it cannot write the catalog. */
		if (!RecoveryInProgress())
			nap = launcher_iteration(&ext_ready);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 nap, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}

bool
rb_launcher_expedite(const RbBackupRow *row, bool *succeeded, char *error, size_t error_len)
{
	int			used = 0;
	int			free_slot = -1;

	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	for (int i = 0; i < RB_MAX_RUNNERS; i++)
	{
		RbRunnerSlot *slot = &rb_shared->slots[i];

		if (slot->state == RB_SLOT_FREE)
		{
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		used++;
		if (slot->backup_id == row->id)
		{
			bool		done = slot->state == RB_SLOT_FINISHED;

			if (done)
			{
				*succeeded = slot->succeeded;
				strlcpy(error, slot->succeeded ? "" : slot->error, error_len);
			}
			LWLockRelease(rb_shared->lock);
			return done;
		}
	}
	if (free_slot >= 0 && used < rb_guc_max_workers)
		slot_fill(&rb_shared->slots[free_slot], row, RB_SLOT_REQUESTED, row->xmin);
	LWLockRelease(rb_shared->lock);
	if (free_slot >= 0)
		rb_wake_launcher();
	return false;
}

bool
rb_launcher_slot_in_use(int64 backup_id)
{
	bool		found = false;

	LWLockAcquire(rb_shared->lock, LW_SHARED);
	for (int i = 0; i < RB_MAX_RUNNERS && !found; i++)
		found = rb_shared->slots[i].state != RB_SLOT_FREE &&
			rb_shared->slots[i].backup_id == backup_id;
	LWLockRelease(rb_shared->lock);
	return found;
}
