/*
 * notify_facts.c — reads what a notification says from the catalog (see
 * notify_facts.h), or for WAL archiving events from shared memory.  One query for the backup and its database's last success,
 * one for its largest tables; every value is a parameter.
 */
#include "postgres.h"

#include <unistd.h>

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#include "notify_facts.h"
#include "notify_settings.h"
#include "wal_archive_stats.h"

/* Column col of the first result row as a string in the upper context, or NULL. */
static const char *
col_text(int col)
{
	char	   *s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);
	char	   *copy;

	if (s == NULL)
		return NULL;
	copy = SPI_palloc(strlen(s) + 1);
	strcpy(copy, s);
	return copy;
}

/* Column col as a float8 (the query casts), or dflt when NULL. */
static double
col_double(int col, double dflt)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return isnull ? dflt : DatumGetFloat8(d);
}

static const char *
host_name(void)
{
	char		host[256];

	if (cluster_name != NULL && cluster_name[0] != '\0')
		return pstrdup(cluster_name);
	if (gethostname(host, sizeof(host)) != 0)
		return NULL;
	host[sizeof(host) - 1] = '\0';
	return pstrdup(host);
}

static void
backup_facts(int64 backup_id, rb_notify_event *ev)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(backup_id)};
	int			rc;

	rc = SPI_execute_with_args(
		"SELECT b.id::text, b.dbname::text, b.label, b.status,"
		"       extract(epoch FROM b.started_at)::float8,"
		"       extract(epoch FROM b.duration)::float8,"
		"       b.size_bytes::float8,"
		"       CASE WHEN b.size_bytes > 0 AND b.uncompressed_bytes > 0"
		"            THEN b.uncompressed_bytes::float8 / b.size_bytes END,"
		"       t.rows_total::float8, t.tables_total::float8,"
		"       b.location, b.verify_status, b.error, b.verify_error, b.restore_seconds,"
		"       extract(epoch FROM s.finished_at)::float8,"
		"       extract(epoch FROM pg_catalog.clock_timestamp() - s.finished_at)::float8"
		"  FROM ripple_backup.backups b"
		"  LEFT JOIN LATERAL (SELECT sum(bt.row_count) AS rows_total, count(*) AS tables_total"
		"                       FROM ripple_backup.backup_tables bt WHERE bt.backup_id = b.id"
		"                     HAVING count(*) > 0) t ON true"
		"  LEFT JOIN LATERAL (SELECT x.finished_at FROM ripple_backup.backups x"
		"                      WHERE x.dbname = b.dbname AND x.status = 'succeeded' AND x.id <> b.id"
		"                      ORDER BY x.finished_at DESC LIMIT 1) s ON true"
		" WHERE b.id = $1",
		1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading backup %lld failed: %s", (long long) backup_id,
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return;
	ev->backup_id = col_text(1);
	ev->dbname = col_text(2);
	ev->label = col_text(3);
	ev->status = col_text(4);
	ev->started_at = (int64) col_double(5, -1);
	ev->duration_s = col_double(6, -1);
	ev->size_bytes = (int64) col_double(7, -1);
	ev->compression_ratio = col_double(8, -1);
	ev->rows_total = (int64) col_double(9, -1);
	ev->tables_total = (int64) col_double(10, -1);
	ev->location = col_text(11);
	/* a failed backup stored nothing: there is nothing to verify */
	ev->verification = ev->kind == RB_NOTIFY_BACKUP_FAILED ? NULL : col_text(12);
	ev->error = col_text(13);
	if (ev->kind == RB_NOTIFY_VERIFY_FAILED || ev->kind == RB_NOTIFY_DRILL_FAILED)
	{
		ev->error = col_text(14);
		ev->hint = "The backup itself is kept; take a new one and verify it before relying on it.";
	}
	if (ev->kind == RB_NOTIFY_DRILL_SUCCEEDED || ev->kind == RB_NOTIFY_DRILL_FAILED)
		ev->restore_s = col_double(15, -1);
	if (rb_notify_kind_is_failure(ev->kind))
	{
		ev->last_success_at = (int64) col_double(16, -1);
		ev->last_success_age_s = col_double(17, -1);
	}

	/* the largest tables, largest first */
	rc = SPI_execute_with_args("SELECT pg_catalog.format('%s.%s', schema_name, table_name), row_count::float8"
							   "  FROM ripple_backup.backup_tables WHERE backup_id = $1"
							   " ORDER BY row_count DESC, schema_name, table_name LIMIT "
							   CppAsString2(RB_NOTIFY_LARGEST_TABLES),
							   1, argtypes, values, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the tables of backup %lld failed: %s", (long long) backup_id,
			 SPI_result_code_string(rc));
	if (SPI_processed > 0)
	{
		rb_notify_table *t = SPI_palloc(sizeof(rb_notify_table) * SPI_processed);

		for (uint64 i = 0; i < SPI_processed; i++)
		{
			bool		isnull;
			char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
			char	   *copy = SPI_palloc(strlen(name) + 1);

			strcpy(copy, name);
			t[i].name = copy;
			t[i].rows = (int64) DatumGetFloat8(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 2, &isnull));
		}
		ev->largest_tables = t;
		ev->nlargest_tables = SPI_processed;
	}
}

/* The last success of a database and its age (RPO events). */
static void
database_facts(const char *dbname, rb_notify_event *ev)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(dbname)};
	int			rc;

	rc = SPI_execute_with_args("SELECT extract(epoch FROM max(finished_at))::float8,"
							   "       extract(epoch FROM pg_catalog.clock_timestamp() - max(finished_at))::float8"
							   "  FROM ripple_backup.backups WHERE dbname = $1::name AND status = 'succeeded'",
							   1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "reading the last success of database \"%s\" failed: %s", dbname,
			 SPI_result_code_string(rc));
	if (SPI_processed == 0)
		return;
	ev->last_success_at = (int64) col_double(1, -1);
	ev->last_success_age_s = col_double(2, -1);
}

/*
 * WAL archiving (wal_archive.*): the archive module's figures in shared memory
 * when the notification is sent, as the other events read the catalog then.
 */
static void
wal_archive_facts(rb_notify_event *ev)
{
	RbWalArchiveStats s;
	TimestampTz now = GetCurrentTimestamp();

	if (!rb_wal_stats_read(&s))
		return;
	if (s.last_archived_time != 0)
	{
		ev->last_success_at = (int64) timestamptz_to_time_t(s.last_archived_time);
		ev->last_success_age_s = (double) (now - s.last_archived_time) / USECS_PER_SEC;
	}
	if (ev->kind == RB_NOTIFY_WAL_ARCHIVE_FAILING && s.consecutive_failures > 0)
	{
		ev->status = "failing";
		ev->error = pstrdup(s.last_error);
		ev->detail = psprintf("%lld attempts in a row have failed, for %lld s; the last one was for WAL file \"%s\".",
							  (long long) s.consecutive_failures,
							  (long long) ((now - s.failing_since) / USECS_PER_SEC),
							  s.last_failed_wal);
		ev->hint = "SELECT * FROM ripple_backup.wal_archive shows the last error; ripple_backup_health() shows the WAL waiting in pg_wal and the free space left.";
	}
	else
	{
		ev->status = s.consecutive_failures > 0 ? "failing" : "archiving";
		if (s.last_archived_wal[0] != '\0')
			ev->detail = psprintf("The last WAL file archived is \"%s\".", s.last_archived_wal);
	}
}

void
rb_notify_facts(rb_notify_kind kind, int64 backup_id, const char *dbname, rb_notify_event *ev)
{
	rb_notify_event_init(ev, kind);
	ev->host = host_name();
	if (dbname != NULL)
		ev->dbname = pstrdup(dbname);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (backup_id != 0)
		backup_facts(backup_id, ev);
	if (kind == RB_NOTIFY_RPO_BREACHED || kind == RB_NOTIFY_RPO_RECOVERED)
	{
		ev->rpo_target_s = rb_guc_rpo_target_s;
		if (ev->dbname != NULL)
			database_facts(ev->dbname, ev);
		if (kind == RB_NOTIFY_RPO_BREACHED)
			ev->hint = "Check the server log and ripple_backup_health(); take a backup with SELECT ripple_backup_now().";
	}
	if (kind == RB_NOTIFY_WAL_ARCHIVE_FAILING || kind == RB_NOTIFY_WAL_ARCHIVE_RECOVERED)
		wal_archive_facts(ev);
	SPI_finish();
}
