/*
 * wal_retention.h — which archived WAL retention deletes, the same for the
 * server (ripple_backup_prune, the launcher's runs) and the CLI
 * (ripple-backup prune): every WAL object (and its ".metadata.json") under
 * one server's "<sysid>/<incarnation>/wal/" whose segment number is below the
 * start segment of the oldest base backup retention keeps, on any timeline —
 * segments, ".partial" segments and ".backup" files.  Never a ".history" file:
 * recovery onto any later timeline reads every history file before it
 * (wal_archive.h).  The caller decides the base backups first
 * (retention_policy.h) and calls this only when it keeps at least one: with
 * no base backup, no WAL is deleted.
 */
#ifndef RB_WAL_RETENTION_H
#define RB_WAL_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"

/* The WAL files to delete on one timeline, for the dry run and the log. */
typedef struct rb_wal_prune_range
{
	uint32_t	timeline;
	char		first[41];		/* WAL file names, the lowest and highest segment */
	char		last[41];
	size_t		files;			/* WAL files (each with its metadata object) */
	uint64_t	bytes;			/* stored bytes, metadata objects included */
} rb_wal_prune_range;

typedef struct rb_wal_prune_plan
{
	bool	   *delete;			/* per object of the listing */
	size_t		nobjects;		/* objects marked (files and metadata objects) */
	rb_wal_prune_range *ranges; /* by timeline, ascending */
	size_t		nranges;
	size_t		failed;			/* after rb_wal_prune_delete: objects not deleted */
	char		failure[256];	/* the first failure */
} rb_wal_prune_plan;

/*
 * Marks every object of objs[0..n) whose key starts with wal_prefix
 * ("<sysid>/<incarnation>/wal/"), is a WAL object (rb_wal_key_parse) other
 * than a history file, and whose segment number is below keep_from_segno.
 * plan is initialised by the call; free it with rb_wal_prune_plan_free.
 */
void		rb_wal_prune_select(const rb_object_info *objs, size_t n, const char *wal_prefix,
								uint64_t segment_size, uint64_t keep_from_segno,
								rb_wal_prune_plan *plan);

/*
 * Deletes what the plan marks (batches, as retention_delete.h does).  Returns
 * the number of objects that could not be deleted (plan->failed, the first
 * reason in plan->failure).
 */
size_t		rb_wal_prune_delete(rb_destination *d, const rb_object_info *objs, size_t n,
								rb_wal_prune_plan *plan, bool *batch_unsupported);

/* "timeline 1: 000000010000000000000001 .. 000000010000000000000004, 4 files, 64.0 MB" */
void		rb_wal_prune_range_describe(const rb_wal_prune_range *r, char *buf, size_t len);

void		rb_wal_prune_plan_free(rb_wal_prune_plan *plan);

#endif							/* RB_WAL_RETENTION_H */
