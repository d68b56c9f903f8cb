/*
 * incarnation.c — the server incarnation (see incarnation.h): drawn and stored by
 * the launcher, published in shared memory, read by runners.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "port.h"

#include "catalog.h"
#include "incarnation.h"
#include "rb_crypto.h"
#include "shmem.h"

void
rb_incarnation_refresh(void)
{
	TimeLineID	tli = GetWALInsertionTimeLine();
	uint64		sysid = GetSystemIdentifier();
	char		id[RB_INCARNATION_LEN];

	if (!rb_catalog_incarnation(tli, sysid, id))
	{
		unsigned char raw[(RB_INCARNATION_LEN - 1) / 2];

		if (!pg_strong_random(raw, sizeof(raw)))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("ripple_backup: could not generate a random server incarnation id")));
		rb_hex_encode(raw, sizeof(raw), id);
		rb_catalog_store_incarnation(id, tli, sysid);
		ereport(LOG,
				(errmsg("ripple_backup: server incarnation %s for timeline %u of system " UINT64_FORMAT,
						id, tli, sysid),
				 errdetail("Backups of this server are stored under %s/%s/.",
						   psprintf(UINT64_FORMAT, sysid), id)));
	}

	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	strlcpy(rb_shared->incarnation, id, sizeof(rb_shared->incarnation));
	rb_shared->incarnation_timeline = tli;
	LWLockRelease(rb_shared->lock);
}

bool
rb_incarnation_current(char *id, uint32 *timeline)
{
	LWLockAcquire(rb_shared->lock, LW_SHARED);
	strlcpy(id, rb_shared->incarnation, RB_INCARNATION_LEN);
	*timeline = rb_shared->incarnation_timeline;
	LWLockRelease(rb_shared->lock);
	return id[0] != '\0' && *timeline == GetWALInsertionTimeLine();
}

bool
rb_incarnation_published(char *id, uint32 *timeline)
{
	id[0] = '\0';
	*timeline = 0;
	if (rb_shared == NULL)
		return false;
	LWLockAcquire(rb_shared->lock, LW_SHARED);
	strlcpy(id, rb_shared->incarnation, RB_INCARNATION_LEN);
	*timeline = rb_shared->incarnation_timeline;
	LWLockRelease(rb_shared->lock);
	return id[0] != '\0';
}
