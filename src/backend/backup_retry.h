/*
 * backup_retry.h — backup-level retries: a backup that failed for a transient
 * reason (backup_retry_class.h) is queued again, up to
 * ripple_backup.backup_retries times, after ripple_backup.backup_retry_delay
 * doubling per retry.  Only the final outcome is recorded as the row's status
 * and notified.
 */
#ifndef RB_BACKUP_RETRY_H
#define RB_BACKUP_RETRY_H

#include "shmem.h"

extern int	rb_guc_backup_retries;
extern int	rb_guc_backup_retry_delay_s;

/* Defines ripple_backup.backup_retries and backup_retry_delay (from rb_guc_define). */
extern void rb_backup_retry_define_gucs(void);

/*
 * For a finished runner's result: when it failed transiently and retries are
 * left, queues its row again (status 'queued', attempt + 1, retry_at, the error
 * appended to previous_errors), logs it, and returns true: the caller records
 * and notifies nothing.  Otherwise returns false and changes nothing.  Runs in
 * the launcher's transaction; an error while re-queueing returns false.
 */
extern bool rb_backup_retry_requeue(const RbRunnerSlot *result);

/* nap shortened so that the launcher wakes when the earliest retry is due. */
extern long rb_backup_retry_nap(long nap);

#endif							/* RB_BACKUP_RETRY_H */
