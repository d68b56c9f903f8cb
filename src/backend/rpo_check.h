/*
 * rpo_check.h — the launcher's check of the recovery point objective: at least
 * every ripple_backup.rpo_check_interval (1 minute) it compares the age of each
 * database's last successful backup with ripple_backup.rpo_target and queues
 * rpo.breached once when a database falls behind and rpo.recovered once when it
 * is back (ripple_backup.rpo_breaches keeps the state across restarts).
 */
#ifndef RB_RPO_CHECK_H
#define RB_RPO_CHECK_H

/* Defines ripple_backup.rpo_check_interval (from rb_notify_define_gucs). */
extern void rb_rpo_check_define_gucs(void);

/*
 * In the launcher's transaction: runs the check when it is due and returns
 * nap_ms, lowered to the time until the next check.  Never raises an error.
 */
extern long rb_rpo_check_run(long nap_ms);

#endif							/* RB_RPO_CHECK_H */
