/*
 * retention_sql.c — the SQL functions of retention:
 *   ripple_backup_prune(dry_run) runs retention now (retention.c) and returns a
 *   row per backup of this server (kept, and why; deleted, and why), plus a row
 *   per orphaned object;
 *   ripple_backup_pin(backup_id, pinned) pins or unpins a succeeded backup: the
 *   catalog's pinned column, and the pin marker "<dump key>.pinned" beside the
 *   dump in the destination, which is how `ripple-backup prune` learns of it.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "core_hooks.h"
#include "dest.h"
#include "errors.h"
#include "guc.h"
#include "retention.h"
#include "retention_keys.h"

PG_FUNCTION_INFO_V1(ripple_backup_prune);
PG_FUNCTION_INFO_V1(ripple_backup_pin);

static void
emit_row(void *arg, const RbPruneRow *r)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) arg;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	values[0] = Int64GetDatum(r->backup_id);
	nulls[0] = r->backup_id == 0;
	if (r->dbname)
		values[1] = DirectFunctionCall1(namein, CStringGetDatum(r->dbname));
	else
		nulls[1] = true;
	values[2] = TimestampTzGetDatum(r->finished_at);
	nulls[2] = r->finished_null;
	values[3] = CStringGetTextDatum(r->action);
	values[4] = CStringGetTextDatum(r->reason ? r->reason : "");
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

Datum
ripple_backup_prune(PG_FUNCTION_ARGS)
{
	bool		dry_run = PG_ARGISNULL(0) ? false : PG_GETARG_BOOL(0);
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	(void) rb_retention_run(dry_run, false, emit_row, rsinfo);
	return (Datum) 0;
}

/* Writes (pinned) or removes the pin marker of a backup stored at object_key. */
static void
set_marker(int64 id, const char *object_key, const char *location, bool pinned)
{
	rb_destination_options opt;
	rb_hooks	hooks;
	RbCoreHookContext hook_ctx;
	rb_destination *volatile d = NULL;
	rb_error	err;

	if (rb_guc_destination == NULL || rb_guc_destination[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no backup destination is configured"),
				 errhint("Set ripple_backup.destination.")));
	rb_core_hooks_init(&hooks, &hook_ctx, "pin of backup %lld", (long long) id);
	rb_guc_destination_options(&opt);
	rb_error_clear(&err);
	PG_TRY();
	{
		char	   *url;
		char	   *marker;
		int			rc;

		d = rb_destination_open(rb_guc_destination, &opt, &hooks, &err);
		if (d == NULL)
			ereport(ERROR,
					(errcode(rb_errcode(err.code)),
					 errmsg("could not open the backup destination: %s", err.msg)));
		url = rb_destination_url_for(d, object_key);
		if (location == NULL || strcmp(url, location) != 0)
		{
			free(url);
			ereport(WARNING,
					(errmsg("backup %lld is not stored in the configured destination; no pin marker was %s",
							(long long) id, pinned ? "written" : "removed"),
					 errdetail("ripple-backup prune learns of pins from that marker only.")));
		}
		else
		{
			free(url);
			marker = psprintf("%s%s", object_key, RB_PIN_SUFFIX);
			rc = pinned ? rb_destination_put_small(d, marker, "", 0, &err)
				: rb_destination_delete(d, marker, &err);
			if (rc < 0)
				ereport(ERROR,
						(errcode(rb_errcode(err.code)),
						 errmsg("could not %s the pin marker of backup %lld: %s",
								pinned ? "store" : "delete", (long long) id, err.msg)));
		}
	}
	PG_FINALLY();
	{
		if (d != NULL)
			rb_destination_close(d);
	}
	PG_END_TRY();
}

Datum
ripple_backup_pin(PG_FUNCTION_ARGS)
{
	int64		id;
	bool		pinned = PG_ARGISNULL(1) ? true : PG_GETARG_BOOL(1);
	Oid			argtypes[2] = {INT8OID, BOOLOID};
	Datum		values[2];
	char	   *status;
	char	   *object_key;
	char	   *location;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("backup_id must not be null")));
	id = PG_GETARG_INT64(0);
	values[0] = Int64GetDatum(id);
	values[1] = BoolGetDatum(pinned);

	SPI_connect();
	if (SPI_execute_with_args("SELECT status, object_key, location FROM ripple_backup.backups"
							  " WHERE id = $1 FOR UPDATE",
							  1, argtypes, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("backup %lld does not exist", (long long) id)));
	status = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	object_key = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	location = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	if (pinned && strcmp(status, "succeeded") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("backup %lld cannot be pinned", (long long) id),
				 errdetail("Its status is %s; only a succeeded backup can be pinned.", status),
				 errhint("Wait for it with ripple_backup_wait().")));

	if (SPI_execute_with_args("UPDATE ripple_backup.backups SET pinned = $2 WHERE id = $1",
							  2, argtypes, values, NULL, false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed");
	/* the marker last: a failure to store it rolls the update back */
	if (object_key != NULL && strcmp(status, "succeeded") == 0)
		set_marker(id, object_key, location, pinned);
	SPI_finish();
	PG_RETURN_BOOL(pinned);
}
