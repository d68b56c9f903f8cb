/*
 * wal_archive.c — the archive module: archive_library = 'ripple_backup' makes
 * the server's archiver call these callbacks for every WAL segment and history
 * file (PostgreSQL 15's ArchiveModuleCallbacks; PostgreSQL 16 changed the
 * signatures: the callbacks take an ArchiveModuleState and the init function
 * returns the callbacks, which the #if below provides).
 *
 * Each file goes through src/core's wal_archive.c (zstd, encryption when
 * ripple_backup.encryption_key_file is set, SHA-256s in a metadata object; the
 * key layout is described in wal_archive.h) to ripple_backup.destination, with
 * the S3 client's retries and the endpoint's shared circuit breaker
 * (breaker_shmem.c).
 *
 * PostgreSQL's rules: true only once the objects are durably stored; false to
 * be retried later.  Never an ERROR: in PostgreSQL 15 an ERROR in an archive
 * module is not recovered (the archiver exits, the failure never reaches
 * pg_stat_archiver, and it starts again).  So the whole call runs in PG_TRY, and
 * any error becomes a WARNING naming the cause and a false return.  Outcomes
 * are counted in shared memory (wal_archive_stats.c) for ripple_backup.wal_archive.
 *
 * Shutdown: the postmaster waits for the archiver, which makes one last pass over
 * the .ready files when it is told to stop (SIGUSR2, after the shutdown
 * checkpoint).  An S3 outage must not hold the server's stop for the S3 client's
 * retries (minutes with a stalled endpoint), so the module notes that signal (its
 * handler chains to the archiver's own) and once RB_ARCHIVE_STOP_GRACE_MS have
 * passed after it with no file archived, every call gives up: the files stay
 * .ready and are archived after the next start.  PostgreSQL offers archive modules no other way to learn of the stop.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xlog.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/interrupt.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#if PG_VERSION_NUM >= 160000
#include "archive/archive_module.h"
#else
#include "postmaster/pgarch.h"
#endif

#include "core_hooks.h"
#include "dest.h"
#include "encryption.h"
#include "errors.h"
#include "guc.h"
#include "incarnation.h"
#include "shmem.h"
#include "wal_archive.h"
#include "wal_archive_stats.h"

static MemoryContext archive_cxt = NULL;

/* How long calls may go on archiving once the archiver is told to stop. */
#define RB_ARCHIVE_STOP_GRACE_MS 10000

static volatile sig_atomic_t stop_signalled = false;
static struct sigaction archiver_sigusr2;
static TimestampTz stop_noticed_at = 0;
static TimestampTz last_archived_at = 0;
static bool (*core_cancel) (void *arg) = NULL;

/* SIGUSR2 in the archiver: "one more pass, then exit".  Noted, then passed on. */
static void
note_stop_signal(int signo, siginfo_t *info, void *uctx)
{
	int			save_errno = errno;

	stop_signalled = true;
	errno = save_errno;
	if (archiver_sigusr2.sa_flags & SA_SIGINFO)
	{
		if (archiver_sigusr2.sa_sigaction != NULL)
			archiver_sigusr2.sa_sigaction(signo, info, uctx);
	}
	else if (archiver_sigusr2.sa_handler != SIG_DFL && archiver_sigusr2.sa_handler != SIG_IGN)
		archiver_sigusr2.sa_handler(signo);
}

/* Called once in the archiver, whose handlers are in place before it loads the module. */
static void
watch_for_stop(void)
{
	struct sigaction act;

	if (sigaction(SIGUSR2, NULL, &archiver_sigusr2) != 0)
		return;
	memset(&act, 0, sizeof(act));
	act.sa_sigaction = note_stop_signal;
	act.sa_mask = archiver_sigusr2.sa_mask;
	act.sa_flags = archiver_sigusr2.sa_flags | SA_SIGINFO;
	(void) sigaction(SIGUSR2, &act, NULL);
}

/*
 * True once the archiver was told to stop and RB_ARCHIVE_STOP_GRACE_MS have
 * passed since then and since the last file it archived.  A last pass that keeps
 * archiving runs to its end (the old primary of a switchover, stopped for good,
 * still hands its last segments to the archive); one that stalls on an outage
 * gives up.
 */
static bool
stop_grace_spent(void)
{
	TimestampTz since;

	if (!stop_signalled && !ShutdownRequestPending)
		return false;
	if (stop_noticed_at == 0)
		stop_noticed_at = GetCurrentTimestamp();
	since = Max(stop_noticed_at, last_archived_at);
	return TimestampDifferenceExceeds(since, GetCurrentTimestamp(), RB_ARCHIVE_STOP_GRACE_MS);
}

/* hooks->cancel of an archive call: the workers' rules, and the stop's grace. */
static bool
archive_cancel(void *arg)
{
	return core_cancel(arg) || stop_grace_spent();
}

static void
explain_stop(rb_error *err)
{
	rb_error_set(err, RB_ERR_CANCELLED,
				 "the server is shutting down and archiving gives up when %d s pass with no file archived after the archiver is told to stop: the file stays in pg_wal and is archived after the next start",
				 RB_ARCHIVE_STOP_GRACE_MS / 1000);
}

/* What a call holds outside palloc: released in PG_CATCH too. */
static rb_destination *open_dest = NULL;
static rb_key archive_key;

static void
release_held(void)
{
	if (open_dest != NULL)
		rb_destination_close(open_dest);
	open_dest = NULL;
	rb_key_wipe(&archive_key);
}

static bool
archive_configured(void)
{
	if (rb_guc_destination == NULL || rb_guc_destination[0] == '\0')
	{
		ereport(LOG,
				(errmsg("ripple_backup cannot archive WAL: ripple_backup.destination is not set"),
				 errhint("Set ripple_backup.destination to s3://bucket/prefix or file:///directory and reload; WAL is kept in pg_wal until then.")));
		return false;
	}
	return true;
}

/*
 * One file, the error (if any) in err.  Raises an ERROR only for what the
 * backend itself may throw (the caller catches it).
 */
static bool
archive_one(const char *file, const char *path, rb_error *err)
{
	rb_destination_options opt;
	rb_destination *dest;
	rb_hooks	hooks;
	RbCoreHookContext ctx;
	rb_key	   *key = &archive_key;
	bool		encrypt = false;
	char		incarnation[RB_INCARNATION_LEN];
	uint32		inc_timeline;
	uint32		file_timeline;
	rb_wal_archive_params p;
	rb_wal_archive_result r;
	int			rc;

	if (rb_wal_file_timeline(file, &file_timeline, err) < 0)
		return false;
	if (stop_grace_spent())
	{
		explain_stop(err);
		return false;
	}
	if (!rb_incarnation_published(incarnation, &inc_timeline))
	{
		rb_error_set(err, RB_ERR_INVALID,
					 rb_shared == NULL ?
					 "ripple_backup is not in shared_preload_libraries, so the server's incarnation (part of every key) is unknown" :
					 "the server's incarnation (part of every key) is not published yet: the ripple_backup launcher publishes it once it runs as a primary in the catalog database, where CREATE EXTENSION ripple_backup must have been run");
		return false;
	}
	if (file_timeline > inc_timeline)
	{
		rb_error_set(err, RB_ERR_INVALID,
					 "the server's incarnation for timeline %u is not drawn yet (the published one is for timeline %u): the ripple_backup launcher draws it after a promotion",
					 file_timeline, inc_timeline);
		return false;
	}
	if (rb_encryption_current_key(key, &encrypt, err) < 0)
		return false;

	rb_core_hooks_init(&hooks, &ctx, "archiving of WAL file %s", file);
	core_cancel = hooks.cancel;
	hooks.cancel = archive_cancel;
	rb_guc_destination_options(&opt);
	dest = open_dest = rb_destination_open(rb_guc_destination, &opt, &hooks, err);
	if (dest == NULL)
	{
		release_held();
		return false;
	}
	memset(&p, 0, sizeof(p));
	p.dest = dest;
	p.system_identifier = GetSystemIdentifier();
	p.incarnation = incarnation;
	p.file_name = file;
	p.path = path;
	p.encryption_key = encrypt ? key : NULL;
	p.compression_level = rb_guc_compression_level > 0 ? rb_guc_compression_level : -1;
	rc = rb_wal_archive_file(&p, &r, &hooks, err);
	release_held();
	if (rc < 0)
	{
		if (err->code == RB_ERR_CANCELLED && stop_grace_spent())
			explain_stop(err);
		return false;
	}

	last_archived_at = GetCurrentTimestamp();
	rb_wal_stats_success(file, r.outcome == RB_WAL_ALREADY_ARCHIVED,
						 (int64) r.original_bytes, (int64) r.stored_bytes, r.seconds);
	if (r.outcome == RB_WAL_ALREADY_ARCHIVED)
		ereport(LOG,
				(errmsg("ripple_backup: WAL file \"%s\" was already archived with the same content (SHA-256 %s)",
						file, r.original_sha256)));
	else
		ereport(DEBUG1,
				(errmsg_internal("ripple_backup: archived WAL file \"%s\" (%llu bytes stored as %llu%s) in %.3f s",
								 file, (unsigned long long) r.original_bytes,
								 (unsigned long long) r.stored_bytes,
								 encrypt ? ", encrypted" : "", r.seconds)));
	return true;
}

static bool
archive_file(const char *file, const char *path)
{
	MemoryContext oldcxt;
	volatile bool ok = false;
	volatile uint32 holdoff = InterruptHoldoffCount;
	rb_error	err;

	if (archive_cxt == NULL)
		archive_cxt = AllocSetContextCreate(TopMemoryContext, "ripple_backup archive",
											ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(archive_cxt);
	rb_error_clear(&err);
	PG_TRY();
	{
		ok = archive_one(file, path, &err);
		if (!ok)
		{
			ereport(WARNING,
					(errcode(rb_errcode(err.code)),
					 errmsg("ripple_backup could not archive WAL file \"%s\"", file),
					 errdetail("%s", err.msg),
					 errhint("The archiver tries again later; the file stays in pg_wal until it is archived.")));
			rb_wal_stats_failure(file, err.msg);
		}
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/* an ERROR from the backend itself: a WARNING and a retry, never the archiver's end */
		InterruptHoldoffCount = holdoff;
		release_held();
		MemoryContextSwitchTo(archive_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		ereport(WARNING,
				(errcode(edata->sqlerrcode),
				 errmsg("ripple_backup could not archive WAL file \"%s\"", file),
				 errdetail("%s", edata->message),
				 errhint("The archiver tries again later; the file stays in pg_wal until it is archived.")));
		rb_wal_stats_failure(file, edata->message);
		ok = false;
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	MemoryContextReset(archive_cxt);
	return ok;
}

static void
archive_shutdown(void)
{
	if (archive_cxt != NULL)
		MemoryContextDelete(archive_cxt);
	archive_cxt = NULL;
}

#if PG_VERSION_NUM >= 160000

static bool
archive_configured16(ArchiveModuleState *state)
{
	return archive_configured();
}

static bool
archive_file16(ArchiveModuleState *state, const char *file, const char *path)
{
	return archive_file(file, path);
}

static void
archive_shutdown16(ArchiveModuleState *state)
{
	archive_shutdown();
}

static const ArchiveModuleCallbacks rb_archive_callbacks = {
	.startup_cb = NULL,
	.check_configured_cb = archive_configured16,
	.archive_file_cb = archive_file16,
	.shutdown_cb = archive_shutdown16
};

PGDLLEXPORT const ArchiveModuleCallbacks *_PG_archive_module_init(void);

const ArchiveModuleCallbacks *
_PG_archive_module_init(void)
{
	watch_for_stop();
	return &rb_archive_callbacks;
}

#else

PGDLLEXPORT void _PG_archive_module_init(ArchiveModuleCallbacks *cb);

void
_PG_archive_module_init(ArchiveModuleCallbacks *cb)
{
	watch_for_stop();
	cb->check_configured_cb = archive_configured;
	cb->archive_file_cb = archive_file;
	cb->shutdown_cb = archive_shutdown;
}

#endif
