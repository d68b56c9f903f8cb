/*
 * catalog.c — all SPI access to the backup catalog (see catalog.h).  Every value
 * travels as a parameter of SPI_execute_with_args; no SQL is built from values.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "catalog.h"

#define NARGS(a) (sizeof(a) / sizeof((a)[0]))

static void
spi_begin(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "ripple_backup: SPI_connect failed");
}

static void
spi_check(int rc, int expected, const char *what)
{
	if (rc != expected)
		elog(ERROR, "ripple_backup: %s failed: %s", what, SPI_result_code_string(rc));
}

/* An int8[] of ids, for "id <> ALL($n)". */
static Datum
ids_array(const int64 *ids, int n)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		elems[i] = Int64GetDatum(ids[i]);
	return PointerGetDatum(construct_array(elems, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/* Runs one UPDATE or INSERT with parameters, in its own SPI connection. */
static void
spi_modify(const char *sql, int nargs, Oid *argtypes, Datum *values, int expected,
		   const char *what)
{
	int			rc;

	spi_begin();
	rc = SPI_execute_with_args(sql, nargs, argtypes, values, NULL, false, 0);
	spi_check(rc, expected, what);
	SPI_finish();
}

static char *
get_text(HeapTuple tup, TupleDesc desc, int col, bool *isnull)
{
	Datum		d = SPI_getbinval(tup, desc, col, isnull);

	if (*isnull)
		return NULL;
	return TextDatumGetCString(d);
}

bool
rb_catalog_extension_exists(void)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum("ripple_backup")};
	bool		found;
	int			rc;

	spi_begin();
	rc = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_extension WHERE extname = $1",
							   1, argtypes, values, NULL, true, 1);
	spi_check(rc, SPI_OK_SELECT, "looking up the extension");
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

int
rb_catalog_fail_interrupted(const int64 *exclude, int nexclude)
{
	Oid			argtypes[1] = {INT8ARRAYOID};
	Datum		values[1];
	int			rc;
	int			n;

	values[0] = ids_array(exclude, nexclude);
	spi_begin();
	rc = SPI_execute_with_args("UPDATE ripple_backup.backups"
							   "   SET status = 'failed', finished_at = now(),"
							   "       error = 'interrupted by server restart'"
							   " WHERE status = 'running' AND id <> ALL ($1)",
							   1, argtypes, values, NULL, false, 0);
	spi_check(rc, SPI_OK_UPDATE, "marking interrupted backups");
	n = (int) SPI_processed;
	SPI_finish();
	return n;
}

/*
 * Fills row from columns: id, dbname, backup_type, label, status, error,
 * queued_at, xmin, db_exists, kind.  A physical backup's dbname is NULL (""
 * here) and its db_exists true: its runner connects to the catalog database.
 */
static void
row_from_tuple(HeapTuple tup, TupleDesc desc, RbBackupRow *row, MemoryContext outer)
{
	bool		isnull;
	char	   *s;
	MemoryContext old;

	memset(row, 0, sizeof(*row));
	row->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
	s = get_text(tup, desc, 2, &isnull);
	strlcpy(row->dbname, s ? s : "", sizeof(row->dbname));
	s = get_text(tup, desc, 3, &isnull);
	strlcpy(row->backup_type, s ? s : "manual", sizeof(row->backup_type));
	s = get_text(tup, desc, 5, &isnull);
	strlcpy(row->status, s ? s : "", sizeof(row->status));
	row->queued_at = DatumGetTimestampTz(SPI_getbinval(tup, desc, 7, &isnull));
	row->xmin = DatumGetTransactionId(SPI_getbinval(tup, desc, 8, &isnull));
	row->db_exists = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
	s = get_text(tup, desc, 10, &isnull);
	strlcpy(row->kind, s ? s : "logical", sizeof(row->kind));

	old = MemoryContextSwitchTo(outer);
	row->label = get_text(tup, desc, 4, &isnull);
	row->error = get_text(tup, desc, 6, &isnull);
	MemoryContextSwitchTo(old);
}

#define ROW_COLUMNS \
	"b.id, b.dbname::text, b.backup_type, b.label, b.status, b.error, b.queued_at, b.xmin," \
	" b.dbname IS NULL OR EXISTS (SELECT 1 FROM pg_catalog.pg_database d" \
	"          WHERE d.datname = b.dbname AND d.datallowconn), b.kind"

int
rb_catalog_fetch_queued(int limit, const int64 *exclude, int nexclude, RbBackupRow **rows)
{
	Oid			argtypes[2] = {INT8OID, INT8ARRAYOID};
	Datum		values[2];
	MemoryContext outer = CurrentMemoryContext;
	int			rc;
	int			n;

	*rows = NULL;
	if (limit <= 0)
		return 0;
	values[0] = Int64GetDatum(limit);
	values[1] = ids_array(exclude, nexclude);
	spi_begin();
	rc = SPI_execute_with_args("SELECT " ROW_COLUMNS
							   "  FROM ripple_backup.backups b"
							   " WHERE b.status = 'queued' AND b.id <> ALL ($2)"
							   "   AND (b.retry_at IS NULL OR b.retry_at <= pg_catalog.now())"
							   " ORDER BY b.queued_at, b.id LIMIT $1",
							   2, argtypes, values, NULL, true, 0);
	spi_check(rc, SPI_OK_SELECT, "reading queued backups");
	n = (int) SPI_processed;
	if (n > 0)
	{
		*rows = MemoryContextAllocZero(outer, sizeof(RbBackupRow) * n);
		for (int i = 0; i < n; i++)
			row_from_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, &(*rows)[i], outer);
	}
	SPI_finish();
	return n;
}

bool
rb_catalog_get_backup(int64 id, RbBackupRow *row)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	MemoryContext outer = CurrentMemoryContext;
	bool		found;
	int			rc;

	spi_begin();
	rc = SPI_execute_with_args("SELECT " ROW_COLUMNS
							   "  FROM ripple_backup.backups b WHERE b.id = $1",
							   1, argtypes, values, NULL, false, 1);
	spi_check(rc, SPI_OK_SELECT, "reading a backup");
	found = SPI_processed > 0;
	if (found)
		row_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, row, outer);
	SPI_finish();
	return found;
}

void
rb_catalog_mark_running(int64 id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};

	spi_modify("UPDATE ripple_backup.backups"
			   "   SET status = 'running', started_at = now(), retry_at = NULL"
			   " WHERE id = $1 AND status = 'queued'",
			   1, argtypes, values, SPI_OK_UPDATE, "marking a backup running");
}

void
rb_catalog_mark_verify_pending(int64 id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};

	spi_modify("UPDATE ripple_backup.backups"
			   "   SET verify_status = 'pending'"
			   " WHERE id = $1 AND status = 'succeeded'",
			   1, argtypes, values, SPI_OK_UPDATE, "queueing a verification");
}

int
rb_catalog_fetch_verify_pending(int limit, const int64 *exclude, int nexclude, int64 **ids)
{
	Oid			argtypes[2] = {INT8OID, INT8ARRAYOID};
	Datum		values[2];
	MemoryContext outer = CurrentMemoryContext;
	int			rc;
	int			n;

	*ids = NULL;
	if (limit <= 0)
		return 0;
	values[0] = Int64GetDatum(limit);
	values[1] = ids_array(exclude, nexclude);
	spi_begin();
	rc = SPI_execute_with_args("SELECT b.id FROM ripple_backup.backups b"
							   " WHERE b.verify_status = 'pending' AND b.status = 'succeeded'"
							   "   AND b.id <> ALL ($2)"
							   " ORDER BY b.id LIMIT $1",
							   2, argtypes, values, NULL, true, 0);
	spi_check(rc, SPI_OK_SELECT, "reading pending verifications");
	n = (int) SPI_processed;
	if (n > 0)
	{
		*ids = MemoryContextAlloc(outer, sizeof(int64) * n);
		for (int i = 0; i < n; i++)
		{
			bool		isnull;

			(*ids)[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 1, &isnull));
		}
	}
	SPI_finish();
	return n;
}

void
rb_catalog_verify_lost(int64 id, const char *error)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(error)};

	spi_modify("UPDATE ripple_backup.backups"
			   "   SET verify_status = 'failed', verify_error = $2"
			   " WHERE id = $1 AND verify_status = 'pending'",
			   2, argtypes, values, SPI_OK_UPDATE, "failing a lost verification");
}

void
rb_catalog_record_pending_abort(int64 backup_id, const char *bucket, const char *key,
								const char *upload_id, const char *reason)
{
	Oid			argtypes[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5] = {Int64GetDatum(backup_id), CStringGetTextDatum(bucket),
		CStringGetTextDatum(key), CStringGetTextDatum(upload_id), CStringGetTextDatum(reason)};

	spi_modify("INSERT INTO ripple_backup.pending_aborts"
			   "       (backup_id, bucket, object_key, upload_id, reason)"
			   " VALUES ($1, $2, $3, $4, $5)"
			   " ON CONFLICT (bucket, object_key, upload_id) DO NOTHING",
			   5, argtypes, values, SPI_OK_INSERT, "recording a multipart upload to abort");
}

void
rb_catalog_mark_failed(int64 id, const char *error)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(error)};

	spi_modify("UPDATE ripple_backup.backups"
			   "   SET status = 'failed', finished_at = now(), error = $2"
			   " WHERE id = $1 AND status IN ('queued', 'running')",
			   2, argtypes, values, SPI_OK_UPDATE, "marking a backup failed");
}

bool
rb_catalog_record_result(const RbRunnerSlot *slot, uint64 system_identifier,
						 const RbCountsHeader *counts)
{
	Oid			argtypes[18] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, INT8OID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID, INT8OID, INT4OID,
	TEXTOID, INT4OID, TEXTOID, TEXTOID};
	Datum		values[18];
	char		nulls[18];
	char		sysid[32];
	bool		ok = slot->succeeded;
	bool		updated;
	int			rc;

	memset(nulls, ' ', sizeof(nulls));
	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, system_identifier);
	values[0] = Int64GetDatum(slot->backup_id);
	values[1] = CStringGetTextDatum(ok ? "succeeded" : "failed");
	values[2] = TimestampTzGetDatum(slot->started_at);
	values[3] = TimestampTzGetDatum(slot->finished_at ? slot->finished_at : GetCurrentTimestamp());
	values[4] = Int64GetDatum(slot->size_bytes);
	values[5] = CStringGetTextDatum(slot->sha256);
	values[6] = CStringGetTextDatum(slot->location);
	values[7] = CStringGetTextDatum(slot->object_key);
	values[8] = CStringGetTextDatum(slot->compression);
	values[9] = CStringGetTextDatum(slot->error[0] ? slot->error : "backup failed without a message");
	values[10] = Float8GetDatum(slot->duration_seconds);
	values[11] = CStringGetTextDatum(sysid);
	values[12] = Int64GetDatum((int64) pg_atomic_read_u64((pg_atomic_uint64 *) &slot->bytes_read));
	values[13] = Int32GetDatum((int32) slot->pid);
	values[14] = CStringGetTextDatum(slot->incarnation);
	values[15] = Int32GetDatum((int32) slot->timeline);
	values[16] = CStringGetTextDatum(slot->encryption);
	values[17] = CStringGetTextDatum(slot->key_id);
	if (!ok || slot->encryption[0] == '\0')
		nulls[16] = 'n';
	if (!ok || slot->key_id[0] == '\0')
		nulls[17] = 'n';
	if (slot->incarnation[0] == '\0')
		nulls[14] = 'n';
	if (slot->timeline == 0)
		nulls[15] = 'n';
	if (slot->started_at == 0)
		nulls[2] = 'n';
	if (ok)
		nulls[9] = 'n';
	else
	{
		/* a failed backup left nothing behind: no size, checksum or location */
		nulls[4] = nulls[5] = nulls[6] = nulls[7] = 'n';
		if (slot->compression[0] == '\0')
			nulls[8] = 'n';
	}
	if (slot->pid == 0)
		nulls[13] = 'n';

	spi_begin();
	rc = SPI_execute_with_args("UPDATE ripple_backup.backups"
							   "   SET status = $2, started_at = coalesce(started_at, $3),"
							   "       finished_at = $4, size_bytes = $5, sha256 = $6,"
							   "       location = $7, object_key = $8, compression = $9,"
							   "       error = $10, duration = pg_catalog.make_interval(secs => $11),"
							   "       system_identifier = $12::numeric,"
							   "       uncompressed_bytes = $13, pid = $14,"
							   "       incarnation = $15, timeline = $16,"
							   "       encryption = $17, key_id = $18"
							   " WHERE id = $1 AND status IN ('queued', 'running')",
							   18, argtypes, values, nulls, false, 0);
	spi_check(rc, SPI_OK_UPDATE, "recording a backup result");
	updated = SPI_processed > 0;

	if (updated && ok && strcmp(slot->kind, "physical") == 0)
	{
		Oid			ptypes[4] = {INT8OID, TEXTOID, TEXTOID, TEXTOID};
		Datum		pvalues[4];
		char		pnulls[4] = {' ', ' ', ' ', ' '};

		pvalues[0] = Int64GetDatum(slot->backup_id);
		pvalues[1] = CStringGetTextDatum(slot->start_lsn);
		pvalues[2] = CStringGetTextDatum(slot->stop_lsn);
		pvalues[3] = CStringGetTextDatum(slot->backup_label);
		if (slot->start_lsn[0] == '\0')
			pnulls[1] = 'n';
		if (slot->stop_lsn[0] == '\0')
			pnulls[2] = 'n';
		rc = SPI_execute_with_args("UPDATE ripple_backup.backups"
								   "   SET start_lsn = $2::pg_lsn, stop_lsn = $3::pg_lsn, backup_label = $4"
								   " WHERE id = $1",
								   4, ptypes, pvalues, pnulls, false, 0);
		spi_check(rc, SPI_OK_UPDATE, "recording a base backup's WAL positions");
	}

	if (updated && ok && counts != NULL && counts->ncounts > 0)
	{
		int			n = counts->ncounts;
		Datum	   *schemas = palloc(sizeof(Datum) * n);
		Datum	   *tables = palloc(sizeof(Datum) * n);
		Datum	   *rows = palloc(sizeof(Datum) * n);
		Oid			targtypes[4] = {INT8OID, TEXTARRAYOID, TEXTARRAYOID, INT8ARRAYOID};
		Datum		tvalues[4];

		for (int i = 0; i < n; i++)
		{
			schemas[i] = CStringGetTextDatum(counts->counts[i].schema_name);
			tables[i] = CStringGetTextDatum(counts->counts[i].table_name);
			rows[i] = Int64GetDatum(counts->counts[i].row_count);
		}
		tvalues[0] = Int64GetDatum(slot->backup_id);
		tvalues[1] = PointerGetDatum(construct_array(schemas, n, TEXTOID, -1, false, TYPALIGN_INT));
		tvalues[2] = PointerGetDatum(construct_array(tables, n, TEXTOID, -1, false, TYPALIGN_INT));
		tvalues[3] = PointerGetDatum(construct_array(rows, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		rc = SPI_execute_with_args("INSERT INTO ripple_backup.backup_tables"
								   "       (backup_id, schema_name, table_name, row_count)"
								   " SELECT $1, u.s::name, u.t::name, u.r"
								   "   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3),"
								   "                   pg_catalog.unnest($4)) AS u(s, t, r)"
								   " ON CONFLICT (backup_id, schema_name, table_name)"
								   " DO UPDATE SET row_count = EXCLUDED.row_count",
								   4, targtypes, tvalues, NULL, false, 0);
		spi_check(rc, SPI_OK_INSERT, "recording per-table row counts");
	}
	SPI_finish();
	return updated;
}

bool
rb_catalog_incarnation(uint32 timeline, uint64 system_identifier, char *id)
{
	Oid			argtypes[2] = {INT4OID, TEXTOID};
	Datum		values[2];
	char		sysid[32];
	bool		isnull;
	bool		found;
	int			rc;

	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, system_identifier);
	values[0] = Int32GetDatum((int32) timeline);
	values[1] = CStringGetTextDatum(sysid);
	spi_begin();
	rc = SPI_execute_with_args("SELECT incarnation_id FROM ripple_backup.incarnation"
							   " WHERE timeline = $1 AND system_identifier = $2::numeric",
							   2, argtypes, values, NULL, true, 1);
	spi_check(rc, SPI_OK_SELECT, "reading the server incarnation");
	found = SPI_processed > 0;
	if (found)
	{
		char	   *s = get_text(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		strlcpy(id, s ? s : "", RB_INCARNATION_LEN);
		found = s != NULL;
	}
	SPI_finish();
	return found;
}

void
rb_catalog_store_incarnation(const char *id, uint32 timeline, uint64 system_identifier)
{
	Oid			argtypes[3] = {TEXTOID, INT4OID, TEXTOID};
	Datum		values[3];
	char		sysid[32];
	int			rc;

	snprintf(sysid, sizeof(sysid), UINT64_FORMAT, system_identifier);
	values[0] = CStringGetTextDatum(id);
	values[1] = Int32GetDatum((int32) timeline);
	values[2] = CStringGetTextDatum(sysid);
	spi_begin();
	rc = SPI_execute_with_args("INSERT INTO ripple_backup.incarnation AS i"
							   "       (incarnation_id, timeline, system_identifier)"
							   " VALUES ($1, $2, $3::numeric)"
							   " ON CONFLICT (singleton) DO UPDATE"
							   "   SET incarnation_id = EXCLUDED.incarnation_id,"
							   "       timeline = EXCLUDED.timeline,"
							   "       system_identifier = EXCLUDED.system_identifier,"
							   "       previous_incarnation_id = i.incarnation_id,"
							   "       began_at = pg_catalog.now()",
							   3, argtypes, values, NULL, false, 0);
	spi_check(rc, SPI_OK_INSERT, "storing the server incarnation");
	SPI_finish();
}

int64
rb_catalog_insert_queued(const char *dbname, const char *label, const char *requested_by)
{
	Oid			argtypes[3] = {TEXTOID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};
	bool		isnull;
	int64		id;
	int			rc;

	values[0] = CStringGetTextDatum(dbname);
	values[1] = label ? CStringGetTextDatum(label) : (Datum) 0;
	values[2] = CStringGetTextDatum(requested_by);
	if (label == NULL)
		nulls[1] = 'n';

	spi_begin();
	rc = SPI_execute_with_args("INSERT INTO ripple_backup.backups"
							   "       (dbname, backup_type, label, requested_by)"
							   " VALUES ($1::name, 'manual', $2, $3::name) RETURNING id",
							   3, argtypes, values, nulls, false, 1);
	spi_check(rc, SPI_OK_INSERT_RETURNING, "queueing a backup");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

int64
rb_catalog_insert_queued_physical(const char *label, const char *requested_by)
{
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	int64		id;
	int			rc;

	values[0] = label ? CStringGetTextDatum(label) : (Datum) 0;
	values[1] = CStringGetTextDatum(requested_by);
	if (label == NULL)
		nulls[0] = 'n';

	spi_begin();
	rc = SPI_execute_with_args("INSERT INTO ripple_backup.backups"
							   "       (dbname, kind, backup_type, label, requested_by)"
							   " VALUES (NULL, 'physical', 'manual', $1, $2::name) RETURNING id",
							   2, argtypes, values, nulls, false, 1);
	spi_check(rc, SPI_OK_INSERT_RETURNING, "queueing a base backup");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}
