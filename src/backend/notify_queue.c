/*
 * notify_queue.c — queues notifications as 'pending' rows of
 * ripple_backup.notifications (see notify_queue.h).  The channels are decided
 * here, from the settings at the time of the event: e-mail and webhook when
 * configured and notify_on wants the event, the heartbeat for scheduled backups
 * with a heartbeat URL.  No URL or address is stored in the row: the notifier
 * reads them again when it sends.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "notify_channel.h"
#include "notify_queue.h"
#include "notify_settings.h"
#include "worker_common.h"

typedef struct GuardedCall
{
	rb_notify_guarded_fn fn;
	void	   *arg;
} GuardedCall;

static void
with_spi(void *arg)
{
	GuardedCall *c = (GuardedCall *) arg;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	c->fn(c->arg);
	SPI_finish();
}

void
rb_notify_guarded(rb_notify_guarded_fn fn, void *arg, const char *what)
{
	GuardedCall c = {fn, arg};
	char	   *err;

	if (rb_worker_try(with_spi, &c, &err))
		return;
	ereport(LOG,
			(errmsg("ripple_backup: could not queue the notification of %s: %s", what, err)));
	pfree(err);
}

/* Inserts one pending row (backup_id 0 = none). */
static void
insert_row(int64 backup_id, const char *dbname, rb_notify_channel ch, const char *event)
{
	Oid			argtypes[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	int			rc;

	values[0] = Int64GetDatum(backup_id);
	if (backup_id == 0)
		nulls[0] = 'n';
	values[1] = CStringGetTextDatum(dbname ? dbname : "");
	if (dbname == NULL)
		nulls[1] = 'n';
	values[2] = CStringGetTextDatum(rb_notify_channel_name(ch));
	values[3] = CStringGetTextDatum(event);
	rc = SPI_execute_with_args("INSERT INTO ripple_backup.notifications"
							   " (backup_id, dbname, channel, event) VALUES ($1, $2::name, $3, $4)",
							   4, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "inserting a notification failed: %s", SPI_result_code_string(rc));
}

/* E-mail and webhook rows for an event, as the settings and notify_on want. */
static void
queue_channels(rb_notify_kind kind, int64 backup_id, const char *dbname)
{
	rb_notify_settings s;
	rb_retry_policy policy;

	rb_notify_settings_get(&s, &policy);
	if (!rb_notify_wanted(rb_notify_on_setting(), kind))
		return;
	if (rb_notify_configured(&s, RB_CHANNEL_EMAIL))
		insert_row(backup_id, dbname, RB_CHANNEL_EMAIL, rb_notify_kind_name(kind));
	if (rb_notify_webhook_set())
		insert_row(backup_id, dbname, RB_CHANNEL_WEBHOOK, rb_notify_kind_name(kind));
}

char *
rb_notify_heartbeat_url_spi(int64 backup_id, const char *global)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	int			rc;

	values[0] = Int64GetDatum(backup_id);
	values[1] = CStringGetTextDatum(global ? global : "");
	rc = SPI_execute_with_args("SELECT coalesce(NULLIF(j.heartbeat_url, ''), NULLIF($2, ''))"
							   "  FROM ripple_backup.backups b"
							   "  LEFT JOIN ripple_backup.jobs j ON j.jobid = b.jobid"
							   " WHERE b.id = $1 AND b.backup_type = 'scheduled'",
							   2, argtypes, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the heartbeat URL failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return NULL;
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		char	   *url;
		char	   *copy;

		if (isnull)
			return NULL;
		url = TextDatumGetCString(d);
		copy = SPI_palloc(strlen(url) + 1);
		strcpy(copy, url);
		return copy;
	}
}

/*
 * The database, status and (when attempt is not NULL) attempt number of a backup
 * into the arguments; false when it is gone.
 */
static bool
backup_status(int64 backup_id, char *dbname, char *status, int *attempt)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(backup_id)};
	bool		isnull;
	int			rc;

	/* not read-only: the caller's transaction may have just recorded the status */
	/* a physical base backup has no database: "" here, NULL in its notifications */
	rc = SPI_execute_with_args("SELECT coalesce(dbname::text, ''), status, attempt FROM ripple_backup.backups WHERE id = $1",
							   1, argtypes, values, NULL, false, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading a backup failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return false;
	strlcpy(dbname, TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1, &isnull)),
			NAMEDATALEN);
	strlcpy(status, TextDatumGetCString(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 2, &isnull)),
			16);
	if (attempt != NULL)
		*attempt = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 3, &isnull));
	return true;
}

/*
 * Queueing only asks whether a backup has a heartbeat URL: a stand-in for the
 * global one when it is set, so that its file (heartbeat_url_file) is read only
 * when sending, where a problem with it is recorded as the delivery's error.
 */
#define GLOBAL_HEARTBEAT (rb_notify_heartbeat_set() ? "(ripple_backup.heartbeat_url)" : "")

typedef struct QueueArgs
{
	int64		backup_id;
	bool		flag;			/* verified / breached / failing */
	bool		drill;
	const char *dbname;
} QueueArgs;

static void
queue_finished(void *arg)
{
	QueueArgs  *a = (QueueArgs *) arg;
	char		dbname[NAMEDATALEN];
	char		status[16];
	rb_notify_kind kind;

	if (!backup_status(a->backup_id, dbname, status, NULL))
		return;
	if (strcmp(status, "succeeded") == 0)
		kind = RB_NOTIFY_BACKUP_SUCCEEDED;
	else if (strcmp(status, "failed") == 0)
		kind = RB_NOTIFY_BACKUP_FAILED;
	else
		return;
	queue_channels(kind, a->backup_id, dbname[0] ? dbname : NULL);
	if (rb_notify_heartbeat_url_spi(a->backup_id, GLOBAL_HEARTBEAT) != NULL)
		insert_row(a->backup_id, dbname[0] ? dbname : NULL, RB_CHANNEL_HEARTBEAT, rb_notify_kind_name(kind));
}

void
rb_notify_backup_finished(int64 backup_id)
{
	QueueArgs	a = {.backup_id = backup_id};
	char		what[64];

	snprintf(what, sizeof(what), "backup %lld", (long long) backup_id);
	rb_notify_guarded(queue_finished, &a, what);
}

static void
queue_interrupted(void *arg)
{
	int64	   *ids;
	uint64		n;
	int			rc;

	(void) arg;
	/* finished_at = now(): set by this very transaction */
	rc = SPI_execute("SELECT id FROM ripple_backup.backups"
					 " WHERE status = 'failed' AND error = 'interrupted by server restart'"
					 "   AND finished_at = pg_catalog.now() ORDER BY id", false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading interrupted backups failed: %s", SPI_result_code_string(rc));
	n = SPI_processed;
	ids = palloc(sizeof(int64) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
	}
	for (uint64 i = 0; i < n; i++)
		rb_notify_backup_finished(ids[i]);
}

void
rb_notify_interrupted(void)
{
	rb_notify_guarded(queue_interrupted, NULL, "the backups interrupted by the restart");
}

static void
queue_started(void *arg)
{
	QueueArgs  *a = (QueueArgs *) arg;
	char		dbname[NAMEDATALEN];
	char		status[16];
	int			attempt;

	if (!backup_status(a->backup_id, dbname, status, &attempt))
		return;
	/* a retried backup (backup_retries) told the switch at its first attempt */
	if (attempt > 1)
		return;
	if (rb_notify_heartbeat_url_spi(a->backup_id, GLOBAL_HEARTBEAT) != NULL)
		insert_row(a->backup_id, dbname[0] ? dbname : NULL, RB_CHANNEL_HEARTBEAT, "backup.started");
}

void
rb_notify_backup_started(int64 backup_id)
{
	QueueArgs	a = {.backup_id = backup_id};
	char		what[64];

	snprintf(what, sizeof(what), "the start of backup %lld", (long long) backup_id);
	rb_notify_guarded(queue_started, &a, what);
}

static void
queue_verify(void *arg)
{
	QueueArgs  *a = (QueueArgs *) arg;
	char		dbname[NAMEDATALEN];
	char		status[16];
	rb_notify_kind kind;

	if (a->drill)
		kind = a->flag ? RB_NOTIFY_DRILL_SUCCEEDED : RB_NOTIFY_DRILL_FAILED;
	else if (!a->flag)
		kind = RB_NOTIFY_VERIFY_FAILED;
	else
		return;					/* a verification that passed is no news */
	if (!backup_status(a->backup_id, dbname, status, NULL))
		return;
	queue_channels(kind, a->backup_id, dbname[0] ? dbname : NULL);
}

void
rb_notify_verify_finished(int64 backup_id, bool verified, bool drill)
{
	QueueArgs	a = {.backup_id = backup_id, .flag = verified, .drill = drill};
	char		what[80];

	snprintf(what, sizeof(what), "the verification of backup %lld", (long long) backup_id);
	rb_notify_guarded(queue_verify, &a, what);
}

static void
queue_rpo(void *arg)
{
	QueueArgs  *a = (QueueArgs *) arg;

	queue_channels(a->flag ? RB_NOTIFY_RPO_BREACHED : RB_NOTIFY_RPO_RECOVERED, 0, a->dbname);
}

void
rb_notify_rpo(const char *dbname, bool breached)
{
	QueueArgs	a = {.flag = breached, .dbname = dbname};
	char		what[NAMEDATALEN + 32];

	snprintf(what, sizeof(what), "the RPO of database \"%s\"", dbname);
	rb_notify_guarded(queue_rpo, &a, what);
}

static void
queue_wal_archive(void *arg)
{
	QueueArgs  *a = (QueueArgs *) arg;

	queue_channels(a->flag ? RB_NOTIFY_WAL_ARCHIVE_FAILING : RB_NOTIFY_WAL_ARCHIVE_RECOVERED, 0, NULL);
}

void
rb_notify_wal_archive(bool failing)
{
	QueueArgs	a = {.flag = failing};

	rb_notify_guarded(queue_wal_archive, &a, failing ? "the failure of WAL archiving"
					  : "the recovery of WAL archiving");
}

bool
rb_notify_pending(void)
{
	bool		pending;
	int			rc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute("SELECT 1 FROM ripple_backup.notifications WHERE status = 'pending' LIMIT 1",
					 true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading pending notifications failed: %s", SPI_result_code_string(rc));
	pending = SPI_processed > 0;
	SPI_finish();
	return pending;
}
