/*
 * check_sql.c — ripple_backup_check(): a diagnosis of the server's own way to its
 * destination, with the server's own settings and credentials (what a backup
 * uses), one row per step: settings, credentials, connect (DNS and TCP), tls,
 * auth (a signed listing of a prefix no backup uses), write (a small probe
 * object) and delete (the probe removed).  Each step is ok, failed with the
 * error the destination gave, or skipped because an earlier one failed.  One
 * attempt per request (no retries, a private circuit breaker: the shared one
 * might refuse the request without trying), 10 s at most each, from the calling
 * session; a query cancel stops the request under way (and the probe is still
 * deleted once it was sent).  No secret is shown: the credentials row names where
 * they came from, never their values.
 */
#include "postgres.h"

#include <strings.h>

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "dest.h"
#include "guc.h"
#include "notifier.h"
#include "s3/s3_credentials.h"

#define RB_CHECK_TIMEOUT_MS 10000
#define RB_CHECK_PREFIX "ripple_backup-check-"

PG_FUNCTION_INFO_V1(ripple_backup_check);

typedef enum check_state
{
	CHECK_OK,
	CHECK_FAILED,
	CHECK_SKIPPED
} check_state;

typedef struct check_ctx
{
	ReturnSetInfo *rsinfo;
	bool		failed;			/* a step failed: the rest are skipped */
} check_ctx;

static void
emit(check_ctx *c, const char *step, check_state st, const char *detail)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(step);
	if (st == CHECK_SKIPPED)
		nulls[1] = true;
	else
		values[1] = BoolGetDatum(st == CHECK_OK);
	values[2] = CStringGetTextDatum(st == CHECK_SKIPPED ? "skipped: an earlier step failed" : detail);
	tuplestore_putvalues(c->rsinfo->setResult, c->rsinfo->setDesc, values, nulls);
	if (st == CHECK_FAILED)
		c->failed = true;
}

/* Emits a step that only runs when nothing failed before it. */
static void
emit_step(check_ctx *c, const char *step, bool ok, const char *detail)
{
	emit(c, step, c->failed ? CHECK_SKIPPED : (ok ? CHECK_OK : CHECK_FAILED), detail);
}

/* A network error that the TLS handshake or the certificate caused. */
static bool
is_tls_error(const char *msg)
{
	static const char *const words[] = {"SSL", "TLS", "certificate"};

	for (size_t i = 0; i < lengthof(words); i++)
		if (strcasestr(msg, words[i]) != NULL)
			return true;
	return false;
}

static int
count_object(void *arg, const rb_object_info *info, rb_error *err)
{
	(void) info;
	(void) err;
	(*(int *) arg)++;
	return 0;
}

/* The steps of an S3 or file:// destination that is set; see the header. */
static void
check_destination(check_ctx *c)
{
	bool		s3 = strncmp(rb_guc_destination, "s3://", 5) == 0;
	bool		https = !rb_guc_s3_endpoint[0] || strncasecmp(rb_guc_s3_endpoint, "https://", 8) == 0;
	rb_destination_options opt;
	rb_destination *dest;
	rb_hooks	hooks;
	rb_error	err;
	char	   *key;
	int			n = 0;

	rb_error_clear(&err);
	rb_notifier_hooks(&hooks);
	rb_guc_destination_options(&opt);
	opt.max_attempts = 1;
	opt.s3_request_timeout_ms = RB_CHECK_TIMEOUT_MS;
	opt.s3_breaker = NULL;
	opt.s3_breaker_lock = NULL;
	opt.s3_breaker_unlock = NULL;
	opt.s3_breaker_lock_arg = NULL;
	opt.s3_clock = NULL;

	/* credentials: loaded here only to report them apart from the settings */
	if (s3)
	{
		rb_aws_credentials cred;
		bool		ok = rb_aws_credentials_load(opt.s3_credentials_file, NULL, &cred, &hooks, &err) == 0;

		emit(c, "settings", CHECK_OK,
			 psprintf("destination %s, endpoint %s, region %s", rb_guc_destination,
					  rb_guc_s3_endpoint[0] ? rb_guc_s3_endpoint : "AWS",
					  rb_guc_s3_region[0] ? rb_guc_s3_region : "us-east-1"));
		emit(c, "credentials", ok ? CHECK_OK : CHECK_FAILED,
			 ok ? psprintf("from %s", cred.source) : err.msg);
		rb_aws_credentials_clear(&cred);
		if (!ok)
			return;
	}
	dest = rb_destination_open(rb_guc_destination, &opt, &hooks, &err);
	if (dest == NULL)
	{
		if (!s3)
			emit(c, "settings", CHECK_FAILED, err.msg);
		else
			emit(c, "connect", CHECK_FAILED, err.msg);
		return;
	}
	if (!s3)
	{
		emit(c, "settings", CHECK_OK, psprintf("destination %s", rb_guc_destination));
		emit(c, "credentials", CHECK_OK, "none needed: file:// destination");
	}

	/*
	 * No CHECK_FOR_INTERRUPTS while dest is open: it would leave the destination
	 * (its connections and memory, not palloc'd) and perhaps the probe behind.  A
	 * cancel stops the requests through the hooks instead, and is served once
	 * dest is closed.
	 */

	/* the first request: connect, TLS and the signature are all proven by it */
	if (rb_destination_list(dest, RB_CHECK_PREFIX, count_object, &n, &err) == 0)
	{
		emit(c, "connect", CHECK_OK, s3 ? "the endpoint answered" : "none needed: file:// destination");
		emit(c, "tls", CHECK_OK, !s3 ? "none needed: file:// destination" :
			 https ? "the certificate was accepted" : "not used: the endpoint is http://");
		emit(c, "auth", CHECK_OK, psprintf("listing of %s%s* accepted", rb_guc_destination, RB_CHECK_PREFIX));
	}
	else if (err.code == RB_ERR_NETWORK && https && is_tls_error(err.msg))
	{
		emit(c, "connect", CHECK_OK, "the endpoint accepted the connection");
		emit(c, "tls", CHECK_FAILED, err.msg);
	}
	else if (err.code == RB_ERR_NETWORK || err.code == RB_ERR_CIRCUIT_OPEN)
		emit(c, "connect", CHECK_FAILED, err.msg);
	else
	{
		emit(c, "connect", CHECK_OK, "the endpoint answered");
		emit(c, "tls", CHECK_OK, https ? "the certificate was accepted" : "not used: the endpoint is http://");
		emit(c, "auth", CHECK_FAILED, err.msg);
	}

	/* write and delete a probe object under a name no backup uses */
	key = psprintf("%s%d-" INT64_FORMAT, RB_CHECK_PREFIX, MyProcPid, (int64) GetCurrentTimestamp());
	if (!c->failed)
	{
		static const char probe[] = "ripple_backup_check() probe; safe to delete\n";
		bool		ok = rb_destination_put_small(dest, key, probe, sizeof(probe) - 1, &err) == 0;

		emit_step(c, "write", ok, ok ? psprintf("stored %s", key) : err.msg);

		/*
		 * The probe is deleted whenever it was sent, even when the write failed (a
		 * cancel or a timeout while the answer was awaited: the object may exist
		 * all the same), and a pending cancel does not stop the delete (the hooks
		 * dest holds are these; its own 10 s timeout bounds it).
		 */
		hooks.cancel = NULL;
		if (ok)
		{
			ok = rb_destination_delete(dest, key, &err) == 0;
			emit_step(c, "delete", ok, ok ? psprintf("deleted %s", key) : err.msg);
		}
		else
			(void) rb_destination_delete(dest, key, &err);
	}
	rb_destination_close(dest);
}

/* RETURNS TABLE (step text, ok boolean, detail text) */
Datum
ripple_backup_check(PG_FUNCTION_ARGS)
{
	static const char *const steps[] = {"settings", "credentials", "connect", "tls", "auth", "write", "delete"};
	check_ctx	c;
	int64		before;

	InitMaterializedSRF(fcinfo, 0);
	c.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	c.failed = false;

	if (rb_guc_destination[0] == '\0')
		emit(&c, "settings", CHECK_FAILED, "ripple_backup.destination is empty: no backup can be taken");
	else
		check_destination(&c);
	CHECK_FOR_INTERRUPTS();

	/* every step has a row: those not reached are skipped */
	before = tuplestore_tuple_count(c.rsinfo->setResult);
	for (int64 i = before; i < (int64) lengthof(steps); i++)
		emit(&c, steps[i], CHECK_SKIPPED, NULL);
	PG_RETURN_VOID();
}
