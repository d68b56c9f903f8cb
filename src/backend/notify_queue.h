/*
 * notify_queue.h — queueing notifications: each event that deserves one becomes
 * a 'pending' row of ripple_backup.notifications per channel that should carry
 * it, inserted in the transaction that records the event (so a rolled-back
 * result notifies nobody and a restart loses nothing).  The notifier worker
 * (notifier.h) sends them later, outside every backup's path.
 *
 * These functions never raise an error: a notification must not fail or change
 * what it reports on.  A failure to queue is logged and forgotten.  They run in
 * the caller's transaction (with an active snapshot), inside a subtransaction.
 */
#ifndef RB_NOTIFY_QUEUE_H
#define RB_NOTIFY_QUEUE_H

#include "postgres.h"

#include "notify_event.h"

/*
 * A backup has a final status in the catalog (succeeded or failed): queues
 * backup.succeeded or backup.failed for e-mail and webhook (as notify_on
 * allows), and the heartbeat's success or fail signal for a scheduled backup
 * whose job or the settings name a heartbeat URL.
 */
extern void rb_notify_backup_finished(int64 backup_id);

/*
 * The backups this transaction just marked failed as "interrupted by server
 * restart" (rb_catalog_fail_interrupted): backup.failed for each.
 */
extern void rb_notify_interrupted(void);

/* A scheduled backup starts: queues the heartbeat's start signal (when it has a URL). */
extern void rb_notify_backup_started(int64 backup_id);

/* A verification recorded its outcome: verify.failed, or drill.* for a restore drill. */
extern void rb_notify_verify_finished(int64 backup_id, bool verified, bool drill);

/* The RPO of a database was breached or is met again (rpo.breached, rpo.recovered). */
extern void rb_notify_rpo(const char *dbname, bool breached);

/*
 * WAL archiving has failed for ripple_backup.wal_archive_alert_after
 * (wal_archive.failing), or works again (wal_archive.recovered).
 */
extern void rb_notify_wal_archive(bool failing);

/* Whether any notification waits to be sent (in the current transaction). */
extern bool rb_notify_pending(void);

/*
 * The heartbeat URL of a backup: its job's own, else global (the setting's URL,
 * "" = none); NULL for a manual backup or when neither is set.  The caller is connected to
 * SPI; the string is allocated in the context that was current at SPI_connect.
 */
extern char *rb_notify_heartbeat_url_spi(int64 backup_id, const char *global);

/*
 * Runs fn(arg) in a subtransaction, connected to SPI: an error is logged ("could
 * not queue the notification of <what>") and rolled back, never raised, so the
 * caller's own work (recording a result) stands.
 */
typedef void (*rb_notify_guarded_fn) (void *arg);
extern void rb_notify_guarded(rb_notify_guarded_fn fn, void *arg, const char *what);

#endif							/* RB_NOTIFY_QUEUE_H */
