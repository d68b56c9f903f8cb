/*
 * retention_keys.h — what retention reads from object keys: the time and id of
 * a backup (the key <sysid>/<incarnation>/<db>/<YYYYMMDDTHHMMSSZ>-<id>.dump...
 * made by rb_backup_object_key), the objects that belong to one backup (the
 * dump, "<dump>.metadata.json", and the pin marker "<dump>.pinned"), and the
 * orphans among a listing: backup objects whose backup has no metadata object.
 *
 * Two empty marker objects carry what the catalog knows to the CLI, so that
 * `ripple-backup prune` decides as the server does from the bucket alone:
 *   "<dump>.pinned"   ripple_backup_pin() stores it, and deletes it when unpinned;
 *   "<dump>.verified" the verifier stores it when a verification passes, and
 *                     deletes it when one fails (the catalog's verify_status).
 * Retention deletes them with the dump, and the verifier's record beside them,
 * "<dump>.verify.json" (verify_record.h).
 */
#ifndef RB_RETENTION_KEYS_H
#define RB_RETENTION_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"

#define RB_METADATA_SUFFIX	".metadata.json"
#define RB_PIN_SUFFIX		".pinned"
#define RB_VERIFIED_SUFFIX	".verified"

/*
 * Parses the last segment of a backup object key (dump, metadata or pin marker):
 * "<YYYYMMDDTHHMMSSZ>-<id>.dump...".  Returns true and fills *taken_at (seconds
 * since the epoch, UTC) and *backup_id (either may be NULL); false for a key of
 * another shape (then retention never touches it).
 */
bool		rb_backup_key_parse(const char *key, int64_t *taken_at, int64_t *backup_id);

/*
 * The same for a base backup's key, "<YYYYMMDDTHHMMSSZ>-<id>.tar..."
 * (rb_base_backup_object_key).  Kept apart from rb_backup_key_parse so that
 * the orphan sweep, which knows only dumps, never takes a base backup's object
 * for one.
 */
bool		rb_base_backup_key_parse(const char *key, int64_t *taken_at, int64_t *backup_id);

/* Length of the dump key that key belongs to (key without a metadata, marker or record suffix). */
size_t		rb_backup_key_base_len(const char *key);

/* key + suffix, malloc'd. */
char	   *rb_key_with_suffix(const char *key, const char *suffix);

/*
 * Marks orphan[i] for every object of objs that has the shape of a backup object
 * (rb_backup_key_parse) but whose dump has no metadata object in objs, and is at
 * least min_age_s old at `now` (an upload in progress writes its metadata last).
 * Returns the number marked.
 */
size_t		rb_retention_find_orphans(const rb_object_info *objs, size_t n, int64_t now,
									  int64_t min_age_s, bool *orphan);

/*
 * Stores (verified) or deletes the verification marker of the backup at dump_key.
 * A failure is logged through hooks as a warning and otherwise ignored: the
 * catalog stays the record (a missing marker makes the CLI count that backup
 * as unverified).
 */
void		rb_retention_mark_verified(rb_destination *d, const char *dump_key, bool verified,
									   const rb_hooks *hooks);

#endif							/* RB_RETENTION_KEYS_H */
