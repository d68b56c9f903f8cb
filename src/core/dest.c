/*
 * dest.c — destination URLs ("s3://bucket/prefix", "file:///path"), key
 * checks, and dispatch to the file and S3 implementations (see dest.h).
 */
#include "dest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest_impl.h"
#include "rb_alloc.h"

struct rb_dest_writer
{
	rb_destination *dest;
	void	   *impl;
};

/* Keys are relative paths: not empty, no leading '/', no "." or ".." segment, no NUL games. */
static int
check_key(const char *key, rb_error *err)
{
	const char *seg = key;

	if (key == NULL || key[0] == '\0')
		return rb_error_set(err, RB_ERR_INVALID, "invalid object key: empty");
	if (strlen(key) > 1000)
		return rb_error_set(err, RB_ERR_INVALID, "invalid object key: longer than 1000 bytes");
	if (key[0] == '/')
		return rb_error_set(err, RB_ERR_INVALID, "invalid object key \"%s\": must be relative", key);
	for (;;)
	{
		const char *slash = strchr(seg, '/');
		size_t		n = slash ? (size_t) (slash - seg) : strlen(seg);

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.') ||
			(n == 0 && slash != NULL))
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid object key \"%s\": empty, \".\" or \"..\" path segment", key);
		if (slash == NULL)
			break;
		seg = slash + 1;
	}
	return 0;
}

rb_destination *
rb_destination_open(const char *url, const rb_destination_options *opt, const rb_hooks *hooks,
					rb_error *err)
{
	rb_destination_options defaults;
	rb_destination *d;
	int			rc;

	if (opt == NULL)
	{
		memset(&defaults, 0, sizeof(defaults));
		opt = &defaults;
	}
	if (url == NULL || url[0] == '\0')
	{
		rb_error_set(err, RB_ERR_INVALID, "no destination configured");
		return NULL;
	}
	d = rb_calloc(1, sizeof(*d));
	d->hooks = hooks;

	if (strncmp(url, "file://", 7) == 0)
	{
		const char *path = url + 7;
		size_t		n = strlen(path);

		if (path[0] != '/')
		{
			rb_error_set(err, RB_ERR_INVALID,
						 "invalid destination \"%s\": a file:// URL needs an absolute path (file:///dir)", url);
			goto fail;
		}
		while (n > 1 && path[n - 1] == '/')
			n--;
		d->kind = RB_DEST_FILE;
		d->location = rb_strndup(path, n);
		d->prefix = rb_strndup("", 0);
		d->url = rb_malloc(n + 8);
		snprintf(d->url, n + 8, "file://%s", d->location);
		rc = rb_dest_file_init(d, opt, err);
	}
	else if (strncmp(url, "s3://", 5) == 0)
	{
		const char *b = url + 5;
		const char *slash = strchr(b, '/');
		size_t		blen = slash ? (size_t) (slash - b) : strlen(b);
		const char *p = slash ? slash + 1 : "";
		size_t		plen;

		if (blen == 0)
		{
			rb_error_set(err, RB_ERR_INVALID, "invalid destination \"%s\": no bucket name", url);
			goto fail;
		}
		while (*p == '/')
			p++;
		plen = strlen(p);
		while (plen > 0 && p[plen - 1] == '/')
			plen--;
		d->kind = RB_DEST_S3;
		d->location = rb_strndup(b, blen);
		d->prefix = rb_strndup(p, plen);
		if (plen > 0 && check_key(d->prefix, err) < 0)
		{
			rb_error_prefix(err, "invalid destination \"%s\": ", url);
			goto fail;
		}
		d->url = rb_malloc(blen + plen + 8);
		snprintf(d->url, blen + plen + 8, "s3://%s%s%s", d->location, plen ? "/" : "", d->prefix);
		rc = rb_dest_s3_init(d, opt, err);
	}
	else
	{
		rb_error_set(err, RB_ERR_INVALID,
					 "invalid destination \"%s\": scheme must be s3:// or file://", url);
		goto fail;
	}
	if (rc < 0)
		goto fail;
	return d;
fail:
	d->ops = NULL;
	rb_destination_close(d);
	return NULL;
}

void
rb_destination_close(rb_destination *d)
{
	if (d == NULL)
		return;
	if (d->ops != NULL)
		d->ops->close(d);
	free(d->url);
	free(d->location);
	free(d->prefix);
	free(d);
}

rb_destination_kind
rb_destination_get_kind(const rb_destination *d)
{
	return d->kind;
}

const char *
rb_destination_url(const rb_destination *d)
{
	return d->url;
}

char *
rb_destination_url_for(const rb_destination *d, const char *key)
{
	size_t		n = strlen(d->url) + strlen(key) + 2;
	char	   *r = rb_malloc(n);

	if (d->kind == RB_DEST_S3 && d->prefix[0] == '\0')
		snprintf(r, n, "%s/%s", d->url, key);
	else if (d->kind == RB_DEST_FILE && strcmp(d->location, "/") == 0)
		snprintf(r, n, "%s%s", d->url, key);
	else
		snprintf(r, n, "%s/%s", d->url, key);
	return r;
}

/*
 * 0 when nothing is stored at key; RB_ERR_EXISTS, or the error of the look,
 * otherwise.  A look the server refuses (403: credentials that may write but not
 * read, or a bad signature that the write reports in full) is no answer: the
 * write that creates the object is conditional anyway.
 */
static int
check_absent(rb_destination *d, const char *key, rb_error *err)
{
	uint64_t	size;
	int64_t		mtime;
	rb_error	e;

	rb_error_clear(&e);
	if (d->ops->head(d, key, &size, &mtime, &e) < 0)
	{
		if (e.code == RB_ERR_NOT_FOUND)
			return 0;
		if (e.code == RB_ERR_AUTH && d->kind == RB_DEST_S3)
		{
			rb_log(d->hooks, RB_LOG_WARNING,
				   "could not check that no object exists at the key (%s); relying on the conditional write",
				   e.msg);
			return 0;
		}
		*err = e;
		return -1;
	}
	return rb_error_set(err, RB_ERR_EXISTS,
						"an object already exists at this key (%llu bytes); nothing was written: a backup never replaces an existing object",
						(unsigned long long) size);
}

rb_dest_writer *
rb_destination_writer_open(rb_destination *d, const char *key, rb_error *err)
{
	rb_dest_writer *w;
	void	   *impl;

	if (check_key(key, err) < 0 || check_absent(d, key, err) < 0)
		return NULL;
	impl = d->ops->writer_open(d, key, err);
	if (impl == NULL)
		return NULL;
	w = rb_calloc(1, sizeof(*w));
	w->dest = d;
	w->impl = impl;
	return w;
}

int
rb_dest_writer_write(rb_dest_writer *w, const void *data, size_t len, rb_error *err)
{
	if (len == 0)
		return 0;
	return w->dest->ops->writer_write(w->impl, data, len, err);
}

int
rb_dest_writer_write_cb(void *w, const void *data, size_t len, rb_error *err)
{
	return rb_dest_writer_write((rb_dest_writer *) w, data, len, err);
}

int
rb_dest_writer_pump(rb_dest_writer *w, int timeout_ms, rb_error *err)
{
	if (w == NULL || w->dest->ops->writer_pump == NULL)
		return 0;
	return w->dest->ops->writer_pump(w->impl, timeout_ms, err) < 0 ? -1 : 0;
}

int
rb_dest_writer_commit(rb_dest_writer *w, rb_error *err)
{
	int			rc = w->dest->ops->writer_commit(w->impl, err);

	free(w);
	return rc;
}

void
rb_dest_writer_abort(rb_dest_writer *w)
{
	if (w == NULL)
		return;
	w->dest->ops->writer_abort(w->impl);
	free(w);
}

int
rb_destination_put_small(rb_destination *d, const char *key, const void *data, size_t len,
						 rb_error *err)
{
	if (check_key(key, err) < 0)
		return -1;
	return d->ops->put_small(d, key, data, len, err);
}

int
rb_destination_create_small(rb_destination *d, const char *key, const void *data, size_t len,
							rb_error *err)
{
	if (check_key(key, err) < 0 || check_absent(d, key, err) < 0)
		return -1;
	return d->ops->create_small(d, key, data, len, err);
}

int
rb_destination_get(rb_destination *d, const char *key, uint64_t offset, uint64_t length,
				   rb_write_fn out, void *out_arg, rb_error *err)
{
	if (check_key(key, err) < 0)
		return -1;
	return d->ops->get(d, key, offset, length, out, out_arg, err);
}

int
rb_destination_head(rb_destination *d, const char *key, uint64_t *size, int64_t *mtime,
					rb_error *err)
{
	uint64_t	s;
	int64_t		m;

	if (check_key(key, err) < 0)
		return -1;
	return d->ops->head(d, key, size ? size : &s, mtime ? mtime : &m, err);
}

int
rb_destination_list(rb_destination *d, const char *prefix, rb_list_fn cb, void *cb_arg,
					rb_error *err)
{
	return d->ops->list(d, prefix ? prefix : "", cb, cb_arg, err);
}

static int
collect_object(void *arg, const rb_object_info *info, rb_error *err)
{
	rb_object_list *l = arg;

	if (l->n == l->cap)
	{
		size_t		cap = l->cap ? l->cap * 2 : 256;
		rb_object_info *o = realloc(l->objs, cap * sizeof(*o));

		if (o == NULL)
			return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		l->objs = o;
		l->cap = cap;
	}
	l->objs[l->n] = *info;
	l->objs[l->n].key = strdup(info->key);
	if (l->objs[l->n].key == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	l->n++;
	return 0;
}

static int
cmp_object_key(const void *a, const void *b)
{
	return strcmp(((const rb_object_info *) a)->key, ((const rb_object_info *) b)->key);
}

int
rb_destination_list_all(rb_destination *d, const char *prefix, rb_object_list *out,
						rb_error *err)
{
	memset(out, 0, sizeof(*out));
	if (rb_destination_list(d, prefix, collect_object, out, err) < 0)
	{
		rb_object_list_free(out);
		return -1;
	}
	if (out->n > 1)
		qsort(out->objs, out->n, sizeof(*out->objs), cmp_object_key);
	return 0;
}

void
rb_object_list_free(rb_object_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free((char *) l->objs[i].key);
	free(l->objs);
	memset(l, 0, sizeof(*l));
}

int
rb_destination_delete(rb_destination *d, const char *key, rb_error *err)
{
	if (check_key(key, err) < 0)
		return -1;
	return d->ops->del(d, key, err);
}
