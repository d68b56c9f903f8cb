/*
 * tar_scan.h — walks a tar stream as it passes (pg_basebackup -Ft to stdout), fed
 * in chunks of any size: names and sizes of its members, whether the members a
 * base backup needs are there, the text of backup_label and the tail of
 * backup_manifest (its WAL-Ranges: the start and stop LSN and timeline).
 *
 * Memory stays bounded: only one header, backup_label (at most 64 KiB) and the
 * last 4 KiB of backup_manifest are kept.  The writer of the stream and the
 * verifier reading it back use the same scanner.
 */
#ifndef RB_TAR_SCAN_H
#define RB_TAR_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_error.h"

typedef struct rb_tar_scan rb_tar_scan;

/* What a finished scan found about a base backup. */
typedef struct rb_base_backup_info
{
	char		start_lsn[24];	/* "0/2000028" from backup_label ("" = none) */
	char		stop_lsn[24];	/* End-LSN of backup_manifest's WAL-Ranges ("" = none) */
	uint32_t	timeline;		/* START TIMELINE of backup_label (0 = none) */
	char		label[256];		/* LABEL of backup_label */
	bool		has_backup_label;
	bool		has_pg_control; /* global/pg_control */
	bool		has_base_dir;	/* a member under base/ */
	bool		has_manifest;
	uint64_t	members;
	uint64_t	content_bytes;	/* sum of the members' sizes */
} rb_base_backup_info;

/*
 * A consumer of the members as the stream passes (tar_extract.h writes them to
 * disk): begin with the member's name (any leading "./" removed), its type
 * flag ('0' or '\0' a file, '5' a directory, '2' a symlink, ...), size and mode
 * bits, then its content in chunks, then end.  Pax headers and GNU long-name
 * records are not members.  A callback's -1 (with err) fails the scan.
 */
typedef struct rb_tar_sink
{
	int			(*begin) (void *arg, const char *name, char type, uint64_t size,
						  unsigned int mode, rb_error *err);
	int			(*data) (void *arg, const void *data, size_t len, rb_error *err);
	int			(*end) (void *arg, rb_error *err);
	void	   *arg;
} rb_tar_sink;

rb_tar_scan *rb_tar_scan_new(void);

/* From now on every member also goes to sink (copied; NULL = none). */
void		rb_tar_scan_set_sink(rb_tar_scan *s, const rb_tar_sink *sink);
void		rb_tar_scan_free(rb_tar_scan *s);

/* Feeds the next bytes; RB_ERR_INTEGRITY when a header is malformed. */
int			rb_tar_scan_feed(rb_tar_scan *s, const void *data, size_t len, rb_error *err);

/*
 * At end of stream: RB_ERR_INTEGRITY unless the stream ended on a member
 * boundary after the end-of-archive blocks.  Fills info either way.
 */
int			rb_tar_scan_finish(rb_tar_scan *s, rb_base_backup_info *info, rb_error *err);

/*
 * Errors (RB_ERR_INTEGRITY) unless info describes a usable base backup:
 * backup_label with a start LSN and timeline, global/pg_control and base/.
 */
int			rb_base_backup_info_check(const rb_base_backup_info *info, rb_error *err);

/* The backup_label text the scan kept ("" when none). */
const char *rb_tar_scan_backup_label(const rb_tar_scan *s);

#endif							/* RB_TAR_SCAN_H */
