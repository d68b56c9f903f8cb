/*
 * encryption.c — ripple_backup.encryption_key_file and decryption_key_files
 * (see encryption.h): their definitions, the check that each is an absolute
 * path (a relative one would depend on the data directory and be read from
 * wherever the process happens to run), and the loading of their keys through
 * src/core (encrypt_key.h), which refuses a key file rather than weaken a backup.
 */
#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/guc.h"
#include "utils/varlena.h"

#include "encryption.h"

char	   *rb_guc_encryption_key_file = NULL;
char	   *rb_guc_decryption_key_files = NULL;

/* The files of decryption_key_files (palloc'd); NIL when the list does not parse. */
static List *
split_files(const char *value, bool *ok)
{
	char	   *raw = pstrdup(value ? value : "");
	List	   *files = NIL;

	*ok = SplitDirectoriesString(raw, ',', &files);
	return files;
}

static bool
check_key_file(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (v == NULL || v[0] == '\0' || is_absolute_path(v))
		return true;
	GUC_check_errmsg("encryption key file \"%s\" is not an absolute path", v);
	GUC_check_errdetail("The key file is read by background workers whose working directory is not yours.");
	GUC_check_errhint("Give the full path, such as /etc/postgresql/ripple_backup.key.");
	return false;
}

static bool
check_key_files(char **newval, void **extra, GucSource source)
{
	bool		ok;
	List	   *files = split_files(*newval, &ok);
	ListCell   *lc;

	if (!ok)
	{
		GUC_check_errdetail("The list of decryption key files could not be parsed: give absolute paths separated by commas.");
		return false;
	}
	if (list_length(files) > RB_KEYRING_MAX - 1)
	{
		GUC_check_errdetail("At most %d old key files can be listed.", RB_KEYRING_MAX - 1);
		return false;
	}
	foreach(lc, files)
	{
		const char *f = (const char *) lfirst(lc);

		if (!is_absolute_path(f))
		{
			GUC_check_errmsg("decryption key file \"%s\" is not an absolute path", f);
			GUC_check_errhint("Give full paths separated by commas.");
			return false;
		}
	}
	return true;
}

void
rb_encryption_define_gucs(void)
{
	DefineCustomStringVariable("ripple_backup.encryption_key_file",
							   "File holding the key every new backup is encrypted with; empty means no encryption.",
							   "An absolute path to a file of mode 0600 or 0400 with one 256-bit key (64 hex digits or base64), as ripple-backup keygen writes it.  A key file that cannot be used fails the backup: nothing is stored unencrypted.",
							   &rb_guc_encryption_key_file, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_key_file, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.decryption_key_files",
							   "Comma-separated key files of earlier keys, kept to verify and restore backups taken before a key rotation.",
							   "Never used to encrypt.  Each is an absolute path, checked like encryption_key_file.",
							   &rb_guc_decryption_key_files, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_key_files, NULL, NULL);
}

int
rb_encryption_current_key(rb_key *key, bool *configured, rb_error *err)
{
	const char *path = rb_guc_encryption_key_file;

	*configured = false;
	memset(key, 0, sizeof(*key));
	if (path == NULL || path[0] == '\0')
		return 0;
	*configured = true;
	if (rb_key_load_file(path, key, err) != 0)
	{
		rb_key_wipe(key);
		rb_error_prefix(err, "ripple_backup.encryption_key_file refused, nothing is stored unencrypted: ");
		return -1;
	}
	return 0;
}

/* Loads one file into the ring; a failure is logged and added to problems. */
static void
add_file(rb_keyring *ring, const char *setting, const char *path, char *problems,
		 size_t problems_len)
{
	rb_error	err;
	size_t		used = strlen(problems);

	rb_error_clear(&err);
	if (rb_keyring_add_file(ring, path, &err) == 0)
		return;
	ereport(LOG,
			(errmsg("ripple_backup: a key file of %s could not be loaded", setting),
			 errdetail("%s", err.msg)));
	if (used < problems_len)
		snprintf(problems + used, problems_len - used, "%s(%s) %s",
				 used > 0 ? "; " : "", setting, err.msg);
}

void
rb_encryption_keyring(rb_keyring *ring, char *problems, size_t problems_len)
{
	bool		ok;
	List	   *files;
	ListCell   *lc;

	rb_keyring_init(ring);
	if (problems_len > 0)
		problems[0] = '\0';
	if (rb_guc_encryption_key_file != NULL && rb_guc_encryption_key_file[0] != '\0')
		add_file(ring, "ripple_backup.encryption_key_file", rb_guc_encryption_key_file,
				 problems, problems_len);
	files = split_files(rb_guc_decryption_key_files, &ok);
	foreach(lc, files)
		add_file(ring, "ripple_backup.decryption_key_files", (const char *) lfirst(lc),
				 problems, problems_len);
	list_free_deep(files);
}
