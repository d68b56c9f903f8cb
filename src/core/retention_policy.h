/*
 * retention_policy.h — which backups retention keeps and which it deletes, and
 * why.  One pure function, called by the server (ripple_backup_prune and the
 * launcher's automatic runs) and by the CLI (ripple-backup prune), so the two
 * can never disagree about what to keep.  No I/O, no clock: the caller passes
 * every backup of the series it decides about, and the answer depends on
 * nothing else.
 *
 * Per series (the backups of one database taken by one server), newest first:
 *   the "newest good" backup is the newest succeeded one whose verification
 *   passed, or the newest succeeded one when none is verified;
 *   ages count from the newest good backup's time, not from now, so a failing
 *   streak (or a stopped schedule) never makes an old good backup expire.
 * Each succeeded backup is kept for the first of these reasons that applies:
 *   "pinned", "newest verified" / "newest succeeded", "newer than newest good",
 *   "within retention" (age <= retention), "min_keep" (one of the min_keep
 *   newest succeeded backups), "gfs daily 2026-11-28", "gfs weekly 2026-W48",
 *   "gfs monthly 2026-11" (the newest backup of each of the keep_daily most
 *   recent UTC days that have a backup, likewise ISO weeks and months),
 * and deleted with the reason "older than retention" otherwise.  A backup that
 * is not succeeded has nothing to delete and is left alone ("not succeeded").
 */
#ifndef RB_RETENTION_POLICY_H
#define RB_RETENTION_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_error.h"

#define RB_RETENTION_REASON_LEN 48

typedef struct rb_retention_policy
{
	int64_t		retention_s;	/* a backup older than this may be deleted (> 0) */
	int			min_keep;		/* always keep this many succeeded backups per series */
	int			keep_daily;		/* GFS: newest backup of each of the last N days; 0 = off */
	int			keep_weekly;	/* ... ISO weeks */
	int			keep_monthly;	/* ... months */
} rb_retention_policy;

typedef struct rb_retention_item
{
	/* input */
	int64_t		backup_id;
	const char *series;			/* equal strings = one database of one server */
	int64_t		taken_at;		/* seconds since the epoch (the time in the object key) */
	bool		succeeded;
	bool		verified;		/* its latest verification passed */
	bool		pinned;
	uint64_t	size_bytes;

	/* output */
	bool		delete;
	char		reason[RB_RETENTION_REASON_LEN];
} rb_retention_item;

/*
 * Decides every item (in place; the order of the array is kept).  Items of
 * several series may be mixed.  Returns the number of items to delete.
 */
size_t		rb_retention_decide(rb_retention_item *items, size_t n,
								const rb_retention_policy *policy);

/* Checks a policy: RB_ERR_INVALID for a retention <= 0 or a negative count. */
int			rb_retention_policy_check(const rb_retention_policy *policy, rb_error *err);

/*
 * Parses a duration such as "30 days", "12 hours", "90 s", "30d", "1 week
 * 2 days" or "3600" (seconds) into *seconds.  Units: s sec second(s), min
 * minute(s), h hour(s), d day(s), w week(s), mon month(s) (30 days), y year(s)
 * (365 days).  RB_ERR_INVALID with a message for anything else.
 */
int			rb_duration_parse(const char *text, int64_t *seconds, rb_error *err);

/* Formats seconds as "30 days", "12 hours", "90 s" ... (the largest exact unit). */
void		rb_duration_format(int64_t seconds, char *buf, size_t len);

#endif							/* RB_RETENTION_POLICY_H */
