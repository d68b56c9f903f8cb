/*
 * upload_journal.c — durable notes of open multipart uploads (see upload_journal.h).
 *
 * A note is the file pg_stat_tmp/ripple_backup_uploads/<backup id> in the data
 * directory (the working directory of every server process), holding bucket, key
 * and upload id, each ended by a NUL byte (a key may hold any character but NUL).
 * pg_stat_tmp survives a crash but its contents are left out of base backups (as
 * pg_stat_statements' query texts are), so a standby or clone made from this
 * server never inherits a note of an upload that is not its own.  A note is
 * written to a temporary name, fsynced and renamed, so that a crash leaves either
 * no note or a whole one.
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "storage/fd.h"

#include "catalog.h"
#include "upload_journal.h"

#define JOURNAL_DIR PG_STAT_TMP_DIR "/ripple_backup_uploads"
#define NOTE_MAX (3 * 1024)

static void
note_path(char *buf, size_t len, int64 backup_id, const char *suffix)
{
	snprintf(buf, len, "%s/%lld%s", JOURNAL_DIR, (long long) backup_id, suffix);
}

void
rb_upload_journal_note(int64 backup_id, const char *bucket, const char *key,
					   const char *upload_id)
{
	char		tmp[MAXPGPATH];
	char		path[MAXPGPATH];
	char		buf[NOTE_MAX];
	size_t		lb = strlen(bucket) + 1;
	size_t		lk = strlen(key) + 1;
	size_t		lu = strlen(upload_id) + 1;
	int			fd;
	bool		ok;

	if (lb + lk + lu > sizeof(buf))
		return;
	memcpy(buf, bucket, lb);
	memcpy(buf + lb, key, lk);
	memcpy(buf + lb + lk, upload_id, lu);
	if (mkdir(JOURNAL_DIR, S_IRWXU) < 0 && errno != EEXIST)
		return;
	note_path(tmp, sizeof(tmp), backup_id, ".tmp");
	note_path(path, sizeof(path), backup_id, "");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY, S_IRUSR | S_IWUSR);
	if (fd < 0)
		return;
	ok = write(fd, buf, lb + lk + lu) == (ssize_t) (lb + lk + lu) && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = false;
	if (!ok || rename(tmp, path) != 0)
		(void) unlink(tmp);
}

void
rb_upload_journal_forget(int64 backup_id)
{
	char		path[MAXPGPATH];

	note_path(path, sizeof(path), backup_id, "");
	if (unlink(path) != 0 && errno != ENOENT)
		ereport(LOG,
				(errcode_for_file_access(),
				 errmsg("ripple_backup: could not remove \"%s\": %m", path)));
}

/* Reads a note into buf; returns true and the three fields when it is whole. */
static bool
read_note(const char *path, char *buf, size_t len,
		  const char **bucket, const char **key, const char **upload_id)
{
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	ssize_t		n;
	const char *p;
	const char *end;

	if (fd < 0)
		return false;
	n = read(fd, buf, len);
	CloseTransientFile(fd);
	if (n <= 0)
		return false;
	end = buf + n;
	p = buf;
	*bucket = p;
	p = memchr(p, '\0', end - p);
	if (p == NULL || ++p >= end)
		return false;
	*key = p;
	p = memchr(p, '\0', end - p);
	if (p == NULL || ++p >= end)
		return false;
	*upload_id = p;
	p = memchr(p, '\0', end - p);
	return p != NULL && p + 1 == end && **bucket && **key && **upload_id;
}

int
rb_upload_journal_recover(const int64 *busy, int nbusy)
{
	DIR		   *d;
	struct dirent *de;
	int			recorded = 0;

	d = AllocateDir(JOURNAL_DIR);
	if (d == NULL)
		return 0;				/* no directory: no upload was ever noted */
	while ((de = ReadDirExtended(d, JOURNAL_DIR, LOG)) != NULL)
	{
		char		path[MAXPGPATH];
		char		buf[NOTE_MAX];
		const char *bucket;
		const char *key;
		const char *upload_id;
		char	   *endp;
		long long	id;
		bool		owned = false;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", JOURNAL_DIR, de->d_name);
		id = strtoll(de->d_name, &endp, 10);
		if (endp == de->d_name || (*endp != '\0' && strcmp(endp, ".tmp") != 0))
			continue;			/* not a note */
		for (int i = 0; i < nbusy; i++)
			owned |= busy[i] == id;
		if (owned)
			continue;
		if (*endp == '\0' && read_note(path, buf, sizeof(buf), &bucket, &key, &upload_id))
		{
			rb_catalog_record_pending_abort((int64) id, bucket, key, upload_id,
											"interrupted by server restart while the upload was open");
			ereport(LOG,
					(errmsg("ripple_backup: backup %lld left a multipart upload open when the server stopped: bucket \"%s\", key \"%s\", upload id \"%s\"",
							id, bucket, key, upload_id),
					 errhint("It is recorded in ripple_backup.pending_aborts for a later abort; until then its parts use storage (they never list as an object).")));
			recorded++;
		}
		if (unlink(path) != 0 && errno != ENOENT)
			ereport(LOG,
					(errcode_for_file_access(),
					 errmsg("ripple_backup: could not remove \"%s\": %m", path)));
	}
	FreeDir(d);
	return recorded;
}
