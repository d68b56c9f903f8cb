/*
 * progress.c — ripple_backup_progress(), behind the view ripple_backup.progress:
 * one row per running backup, read from the runners' shared-memory slots
 * (bytes read from pg_dump, bytes stored, elapsed time and read rate), and one
 * for the backup the launcher could not start yet because no background worker
 * slot is free (phase "waiting for a worker slot", no pid, started_at = since
 * when it waits).
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shmem.h"

PG_FUNCTION_INFO_V1(ripple_backup_progress);

static const char *
phase_name(int phase)
{
	switch (phase)
	{
		case RB_PHASE_STARTING:
			return "starting";
		case RB_PHASE_DUMPING:
			return "dumping";
		case RB_PHASE_METADATA:
			return "writing metadata";
		default:
			return "finishing";
	}
}

Datum
ripple_backup_progress(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	TimestampTz now = GetCurrentTimestamp();

	rb_require_preload();
	InitMaterializedSRF(fcinfo, 0);

	LWLockAcquire(rb_shared->lock, LW_SHARED);
	if (rb_shared->slot_wait_backup_id != 0)
	{
		Datum		values[9];
		bool		nulls[9] = {0};
		Name		n = (Name) palloc0(NAMEDATALEN);

		values[0] = Int64GetDatum(rb_shared->slot_wait_backup_id);
		namestrcpy(n, rb_shared->slot_wait_dbname);
		values[1] = NameGetDatum(n);
		nulls[2] = true;
		values[3] = CStringGetTextDatum("waiting for a worker slot");
		values[4] = TimestampTzGetDatum(rb_shared->slot_wait_since);
		values[5] = Int64GetDatum(0);
		values[6] = Int64GetDatum(0);
		values[7] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(now),
										TimestampTzGetDatum(rb_shared->slot_wait_since));
		values[8] = Float8GetDatum(0.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	for (int i = 0; i < RB_MAX_RUNNERS; i++)
	{
		RbRunnerSlot *slot = &rb_shared->slots[i];
		Datum		values[9];
		bool		nulls[9] = {0};
		uint64		read;
		double		secs;

		/* assigned but not started for want of a worker slot: the row above */
		if (slot->state != RB_SLOT_ASSIGNED ||
			slot->backup_id == rb_shared->slot_wait_backup_id)
			continue;
		read = pg_atomic_read_u64(&slot->bytes_read);
		secs = (double) (now - slot->started_at) / USECS_PER_SEC;
		values[0] = Int64GetDatum(slot->backup_id);
		{
			Name		n = (Name) palloc0(NAMEDATALEN);

			namestrcpy(n, slot->dbname);
			values[1] = NameGetDatum(n);
		}
		values[2] = Int32GetDatum((int32) slot->pid);
		nulls[2] = slot->pid == 0;
		values[3] = CStringGetTextDatum(phase_name(slot->phase));
		values[4] = TimestampTzGetDatum(slot->started_at);
		values[5] = Int64GetDatum((int64) read);
		values[6] = Int64GetDatum((int64) pg_atomic_read_u64(&slot->bytes_stored));
		values[7] = DirectFunctionCall2(timestamp_mi, TimestampTzGetDatum(now),
										TimestampTzGetDatum(slot->started_at));
		values[8] = Float8GetDatum(secs > 0 ? (double) read / secs : 0.0);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	LWLockRelease(rb_shared->lock);
	return (Datum) 0;
}
