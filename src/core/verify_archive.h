/*
 * verify_archive.h — the checks of a decompressed pg_dump archive shared by the
 * verifier's archive level and "ripple-backup verify --archive": the per-table
 * row counts the archive parser found in the archive itself against the
 * metadata's, and "pg_restore --list" on the archive file (its table of
 * contents: every entry, and the TABLE DATA entries among them).
 */
#ifndef VERIFY_ARCHIVE_H
#define VERIFY_ARCHIVE_H

#include <stddef.h>

#include "backup_table_counts.h"
#include "pg_client.h"
#include "rb_buf.h"
#include "rb_error.h"

/*
 * Compares every table of the metadata with the archive's counts, and the
 * reverse.  Appends one line per difference to report (NULL = none):
 *   table public.a has 11 rows in the archive, the metadata says 10
 *   table public.b is in the metadata but not in the archive
 *   table public.c is in the archive but not in the metadata
 * Returns the number of differences.
 */
size_t		rb_verify_compare_counts(const rb_table_counts *metadata, const rb_table_counts *archive,
									 rb_buf *report);

/*
 * Counts the TABLE DATA entries in `pg_restore --list` output (lines
 * "<id>; <oid> <oid> TABLE DATA <schema> <name> <owner>"); *entries = all
 * entries (lines that are neither empty nor comments).
 */
int			rb_verify_count_table_data(const char *listing, int *entries);

/*
 * Runs "<pg_restore> --list <file>" (run: name, env, tick; its out is ignored):
 * the listing goes to listing (NULL = not kept), *entries and *table_data are
 * counted from it.  -1 with RB_ERR_INTEGRITY and pg_restore's message when it
 * rejects the archive, other codes when it cannot be run.
 */
int			rb_verify_list_archive(const char *pg_restore, const char *file,
								   const rb_pg_run_options *run, rb_buf *listing, int *entries,
								   int *table_data, const rb_hooks *hooks, rb_error *err);

#endif							/* VERIFY_ARCHIVE_H */
