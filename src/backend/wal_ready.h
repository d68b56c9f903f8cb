/*
 * wal_ready.h — the WAL files waiting for the archiver: the .ready markers of
 * pg_wal/archive_status, how many, the oldest by name, when the first of them
 * appeared (the marker's mtime) and the bytes of the files they mark.  Read by
 * the ripple_backup.wal_archive view and by the health check.
 */
#ifndef RB_WAL_READY_H
#define RB_WAL_READY_H

#include "postgres.h"

#include "access/xlog_internal.h"
#include "datatype/timestamp.h"

typedef struct RbWalReady
{
	int64		count;			/* .ready markers */
	int64		bytes;			/* sizes of the files they mark (that still exist) */
	char		oldest[MAXFNAMELEN];	/* the first by name ("" = none) */
	TimestampTz first_since;	/* the oldest marker's mtime (0 = none) */
} RbWalReady;

/* Scans pg_wal/archive_status (the server's data directory is the cwd). */
extern void rb_wal_ready_scan(RbWalReady *out);

#endif							/* RB_WAL_READY_H */
