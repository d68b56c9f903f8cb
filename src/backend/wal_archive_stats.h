/*
 * wal_archive_stats.h — what the WAL archive module has done, in shared memory:
 * the archiver is a process of its own, and ripple_backup.wal_archive (SQL)
 * reads these figures from any backend.  One small struct under an LWLock of
 * its own; the figures live until the server restarts, like pg_stat_archiver's
 * in-memory view of them.
 */
#ifndef RB_WAL_ARCHIVE_STATS_H
#define RB_WAL_ARCHIVE_STATS_H

#include "postgres.h"

#include "access/xlog_internal.h"
#include "datatype/timestamp.h"

#define RB_WAL_ERROR_LEN 1024

typedef struct RbWalArchiveStats
{
	int64		archived_count; /* files stored, or found stored with the same content */
	int64		already_archived_count; /* of those, found already stored */
	int64		failed_count;	/* calls that returned false */
	int64		original_bytes; /* of the files stored */
	int64		stored_bytes;	/* their objects' bytes */
	double		last_seconds;	/* how long the last success took */
	double		stored_seconds; /* the time the calls that stored a file took, in all */
	char		last_archived_wal[MAXFNAMELEN];
	TimestampTz last_archived_time;
	char		last_failed_wal[MAXFNAMELEN];
	TimestampTz last_failed_time;
	char		last_error[RB_WAL_ERROR_LEN];
	XLogRecPtr	archived_segment_end;	/* end of the newest whole segment archived */
	int64		consecutive_failures;	/* since the last success (0: not failing) */
	TimestampTz failing_since;	/* the first failure of that streak (0: none) */
	TimestampTz alerted_since;	/* the streak the launcher notified (wal_alert.c) */
} RbWalArchiveStats;

/* Shared memory request and initialisation (from shmem.c's hooks). */
extern void rb_wal_stats_shmem_request(void);
extern void rb_wal_stats_shmem_startup(void);

/* Called by the archive module; no-ops when the library was not preloaded. */
extern void rb_wal_stats_success(const char *file, bool already, int64 original_bytes,
								 int64 stored_bytes, double seconds);
extern void rb_wal_stats_failure(const char *file, const char *error);

/* The launcher notified the streak that began at failing_since (0: none). */
extern void rb_wal_stats_set_alerted(TimestampTz failing_since);

/* A consistent copy; false when the library was not preloaded (no shared memory). */
extern bool rb_wal_stats_read(RbWalArchiveStats *out);

#endif							/* RB_WAL_ARCHIVE_STATS_H */
