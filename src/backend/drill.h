/*
 * drill.h — restore drills: on the cron schedule ripple_backup.drill_schedule
 * (UTC), the launcher starts a verifier at restore level for the latest
 * succeeded logical backup and for the latest base backup, proving that they
 * restore and measuring the time it takes.
 */
#ifndef RB_DRILL_H
#define RB_DRILL_H

/* ripple_backup.drill_schedule: cron text, '' = no drills */
extern char *rb_guc_drill_schedule;

/*
 * ripple_backup.drill_directory: where the restore drill of a base backup
 * unpacks its scratch data directory; by default ripple_backup_drill beside
 * the data directory (never inside it: a base backup copies the data
 * directory).
 */
extern char *rb_guc_drill_directory;

/* Defines ripple_backup.drill_schedule (from rb_guc_define). */
extern void rb_drill_define_gucs(void);

/*
 * From the launcher, inside its transaction: starts the drill when it is due.
 * Returns nap_ms, lowered to the time until the next drill.
 */
extern long rb_drill_run_due(long nap_ms);

#endif							/* RB_DRILL_H */
