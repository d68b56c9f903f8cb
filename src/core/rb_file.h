/*
 * rb_file.h — writing to local files: a whole buffer to a descriptor (short
 * writes and EINTR retried), and the small private files a client program reads
 * (a TOC list for pg_restore -L, a script for psql -f), created exclusively with
 * mode 0600 beside a file the caller owns, and removed by it; and the removal of
 * a scratch directory tree.
 */
#ifndef RB_FILE_H
#define RB_FILE_H

#include <stddef.h>

#include "rb_error.h"

/* Writes all of len bytes to fd; 0, or -1 with errno set. */
int			rb_write_all(int fd, const void *data, size_t len);

/*
 * Writes text to a new file "<base><suffix>" (O_EXCL, mode 0600).  Returns its
 * path (malloc'd), or NULL with RB_ERR_IO (nothing is left behind) or RB_ERR_NOMEM.
 */
char	   *rb_file_write_new(const char *base, const char *suffix, const char *text,
							  rb_error *err);

/* Unlinks path and frees it; NULL is nothing. */
void		rb_file_remove(char *path);

/*
 * Removes path and everything below it (symbolic links are removed, never
 * followed).  0 when nothing is left (also when path did not exist), else -1
 * with errno set (of the first failure; the rest is removed as far as it can be).
 */
int			rb_remove_tree(const char *path);

#endif							/* RB_FILE_H */
