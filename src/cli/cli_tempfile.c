/*
 * cli_tempfile.c — temporary files that become results or vanish (see cli_tempfile.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cli_format.h"
#include "cli_tempfile.h"
#include "rb_alloc.h"
#include "rb_buf.h"

int
cli_tempfile_create(cli_tempfile *t, const char *dir, const char *prefix, const char *suffix,
					rb_error *err)
{
	rb_buf		p = RB_BUF_INIT;

	t->fd = -1;
	t->path = NULL;
	rb_buf_appendf(&p, "%s/%sXXXXXX%s", dir, prefix, suffix);
	t->fd = mkstemps(p.data, (int) strlen(suffix));
	if (t->fd < 0)
	{
		int			e = errno;

		rb_error_set(err, RB_ERR_IO, "could not create temporary file in \"%s\": %s",
					 dir, strerror(e));
		rb_buf_free(&p);
		return -1;
	}
	t->path = p.data;
	return 0;
}

int
cli_tempfile_commit(cli_tempfile *t, const char *final_path, rb_error *err)
{
	if (fsync(t->fd) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not fsync file \"%s\": %s", t->path, strerror(errno));
		cli_tempfile_remove(t);
		return -1;
	}
	if (close(t->fd) != 0)
	{
		t->fd = -1;
		rb_error_set(err, RB_ERR_IO, "could not close file \"%s\": %s", t->path, strerror(errno));
		cli_tempfile_remove(t);
		return -1;
	}
	t->fd = -1;
	if (rename(t->path, final_path) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not rename \"%s\" to \"%s\": %s",
					 t->path, final_path, strerror(errno));
		cli_tempfile_remove(t);
		return -1;
	}
	free(t->path);
	t->path = NULL;
	return 0;
}

void
cli_tempfile_remove(cli_tempfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->path)
		unlink(t->path);
	free(t->path);
	t->path = NULL;
}

const char *
cli_work_dir(const char *flag)
{
	const char *d;

	if (flag && flag[0])
		return flag;
	d = getenv("TMPDIR");
	if (d && d[0])
		return d;
	return "/tmp";
}

int
cli_check_free_space(const char *dir, uint64_t need, rb_error *err)
{
	struct statvfs st;
	uint64_t	avail;

	if (statvfs(dir, &st) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not access directory \"%s\": %s",
							dir, strerror(errno));
	avail = (uint64_t) st.f_bavail * (uint64_t) st.f_frsize;
	if (avail < need)
	{
		char		a[32],
					n[32];

		rb_format_bytes(avail, a, sizeof(a));
		rb_format_bytes(need, n, sizeof(n));
		return rb_error_set(err, RB_ERR_IO,
							"not enough free space in \"%s\": the archive needs %s, %s are free",
							dir, n, a);
	}
	return 0;
}

char *
cli_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return rb_strdup(".");
	if (slash == path)
		return rb_strdup("/");
	return rb_strndup(path, (size_t) (slash - path));
}
