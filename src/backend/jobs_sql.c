/*
 * jobs_sql.c — the C part of the SQL interface of scheduled jobs.  The job
 * functions themselves (ripple_backup_schedule, _unschedule, _alter_job) are
 * plpgsql in the install script, built on ripple_backup_next_run() for validation
 * and next fire times; they call ripple_backup.wake_launcher_at_commit(), defined
 * here, so a change to the jobs takes effect at once, without a restart.
 */
#include "postgres.h"

#include "fmgr.h"

#include "sql_functions.h"

PG_FUNCTION_INFO_V1(ripple_backup_wake_launcher_at_commit);

/* Sets the launcher's latch when the calling transaction commits (not on abort). */
Datum
ripple_backup_wake_launcher_at_commit(PG_FUNCTION_ARGS)
{
	rb_wake_launcher_at_commit();
	PG_RETURN_VOID();
}
