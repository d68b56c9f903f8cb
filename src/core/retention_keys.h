/*
 * retention_keys.h — what retention reads from object keys: the time and id of
 * a backup (the key <sysid>/<incarnation>/<db>/<YYYYMMDDTHHMMSSZ>-<id>.dump...
 * made by rb_backup_object_key), the objects that belong to one backup (the
 * dump, "<dump>.metadata.json", and the pin marker "<dump>.pinned"), and the
 * orphans among a listing: backup objects whose backup has no metadata object.
 *
 * The pin marker is how a server's pins reach the CLI: ripple_backup_pin()
 * stores an empty object beside the dump, and deletes it when unpinned; both
 * the server and `ripple-backup prune` keep a backup that has one.
 */
#ifndef RB_RETENTION_KEYS_H
#define RB_RETENTION_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "destination.h"

#define RB_METADATA_SUFFIX	".metadata.json"
#define RB_PIN_SUFFIX		".pinned"

/*
 * Parses the last segment of a backup object key (dump, metadata or pin marker):
 * "<YYYYMMDDTHHMMSSZ>-<id>.dump...".  Returns true and fills *taken_at (seconds
 * since the epoch, UTC) and *backup_id (either may be NULL); false for a key of
 * another shape (then retention never touches it).
 */
bool		rb_backup_key_parse(const char *key, int64_t *taken_at, int64_t *backup_id);

/* Length of the dump key that key belongs to (key without a metadata/pin suffix). */
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

#endif							/* RB_RETENTION_KEYS_H */
