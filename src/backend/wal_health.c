/*
 * wal_health.c — ripple_backup.wal_archive_health(): the facts behind the "wal
 * archive" row of ripple_backup_health(), and the settings of that row.  The
 * rule (ok, warning, critical and the words) is SQL in the install script; this
 * file measures what SQL cannot see:
 *
 *   - whether this server archives with ripple_backup now, and why not;
 *   - the WAL not yet archived and since when it has been at risk
 *     (unarchived_since, see below);
 *   - the WAL kept for the archiver (the .ready files and the current segment)
 *     against the free space of the file system that holds pg_wal (statvfs
 *     follows a symlinked pg_wal to its target).
 *
 * unarchived_since, the time the oldest WAL not yet archived was written, is not
 * recorded by PostgreSQL; it is bounded from what is:
 *   - nothing .ready and the insert position at the end of the newest segment
 *     archived (after the next segment's page header, where it stands when
 *     nothing was written since a switch): nothing is at risk (NULL);
 *   - files .ready: the first of them became ready at T (its marker's mtime) and
 *     holds WAL written before T, after the previous segment was archived (A,
 *     the last archived time) or at most archive_timeout before T when that is
 *     set: min(T, max(A, T - archive_timeout)).  While the archiver works through
 *     a backlog (A later than T) this can be short by the time one segment took
 *     to fill;
 *   - nothing .ready but WAL written into the current segment: it was written
 *     after the last archived segment ended (about A) and, with archive_timeout,
 *     no earlier than archive_timeout ago (the server switches segments by then):
 *     max(A, now - archive_timeout).  An upper bound.
 * With nothing archived since the statistics began, the server's start stands in
 * for A.  pg_stat_archiver's last archived file and time stand in for the
 * module's own figures after a restart (they live in the statistics file).
 */
#include "postgres.h"

#include <limits.h>
#include <sys/statvfs.h>

#include "access/htup_details.h"
#include "access/xlog.h"
#include "access/xlog_internal.h"
#include "access/xlogrecovery.h"
#include "fmgr.h"
#include "funcapi.h"
#include "pgstat.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/pg_lsn.h"
#include "utils/timestamp.h"

#include "wal_archive_stats.h"
#include "wal_health.h"
#include "wal_ready.h"

int			rb_guc_wal_rpo_target_s = 3600;
int			rb_guc_wal_archive_alert_after_s = 300;
static double rb_guc_pg_wal_min_free = 5.0;

void
rb_wal_health_define_gucs(void)
{
	DefineCustomIntVariable("ripple_backup.wal_rpo_target",
							"Recovery point objective of the WAL archive: WAL may wait at most this long to be archived.",
							"Longer, the wal archive row of ripple_backup_health() says critical; half of it, warning.",
							&rb_guc_wal_rpo_target_s, 3600, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomRealVariable("ripple_backup.pg_wal_min_free",
							 "Free space, in percent of the file system that holds pg_wal, below which ripple_backup_health() says critical (warning below twice as much).",
							 NULL, &rb_guc_pg_wal_min_free, 5.0, 0.0, 100.0,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.wal_archive_alert_after",
							"How long WAL archiving must have failed without a success before wal_archive.failing is sent (once per streak).",
							NULL, &rb_guc_wal_archive_alert_after_s, 300, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
}

PG_FUNCTION_INFO_V1(ripple_backup_wal_archive_health);

/* NULL when this server archives with ripple_backup now, else why not. */
static const char *
not_archiving_reason(void)
{
	const char *lib = GetConfigOption("archive_library", true, false);

	if (XLogArchiveMode == ARCHIVE_MODE_OFF)
		return "archive_mode is off";
	if (lib == NULL || strcmp(lib, "ripple_backup") != 0)
		return "archive_library is not ripple_backup";
	if (RecoveryInProgress() && XLogArchiveMode != ARCHIVE_MODE_ALWAYS)
		return "this server is a standby and archive_mode is not always";
	return NULL;
}

/* The end of segment file (LSN), or InvalidXLogRecPtr when it is not a segment's name. */
static XLogRecPtr
segment_end(const char *file)
{
	TimeLineID	tli;
	XLogSegNo	segno;
	XLogRecPtr	end;

	if (file == NULL || !IsXLogFileName(file))
		return InvalidXLogRecPtr;
	XLogFromFileName(file, &tli, &segno, wal_segment_size);
	XLogSegNoOffsetToRecPtr(segno + 1, 0, wal_segment_size, end);
	return end;
}

#define NCOLS 15

/*
 * OUT enabled, not_archiving, pending_count, pending_bytes, oldest_pending_wal,
 * archived_upto pg_lsn, insert_lsn pg_lsn, unarchived_since, last_archived_wal,
 * last_archived_time, consecutive_failures, failing_since, last_error,
 * pg_wal_free_bytes, pg_wal_size_bytes
 */
Datum
ripple_backup_wal_archive_health(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[NCOLS];
	bool		nulls[NCOLS];
	RbWalArchiveStats s;
	RbWalReady	ready;
	PgStat_ArchiverStats *pg;
	const char *reason = not_archiving_reason();
	TimestampTz now = GetCurrentTimestamp();
	int64		timeout_us = (int64) XLogArchiveTimeout * USECS_PER_SEC;
	XLogRecPtr	insert;
	XLogRecPtr	upto;
	TimestampTz last_time;
	const char *last_wal;
	TimestampTz since = 0;
	int64		current_bytes = 0;
	struct statvfs vfs;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	memset(nulls, 0, sizeof(nulls));
	if (!rb_wal_stats_read(&s))
		memset(&s, 0, sizeof(s));
	rb_wal_ready_scan(&ready);
	pg = pgstat_fetch_stat_archiver();

	/* the newest archived: the module's figures, else pg_stat_archiver's */
	upto = Max(s.archived_segment_end, segment_end(pg->last_archived_wal));
	last_time = Max(s.last_archived_time, pg->last_archived_timestamp);
	last_wal = s.last_archived_wal[0] != '\0' ? s.last_archived_wal : pg->last_archived_wal;
	insert = RecoveryInProgress() ? GetXLogReplayRecPtr(NULL) : GetXLogInsertRecPtr();
	/* the insert position of a segment nothing was written to is after its page header */
	if (!XLogRecPtrIsInvalid(insert) && XLogSegmentOffset(insert, wal_segment_size) > SizeOfXLogLongPHD)
		current_bytes = XLogSegmentOffset(insert, wal_segment_size);

	if (ready.count > 0)
	{
		TimestampTz t = ready.first_since;
		TimestampTz bound = timeout_us > 0 ? t - timeout_us : (last_time != 0 ? last_time : t);

		since = Min(t, last_time != 0 ? Max(last_time, bound) : bound);
	}
	else if (XLogRecPtrIsInvalid(upto) || insert > upto + SizeOfXLogLongPHD)
	{
		TimestampTz a = last_time != 0 ? last_time : PgStartTime;

		since = timeout_us > 0 ? Max(a, now - timeout_us) : a;
		since = Min(since, now);
	}

	values[0] = BoolGetDatum(reason == NULL);
	nulls[1] = reason == NULL;
	values[1] = CStringGetTextDatum(reason ? reason : "");
	values[2] = Int64GetDatum(ready.count);
	values[3] = Int64GetDatum(ready.bytes + current_bytes);
	nulls[4] = ready.oldest[0] == '\0';
	values[4] = CStringGetTextDatum(ready.oldest);
	nulls[5] = XLogRecPtrIsInvalid(upto);
	values[5] = LSNGetDatum(upto);
	nulls[6] = XLogRecPtrIsInvalid(insert);
	values[6] = LSNGetDatum(insert);
	nulls[7] = since == 0;
	values[7] = TimestampTzGetDatum(since);
	nulls[8] = last_wal[0] == '\0';
	values[8] = CStringGetTextDatum(last_wal);
	nulls[9] = last_time == 0;
	values[9] = TimestampTzGetDatum(last_time);
	values[10] = Int64GetDatum(s.consecutive_failures);
	nulls[11] = s.failing_since == 0;
	values[11] = TimestampTzGetDatum(s.failing_since);
	nulls[12] = s.consecutive_failures == 0 || s.last_error[0] == '\0';
	values[12] = CStringGetTextDatum(s.last_error);
	if (statvfs(XLOGDIR, &vfs) == 0)
	{
		values[13] = Int64GetDatum((int64) vfs.f_bavail * (int64) vfs.f_frsize);
		values[14] = Int64GetDatum((int64) vfs.f_blocks * (int64) vfs.f_frsize);
	}
	else
		nulls[13] = nulls[14] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
