/*
 * tar_extract.c — a tar scanner sink that writes the members into a directory
 * (see tar_extract.h).
 */
#include "tar_extract.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rb_file.h"

#define PATH_CAP 4352

struct rb_tar_extract
{
	char	   *root;
	rb_tar_sink sink;
	int			fd;				/* the file being written; -1 = none */
	char		path[PATH_CAP];	/* its path, for messages */
	uint64_t	files;
	uint64_t	bytes;
};

/* A relative name of plain components: no "", ".", ".." and no leading "/". */
static bool
name_is_safe(const char *name)
{
	const char *p = name;

	if (name[0] == '\0' || name[0] == '/')
		return false;
	while (*p)
	{
		const char *slash = strchr(p, '/');
		size_t		n = slash ? (size_t) (slash - p) : strlen(p);

		if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (n == 0 && slash != NULL && slash[1] != '\0')
			return false;		/* "a//b" */
		if (slash == NULL)
			break;
		p = slash + 1;
	}
	return true;
}

/* mkdir -p of the directories of rel (all of it when whole) below root, mode 0700. */
static int
make_parents(rb_tar_extract *x, const char *rel, bool whole, rb_error *err)
{
	char		path[PATH_CAP];
	size_t		rlen = strlen(x->root);
	size_t		len;

	if (rlen + 1 + strlen(rel) >= sizeof(path))
		return rb_error_set(err, RB_ERR_INTEGRITY, "tar member name too long: \"%s\"", rel);
	len = (size_t) snprintf(path, sizeof(path), "%s/%s", x->root, rel);
	while (len > rlen + 1 && path[len - 1] == '/')
		path[--len] = '\0';
	for (char *p = path + rlen + 1; *p; p++)
	{
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST)
			return rb_error_set(err, RB_ERR_IO, "could not create directory \"%s\": %s", path, strerror(errno));
		*p = '/';
	}
	if (whole && mkdir(path, 0700) != 0 && errno != EEXIST)
		return rb_error_set(err, RB_ERR_IO, "could not create directory \"%s\": %s", path, strerror(errno));
	return 0;
}

static int
x_begin(void *arg, const char *name, char type, uint64_t size, unsigned int mode, rb_error *err)
{
	rb_tar_extract *x = arg;

	(void) mode;				/* a data directory wants 0600 files and 0700 directories */
	if (!name_is_safe(name))
		return rb_error_set(err, RB_ERR_INTEGRITY, "tar member \"%s\" is not a relative name inside the archive", name);
	if (type == '5')
	{
		if (make_parents(x, name, true, err) != 0)
			return -1;
		x->files++;
		return 0;
	}
	if (type != '0' && type != '\0')
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"tar member \"%s\" has type '%c': only files and directories are unpacked (a base backup of a cluster without tablespaces has nothing else)",
							name, type);
	if (make_parents(x, name, false, err) != 0)
		return -1;
	snprintf(x->path, sizeof(x->path), "%s/%s", x->root, name);
	x->fd = open(x->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (x->fd < 0)
		return rb_error_set(err, errno == EEXIST ? RB_ERR_INTEGRITY : RB_ERR_IO,
							"could not create \"%s\": %s", x->path, strerror(errno));
	x->files++;
	(void) size;
	return 0;
}

static int
x_data(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_tar_extract *x = arg;

	if (x->fd < 0)
		return 0;				/* a directory's content (none is expected) */
	if (rb_write_all(x->fd, data, len) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not write \"%s\": %s", x->path, strerror(errno));
	x->bytes += len;
	return 0;
}

static int
x_end(void *arg, rb_error *err)
{
	rb_tar_extract *x = arg;

	if (x->fd >= 0)
	{
		int			rc = close(x->fd);

		x->fd = -1;
		if (rc != 0)
			return rb_error_set(err, RB_ERR_IO, "could not write \"%s\": %s", x->path, strerror(errno));
	}
	return 0;
}

rb_tar_extract *
rb_tar_extract_new(const char *root)
{
	rb_tar_extract *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->root = strdup(root);
	if (x->root == NULL)
	{
		free(x);
		return NULL;
	}
	x->fd = -1;
	x->sink.begin = x_begin;
	x->sink.data = x_data;
	x->sink.end = x_end;
	x->sink.arg = x;
	return x;
}

const rb_tar_sink *
rb_tar_extract_sink(rb_tar_extract *x)
{
	return &x->sink;
}

uint64_t
rb_tar_extract_files(const rb_tar_extract *x)
{
	return x->files;
}

uint64_t
rb_tar_extract_bytes(const rb_tar_extract *x)
{
	return x->bytes;
}

void
rb_tar_extract_free(rb_tar_extract *x)
{
	if (x == NULL)
		return;
	if (x->fd >= 0)
		close(x->fd);
	free(x->root);
	free(x);
}
