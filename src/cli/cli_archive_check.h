/*
 * cli_archive_check.h — the deeper checks of a decompressed archive: the row
 * counts the archive parser found in the archive itself against the metadata, and
 * "pg_restore --list" on the archive file.
 */
#ifndef CLI_ARCHIVE_CHECK_H
#define CLI_ARCHIVE_CHECK_H

#include "rb_buf.h"
#include "rb_error.h"
#include "backup_table_counts.h"

/*
 * Compares every table of expected with found (and the reverse).  Appends one
 * line per difference to report; returns the number of differences.
 */
size_t		cli_compare_counts(const rb_table_counts *expected, const rb_table_counts *found,
							   rb_buf *report);

/*
 * Runs pg_restore --list on file; *entries = TOC entries listed.  -1 with
 * RB_ERR_INTEGRITY when pg_restore rejects the archive, other codes when it
 * cannot be run.
 */
int			cli_pg_restore_list(const char *pg_restore, const char *file, int *entries,
								const rb_hooks *hooks, rb_error *err);

#endif							/* CLI_ARCHIVE_CHECK_H */
