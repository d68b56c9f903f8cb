/*
 * dest_file.c — the file:// destination: objects are files under a directory.
 * An object is written under a temporary name in its final directory
 * (".<name>.tmp-<pid>"), fsynced, renamed into place and the directory fsynced, so
 * a reader sees either nothing or the whole object; abort unlinks the temporary
 * file.  Missing directories are created (mode 0700); files are 0600.
 *
 * A new object (the writer, create_small) never replaces a file: the rename is
 * renameat2(RENAME_NOREPLACE), or link() + unlink() on a file system that cannot
 * (EINVAL); a name already taken fails with RB_ERR_EXISTS and the temporary
 * file is removed.  put_small replaces (rename).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dest_impl.h"
#include "rb_alloc.h"
#include "rb_buf.h"

typedef struct file_writer
{
	int			fd;
	char	   *final_path;
	char	   *tmp_path;
	char	   *dir;
	int			failed;
	bool		exclusive;		/* never replace an existing file */
} file_writer;

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

int
rb_dest_file_rename_noreplace(const char *from, const char *to, bool use_link)
{
#ifdef SYS_renameat2
	if (!use_link)
	{
		if (syscall(SYS_renameat2, AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
			return 0;
		/* EINVAL: this file system cannot; ENOSYS: neither can this kernel */
		if (errno != EINVAL && errno != ENOSYS)
			return -1;
	}
#else
	(void) use_link;
#endif
	/* link() never replaces either: EEXIST when the name is taken */
	if (link(from, to) < 0)
		return -1;
	(void) unlink(from);
	return 0;
}

static char *
join(const char *dir, const char *key)
{
	size_t		n = strlen(dir) + strlen(key) + 2;
	char	   *r = rb_malloc(n);

	if (strcmp(dir, "/") == 0)
		snprintf(r, n, "/%s", key);
	else
		snprintf(r, n, "%s/%s", dir, key);
	return r;
}

static char *
dirname_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t		n = slash == path ? 1 : (size_t) (slash - path);
	char	   *r = rb_malloc(n + 1);

	memcpy(r, path, n);
	r[n] = '\0';
	return r;
}

/* mkdir -p path (every missing level, mode 0700). */
static int
make_dirs(const char *path, rb_error *err)
{
	char	   *p = rb_strdup(path);
	struct stat st;

	for (char *s = p + 1;; s++)
	{
		if (*s == '/' || *s == '\0')
		{
			char		c = *s;

			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
			{
				rb_error_set(err, RB_ERR_IO, "could not create directory \"%s\": %s", p, strerror(errno));
				free(p);
				return -1;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode))
	{
		rb_error_set(err, RB_ERR_IO, "\"%s\" is not a directory", p);
		free(p);
		return -1;
	}
	free(p);
	return 0;
}

static int
fsync_dir(const char *dir, rb_error *err)
{
	int			fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return rb_error_set(err, RB_ERR_IO, "could not open directory \"%s\": %s", dir, strerror(errno));
	if (fsync(fd) < 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not fsync directory \"%s\": %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void
free_writer(file_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	free(w->final_path);
	free(w->tmp_path);
	free(w->dir);
	free(w);
}

static file_writer *
writer_open(rb_destination *d, const char *key, bool exclusive, rb_error *err)
{
	file_writer *w = rb_calloc(1, sizeof(*w));
	const char *base;
	size_t		n;

	w->fd = -1;
	w->exclusive = exclusive;
	w->final_path = join(d->location, key);
	w->dir = dirname_of(w->final_path);
	base = strrchr(w->final_path, '/') + 1;
	n = strlen(w->dir) + strlen(base) + 40;
	w->tmp_path = rb_malloc(n);
	snprintf(w->tmp_path, n, "%s/.%s.tmp-%d", strcmp(w->dir, "/") == 0 ? "" : w->dir, base,
			 (int) getpid());
	if (make_dirs(w->dir, err) < 0)
		goto fail;
	w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->fd < 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not create file \"%s\": %s", w->tmp_path, strerror(errno));
		goto fail;
	}
	return w;
fail:
	free_writer(w);
	return NULL;
}

static void *
file_writer_open(rb_destination *d, const char *key, rb_error *err)
{
	return writer_open(d, key, true, err);
}

static int
file_writer_write(void *arg, const void *data, size_t len, rb_error *err)
{
	file_writer *w = arg;
	const char *p = data;

	while (len > 0)
	{
		ssize_t		n = write(w->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			w->failed = 1;
			return rb_error_set(err, RB_ERR_IO, "could not write file \"%s\": %s", w->tmp_path,
								n < 0 ? strerror(errno) : "no space written");
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

static void
file_writer_abort(void *arg)
{
	file_writer *w = arg;

	if (w->fd >= 0)
	{
		close(w->fd);
		w->fd = -1;
	}
	(void) unlink(w->tmp_path);
	free_writer(w);
}

static int
file_writer_commit(void *arg, rb_error *err)
{
	file_writer *w = arg;

	if (w->failed)
	{
		file_writer_abort(w);
		return rb_error_set(err, RB_ERR_IO, "cannot commit a failed write");
	}
	if (fsync(w->fd) < 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not fsync file \"%s\": %s", w->tmp_path, strerror(errno));
		file_writer_abort(w);
		return -1;
	}
	if (close(w->fd) < 0)
	{
		w->fd = -1;
		rb_error_set(err, RB_ERR_IO, "could not close file \"%s\": %s", w->tmp_path, strerror(errno));
		file_writer_abort(w);
		return -1;
	}
	w->fd = -1;
	if (w->exclusive ? rb_dest_file_rename_noreplace(w->tmp_path, w->final_path, false) < 0
		: rename(w->tmp_path, w->final_path) < 0)
	{
		if (errno == EEXIST)
			rb_error_set(err, RB_ERR_EXISTS,
						 "file \"%s\" already exists: another writer stored it first; nothing was overwritten",
						 w->final_path);
		else
			rb_error_set(err, RB_ERR_IO, "could not rename \"%s\" to \"%s\": %s", w->tmp_path,
						 w->final_path, strerror(errno));
		file_writer_abort(w);
		return -1;
	}
	if (fsync_dir(w->dir, err) < 0)
	{
		free_writer(w);
		return -1;
	}
	free_writer(w);
	return 0;
}

static int
put_one(rb_destination *d, const char *key, const void *data, size_t len, bool exclusive,
		rb_error *err)
{
	file_writer *w = writer_open(d, key, exclusive, err);

	if (w == NULL)
		return -1;
	if (file_writer_write(w, data, len, err) < 0)
	{
		file_writer_abort(w);
		return -1;
	}
	return file_writer_commit(w, err);
}

static int
file_put_small(rb_destination *d, const char *key, const void *data, size_t len, rb_error *err)
{
	return put_one(d, key, data, len, false, err);
}

static int
file_create_small(rb_destination *d, const char *key, const void *data, size_t len, rb_error *err)
{
	return put_one(d, key, data, len, true, err);
}

static int
open_error(const char *path, rb_error *err)
{
	if (errno == ENOENT || errno == ENOTDIR)
		return rb_error_set(err, RB_ERR_NOT_FOUND, "file \"%s\" does not exist", path);
	return rb_error_set(err, RB_ERR_IO, "could not open file \"%s\": %s", path, strerror(errno));
}

static int
file_get(rb_destination *d, const char *key, uint64_t offset, uint64_t length,
		 rb_write_fn out, void *out_arg, rb_error *err)
{
	char	   *path = join(d->location, key);
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	char	   *buf = NULL;
	uint64_t	left = length ? length : UINT64_MAX;
	int			rc = -1;

	if (fd < 0)
	{
		open_error(path, err);
		free(path);
		return -1;
	}
	if (offset > 0 && lseek(fd, (off_t) offset, SEEK_SET) < 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not seek in file \"%s\": %s", path, strerror(errno));
		goto done;
	}
	buf = malloc(256 * 1024);
	if (buf == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory reading \"%s\"", path);
		goto done;
	}
	while (left > 0)
	{
		size_t		want = left < 256 * 1024 ? (size_t) left : 256 * 1024;
		ssize_t		n = read(fd, buf, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			rb_error_set(err, RB_ERR_IO, "could not read file \"%s\": %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (out(out_arg, buf, (size_t) n, err) < 0)
			goto done;
		left -= (uint64_t) n;
		if (rb_cancelled(d->hooks))
		{
			rb_error_set(err, RB_ERR_CANCELLED, "reading \"%s\" was cancelled", path);
			goto done;
		}
	}
	rc = 0;
done:
	free(buf);
	close(fd);
	free(path);
	return rc;
}

static int
file_head(rb_destination *d, const char *key, uint64_t *size, int64_t *mtime, rb_error *err)
{
	char	   *path = join(d->location, key);
	struct stat st;
	int			rc = 0;

	if (stat(path, &st) < 0)
		rc = open_error(path, err);
	else if (!S_ISREG(st.st_mode))
		rc = rb_error_set(err, RB_ERR_NOT_FOUND, "\"%s\" is not a file", path);
	else
	{
		*size = (uint64_t) st.st_size;
		*mtime = (int64_t) st.st_mtime;
	}
	free(path);
	return rc;
}

typedef struct list_state
{
	char	  **keys;
	size_t		n;
	size_t		cap;
} list_state;

/* Collects the keys of regular files under dir (rel = their key prefix); hidden names skipped. */
static int
walk(const char *dir, const char *rel, const char *prefix, list_state *ls, rb_error *err)
{
	DIR		   *dh = opendir(dir);
	struct dirent *de;

	if (dh == NULL)
	{
		if (errno == ENOENT && rel[0] == '\0')
			return 0;			/* nothing written yet */
		return rb_error_set(err, RB_ERR_IO, "could not open directory \"%s\": %s", dir, strerror(errno));
	}
	while ((de = readdir(dh)) != NULL)
	{
		char	   *path,
				   *key;
		struct stat st;
		size_t		klen;

		if (de->d_name[0] == '.')
			continue;			/* ".", "..", temporary files */
		path = join(dir, de->d_name);
		klen = strlen(rel) + strlen(de->d_name) + 2;
		key = rb_malloc(klen);
		snprintf(key, klen, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		{
			/* descend only where the prefix can still match */
			size_t		kl = strlen(key);

			if (strncmp(key, prefix, kl < strlen(prefix) ? kl : strlen(prefix)) == 0 &&
				walk(path, key, prefix, ls, err) < 0)
			{
				free(path);
				free(key);
				closedir(dh);
				return -1;
			}
			free(key);
		}
		else if (S_ISREG(st.st_mode) && strncmp(key, prefix, strlen(prefix)) == 0)
		{
			if (ls->n == ls->cap)
			{
				ls->cap = ls->cap ? 2 * ls->cap : 64;
				ls->keys = rb_realloc(ls->keys, ls->cap * sizeof(char *));
			}
			ls->keys[ls->n++] = key;
		}
		else
			free(key);
		free(path);
	}
	closedir(dh);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int
file_list(rb_destination *d, const char *prefix, rb_list_fn cb, void *cb_arg, rb_error *err)
{
	list_state	ls = {NULL, 0, 0};
	int			rc = walk(d->location, "", prefix, &ls, err);

	if (rc == 0)
	{
		if (ls.n > 1)
			qsort(ls.keys, ls.n, sizeof(char *), cmp_str);
		for (size_t i = 0; i < ls.n && rc == 0; i++)
		{
			rb_object_info info = {ls.keys[i], 0, 0};
			char	   *path = join(d->location, ls.keys[i]);
			struct stat st;

			if (stat(path, &st) == 0)
			{
				info.size = (uint64_t) st.st_size;
				info.mtime = (int64_t) st.st_mtime;
				rc = cb(cb_arg, &info, err);
			}
			free(path);
		}
	}
	for (size_t i = 0; i < ls.n; i++)
		free(ls.keys[i]);
	free(ls.keys);
	return rc < 0 ? -1 : 0;
}

static int
file_delete(rb_destination *d, const char *key, rb_error *err)
{
	char	   *path = join(d->location, key);
	int			rc = 0;

	if (unlink(path) < 0 && errno != ENOENT)
		rc = rb_error_set(err, RB_ERR_IO, "could not remove file \"%s\": %s", path, strerror(errno));
	free(path);
	return rc;
}

static void
file_close(rb_destination *d)
{
	(void) d;
}

static const rb_dest_ops file_ops = {
	file_writer_open, file_writer_write, file_writer_commit, file_writer_abort, NULL,
	file_put_small, file_get, file_head, file_list, file_delete, file_close, file_create_small
};

int
rb_dest_file_init(rb_destination *d, const rb_destination_options *opt, rb_error *err)
{
	(void) opt;
	(void) err;
	d->ops = &file_ops;
	return 0;
}
