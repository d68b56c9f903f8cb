/*
 * incarnation.h — the server incarnation: what tells apart two servers that share
 * a system identifier, so that their backups never take each other's keys.
 *
 * A promoted standby, or a clone restored from a base backup, keeps its origin's
 * system identifier and its catalog (sequence included), so the backup id and
 * the second of a backup can be the same on both.  Each server therefore draws a
 * random id (8 bytes from pg_strong_random, 16 hex digits) the first time it runs
 * as a primary on a timeline, stores it in ripple_backup.incarnation and puts it
 * in every object key: <prefix>/<system identifier>/<incarnation>/<dbname>/...
 * Promotion and the end of archive recovery switch to a new timeline, so the new
 * primary draws its own id even though its catalog came from the old one.  A cold
 * copy of a data directory cannot be told apart (same timeline, same catalog):
 * there the destination's refusal to overwrite an object fails the second backup.
 *
 * The launcher is the only writer (a standby's catalog is read-only, and the
 * launcher only runs once recovery has finished); it refreshes the id before it
 * claims backups and publishes it in shared memory, where runners read it.
 */
#ifndef RB_INCARNATION_H
#define RB_INCARNATION_H

#include "postgres.h"

/*
 * In the launcher's transaction, in the catalog database: reads the stored
 * incarnation, draws and stores a new one when there is none for the current
 * timeline (logged), and publishes it in shared memory.
 */
extern void rb_incarnation_refresh(void);

/*
 * For a runner: copies the published incarnation into id (RB_INCARNATION_LEN) and
 * its timeline into *timeline.  False when none is published yet, or when it was
 * drawn for another timeline than the server's.
 */
extern bool rb_incarnation_current(char *id, uint32 *timeline);

/*
 * For the WAL archiver (which may run while the server is in recovery): the
 * published incarnation and the timeline it was drawn for, whatever the
 * server's timeline.  False when none is published (or no shared memory).
 */
extern bool rb_incarnation_published(char *id, uint32 *timeline);

#endif							/* RB_INCARNATION_H */
