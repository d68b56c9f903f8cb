/*
 * cli_tempfile.h — the files ripple-backup writes before they are proven: a
 * temporary file created exclusively (mode 0600) that is either renamed into
 * place once complete or removed, on failure and on interruption alike.  Also the
 * work directory ($TMPDIR or /tmp) and its free space.
 */
#ifndef CLI_TEMPFILE_H
#define CLI_TEMPFILE_H

#include <stdbool.h>
#include <stdint.h>

#include "rb_error.h"

typedef struct cli_tempfile
{
	char	   *path;			/* malloc'd; NULL when none */
	int			fd;				/* -1 when closed */
} cli_tempfile;

/* Creates "<dir>/<prefix>XXXXXX<suffix>".  RB_ERR_IO on failure. */
int			cli_tempfile_create(cli_tempfile *t, const char *dir, const char *prefix,
								const char *suffix, rb_error *err);
/* fsyncs, closes and renames to final (replacing it).  The temp is gone after. */
int			cli_tempfile_commit(cli_tempfile *t, const char *final_path, rb_error *err);
/* Closes and unlinks (idempotent). */
void		cli_tempfile_remove(cli_tempfile *t);

/* --work-dir, else $TMPDIR, else /tmp. */
const char *cli_work_dir(const char *flag);
/* Fails with RB_ERR_IO when dir has less than need bytes free. */
int			cli_check_free_space(const char *dir, uint64_t need, rb_error *err);
/* Directory part of a path ("." when none); malloc'd. */
char	   *cli_dirname(const char *path);

#endif							/* CLI_TEMPFILE_H */
