/*
 * verify_cleanup.c — names of a restore verify's scratch database and
 * temporary files, and the launcher's start-up removal of those that no
 * running verifier owns (see verify_cleanup.h).
 */
#include "postgres.h"

#include <ctype.h>
#include <limits.h>
#include <unistd.h>

#include "access/xact.h"
#include "commands/dbcommands.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/procarray.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "base_drill.h"
#include "drill.h"
#include "verify_cleanup.h"

#define SCRATCH_PREFIX "ripple_backup_verify_"
#define TEMP_PREFIX PG_TEMP_FILE_PREFIX "_ripple_backup_verify_"

void
rb_verify_scratch_name(char *buf, size_t len, int64 backup_id)
{
	/* 21 + 19 + 1 + 10 bytes at most: always below NAMEDATALEN */
	snprintf(buf, len, SCRATCH_PREFIX "%lld_%d", (long long) backup_id, (int) MyProcPid);
}

void
rb_verify_temp_dir(char *buf, size_t len)
{
	snprintf(buf, len, "%s/base/%s", DataDir, PG_TEMP_FILES_DIR);
	(void) MakePGDirectory(buf);
}

void
rb_verify_temp_prefix(char *buf, size_t len)
{
	snprintf(buf, len, TEMP_PREFIX "%d_", (int) MyProcPid);
}

/*
 * The process id in a name "<prefix><digits>_" (temporary file) or
 * "<prefix><digits>_<digits>" (scratch database: the last number); 0 when
 * the name is not of that shape.
 */
static int
owner_pid(const char *name, const char *prefix, bool pid_last)
{
	size_t		plen = strlen(prefix);
	const char *p;
	const char *digits;
	long		pid;

	if (strncmp(name, prefix, plen) != 0)
		return 0;
	p = name + plen;
	if (pid_last)
	{
		/* the backup id, then "_" */
		if (!isdigit((unsigned char) *p))
			return 0;
		while (isdigit((unsigned char) *p))
			p++;
		if (*p++ != '_')
			return 0;
	}
	digits = p;
	while (isdigit((unsigned char) *p))
		p++;
	if (p == digits || p - digits > 10 || (pid_last ? *p != '\0' : *p != '_'))
		return 0;
	pid = strtol(digits, NULL, 10);
	return pid > 0 && pid <= INT_MAX ? (int) pid : 0;
}

/* Whether a server process with this pid runs (it may be the owner). */
static bool
pid_running(int pid)
{
	return BackendPidGetProc(pid) != NULL;
}

/* The scratch databases whose verifier is gone, in TopMemoryContext. */
static List *
stale_scratch_databases(void)
{
	List	   *names = NIL;
	int			rc;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	rc = SPI_execute("SELECT datname FROM pg_catalog.pg_database"
					 " WHERE datname LIKE 'ripple\\_backup\\_verify\\_%'", true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed listing scratch databases: %d", rc);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		int			pid = owner_pid(name, SCRATCH_PREFIX, true);

		if (pid != 0 && !pid_running(pid))
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			names = lappend(names, pstrdup(name));
			MemoryContextSwitchTo(old);
		}
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	return names;
}

/* DROP DATABASE ... WITH (FORCE), in a transaction of its own; false on an error. */
static bool
drop_database(const char *name)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile bool ok = true;

	PG_TRY();
	{
		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		PushActiveSnapshot(GetTransactionSnapshot());
		dropdb(name, true, true);
		PopActiveSnapshot();
		CommitTransactionCommand();
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		ereport(WARNING,
				(errmsg("ripple_backup: could not drop the leftover scratch database \"%s\"", name),
				 errdetail("%s", edata->message),
				 errhint("It is dropped at the next start of the launcher, or drop it by hand.")));
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}

/* Unlinks our temporary files in base/pgsql_tmp whose process is gone; their number. */
static int
remove_stale_temp_files(void)
{
	char		dir[MAXPGPATH];
	char		path[MAXPGPATH * 2];
	DIR		   *d;
	struct dirent *de;
	int			removed = 0;

	snprintf(dir, sizeof(dir), "%s/base/%s", DataDir, PG_TEMP_FILES_DIR);
	d = AllocateDir(dir);
	if (d == NULL)
		return 0;				/* no directory: nothing left behind */
	while ((de = ReadDirExtended(d, dir, LOG)) != NULL)
	{
		int			pid = owner_pid(de->d_name, TEMP_PREFIX, false);

		if (pid == 0 || pid_running(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (unlink(path) == 0)
			removed++;
		else if (errno != ENOENT)
			ereport(WARNING,
					(errcode_for_file_access(),
					 errmsg("ripple_backup: could not remove leftover temporary file \"%s\": %m", path)));
	}
	FreeDir(d);
	return removed;
}

/*
 * Removes the scratch directories "drill_<id>_<pid>" in
 * ripple_backup.drill_directory whose verifier is gone (a base backup drill
 * killed outright), stopping a copy still running from one; their number.
 */
static int
remove_stale_drills(void)
{
	const char *dir = rb_guc_drill_directory;
	char		path[MAXPGPATH * 2];
	DIR		   *d;
	struct dirent *de;
	int			removed = 0;

	if (dir == NULL || dir[0] == '\0')
		return 0;
	d = AllocateDir(dir);
	if (d == NULL)
		return 0;				/* no directory: no drill ran */
	while ((de = ReadDirExtended(d, dir, LOG)) != NULL)
	{
		int			pid = owner_pid(de->d_name, "drill_", true);
		rb_error	err;

		if (pid == 0 || pid_running(pid))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		rb_error_clear(&err);
		if (rb_base_drill_remove_leftover(path, &err) == 0)
			removed++;
		else
			ereport(WARNING,
					(errmsg("ripple_backup: could not remove the leftover drill directory \"%s\"", path),
					 errdetail("%s", err.msg)));
	}
	FreeDir(d);
	return removed;
}

void
rb_verify_cleanup_leftovers(void)
{
	List	   *names = stale_scratch_databases();
	int			dropped = 0;
	int			files;
	int			drills;
	ListCell   *lc;

	foreach(lc, names)
	{
		if (drop_database((const char *) lfirst(lc)))
			dropped++;
	}
	list_free_deep(names);
	files = remove_stale_temp_files();
	drills = remove_stale_drills();
	if (dropped > 0 || files > 0 || drills > 0)
		ereport(LOG,
				(errmsg("ripple_backup: removed what interrupted restore verifies left behind: %d scratch database(s), %d temporary file(s), %d drill directory(ies)",
						dropped, files, drills)));
}
