/*
 * base_backup_sql.c — ripple_backup_base_backup(label): queues a physical base
 * backup of the whole cluster (and wakes the launcher when the transaction
 * commits).  Beside EXECUTE (revoked from PUBLIC) the calling role must be a
 * superuser or have the REPLICATION attribute: a base backup copies every
 * database and every role's password hash, which is what pg_basebackup's own
 * rule (a replication connection) grants.
 */
#include "postgres.h"

#include "access/xlog.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"

#include "catalog.h"
#include "guc.h"
#include "shmem.h"
#include "sql_functions.h"
#include "base_backup_sql.h"

PG_FUNCTION_INFO_V1(ripple_backup_base_backup);

void
rb_require_base_backup_privilege(void)
{
	Oid			caller = GetOuterUserId();

	if (!superuser_arg(caller) && !has_rolreplication(caller))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to take a base backup"),
				 errdetail("Role \"%s\" is neither a superuser nor has the REPLICATION attribute; a base backup copies the whole cluster.",
						   GetUserNameFromId(caller, false)),
				 errhint("ALTER ROLE ... REPLICATION, or act as a superuser.")));
}

Datum
ripple_backup_base_backup(PG_FUNCTION_ARGS)
{
	Oid			caller = GetOuterUserId();
	char	   *label = NULL;
	int64		id;

	rb_require_preload();
	rb_require_catalog_database("ripple_backup_base_backup()");
	rb_require_base_backup_privilege();
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot queue a base backup on a standby server"),
				 errdetail("The catalog is read-only during recovery and the launcher starts only after promotion."),
				 errhint("Queue the backup on the primary.")));
	if (!PG_ARGISNULL(0))
	{
		label = text_to_cstring(PG_GETARG_TEXT_PP(0));
		if (strlen(label) >= RB_LABEL_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
					 errmsg("backup label is too long"),
					 errdetail("A label has at most %d bytes.", RB_LABEL_LEN - 1)));
	}
	if (rb_guc_destination == NULL || rb_guc_destination[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no backup destination is configured"),
				 errhint("Set ripple_backup.destination to s3://bucket/prefix or file:///directory in postgresql.conf and reload.")));

	id = rb_catalog_insert_queued_physical(label, GetUserNameFromId(caller, false));
	rb_wake_launcher_at_commit();
	if (!rb_launcher_running())
		ereport(WARNING,
				(errmsg("no ripple_backup launcher is running"),
				 errdetail("Base backup %lld is queued; it starts only when a launcher runs.", (long long) id),
				 errhint("If the server log says \"too many background workers\", raise max_worker_processes and restart the server.")));
	PG_RETURN_INT64(id);
}
