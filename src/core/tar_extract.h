/*
 * tar_extract.h — unpacks a tar stream (a base backup: pg_basebackup -Ft) into
 * an empty directory as it passes, through the tar scanner's sink
 * (tar_scan.h), so that the stream is read once: checked (backup_label,
 * pg_control, base/, the stop LSN) and written.
 *
 * Only what a single-tablespace base backup holds is accepted: regular files
 * (mode 0600) and directories (0700), under relative names without "..".
 * Anything else — an absolute name, "..", a symbolic or hard link, a device —
 * fails the extraction (RB_ERR_INTEGRITY), so that a damaged or hostile
 * archive can never write outside the directory.  Files are created with
 * O_EXCL | O_NOFOLLOW: a name that appears twice fails too.
 */
#ifndef RB_TAR_EXTRACT_H
#define RB_TAR_EXTRACT_H

#include <stdint.h>

#include "rb_error.h"
#include "tar_scan.h"

typedef struct rb_tar_extract rb_tar_extract;

/* Writes into root (an existing empty directory); NULL when out of memory. */
rb_tar_extract *rb_tar_extract_new(const char *root);

/* The sink to hand to rb_tar_scan_set_sink (valid while x lives). */
const rb_tar_sink *rb_tar_extract_sink(rb_tar_extract *x);

/* Files and directories written so far, and the files' bytes. */
uint64_t	rb_tar_extract_files(const rb_tar_extract *x);
uint64_t	rb_tar_extract_bytes(const rb_tar_extract *x);

/* Closes a file left open by a stream that ended early; frees. */
void		rb_tar_extract_free(rb_tar_extract *x);

#endif							/* RB_TAR_EXTRACT_H */
