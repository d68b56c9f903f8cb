/*
 * wal_archive_sql.c — ripple_backup.wal_archive_state(), the row behind the
 * ripple_backup.wal_archive view: the archive module's figures from shared
 * memory (wal_archive_stats.c) and the WAL files waiting to be archived (the
 * .ready files of pg_wal/archive_status, wal_ready.c).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xlog_internal.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "shmem.h"
#include "wal_archive_stats.h"
#include "wal_ready.h"

PG_FUNCTION_INFO_V1(ripple_backup_wal_archive_state);

Datum
ripple_backup_wal_archive_state(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[14];
	bool		nulls[14];
	RbWalArchiveStats s;
	RbWalReady	ready;

	rb_require_preload();
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, 0, sizeof(nulls));
	if (!rb_wal_stats_read(&s))
		memset(&s, 0, sizeof(s));
	rb_wal_ready_scan(&ready);

	values[0] = Int64GetDatum(s.archived_count);
	values[1] = Int64GetDatum(s.already_archived_count);
	values[2] = Int64GetDatum(s.failed_count);
	nulls[3] = s.last_archived_wal[0] == '\0';
	values[3] = CStringGetTextDatum(s.last_archived_wal);
	nulls[4] = s.last_archived_time == 0;
	values[4] = TimestampTzGetDatum(s.last_archived_time);
	nulls[5] = s.last_failed_wal[0] == '\0';
	values[5] = CStringGetTextDatum(s.last_failed_wal);
	nulls[6] = s.last_failed_time == 0;
	values[6] = TimestampTzGetDatum(s.last_failed_time);
	nulls[7] = s.last_error[0] == '\0';
	values[7] = CStringGetTextDatum(s.last_error);
	values[8] = Int64GetDatum(s.original_bytes);
	values[9] = Int64GetDatum(s.stored_bytes);
	nulls[10] = s.last_archived_time == 0;
	values[10] = Float8GetDatum(s.last_seconds);
	values[11] = Int64GetDatum(ready.count);
	nulls[12] = ready.oldest[0] == '\0';
	values[12] = CStringGetTextDatum(ready.oldest);
	/* WAL bytes per second of archiving: how fast the archiver stores what it is given */
	nulls[13] = s.stored_seconds <= 0;
	values[13] = Float8GetDatum(s.stored_seconds > 0 ? (double) s.original_bytes / s.stored_seconds : 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
