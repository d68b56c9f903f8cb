/*
 * upload_journal.h — a durable note of each multipart upload a runner has open, so
 * that one left open by a crash (pg_ctl -m immediate, a killed server) is recorded
 * in ripple_backup.pending_aborts after the restart and the retention sweep aborts
 * it.  Shared memory does not survive a crash and the runner cannot abort what it
 * never got to clean up, so the note is a small file in the data directory:
 * pg_stat_tmp/ripple_backup_uploads/<backup id>, holding bucket, key and upload id.
 *
 * The runner writes the note when src/core reports the upload created (the
 * upload_started hook) and removes it when the pipeline returns, whatever the
 * outcome (an upload that could not be aborted then reaches pending_aborts through
 * the runner's slot).  The launcher, on its first look at the catalog after a
 * start, turns every note of a backup that no runner owns into a pending_aborts
 * row, logs it and removes the note.
 */
#ifndef RB_UPLOAD_JOURNAL_H
#define RB_UPLOAD_JOURNAL_H

#include "postgres.h"

/*
 * Notes the open upload of backup_id.  Called inside src/core: never raises an
 * error and allocates nothing; a note that cannot be written is simply missing
 * (the upload is then only found by the sweep of stale uploads).
 */
extern void rb_upload_journal_note(int64 backup_id, const char *bucket, const char *key,
								   const char *upload_id);

/* Removes the note of backup_id, if any. */
extern void rb_upload_journal_forget(int64 backup_id);

/*
 * In the launcher's transaction: records each note of a backup not in busy[] in
 * ripple_backup.pending_aborts, logs it and removes the note; returns how many.
 */
extern int	rb_upload_journal_recover(const int64 *busy, int nbusy);

#endif							/* RB_UPLOAD_JOURNAL_H */
