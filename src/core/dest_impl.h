/*
 * dest_impl.h — what a destination implementation (dest_file.c, dest_s3.c)
 * provides to dest.c: a table of operations over keys already joined with
 * nothing (file) or the S3 prefix (s3).  Private to src/core's destination files.
 */
#ifndef RB_DESTINATION_IMPL_H
#define RB_DESTINATION_IMPL_H

#include "dest.h"

typedef struct rb_dest_ops
{
	void	   *(*writer_open) (rb_destination *d, const char *key, rb_error *err);
	int			(*writer_write) (void *w, const void *data, size_t len, rb_error *err);
	int			(*writer_commit) (void *w, rb_error *err);
	void		(*writer_abort) (void *w);
	/* optional (NULL = nothing to drive): move queued transfers while input is idle */
	int			(*writer_pump) (void *w, int timeout_ms, rb_error *err);
	int			(*put_small) (rb_destination *d, const char *key, const void *data, size_t len,
							  rb_error *err);
	int			(*get) (rb_destination *d, const char *key, uint64_t offset, uint64_t length,
						rb_write_fn out, void *out_arg, rb_error *err);
	int			(*head) (rb_destination *d, const char *key, uint64_t *size, int64_t *mtime,
						 rb_error *err);
	int			(*list) (rb_destination *d, const char *prefix, rb_list_fn cb, void *cb_arg,
						 rb_error *err);
	int			(*del) (rb_destination *d, const char *key, rb_error *err);
	void		(*close) (rb_destination *d);
	/* put_small that never replaces an object: RB_ERR_EXISTS when the key is taken */
	int			(*create_small) (rb_destination *d, const char *key, const void *data,
								 size_t len, rb_error *err);
} rb_dest_ops;

struct rb_destination
{
	const rb_dest_ops *ops;
	rb_destination_kind kind;
	char	   *url;			/* normalised: "s3://bucket/prefix", "file:///path" */
	char	   *location;		/* file: the directory; s3: the bucket */
	char	   *prefix;			/* s3: the key prefix without slashes ("" = none) */
	const rb_hooks *hooks;
	void	   *impl;
};

/*
 * writer_open's writer never replaces an object either: its commit fails with
 * RB_ERR_EXISTS when an object appeared at the key meanwhile (file: a rename
 * that does not replace; s3: If-None-Match: * on the write that creates the
 * object).  dest.c checks with head() before opening it.
 */

/*
 * file: renames from to `to` unless `to` exists (renameat2 RENAME_NOREPLACE; where
 * the file system cannot, link() + unlink(), or only that when use_link).  0, or
 * -1 with errno (EEXIST when `to` exists).  Exposed for unit tests.
 */
int			rb_dest_file_rename_noreplace(const char *from, const char *to, bool use_link);

/* Set up d->impl and d->ops; return 0 or -1 with err. */
int			rb_dest_file_init(rb_destination *d, const rb_destination_options *opt, rb_error *err);
int			rb_dest_s3_init(rb_destination *d, const rb_destination_options *opt, rb_error *err);

#endif							/* RB_DESTINATION_IMPL_H */
