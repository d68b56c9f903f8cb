/*
 * wal_alert.c — the launcher's watch on WAL archiving (see wal_health.h).  The
 * archive module runs in the archiver process, with no database connection, so
 * it only counts (wal_archive_stats.c: consecutive failures and since when); the
 * launcher reads those figures on each of its rounds (every 10 s at the latest)
 * and queues the notifications in its own transaction.
 *
 * A streak is identified by the time of its first failure (failing_since); the
 * streak notified is kept in the same shared memory (alerted_since), so a
 * launcher that restarts does not notify it again.  A success ends a streak
 * (the module resets failing_since): the notified streak is over when
 * failing_since is no longer the one notified, and wal_archive.recovered says so
 * (before a new streak, if one has already begun, is considered).  A server
 * restart forgets both: a streak that outlives it is notified again once it has
 * lasted the threshold, and one that ends with the restart is not reported as
 * recovered.
 */
#include "postgres.h"

#include "utils/timestamp.h"

#include "notify_queue.h"
#include "wal_archive_stats.h"
#include "wal_health.h"

long
rb_wal_alert_run(long nap_ms)
{
	RbWalArchiveStats s;
	TimestampTz now = GetCurrentTimestamp();
	int64		after_us = (int64) rb_guc_wal_archive_alert_after_s * USECS_PER_SEC;

	if (!rb_wal_stats_read(&s))
		return nap_ms;
	if (s.alerted_since != 0 && s.failing_since != s.alerted_since)
	{
		ereport(LOG,
				(errmsg("ripple_backup: WAL archiving works again"),
				 errdetail("The last file archived is \"%s\".", s.last_archived_wal)));
		rb_notify_wal_archive(false);
		rb_wal_stats_set_alerted(0);
		s.alerted_since = 0;
	}
	if (s.failing_since == 0 || s.alerted_since == s.failing_since)
		return nap_ms;
	if (now - s.failing_since >= after_us)
	{
		ereport(LOG,
				(errmsg("ripple_backup: WAL archiving has failed for %ld s (%lld attempts without a success)",
						(long) ((now - s.failing_since) / USECS_PER_SEC),
						(long long) s.consecutive_failures),
				 errdetail("The last error: %s", s.last_error)));
		rb_notify_wal_archive(true);
		rb_wal_stats_set_alerted(s.failing_since);
		return nap_ms;
	}
	/* wake when the streak reaches the threshold */
	return Min(nap_ms, Max(100L, (long) ((s.failing_since + after_us - now) / 1000) + 1));
}
