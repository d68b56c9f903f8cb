/*
 * cli_list_wal.h — "ripple-backup list --wal": the base backups in the
 * destination and the WAL range each can reach (src/core/wal_range.h), with
 * the archived WAL's totals; and the segment size the CLI reads WAL file
 * names with, which `prune` shares.
 */
#ifndef CLI_LIST_WAL_H
#define CLI_LIST_WAL_H

#include <stdbool.h>
#include <stdint.h>

#include "backup_metadata.h"
#include "cli_context.h"

/* Runs list --wal; returns the exit code (3 when no base backup matches). */
int			cli_list_wal(cli_ctx *ctx);

/*
 * The WAL segment size of the server that took base backup m, from its
 * backup_label (rb_wal_segment_size_from_label); 16 MiB with *assumed set
 * when the label does not tell.
 */
uint64_t	cli_base_segment_size(const rb_backup_metadata *m, bool *assumed);

/* The segment number of a base backup's start LSN; false when none is recorded. */
bool		cli_base_start_segno(const rb_backup_metadata *m, uint64_t segment_size,
								 uint64_t *segno);

#endif							/* CLI_LIST_WAL_H */
