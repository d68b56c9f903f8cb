/*
 * wal_health.h — the settings of the WAL archive's health (ripple_backup_health()'s
 * "wal archive" row and the launcher's archive failure alerts): the recovery point
 * objective of the archive, the free space pg_wal must keep, and how long a
 * failure streak lasts before it is notified.
 */
#ifndef RB_WAL_HEALTH_H
#define RB_WAL_HEALTH_H

extern int	rb_guc_wal_rpo_target_s;
extern int	rb_guc_wal_archive_alert_after_s;

/* Defines ripple_backup.wal_rpo_target, pg_wal_min_free and wal_archive_alert_after. */
extern void rb_wal_health_define_gucs(void);

/*
 * In the launcher's transaction: queues wal_archive.failing once when the archive
 * module has failed for wal_archive_alert_after without a success, and
 * wal_archive.recovered once when it succeeds again.  Returns nap_ms, lowered to
 * the time until a streak reaches the threshold.  Never raises an error.
 */
extern long rb_wal_alert_run(long nap_ms);

#endif							/* RB_WAL_HEALTH_H */
