/*
 * retention_delete.h — how retention deletes, the same for the server and the
 * CLI: the metadata objects of the backups first (a backup without metadata is
 * not a backup, so a crash in between never leaves one that looks complete but
 * misses its data), then, for each backup whose metadata is gone, its dump and
 * its markers (.pinned, .verified), together with the orphaned objects; in
 * batches (S3 DeleteObjects; single DELETEs where the server has none), each
 * request retried like any other.
 */
#ifndef RB_RETENTION_DELETE_H
#define RB_RETENTION_DELETE_H

#include <stdbool.h>
#include <stddef.h>

#include "dest.h"

typedef struct rb_retention_target
{
	const char *key;			/* in: the dump key (or the orphan's key) */
	bool		failed;			/* out: something of it could not be deleted */
	char		failure[256];	/* out: why */
} rb_retention_target;

/*
 * Deletes backups[0..nb) and orphans[0..no).  A backup whose metadata could not
 * be deleted keeps its dump.  *batch_unsupported (may be NULL) is set when the
 * S3 server has no DeleteObjects.  Returns the number of targets that failed.
 */
size_t		rb_retention_delete(rb_destination *d, rb_retention_target *backups, size_t nb,
								rb_retention_target *orphans, size_t no,
								bool *batch_unsupported);

#endif							/* RB_RETENTION_DELETE_H */
