/*
 * wal_ready.c — the WAL files marked ready for the archiver (see wal_ready.h).
 * A marker or file that disappears while the directory is read (archived and
 * removed meanwhile) is simply not counted.
 */
#include "postgres.h"

#include <dirent.h>
#include <string.h>
#include <sys/stat.h>

#include "storage/fd.h"
#include "utils/timestamp.h"

#include "wal_ready.h"

#define STATUS_DIR XLOGDIR "/archive_status"

void
rb_wal_ready_scan(RbWalReady *out)
{
	DIR		   *dir = AllocateDir(STATUS_DIR);
	struct dirent *de;

	memset(out, 0, sizeof(*out));
	if (dir == NULL)
		return;
	while ((de = ReadDir(dir, STATUS_DIR)) != NULL)
	{
		size_t		len = strlen(de->d_name);
		char		name[MAXFNAMELEN];
		char		path[MAXPGPATH];
		struct stat st;

		if (len <= 6 || strcmp(de->d_name + len - 6, ".ready") != 0 || len - 6 >= MAXFNAMELEN)
			continue;
		memcpy(name, de->d_name, len - 6);
		name[len - 6] = '\0';
		out->count++;
		if (out->oldest[0] == '\0' || strcmp(name, out->oldest) < 0)
			strlcpy(out->oldest, name, MAXFNAMELEN);
		snprintf(path, sizeof(path), STATUS_DIR "/%s", de->d_name);
		if (stat(path, &st) == 0)
		{
			TimestampTz t = time_t_to_timestamptz(st.st_mtime);

			if (out->first_since == 0 || t < out->first_since)
				out->first_since = t;
		}
		snprintf(path, sizeof(path), XLOGDIR "/%s", name);
		if (stat(path, &st) == 0)
			out->bytes += (int64) st.st_size;
	}
	FreeDir(dir);
}
