/*
 * shmem.c — allocates and attaches ripple_backup's shared memory (see shmem.h).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/ipc.h"
#include "storage/proc.h"
#include "storage/shmem.h"

#include "breaker_shmem.h"
#include "shmem.h"
#include "wal_archive_stats.h"

RbShared   *rb_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

static void
rb_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(RbShared)));
	RequestNamedLWLockTranche("ripple_backup", 1);
	rb_breaker_shmem_request();
	rb_wal_stats_shmem_request();
}

static void
rb_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	rb_shared = ShmemInitStruct("ripple_backup", sizeof(RbShared), &found);
	if (!found)
	{
		memset(rb_shared, 0, sizeof(RbShared));
		rb_shared->lock = &(GetNamedLWLockTranche("ripple_backup"))->lock;
		rb_shared->launcher_procno = -1;
		for (int i = 0; i < RB_MAX_RUNNERS; i++)
		{
			pg_atomic_init_u64(&rb_shared->slots[i].bytes_read, 0);
			pg_atomic_init_u64(&rb_shared->slots[i].bytes_stored, 0);
		}
	}
	rb_breaker_shmem_startup();
	rb_wal_stats_shmem_startup();
	LWLockRelease(AddinShmemInitLock);
}

void
rb_shmem_init(void)
{
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = rb_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = rb_shmem_startup;
}

void
rb_require_preload(void)
{
	if (rb_shared == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ripple_backup must be loaded via shared_preload_libraries"),
				 errhint("Add ripple_backup to shared_preload_libraries in postgresql.conf and restart the server.")));
}

void
rb_wake_launcher(void)
{
	int			procno;

	if (rb_shared == NULL)
		return;
	LWLockAcquire(rb_shared->lock, LW_SHARED);
	procno = rb_shared->launcher_procno;
	if (procno >= 0)
		SetLatch(&ProcGlobal->allProcs[procno].procLatch);
	LWLockRelease(rb_shared->lock);
}

bool
rb_launcher_running(void)
{
	bool		running;

	if (rb_shared == NULL)
		return false;
	LWLockAcquire(rb_shared->lock, LW_SHARED);
	running = rb_shared->launcher_pid != 0;
	LWLockRelease(rb_shared->lock);
	return running;
}
