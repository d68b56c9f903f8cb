/*
 * wal_archive_stats.c — the WAL archive module's figures in shared memory (see
 * wal_archive_stats.h).  Updates are a few assignments under the lock: nothing
 * inside it can raise an error.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "utils/timestamp.h"

#include "wal_archive_stats.h"

typedef struct RbWalArchiveShared
{
	LWLock	   *lock;
	RbWalArchiveStats stats;
} RbWalArchiveShared;

static RbWalArchiveShared *wal_shared = NULL;

void
rb_wal_stats_shmem_request(void)
{
	RequestAddinShmemSpace(MAXALIGN(sizeof(RbWalArchiveShared)));
	RequestNamedLWLockTranche("ripple_backup wal archive", 1);
}

/* Called with AddinShmemInitLock held. */
void
rb_wal_stats_shmem_startup(void)
{
	bool		found;

	wal_shared = ShmemInitStruct("ripple_backup wal archive", sizeof(RbWalArchiveShared), &found);
	if (!found)
	{
		memset(wal_shared, 0, sizeof(*wal_shared));
		wal_shared->lock = &(GetNamedLWLockTranche("ripple_backup wal archive"))->lock;
	}
}

void
rb_wal_stats_success(const char *file, bool already, int64 original_bytes,
					 int64 stored_bytes, double seconds)
{
	TimestampTz now = GetCurrentTimestamp();
	XLogRecPtr	end = InvalidXLogRecPtr;

	if (wal_shared == NULL)
		return;
	if (IsXLogFileName(file))
	{
		TimeLineID	tli;
		XLogSegNo	segno;

		XLogFromFileName(file, &tli, &segno, wal_segment_size);
		XLogSegNoOffsetToRecPtr(segno + 1, 0, wal_segment_size, end);
	}
	LWLockAcquire(wal_shared->lock, LW_EXCLUSIVE);
	wal_shared->stats.archived_count++;
	wal_shared->stats.consecutive_failures = 0;
	wal_shared->stats.failing_since = 0;
	if (end > wal_shared->stats.archived_segment_end)
		wal_shared->stats.archived_segment_end = end;
	if (already)
		wal_shared->stats.already_archived_count++;
	else
	{
		wal_shared->stats.original_bytes += original_bytes;
		wal_shared->stats.stored_bytes += stored_bytes;
		wal_shared->stats.stored_seconds += seconds;
	}
	wal_shared->stats.last_seconds = seconds;
	strlcpy(wal_shared->stats.last_archived_wal, file, MAXFNAMELEN);
	wal_shared->stats.last_archived_time = now;
	LWLockRelease(wal_shared->lock);
}

void
rb_wal_stats_failure(const char *file, const char *error)
{
	TimestampTz now = GetCurrentTimestamp();

	if (wal_shared == NULL)
		return;
	LWLockAcquire(wal_shared->lock, LW_EXCLUSIVE);
	wal_shared->stats.failed_count++;
	if (wal_shared->stats.consecutive_failures++ == 0)
		wal_shared->stats.failing_since = now;
	strlcpy(wal_shared->stats.last_failed_wal, file, MAXFNAMELEN);
	wal_shared->stats.last_failed_time = now;
	strlcpy(wal_shared->stats.last_error, error, RB_WAL_ERROR_LEN);
	LWLockRelease(wal_shared->lock);
}

void
rb_wal_stats_set_alerted(TimestampTz failing_since)
{
	if (wal_shared == NULL)
		return;
	LWLockAcquire(wal_shared->lock, LW_EXCLUSIVE);
	wal_shared->stats.alerted_since = failing_since;
	LWLockRelease(wal_shared->lock);
}

bool
rb_wal_stats_read(RbWalArchiveStats *out)
{
	if (wal_shared == NULL)
		return false;
	LWLockAcquire(wal_shared->lock, LW_SHARED);
	*out = wal_shared->stats;
	LWLockRelease(wal_shared->lock);
	return true;
}
