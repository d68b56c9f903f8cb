/*
 * restore_role.c — the restore role's life cycle around one restore-level
 * verify (see restore_role.h).  All catalog access through SPI as the
 * verifier's own (superuser) role; role names in utility statements are quoted
 * with quote_identifier, values that can be parameters are parameters.
 */
#include "postgres.h"

#include <fcntl.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/user.h"
#include "executor/spi.h"
#include "common/scram-common.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "restore_role.h"

/* advisory lock key of the restore verify ("ripple_b" in ASCII) */
#define RB_RESTORE_LOCK_KEY INT64CONST(0x726970706c655f62)
/*
 * Its locktag's field4: pg_advisory_lock() and friends use only 1 (a bigint key)
 * and 2 (two integer keys), so no SQL session can take or hold this lock.
 */
#define RB_RESTORE_LOCK_SPACE 3
/* how long the password stays valid when the caller gave no timeout */
#define RB_RESTORE_DEFAULT_VALID_MS (INT64CONST(24) * 3600 * 1000)

char	   *rb_guc_verify_role = NULL;

static check_password_hook_type prev_check_password_hook = NULL;

/*
 * Only a superuser (the verifier) sets the restore role's password: the
 * restored code runs as the role, and a role may set its own password, which
 * would let whoever wrote that code log in as the role in later verifies.
 */
static void
check_restore_role_password(const char *username, const char *shadow_pass, PasswordType password_type,
							Datum validuntil_time, bool validuntil_null)
{
	if (rb_guc_verify_role != NULL && strcmp(username, rb_guc_verify_role) == 0 && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to set the password of role \"%s\"", username),
				 errdetail("The restore role of ripple_backup (ripple_backup.verify_role) gets a new password from the verifier for each restore verify.")));
	if (prev_check_password_hook)
		prev_check_password_hook(username, shadow_pass, password_type, validuntil_time, validuntil_null);
}

static bool
check_verify_role(char **newval, void **extra, GucSource source)
{
	(void) extra;
	(void) source;
	if (*newval == NULL || (*newval)[0] == '\0' || strlen(*newval) >= NAMEDATALEN)
	{
		GUC_check_errdetail("The role name must be between 1 and %d bytes long.", NAMEDATALEN - 1);
		return false;
	}
	if (strncmp(*newval, "pg_", 3) == 0)
	{
		GUC_check_errdetail("Role names beginning with \"pg_\" are reserved.");
		return false;
	}
	return true;
}

void
rb_restore_role_define_gucs(void)
{
	DefineCustomStringVariable("ripple_backup.verify_role",
							   "Role that a restore-level verify logs in as to restore and count a backup.",
							   "Created on first use; never a superuser, never a member of another role, and able to log in only while a restore verify runs.",
							   &rb_guc_verify_role, "ripple_backup_restore",
							   PGC_SIGHUP, 0, check_verify_role, NULL, NULL);
	prev_check_password_hook = check_password_hook;
	check_password_hook = check_restore_role_password;
}

static void
xact_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
}

static void
xact_end(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
}

static void
spi_utility(const char *sql)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc < 0)
		elog(ERROR, "SPI_execute failed: %d", rc);
}

/* The session lock of the restore verify: taken (waiting for it) or released. */
static void
restore_lock(bool take)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (RB_RESTORE_LOCK_KEY >> 32),
						 (uint32) RB_RESTORE_LOCK_KEY, RB_RESTORE_LOCK_SPACE);
	if (take)
		(void) LockAcquire(&tag, ExclusiveLock, true, false);
	else
		(void) LockRelease(&tag, ExclusiveLock, true);
}

/*
 * Ends every other session of the role (waiting up to 5 s each), once its
 * NOLOGIN is committed: NOLOGIN stops new logins only.
 */
static void
terminate_sessions(Oid oid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(oid)};

	if (SPI_execute_with_args("SELECT pg_catalog.pg_terminate_backend(pid, 5000) FROM pg_catalog.pg_stat_activity"
							  " WHERE usesysid OPERATOR(pg_catalog.=) $1"
							  "   AND pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()",
							  1, argtypes, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed ending the sessions of the restore role");
}

/* The role's oid and whether it is a superuser; InvalidOid when it does not exist. */
static Oid
role_oid(const char *role, bool *super)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(role)};
	bool		isnull;

	*super = false;
	if (SPI_execute_with_args("SELECT oid, rolsuper FROM pg_catalog.pg_authid WHERE rolname = $1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed reading role \"%s\"", role);
	if (SPI_processed == 0)
		return InvalidOid;
	*super = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	return DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* A role the restore role is a member of, or one of its members; NULL = none. */
static char *
role_membership(Oid oid, bool *is_member)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(oid)};

	if (SPI_execute_with_args("SELECT m.member = $1, r.rolname FROM pg_catalog.pg_auth_members m"
							  "  JOIN pg_catalog.pg_authid r"
							  "    ON r.oid = CASE WHEN m.member = $1 THEN m.roleid ELSE m.member END"
							  " WHERE m.member = $1 OR m.roleid = $1 ORDER BY 1 DESC, 2 LIMIT 1",
							  1, argtypes, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed reading role memberships");
	if (SPI_processed == 0)
		return NULL;
	*is_member = strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1), "t") == 0;
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
}

/*
 * ALTER ROLE ... RESET ALL for every pg_db_role_setting row of the role: the
 * restored code runs as the role and may give it settings (a role may set its
 * own), for every database.
 */
static void
reset_settings(const char *role, Oid oid)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(oid)};
	List	   *stmts = NIL;
	ListCell   *lc;

	if (SPI_execute_with_args("SELECT s.setdatabase = 0, d.datname FROM pg_catalog.pg_db_role_setting s"
							  "  LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase"
							  " WHERE s.setrole = $1",
							  1, argtypes, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed reading the settings of role \"%s\"", role);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *global = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *datname = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);

		if (strcmp(global, "t") == 0)
			stmts = lappend(stmts, psprintf("ALTER ROLE %s RESET ALL", quote_identifier(role)));
		else if (datname != NULL)
			stmts = lappend(stmts, psprintf("ALTER ROLE %s IN DATABASE %s RESET ALL",
											quote_identifier(role), quote_identifier(datname)));
	}
	foreach(lc, stmts)
		spi_utility((const char *) lfirst(lc));
}

/* Takes LOGIN, the password and the settings away. */
static void
lock_role(const char *role, Oid oid)
{
	spi_utility(psprintf("ALTER ROLE %s NOLOGIN PASSWORD NULL", quote_identifier(role)));
	reset_settings(role, oid);
}

/*
 * The SCRAM-SHA-256 secret of password, as pg_be_scram_build_secret builds it
 * (whose header, libpq/libpq-be.h, needs the GSSAPI headers at build time).
 */
static char *
scram_secret(const char *password)
{
	char		salt[SCRAM_DEFAULT_SALT_LEN];
	const char *errstr = NULL;
	char	   *secret;

	if (!pg_strong_random(salt, sizeof(salt)))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate a random salt")));
	secret = scram_build_secret(salt, sizeof(salt), SCRAM_DEFAULT_ITERATIONS, password, &errstr);
	if (secret == NULL)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
						errmsg("could not build a SCRAM secret: %s", errstr ? errstr : "unknown error")));
	return secret;
}

/* Writes "*:*:*:<role>:<password>" to a new mode-0600 file; false on failure. */
static bool
write_passfile(const char *path, const char *role, const char *password)
{
	StringInfoData line;
	int			fd;
	bool		ok;

	initStringInfo(&line);
	appendStringInfoString(&line, "*:*:*:");
	for (const char *p = role; *p; p++)
	{
		if (*p == ':' || *p == '\\')
			appendStringInfoChar(&line, '\\');
		appendStringInfoChar(&line, *p);
	}
	appendStringInfo(&line, ":%s\n", password);
	(void) unlink(path);		/* left by a crashed worker with the same pid */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, S_IRUSR | S_IWUSR);
	if (fd < 0)
		return false;
	ok = write(fd, line.data, line.len) == line.len;
	ok = close(fd) == 0 && ok;
	explicit_bzero(line.data, line.len);
	pfree(line.data);
	if (!ok)
		(void) unlink(path);
	return ok;
}

static void
set_password(const RbRestoreLogin *login)
{
	spi_utility(psprintf("ALTER ROLE %s PASSWORD %s VALID UNTIL %s", quote_identifier(login->role),
						 quote_literal_cstr(login->secret), quote_literal_cstr(login->valid_until)));
}

void
rb_restore_login_rearm(RbRestoreLogin *login)
{
	bool		super;
	Oid			oid;

	if (!login->armed)
		return;
	/* a pending cancel is seen by the verification right after, which then closes */
	HOLD_INTERRUPTS();
	xact_begin();
	oid = role_oid(login->role, &super);
	if (OidIsValid(oid))
	{
		reset_settings(login->role, oid);
		set_password(login);
	}
	xact_end();
	RESUME_INTERRUPTS();
}

bool
rb_restore_login_open(const char *dir, int64 valid_ms, RbRestoreLogin *login, char *msg, size_t msglen)
{
	const char *role = rb_guc_verify_role;
	uint8		raw[24];
	char		password[2 * sizeof(raw) + 1];
	char	   *secret;
	const char *valid_until;
	Oid			oid;
	bool		super;
	bool		is_member = false;
	char	   *other;

	memset(login, 0, sizeof(*login));
	strlcpy(login->role, role, sizeof(login->role));
	msg[0] = '\0';

	/* one restore verify at a time: a second one waits here for the first */
	xact_begin();
	restore_lock(true);
	xact_end();
	login->locked = true;

	xact_begin();
	oid = role_oid(role, &super);
	if (!OidIsValid(oid))
	{
		spi_utility(psprintf("CREATE ROLE %s NOLOGIN", quote_identifier(role)));
		oid = role_oid(role, &super);
		ereport(LOG, (errmsg("ripple_backup: created the restore role \"%s\"", role)));
	}
	if (super)
		snprintf(msg, msglen, "the restore role \"%s\" (ripple_backup.verify_role) is a superuser; "
				 "name a role that only ripple_backup uses", role);
	else if ((other = role_membership(oid, &is_member)) != NULL)
		snprintf(msg, msglen, is_member ?
				 "the restore role \"%s\" (ripple_backup.verify_role) is a member of role \"%s\"; it must be a member of no role" :
				 "the restore role \"%s\" (ripple_backup.verify_role) has a member, role \"%s\"; it must have none",
				 role, other);
	if (msg[0] != '\0')
	{
		xact_end();
		rb_restore_login_close(login);
		return false;
	}
	/* what a crashed run may have left (its sessions too), then the attributes, forced every time */
	lock_role(role, oid);
	xact_end();
	xact_begin();
	terminate_sessions(oid);
	if (!pg_strong_random(raw, sizeof(raw)))
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate a random password")));
	hex_encode((const char *) raw, sizeof(raw), password);
	password[2 * sizeof(raw)] = '\0';
	secret = scram_secret(password);
	login->secret = MemoryContextStrdup(TopMemoryContext, secret);
	valid_until = timestamptz_to_str(TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
																 valid_ms > 0 ? valid_ms : RB_RESTORE_DEFAULT_VALID_MS));
	login->valid_until = MemoryContextStrdup(TopMemoryContext, valid_until);
	spi_utility(psprintf("ALTER ROLE %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
						 " INHERIT CONNECTION LIMIT -1 LOGIN",
						 quote_identifier(role)));
	set_password(login);
	xact_end();
	login->armed = true;
	explicit_bzero(raw, sizeof(raw));

	snprintf(login->passfile, sizeof(login->passfile), "%s/%s_ripple_backup_restore.%d.pass",
			 dir, PG_TEMP_FILE_PREFIX, MyProcPid);
	if (!write_passfile(login->passfile, role, password))
	{
		snprintf(msg, msglen, "could not write the restore role's password file \"%s\": %m", login->passfile);
		login->passfile[0] = '\0';
		explicit_bzero(password, sizeof(password));
		rb_restore_login_close(login);
		return false;
	}
	explicit_bzero(password, sizeof(password));
	return true;
}

void
rb_restore_login_close(RbRestoreLogin *login)
{
	bool		super;
	Oid			oid;

	if (!login->locked)
		return;
	/* even when a cancel is pending: the role must not keep its login */
	HOLD_INTERRUPTS();
	if (login->passfile[0] != '\0')
	{
		(void) unlink(login->passfile);
		login->passfile[0] = '\0';
	}
	xact_begin();
	if (login->armed)
	{
		oid = role_oid(login->role, &super);
		if (OidIsValid(oid) && !super)
			lock_role(login->role, oid);
		login->armed = false;
		xact_end();
		xact_begin();
		if (OidIsValid(oid) && !super)
			terminate_sessions(oid);
	}
	xact_end();
	/* only once the role is locked is committed: the next run alters it at once */
	xact_begin();
	restore_lock(false);
	xact_end();
	if (login->secret != NULL)
	{
		pfree(login->secret);
		pfree(login->valid_until);
		login->secret = NULL;
		login->valid_until = NULL;
	}
	login->locked = false;
	RESUME_INTERRUPTS();
}
