/*
 * restore_role.h — the unprivileged role a restore-level verify logs in as
 * (ripple_backup.verify_role, default ripple_backup_restore).
 *
 * The role is created on first use, is never a superuser and never a member of
 * any role (or has members), and can log in only while a restore verify runs:
 * rb_restore_login_open takes a session lock that no SQL session can take or
 * hold (one restore verify at a time: the role's password is per run), resets
 * whatever the previous run's restored code may have left on the role (its
 * settings everywhere, its sessions), forces its attributes and gives it LOGIN
 * with a random password, sent to the catalog as a SCRAM secret built here (the
 * clear password is never in SQL text) and handed to the client programs in a
 * mode-0600 password file; rb_restore_login_close takes LOGIN, the password and
 * the settings away again, ends the role's sessions and releases the lock.  Only
 * a superuser may set the role's password (a check_password_hook): the restored
 * code runs as the role, which could otherwise give itself a password its author
 * knows.  A crashed run is cleaned up by the next one (and its password expires
 * with VALID UNTIL).
 */
#ifndef RB_RESTORE_ROLE_H
#define RB_RESTORE_ROLE_H

#include "postgres.h"

/* ripple_backup.verify_role */
extern char *rb_guc_verify_role;

typedef struct RbRestoreLogin
{
	char		role[NAMEDATALEN];
	char		passfile[MAXPGPATH];	/* "" when none was written */
	bool		locked;			/* the advisory lock is held */
	bool		armed;			/* the role was given LOGIN and a password */
	char	   *secret;			/* its SCRAM secret (TopMemoryContext) */
	char	   *valid_until;	/* its VALID UNTIL */
} RbRestoreLogin;

/* Defines ripple_backup.verify_role (from rb_verifier_define_gucs). */
extern void rb_restore_role_define_gucs(void);

/*
 * Makes the role ready to log in for valid_ms and writes its password file into
 * dir.  Outside a transaction.  Returns false with a message in msg when the
 * role cannot be used safely (then nothing is held or changed).
 */
extern bool rb_restore_login_open(const char *dir, int64 valid_ms, RbRestoreLogin *login,
								  char *msg, size_t msglen);

/*
 * Between the restore and the count: resets the role's settings and sets its
 * password again (the restored code ran as the role and may have changed both).
 */
extern void rb_restore_login_rearm(RbRestoreLogin *login);

/* Locks the role again, removes the password file, releases the lock.  Idempotent. */
extern void rb_restore_login_close(RbRestoreLogin *login);

#endif							/* RB_RESTORE_ROLE_H */
