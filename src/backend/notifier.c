/*
 * notifier.c — the notifier worker (see notifier.h).  For each pending row,
 * oldest first: read its facts in a short transaction, send outside any
 * transaction (the core library's timeout and retries: 3 attempts with backoff
 * and jitter), record the outcome in another short transaction.  A failure is
 * logged as a WARNING naming the channel and the server as scheme://host:port,
 * never the URL's path, an address book or a secret.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "guc.h"
#include "notifier.h"
#include "notify_facts.h"
#include "notify_http.h"
#include "notify_queue.h"
#include "notify_settings.h"
#include "worker_common.h"

/* the advisory lock (two int4 keys) that keeps notifiers to one at a time */
#define RB_NOTIFIER_LOCK_KEY1 1380081486	/* 0x5242_4e4e, "RBNN" */
#define RB_NOTIFIER_LOCK_KEY2 1

#define RB_NOTIFIER_MIN_RESTART_MS 1000	/* a notifier that keeps failing is not respawned in a loop */

static BackgroundWorkerHandle *notifier_handle = NULL;
static TimestampTz notifier_started_at = 0;

void
rb_notifier_kick(void)
{
	BackgroundWorker worker;
	pid_t		pid;

	if (notifier_handle != NULL)
	{
		if (GetBackgroundWorkerPid(notifier_handle, &pid) != BGWH_STOPPED)
			return;
		pfree(notifier_handle);
		notifier_handle = NULL;
	}
	if (notifier_started_at != 0 &&
		!TimestampDifferenceExceeds(notifier_started_at, GetCurrentTimestamp(),
									RB_NOTIFIER_MIN_RESTART_MS))
		return;					/* the launcher's next iteration tries again */
	notifier_started_at = GetCurrentTimestamp();
	rb_worker_init(&worker, "rb_notifier_main", "ripple_backup notifier", BGW_NEVER_RESTART);
	worker.bgw_notify_pid = MyProcPid;
	if (!rb_worker_start(&worker, &notifier_handle, true))
		notifier_handle = NULL; /* no free slot: the next launcher iteration tries again */
}

/* Cancel hook: SIGTERM, a query cancel (ripple_backup_notify_test), postmaster death. */
static bool
send_cancelled(void *arg)
{
	(void) arg;
	return ProcDiePending || QueryCancelPending || !PostmasterIsAlive();
}

/* Log hook: the core's retry warnings go to the server log; interrupts stay pending. */
static void
send_log(void *arg, rb_log_level level, const char *line)
{
	int			elevel = level == RB_LOG_DEBUG ? DEBUG1 : level == RB_LOG_WARNING ? WARNING : LOG;

	(void) arg;
	HOLD_INTERRUPTS();
	ereport(elevel, (errmsg_internal("ripple_backup: notification: %s", line)));
	RESUME_INTERRUPTS();
}

void
rb_notifier_hooks(rb_hooks *hooks)
{
	memset(hooks, 0, sizeof(*hooks));
	hooks->log = send_log;
	hooks->cancel = send_cancelled;
}

int
rb_notifier_send(rb_notify_channel ch, const rb_notify_event *ev, bool heartbeat_start,
				 const char *heartbeat_url, rb_error *err)
{
	rb_notify_settings s;
	rb_retry_policy policy;
	rb_hooks	hooks;

	rb_notifier_hooks(&hooks);
	rb_notify_settings_get(&s, &policy);
	rb_error_clear(err);
	switch (ch)
	{
		case RB_CHANNEL_EMAIL:
			return rb_notify_send_email(&s, ev, &hooks, err);
		case RB_CHANNEL_WEBHOOK:
			if ((s.webhook_url = rb_notify_webhook_url(err)) == NULL)
				return -1;
			return rb_notify_send_webhook(&s, ev, &hooks, err);
		case RB_CHANNEL_HEARTBEAT:
			{
				rb_notify_delivery d = {s.timeout_ms, &policy, NULL};
				rb_heartbeat_signal sig = heartbeat_start ? RB_HEARTBEAT_START :
					rb_notify_kind_is_failure(ev->kind) ? RB_HEARTBEAT_FAIL : RB_HEARTBEAT_SUCCESS;

				if (heartbeat_url == NULL || heartbeat_url[0] == '\0')
					return rb_error_set(err, RB_ERR_INVALID, "no heartbeat URL is set");
				return rb_heartbeat_send(heartbeat_url, sig, ev->error, &d, &hooks, err);
			}
	}
	return rb_error_set(err, RB_ERR_INVALID, "unknown channel");
}

/* One pending row, read with its facts. */
typedef struct PendingRow
{
	int64		id;
	int64		backup_id;
	rb_notify_channel channel;
	bool		start;			/* the heartbeat's start signal */
	char	   *heartbeat_url;
	rb_error	url_error;		/* why heartbeat_url_file could not be used */
	rb_notify_event ev;
} PendingRow;

/* Reads the oldest pending row into row (in cxt); false when none is left. */
static bool
next_row(MemoryContext cxt, PendingRow *row)
{
	MemoryContext oldcxt;
	bool		found = false;
	bool		isnull;
	char	   *channel = NULL;
	char	   *event = NULL;
	char	   *dbname = NULL;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	oldcxt = MemoryContextSwitchTo(cxt);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute("SELECT id, coalesce(backup_id, 0), channel, event, dbname::text"
					 "  FROM ripple_backup.notifications WHERE status = 'pending'"
					 " ORDER BY id LIMIT 1", true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading pending notifications failed: %s", SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *v;

		found = true;
		row->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		row->backup_id = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		channel = MemoryContextStrdup(cxt, SPI_getvalue(tup, desc, 3));
		event = MemoryContextStrdup(cxt, SPI_getvalue(tup, desc, 4));
		v = SPI_getvalue(tup, desc, 5);
		dbname = v ? MemoryContextStrdup(cxt, v) : NULL;
		row->heartbeat_url = NULL;
		rb_error_clear(&row->url_error);
		if (strcmp(channel, "heartbeat") == 0 && row->backup_id != 0)
		{
			char	   *global = rb_notify_heartbeat_url(&row->url_error);

			row->heartbeat_url = rb_notify_heartbeat_url_spi(row->backup_id, global ? global : "");
		}
	}
	SPI_finish();
	if (found)
	{
		rb_notify_kind kind;
		rb_error	err;

		rb_error_clear(&err);
		row->start = strcmp(event, "backup.started") == 0;
		if (row->start)
			kind = RB_NOTIFY_BACKUP_SUCCEEDED;	/* the facts of the backup; the signal is start */
		else if (rb_notify_kind_parse(event, &kind, &err) != 0)
			kind = RB_NOTIFY_TEST;
		if (rb_notify_channel_parse(channel, &row->channel, &err) != 0)
			row->channel = RB_CHANNEL_WEBHOOK;
		rb_notify_facts(kind, row->backup_id, dbname, &row->ev);
	}
	MemoryContextSwitchTo(oldcxt);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return found;
}

static void
record(int64 id, bool sent, const char *error)
{
	Oid			argtypes[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	int			rc;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(sent ? "sent" : "failed");
	if (sent)
		nulls[2] = 'n';
	else
		values[2] = CStringGetTextDatum(error);
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	rc = SPI_execute_with_args("UPDATE ripple_backup.notifications"
							   "   SET status = $2, error = $3, sent_at = pg_catalog.clock_timestamp()"
							   " WHERE id = $1",
							   3, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "recording a notification failed: %s", SPI_result_code_string(rc));
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * next_row, with an error (a facts query that fails) turned into a failed row
 * rather than a notifier that dies and is restarted on the same row for ever.
 * Returns false when the row was marked failed; *done when no row is left.
 */
static bool
next_row_guarded(MemoryContext cxt, PendingRow *row, bool *done)
{
	volatile bool ok = true;

	PG_TRY();
	{
		*done = !next_row(cxt, row);
	}
	PG_CATCH();
	{
		ErrorData  *edata;
		char		msg[512];

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		snprintf(msg, sizeof(msg), "could not read what to send: %s", edata->message);
		ereport(WARNING, (errmsg("ripple_backup: notification %lld: %s", (long long) row->id, msg)));
		if (row->id == 0)
			proc_exit(1);		/* not even the row: nothing to mark */
		record(row->id, false, msg);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Takes the notifier's advisory lock for the session; false when another holds it. */
static bool
take_lock(void)
{
	bool		got;
	bool		isnull;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT pg_catalog.pg_try_advisory_lock(" CppAsString2(RB_NOTIFIER_LOCK_KEY1)
					", " CppAsString2(RB_NOTIFIER_LOCK_KEY2) ")", false, 1) != SPI_OK_SELECT)
		elog(ERROR, "taking the notifier's lock failed");
	got = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return got;
}

void
rb_notifier_main(Datum main_arg)
{
	MemoryContext rowcxt;

	rb_worker_signals(false);	/* settings are read once, at start */
	rb_worker_connect(rb_guc_database, "ripple_backup notifier");
	if (!take_lock())
		proc_exit(0);

	rowcxt = AllocSetContextCreate(TopMemoryContext, "ripple_backup notification",
								   ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		PendingRow	row;
		rb_error	err;
		char		what[64];
		int			rc;
		bool		done = false;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(rowcxt);
		memset(&row, 0, sizeof(row));
		if (!next_row_guarded(rowcxt, &row, &done))
			continue;			/* that row could not be read: marked failed */
		if (done)
			break;
		pgstat_report_activity(STATE_RUNNING, "ripple_backup notifier: sending");
		if (row.channel == RB_CHANNEL_HEARTBEAT && row.heartbeat_url == NULL &&
			row.url_error.msg[0] != '\0')
		{
			err = row.url_error;
			rc = -1;
		}
		else
			rc = rb_notifier_send(row.channel, &row.ev, row.start, row.heartbeat_url, &err);
		pgstat_report_activity(STATE_IDLE, NULL);
		if (row.backup_id != 0)
			snprintf(what, sizeof(what), "of backup %lld", (long long) row.backup_id);
		else
			snprintf(what, sizeof(what), "of database \"%s\"", row.ev.dbname ? row.ev.dbname : "");
		if (rc == 0)
			ereport(LOG,
					(errmsg("ripple_backup: %s notification %s %s sent",
							rb_notify_channel_name(row.channel),
							row.start ? "backup.started" : rb_notify_kind_name(row.ev.kind), what)));
		else
			ereport(WARNING,
					(errmsg("ripple_backup: %s notification %s %s failed",
							rb_notify_channel_name(row.channel),
							row.start ? "backup.started" : rb_notify_kind_name(row.ev.kind), what),
					 errdetail("%s", err.msg),
					 errhint("The backup itself is not affected. ripple_backup_notify_test() checks the set-up.")));
		record(row.id, rc == 0, err.msg[0] ? err.msg : "sending failed");
	}
	proc_exit(0);
}
