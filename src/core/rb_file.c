/*
 * rb_file.c — whole writes and private side files (see rb_file.h).
 */
#define _GNU_SOURCE				/* nftw */
#include "rb_file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
rb_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

char *
rb_file_write_new(const char *base, const char *suffix, const char *text, rb_error *err)
{
	size_t		len = strlen(base) + strlen(suffix) + 1;
	char	   *path = malloc(len);
	int			fd;

	if (path == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	snprintf(path, len, "%s%s", base, suffix);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0600);
	if (fd < 0 || rb_write_all(fd, text, strlen(text)) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not write file \"%s\": %s", path, strerror(errno));
		if (fd >= 0)
		{
			close(fd);
			unlink(path);
		}
		free(path);
		return NULL;
	}
	if (close(fd) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not write file \"%s\": %s", path, strerror(errno));
		unlink(path);
		free(path);
		return NULL;
	}
	return path;
}

void
rb_file_remove(char *path)
{
	if (path != NULL)
	{
		unlink(path);
		free(path);
	}
}

static int	tree_errno;

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void) sb;
	(void) ftw;
	if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT && tree_errno == 0)
		tree_errno = errno;
	return 0;					/* go on: remove as much as can be */
}

int
rb_remove_tree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -1;
	tree_errno = 0;
	if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && tree_errno == 0)
		tree_errno = errno;
	if (tree_errno != 0)
	{
		errno = tree_errno;
		return -1;
	}
	return 0;
}
