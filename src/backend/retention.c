/*
 * retention.c — retention on the server (see retention.h and
 * docs/configuration.md, "Retention").
 *
 * A run, in the caller's transaction:
 *   1. takes a transaction-level advisory lock (one run at a time);
 *   2. reads this server's own succeeded backups from the catalog: its system
 *      identifier and its current incarnation only, so backups another server
 *      wrote into the same bucket (a promoted standby, a clone) are never touched;
 *   3. decides with rb_retention_decide (src/core, the CLI's code too), one
 *      series per database and one for the base backups (so the newest good
 *      base backup is kept whatever the logical ones are);
 *   4. lists <sysid>/<incarnation>/ in the destination and finds the orphans:
 *      backup objects without a metadata object, older than
 *      ripple_backup.retention_orphan_age;
 *   5. unless a dry run: deletes the metadata objects of the backups to delete,
 *      then (for those whose metadata is gone) their dumps and pin markers and the
 *      orphans, marks those rows 'expired' with expired_at, aborts incomplete
 *      multipart uploads older than the orphan age (where the server can list
 *      them) and the ones recorded in ripple_backup.pending_aborts, and logs one
 *      line per database plus one per failed deletion;
 *   6. WAL (prune_wal): deletes the WAL under <sysid>/<incarnation>/wal/ that
 *      the oldest kept base backup does not need (wal_retention.h), never a
 *      history file, none when no base backup is kept.
 * A deletion that fails leaves its row as it was: the next run tries again (and
 * deleting what is already gone succeeds, so a run rolled back after its
 * deletions is completed by the next one).
 */
#include "postgres.h"

#include <time.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "core_hooks.h"
#include "dest_sweep.h"
#include "dest.h"
#include "errors.h"
#include "rb_format.h"
#include "guc.h"
#include "retention.h"
#include "retention_delete.h"
#include "retention_keys.h"
#include "retention_policy.h"
#include "wal_range.h"
#include "wal_retention.h"

/* pg_try_advisory_xact_lock key of a retention run ("rbretent") */
#define RB_RETENTION_LOCK_KEY INT64CONST(0x7262726574656e74)
#define RB_RETENTION_EVERY_S (24 * 3600)
#define RB_RETENTION_LAUNCHER_TIMEOUT_MS (120 * 1000)
/* the series of the base backups: not a database name (those are never empty) */
#define RB_BASE_SERIES ""

static char *rb_guc_retention = NULL;
static char *rb_guc_orphan_age = NULL;
static int64 retention_s = 30 * 86400;
static int64 orphan_age_s = 86400;
static int	rb_guc_min_keep = 3;
static int	rb_guc_keep_daily = 0;
static int	rb_guc_keep_weekly = 0;
static int	rb_guc_keep_monthly = 0;

/* launcher state */
static bool success_noted = false;
static time_t last_run = 0;
static bool multipart_unsupported_logged = false;
static bool batch_unsupported_logged = false;

/* --- settings ------------------------------------------------------------------- */

static bool
check_duration(char **newval, void **extra, GucSource source)
{
	rb_error	err;
	int64_t		s;
	int64	   *v;

	rb_error_clear(&err);
	if (rb_duration_parse(*newval, &s, &err) != 0)
	{
		/* core's messages are lowercase; a detail is a sentence */
		err.msg[0] = pg_toupper((unsigned char) err.msg[0]);
		GUC_check_errdetail("%s.", err.msg);
		GUC_check_errhint("Use a duration such as '30 days', '12 hours' or '90 s'.");
		return false;
	}
	if (s <= 0)
	{
		GUC_check_errdetail("The duration must be positive.");
		return false;
	}
	v = malloc(sizeof(int64));
	if (v == NULL)
		return false;
	*v = s;
	*extra = v;
	return true;
}

static void
assign_retention(const char *newval, void *extra)
{
	retention_s = *(int64 *) extra;
}

static void
assign_orphan_age(const char *newval, void *extra)
{
	orphan_age_s = *(int64 *) extra;
}

void
rb_retention_define_gucs(void)
{
	DefineCustomStringVariable("ripple_backup.retention",
							   "A backup older than this may be deleted (counted from the newest good backup of its database).",
							   "A duration such as '30 days', '12 hours' or '90 s'. The newest good backup, anything newer, pinned backups and retention_min_keep backups are kept whatever their age.",
							   &rb_guc_retention, "30 days",
							   PGC_SIGHUP, 0, check_duration, assign_retention, NULL);
	DefineCustomIntVariable("ripple_backup.retention_min_keep",
							"Always keep at least this many succeeded backups of each database, whatever their age.",
							NULL,
							&rb_guc_min_keep, 3, 0, INT_MAX,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.retention_keep_daily",
							"Also keep the newest backup of each of the last N days that have one; 0 turns this off.",
							NULL,
							&rb_guc_keep_daily, 0, 0, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.retention_keep_weekly",
							"Also keep the newest backup of each of the last N ISO weeks that have one; 0 turns this off.",
							NULL,
							&rb_guc_keep_weekly, 0, 0, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.retention_keep_monthly",
							"Also keep the newest backup of each of the last N months that have one; 0 turns this off.",
							NULL,
							&rb_guc_keep_monthly, 0, 0, 100000,
							PGC_SIGHUP, 0, NULL, NULL, NULL);
	/* developer setting: tests shorten it; not shown by SHOW ALL */
	DefineCustomStringVariable("ripple_backup.retention_orphan_age",
							   "Age after which an object without metadata, or an incomplete multipart upload, is swept.",
							   "An upload in progress writes its metadata last: this must exceed the longest backup.",
							   &rb_guc_orphan_age, "1 day",
							   PGC_SIGHUP, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   check_duration, assign_orphan_age, NULL);
}

/* --- one run --------------------------------------------------------------------- */

typedef struct RbRetBackup
{
	int64		id;
	char	   *dbname;			/* NULL for a base backup */
	const char *series;			/* dbname, or RB_BASE_SERIES */
	bool		physical;
	bool		has_start;
	uint64		start_lsn;
	TimestampTz finished_at;
	bool		finished_null;
	char	   *object_key;
	bool		here;			/* stored in the configured destination */
	bool		failed;			/* a deletion failed */
	char	   *failure;
} RbRetBackup;

/* hooks->cancel for a run in an ordinary backend: a query cancel stops it too */
static bool (*worker_cancel) (void *arg) = NULL;

static bool
run_cancel(void *arg)
{
	if (QueryCancelPending)
		return true;
	return worker_cancel(arg);
}

/* Aborts what ripple_backup.pending_aborts records for this bucket. */
static void
abort_pending(rb_destination *d, const rb_hooks *hooks)
{
	const char *url = rb_destination_url(d);
	char	   *bucket;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	uint64		n;
	size_t		blen;

	if (rb_destination_get_kind(d) != RB_DEST_S3)
		return;
	blen = strcspn(url + 5, "/");
	bucket = pnstrdup(url + 5, blen);
	values[0] = CStringGetTextDatum(bucket);
	if (SPI_execute_with_args("SELECT object_key, upload_id FROM ripple_backup.pending_aborts"
							  " WHERE bucket = $1 ORDER BY recorded_at",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	if (n == 0)
		return;
	{
		SPITupleTable *tt = SPI_tuptable;
		char	  **keys = palloc(n * sizeof(char *));
		char	  **ids = palloc(n * sizeof(char *));

		for (uint64 i = 0; i < n; i++)
		{
			keys[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 1);
			ids[i] = SPI_getvalue(tt->vals[i], tt->tupdesc, 2);
		}
		for (uint64 i = 0; i < n; i++)
		{
			rb_error	err;
			Oid			t3[3] = {TEXTOID, TEXTOID, TEXTOID};
			Datum		v3[3];

			rb_error_clear(&err);
			if (rb_destination_abort_upload(d, keys[i], ids[i], &err) < 0)
			{
				if ((err.http_status == 405 || err.http_status == 501) && !multipart_unsupported_logged)
				{
					multipart_unsupported_logged = true;
					ereport(LOG,
							(errmsg("ripple_backup: the S3 server cannot abort multipart uploads (%d); their parts remain until a lifecycle rule removes them",
									err.http_status)));
				}
				else if (err.http_status != 405 && err.http_status != 501)
					ereport(LOG,
							(errmsg("ripple_backup: retention could not abort the multipart upload of \"%s\" (upload id %s): %s",
									keys[i], ids[i], err.msg)));
				if (err.code == RB_ERR_CANCELLED || err.http_status == 405 || err.http_status == 501)
					break;
				continue;
			}
			v3[0] = values[0];
			v3[1] = CStringGetTextDatum(keys[i]);
			v3[2] = CStringGetTextDatum(ids[i]);
			if (SPI_execute_with_args("DELETE FROM ripple_backup.pending_aborts"
									  " WHERE bucket = $1 AND object_key = $2 AND upload_id = $3",
									  3, t3, v3, NULL, false, 0) != SPI_OK_DELETE)
				elog(ERROR, "SPI_execute_with_args failed");
			ereport(LOG, (errmsg("ripple_backup: retention aborted the multipart upload of \"%s\"", keys[i])));
		}
	}
	(void) hooks;
}

static void
sweep_multipart(rb_destination *d, const char *prefix)
{
	rb_error	err;
	size_t		aborted = 0;

	rb_error_clear(&err);
	if (rb_destination_abort_stale_uploads(d, prefix, (int64_t) time(NULL) - orphan_age_s,
										   &aborted, &err) < 0)
	{
		if (err.http_status == 501 || err.http_status == 405)
		{
			if (!multipart_unsupported_logged)
				ereport(LOG,
						(errmsg("ripple_backup: the S3 server cannot list or abort multipart uploads (%d); incomplete uploads are not swept",
								err.http_status)));
			multipart_unsupported_logged = true;
		}
		else
			ereport(LOG, (errmsg("ripple_backup: retention could not sweep incomplete uploads: %s", err.msg)));
	}
	if (aborted > 0)
		ereport(LOG, (errmsg("ripple_backup: retention aborted %zu incomplete multipart uploads", aborted)));
}

static void
emit_backup(RbPruneEmit emit, void *arg, const RbRetBackup *b, const char *action, const char *reason)
{
	RbPruneRow	r;

	if (emit == NULL)
		return;
	r.backup_id = b->id;
	r.dbname = b->dbname;
	r.finished_at = b->finished_at;
	r.finished_null = b->finished_null;
	r.action = action;
	r.reason = reason;
	emit(arg, &r);
}

static void
emit_wal(RbPruneEmit emit, void *arg, const char *action, const char *reason)
{
	RbPruneRow	r;

	if (emit == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.finished_null = true;
	r.action = action;
	r.reason = reason;
	emit(arg, &r);
}

/*
 * WAL retention (wal_retention.h): the WAL under this server's
 * <sysid>/<incarnation>/wal/ below the start segment of the oldest base backup
 * kept (one whose deletion failed counts as kept), never a history file, and
 * nothing when no base backup is kept.  Says nothing when there is no WAL.
 */
static void
prune_wal(rb_destination *dest, const rb_object_list *objs, const char *sysid_text,
		  const char *incarnation, const RbRetBackup *bs, const rb_retention_item *items,
		  size_t n, bool dry_run, RbPruneEmit emit, void *emit_arg)
{
	char	   *wal_prefix = psprintf("%s/%s/wal/", sysid_text, incarnation);
	size_t		plen = strlen(wal_prefix);
	const RbRetBackup *oldest = NULL;
	bool		any_wal = false;
	rb_wal_prune_plan plan;
	char		first[RB_WAL_NAME_LEN];
	size_t		nfailed = 0;

	for (size_t i = 0; i < objs->n && !any_wal; i++)
		any_wal = strncmp(objs->objs[i].key, wal_prefix, plen) == 0;
	if (!any_wal)
		return;
	for (size_t i = 0; i < n; i++)
		if (bs[i].physical && bs[i].here && bs[i].has_start &&
			(!items[i].delete || bs[i].failed) &&
			(oldest == NULL || bs[i].start_lsn < oldest->start_lsn))
			oldest = &bs[i];
	if (oldest == NULL)
	{
		emit_wal(emit, emit_arg, "keep", "WAL: no base backup is kept, so no WAL is deleted");
		return;
	}
	rb_wal_prune_select(objs->objs, objs->n, wal_prefix, (uint64_t) wal_segment_size,
						oldest->start_lsn / wal_segment_size, &plan);
	rb_wal_segment_name(1, oldest->start_lsn / wal_segment_size, wal_segment_size, first);
	PG_TRY();
	{
		if (!dry_run && plan.nobjects > 0)
		{
			bool		unsupported = false;

			nfailed = rb_wal_prune_delete(dest, objs->objs, objs->n, &plan, &unsupported);
			if (nfailed > 0)
				ereport(LOG,
						(errmsg("ripple_backup: retention could not delete %zu WAL object%s: %s",
								nfailed, nfailed == 1 ? "" : "s", plan.failure)));
		}
		for (size_t r = 0; r < plan.nranges; r++)
		{
			char		d[256];

			rb_wal_prune_range_describe(&plan.ranges[r], d, sizeof(d));
			emit_wal(emit, emit_arg, dry_run ? "delete" : nfailed > 0 ? "failed" : "deleted",
					 psprintf("WAL %s", d));
			if (!dry_run && nfailed == 0)
				ereport(LOG, (errmsg("ripple_backup: retention deleted WAL %s", d)));
		}
		emit_wal(emit, emit_arg, "keep",
				 psprintf("WAL from segment %s (on any timeline) on: needed by base backup %lld, the oldest kept",
						  first + 8, (long long) oldest->id));
	}
	PG_FINALLY();
	{
		rb_wal_prune_plan_free(&plan);
	}
	PG_END_TRY();
}

bool
rb_retention_run(bool dry_run, bool quiet, RbPruneEmit emit, void *emit_arg)
{
	Oid			argtypes[2] = {NUMERICOID, TEXTOID};
	Datum		values[2];
	uint64		sysid = GetSystemIdentifier();
	char		sysid_text[32];
	char	   *incarnation;
	char	   *prefix;
	RbRetBackup *bs;
	rb_retention_item *items;
	size_t		n;
	rb_retention_policy policy;
	rb_destination_options opt;
	rb_destination *volatile dest = NULL;
	rb_hooks	hooks;
	RbCoreHookContext hook_ctx;
	rb_object_list objs = {0};
	bool	   *orphan = NULL;
	rb_error	err;
	bool		ok;
	MemoryContext cxt = CurrentMemoryContext;

	if (!dry_run && RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("retention cannot run on a standby"),
				 errdetail("The objects belong to the primary, whose catalog records their deletion."),
				 errhint("Run it on the primary, or use dry_run => true here.")));
	SPI_connect();
	if (SPI_execute_with_args("SELECT pg_catalog.pg_try_advisory_xact_lock($1)", 1,
							  (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(RB_RETENTION_LOCK_KEY)},
							  NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	{
		bool		isnull;

		ok = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	if (!ok)
	{
		SPI_finish();
		if (quiet)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("retention is already running"),
				 errdetail("Another session or the launcher is applying retention now."),
				 errhint("Try again when it has finished.")));
	}
	if (rb_guc_destination == NULL || rb_guc_destination[0] == '\0')
	{
		SPI_finish();
		if (quiet)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no backup destination is configured"),
				 errhint("Set ripple_backup.destination.")));
	}
	if (SPI_execute("SELECT incarnation_id FROM ripple_backup.incarnation", true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed");
	if (SPI_processed == 0)
	{
		SPI_finish();
		if (quiet)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("this server has no incarnation recorded yet"),
				 errdetail("The launcher records it before the first backup; retention acts only on this server's own backups."),
				 errhint("Is shared_preload_libraries set to ripple_backup?")));
	}
	incarnation = MemoryContextStrdup(cxt, SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1));

	snprintf(sysid_text, sizeof(sysid_text), UINT64_FORMAT, sysid);
	values[0] = DirectFunctionCall3(numeric_in, CStringGetDatum(sysid_text),
									ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	values[1] = CStringGetTextDatum(incarnation);
	/* a real run locks the rows: a pin made meanwhile waits, then finds them expired */
	/* logical backups by database, then the base backups: a series of their own */
	if (SPI_execute_with_args(dry_run ?
							  "SELECT id, dbname::text, finished_at, verify_status = 'verified', pinned,"
							  "       coalesce(size_bytes, 0), object_key, location, kind = 'physical', start_lsn::text"
							  "  FROM ripple_backup.backups"
							  " WHERE status = 'succeeded' AND system_identifier = $1 AND incarnation = $2"
							  "   AND object_key IS NOT NULL"
							  " ORDER BY kind, dbname, finished_at DESC, id DESC" :
							  "SELECT id, dbname::text, finished_at, verify_status = 'verified', pinned,"
							  "       coalesce(size_bytes, 0), object_key, location, kind = 'physical', start_lsn::text"
							  "  FROM ripple_backup.backups"
							  " WHERE status = 'succeeded' AND system_identifier = $1 AND incarnation = $2"
							  "   AND object_key IS NOT NULL"
							  " ORDER BY kind, dbname, finished_at DESC, id DESC FOR UPDATE",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	n = SPI_processed;
	bs = MemoryContextAllocZero(cxt, (n ? n : 1) * sizeof(RbRetBackup));
	items = MemoryContextAllocZero(cxt, (n ? n : 1) * sizeof(rb_retention_item));

	policy.retention_s = retention_s;
	policy.min_keep = rb_guc_min_keep;
	policy.keep_daily = rb_guc_keep_daily;
	policy.keep_weekly = rb_guc_keep_weekly;
	policy.keep_monthly = rb_guc_keep_monthly;

	rb_core_hooks_init(&hooks, &hook_ctx, "retention");
	worker_cancel = hooks.cancel;
	hooks.cancel = run_cancel;
	rb_guc_destination_options(&opt);
	/* the launcher's run must not hold up its other work for long while S3 is down */
	if (quiet)
		opt.s3_operation_timeout_ms = RB_RETENTION_LAUNCHER_TIMEOUT_MS;
	rb_error_clear(&err);

	PG_TRY();
	{
		size_t		ndelete = 0;
		size_t		norphans = 0;
		char	   *url;

		dest = rb_destination_open(rb_guc_destination, &opt, &hooks, &err);
		if (dest == NULL)
			ereport(ERROR,
					(errcode(rb_errcode(err.code)),
					 errmsg("could not open the backup destination: %s", err.msg)));

		for (size_t i = 0; i < n; i++)
		{
			HeapTuple	tup = SPI_tuptable->vals[i];
			TupleDesc	td = SPI_tuptable->tupdesc;
			bool		isnull;
			Datum		v;
			char	   *loc;
			int64_t		taken;

			bs[i].id = DatumGetInt64(SPI_getbinval(tup, td, 1, &isnull));
			bs[i].physical = DatumGetBool(SPI_getbinval(tup, td, 9, &isnull));
			bs[i].dbname = bs[i].physical ? NULL : MemoryContextStrdup(cxt, SPI_getvalue(tup, td, 2));
			bs[i].series = bs[i].physical ? RB_BASE_SERIES : bs[i].dbname;
			{
				char	   *lsn = SPI_getvalue(tup, td, 10);

				bs[i].has_start = lsn != NULL &&
					rb_lsn_parse(lsn, (uint64_t *) &bs[i].start_lsn);
			}
			v = SPI_getbinval(tup, td, 3, &isnull);
			bs[i].finished_null = isnull;
			bs[i].finished_at = isnull ? 0 : DatumGetTimestampTz(v);
			bs[i].object_key = MemoryContextStrdup(cxt, SPI_getvalue(tup, td, 7));
			loc = SPI_getvalue(tup, td, 8);
			url = rb_destination_url_for(dest, bs[i].object_key);
			bs[i].here = loc != NULL && strcmp(loc, url) == 0;
			free(url);

			items[i].backup_id = bs[i].id;
			items[i].series = bs[i].series;
			/* the second in the key, as the CLI reads it: both decide alike */
			if (!(bs[i].physical ? rb_base_backup_key_parse(bs[i].object_key, &taken, NULL) :
				  rb_backup_key_parse(bs[i].object_key, &taken, NULL)))
				taken = bs[i].finished_null ? 0 : (int64_t) timestamptz_to_time_t(bs[i].finished_at);
			items[i].taken_at = taken;
			items[i].succeeded = bs[i].here;
			items[i].verified = DatumGetBool(SPI_getbinval(tup, td, 4, &isnull));
			items[i].pinned = DatumGetBool(SPI_getbinval(tup, td, 5, &isnull));
			items[i].size_bytes = (uint64_t) DatumGetInt64(SPI_getbinval(tup, td, 6, &isnull));
		}
		ndelete = rb_retention_decide(items, n, &policy);

		/* this server's objects only: its system identifier and incarnation */
		prefix = psprintf("%s/%s/", sysid_text, incarnation);
		if (rb_destination_list_all(dest, prefix, &objs, &err) < 0)
			ereport(ERROR,
					(errcode(rb_errcode(err.code)),
					 errmsg("could not list the backup destination: %s", err.msg)));
		orphan = palloc0((objs.n ? objs.n : 1) * sizeof(bool));
		norphans = rb_retention_find_orphans(objs.objs, objs.n, (int64_t) time(NULL),
											 orphan_age_s, orphan);

		if (!dry_run && (ndelete > 0 || norphans > 0))
		{
			rb_retention_target *targets = palloc0((n ? n : 1) * sizeof(rb_retention_target));
			rb_retention_target *otargets = palloc0((objs.n ? objs.n : 1) * sizeof(rb_retention_target));
			size_t	   *tindex = palloc((n ? n : 1) * sizeof(size_t));
			size_t	   *oindex = palloc((objs.n ? objs.n : 1) * sizeof(size_t));
			size_t		nt = 0,
						no = 0;
			bool		unsupported = false;
			Datum	   *expired = palloc((n ? n : 1) * sizeof(Datum));
			int			nexpired = 0;

			for (size_t i = 0; i < n; i++)
				if (items[i].delete)
				{
					targets[nt].key = bs[i].object_key;
					tindex[nt++] = i;
				}
			for (size_t i = 0; i < objs.n; i++)
				if (orphan[i])
				{
					otargets[no].key = objs.objs[i].key;
					oindex[no++] = i;
				}
			(void) rb_retention_delete(dest, targets, nt, otargets, no, &unsupported);
			if (unsupported && !batch_unsupported_logged)
			{
				batch_unsupported_logged = true;
				ereport(LOG,
						(errmsg("ripple_backup: the S3 server does not support DeleteObjects (501); retention deletes one object per request")));
			}
			for (size_t t = 0; t < nt; t++)
			{
				RbRetBackup *b = &bs[tindex[t]];

				if (targets[t].failed)
				{
					b->failed = true;
					b->failure = pstrdup(targets[t].failure);
					ereport(LOG,
							(errmsg("ripple_backup: retention could not delete %s %lld%s%s%s: %s",
									b->physical ? "base backup" : "backup", (long long) b->id,
									b->physical ? "" : " of \"", b->physical ? "" : b->dbname,
									b->physical ? "" : "\"", b->failure)));
				}
				else
					expired[nexpired++] = Int64GetDatum(b->id);
			}
			for (size_t t = 0; t < no; t++)
				if (otargets[t].failed)
				{
					orphan[oindex[t]] = false;
					norphans--;
					ereport(LOG,
							(errmsg("ripple_backup: retention could not delete the orphaned object \"%s\": %s",
									otargets[t].key, otargets[t].failure)));
				}
			if (nexpired > 0)
			{
				ArrayType  *arr = construct_array(expired, nexpired, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
				Oid			t1[1] = {INT8ARRAYOID};
				Datum		v1[1] = {PointerGetDatum(arr)};

				if (SPI_execute_with_args("UPDATE ripple_backup.backups"
										  "   SET status = 'expired', expired_at = pg_catalog.now()"
										  " WHERE id = ANY ($1) AND status = 'succeeded'",
										  1, t1, v1, NULL, false, 0) != SPI_OK_UPDATE)
					elog(ERROR, "SPI_execute_with_args failed");
			}
		}

		/* the answer, and one log line per database */
		for (size_t start = 0; start < n;)
		{
			size_t		end = start;
			int			ndel = 0,
						nkept = 0;
			uint64		bytes = 0;

			while (end < n && strcmp(bs[end].series, bs[start].series) == 0)
				end++;
			for (size_t i = start; i < end; i++)
			{
				const char *action;
				const char *reason = items[i].reason;

				if (!bs[i].here)
				{
					action = "keep";
					reason = "other destination";
					nkept++;
				}
				else if (!items[i].delete)
				{
					action = "keep";
					nkept++;
				}
				else if (dry_run)
					action = "delete";
				else if (bs[i].failed)
				{
					action = "failed";
					reason = bs[i].failure;
					nkept++;
				}
				else
				{
					action = "deleted";
					ndel++;
					bytes += items[i].size_bytes;
				}
				emit_backup(emit, emit_arg, &bs[i], action, reason);
			}
			if (!dry_run)
			{
				char		size[32];

				rb_format_bytes(bytes, size, sizeof(size));
				if (bs[start].physical)
					ereport(LOG,
							(errmsg("ripple_backup: retention deleted %d base backup%s (%s), kept %d",
									ndel, ndel == 1 ? "" : "s", size, nkept)));
				else
					ereport(LOG,
							(errmsg("ripple_backup: retention deleted %d backup%s of \"%s\" (%s), kept %d",
									ndel, ndel == 1 ? "" : "s", bs[start].dbname, size, nkept)));
			}
			start = end;
		}
		if (norphans > 0 || (dry_run && emit))
		{
			uint64		bytes = 0;

			for (size_t i = 0; i < objs.n; i++)
				if (orphan[i])
				{
					RbPruneRow	r;

					bytes += objs.objs[i].size;
					if (emit == NULL)
						continue;
					memset(&r, 0, sizeof(r));
					r.finished_null = true;
					r.action = dry_run ? "delete" : "deleted";
					r.reason = psprintf("orphan %s", objs.objs[i].key);
					emit(emit_arg, &r);
				}
			if (!dry_run && norphans > 0)
			{
				char		size[32];

				rb_format_bytes(bytes, size, sizeof(size));
				ereport(LOG,
						(errmsg("ripple_backup: retention deleted %zu orphaned object%s (%s)",
								norphans, norphans == 1 ? "" : "s", size)));
			}
		}
		prune_wal(dest, &objs, sysid_text, incarnation, bs, items, n, dry_run, emit, emit_arg);
		if (!dry_run)
		{
			sweep_multipart(dest, prefix);
			abort_pending(dest, &hooks);
		}
	}
	PG_FINALLY();
	{
		if (dest != NULL)
			rb_destination_close(dest);
		rb_object_list_free(&objs);
	}
	PG_END_TRY();
	SPI_finish();
	return true;
}

/* --- the launcher's automatic runs ------------------------------------------------ */

void
rb_retention_note_success(void)
{
	success_noted = true;
}

void
rb_retention_run_due(void)
{
	time_t		now = time(NULL);
	MemoryContext oldcxt = CurrentMemoryContext;

	if (!success_noted && last_run != 0 && now - last_run < RB_RETENTION_EVERY_S)
		return;
	success_noted = false;
	last_run = now;
	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		(void) rb_retention_run(false, true, NULL, NULL);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		MemoryContextSwitchTo(oldcxt);
		ereport(LOG, (errmsg("ripple_backup: retention failed: %s", edata->message)));
		FreeErrorData(edata);
	}
	PG_END_TRY();
}
