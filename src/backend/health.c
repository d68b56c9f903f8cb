/*
 * health.c — ripple_backup.destination_probe(): whether the backup destination
 * (ripple_backup.destination, with the S3 settings) answers now, for the
 * destination row of ripple_backup_health() and ripple_backup_metrics().  One
 * listing of a prefix no backup uses, bounded to 5 s (retries included), from the
 * calling session; a query cancel stops it.  Everything else of the health check
 * is SQL in the install script.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "dest.h"
#include "guc.h"
#include "notifier.h"

#define RB_PROBE_TIMEOUT_MS 5000
#define RB_PROBE_PREFIX "ripple_backup-probe-"

PG_FUNCTION_INFO_V1(ripple_backup_destination_probe);

static int
count_object(void *arg, const rb_object_info *info, rb_error *err)
{
	(void) info;
	(void) err;
	(*(int *) arg)++;
	return 0;
}

/* RETURNS TABLE (destination text, reachable boolean, seconds float8, error text) */
Datum
ripple_backup_destination_probe(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	rb_destination_options opt;
	rb_destination *dest;
	rb_hooks	hooks;
	rb_error	err;
	TimestampTz t0 = GetCurrentTimestamp();
	int			n = 0;
	bool		ok = false;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	rb_error_clear(&err);
	values[0] = CStringGetTextDatum(rb_guc_destination);
	if (rb_guc_destination[0] == '\0')
		rb_error_set(&err, RB_ERR_INVALID, "ripple_backup.destination is empty: no backup can be taken");
	else
	{
		rb_notifier_hooks(&hooks);
		rb_guc_destination_options(&opt);
		opt.s3_request_timeout_ms = RB_PROBE_TIMEOUT_MS;
		dest = rb_destination_open(rb_guc_destination, &opt, &hooks, &err);
		if (dest != NULL)
		{
			ok = rb_destination_list(dest, RB_PROBE_PREFIX, count_object, &n, &err) == 0;
			rb_destination_close(dest);
		}
		CHECK_FOR_INTERRUPTS();
	}
	values[1] = BoolGetDatum(ok);
	values[2] = Float8GetDatum((double) (GetCurrentTimestamp() - t0) / 1000000.0);
	if (ok)
		nulls[3] = true;
	else
		values[3] = CStringGetTextDatum(err.msg);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
