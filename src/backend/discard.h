/*
 * discard.h — removes what a backup run stored when its result is discarded
 * (the transaction that queued the backup rolled back, so no catalog row will
 * ever describe it): the object and its metadata, through src/core's
 * destination API.
 */
#ifndef RB_DISCARD_H
#define RB_DISCARD_H

#include "postgres.h"

/*
 * Deletes object_key and its metadata from the destination that location (the
 * object's full URL) belongs to; falls back to ripple_backup.destination when
 * location does not end with the key.  Deleting what does not exist succeeds.
 * Returns false with the reason in errbuf when a delete failed.
 */
extern bool rb_discard_stored_backup(int64 backup_id, const char *location,
									 const char *object_key, char *errbuf, size_t errlen);

#endif							/* RB_DISCARD_H */
