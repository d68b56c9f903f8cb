/*
 * notify_sql.c — ripple_backup_notify_test(channel text DEFAULT NULL): sends a
 * notify.test message now on every configured channel (or the one named) and
 * returns one row per channel: what happened (sent, failed, not configured) and
 * the error.  Each attempt is also recorded in ripple_backup.notifications.  The
 * calling backend waits for the delivery (the timeout and retries of
 * ripple_backup.notify_timeout); a query cancel stops it.  The heartbeat gets a
 * success signal: the check turns green, as after a backup.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "guc.h"
#include "notifier.h"
#include "notify_facts.h"
#include "notify_settings.h"

PG_FUNCTION_INFO_V1(ripple_backup_notify_test);

static void
record_test(rb_notify_channel ch, bool sent, const char *error)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	values[0] = CStringGetTextDatum(rb_notify_channel_name(ch));
	values[1] = CStringGetTextDatum(sent ? "sent" : "failed");
	if (sent)
		nulls[2] = 'n';
	else
		values[2] = CStringGetTextDatum(error);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("INSERT INTO ripple_backup.notifications"
							  " (channel, event, status, error, sent_at)"
							  " VALUES ($1, 'notify.test', $2, $3, pg_catalog.clock_timestamp())",
							  3, argtypes, values, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "recording a test notification failed");
	SPI_finish();
}

/* Why a channel is not configured, or NULL when it is. */
static const char *
not_configured(rb_notify_channel ch)
{
	rb_notify_settings s;
	rb_retry_policy policy;

	rb_notify_settings_get(&s, &policy);
	switch (ch)
	{
		case RB_CHANNEL_EMAIL:
			return rb_notify_configured(&s, ch) ? NULL : "ripple_backup.smtp_url is empty";
		case RB_CHANNEL_WEBHOOK:
			return rb_notify_webhook_set() ? NULL : "ripple_backup.webhook_url and webhook_url_file are empty";
		case RB_CHANNEL_HEARTBEAT:
			return rb_notify_heartbeat_set() ? NULL : "ripple_backup.heartbeat_url and heartbeat_url_file are empty";
	}
	return "unknown channel";
}

Datum
ripple_backup_notify_test(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	rb_notify_channel only = RB_CHANNEL_EMAIL;
	bool		one = !PG_ARGISNULL(0);
	rb_notify_event ev;

	if (one)
	{
		rb_error	err;
		char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

		rb_error_clear(&err);
		if (rb_notify_channel_parse(name, &only, &err) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown notification channel \"%s\"", name),
					 errhint("Use email, webhook or heartbeat, or NULL for every configured channel.")));
	}
	InitMaterializedSRF(fcinfo, 0);
	rb_notify_facts(RB_NOTIFY_TEST, 0, rb_guc_database, &ev);

	for (int c = RB_CHANNEL_EMAIL; c <= RB_CHANNEL_HEARTBEAT; c++)
	{
		rb_notify_channel ch = (rb_notify_channel) c;
		Datum		values[3];
		bool		nulls[3] = {false, false, false};
		const char *why;
		rb_error	err;

		if (one && ch != only)
			continue;
		values[0] = CStringGetTextDatum(rb_notify_channel_name(ch));
		why = not_configured(ch);
		if (why != NULL)
		{
			values[1] = CStringGetTextDatum("not configured");
			values[2] = CStringGetTextDatum(why);
		}
		else
		{
			char	   *hb_url = NULL;
			int			rc = -1;

			rb_error_clear(&err);
			if (ch != RB_CHANNEL_HEARTBEAT || (hb_url = rb_notify_heartbeat_url(&err)) != NULL)
				rc = rb_notifier_send(ch, &ev, false, hb_url, &err);

			CHECK_FOR_INTERRUPTS();
			record_test(ch, rc == 0, err.msg);
			values[1] = CStringGetTextDatum(rc == 0 ? "sent" : "failed");
			if (rc == 0)
				nulls[2] = true;
			else
				values[2] = CStringGetTextDatum(err.msg);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
