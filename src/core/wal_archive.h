/*
 * wal_archive.h — archiving one WAL file (a segment, a .partial segment, a
 * .history or .backup file) into a destination: where it goes, how it is
 * stored, and PostgreSQL's rules for a file that is already there.
 *
 * Key layout (relative to the destination's prefix):
 *
 *   <system identifier>/<incarnation>/wal/<timeline, 8 hex digits>/<file>.zst
 *   <system identifier>/<incarnation>/wal/<timeline, 8 hex digits>/<file>.zst.metadata.json
 *
 * The timeline is the first 8 hex digits of the file name (a history file's is
 * the timeline it starts).  The object is the file compressed with zstd and,
 * when a key is given, encrypted (encrypt_stream.h) after compression, stored
 * through stream_store.h; the metadata object beside it records the SHA-256
 * and size of the original file and of the stored bytes, the compression and
 * the key id.  A sidecar object rather than S3 user metadata so that the same
 * layout works for file:// and the checksums can be read with a plain GET.
 *
 * RETENTION: `.history` files are never deleted: recovery to any later
 * timeline reads every history file before it.  Retention of WAL
 * (wal_retention.h) skips every key ending in ".history.zst" and its metadata.
 *
 * The rules (PostgreSQL's for archive modules):
 *   - the call succeeds only once both objects are durably stored;
 *   - an object already at the key whose original SHA-256 (from its metadata,
 *     or, when an earlier attempt stored the object but not its metadata, from
 *     the object itself, decrypted and decompressed) equals this file's is a
 *     success (RB_WAL_ALREADY_ARCHIVED; the missing metadata is then written);
 *   - an upload cut short (a store that keeps a PUT's bytes as they arrive):
 *     an unreadable metadata object beside an object of this content is
 *     rewritten; an object that does not decode with no readable metadata was
 *     never reported archived, and is stored again;
 *   - different content fails with RB_ERR_EXISTS, the message naming both
 *     checksums; the file is never overwritten.
 */
#ifndef RB_WAL_ARCHIVE_H
#define RB_WAL_ARCHIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "dest.h"
#include "encrypt_key.h"
#include "rb_error.h"

/*
 * The timeline of a WAL file name: "000000010000000000000003" (a segment),
 * the same + ".partial", "00000002.history", the segment + ".00000028.backup".
 * RB_ERR_INVALID for any other name (nothing else is archived).
 */
int			rb_wal_file_timeline(const char *file_name, uint32_t *timeline, rb_error *err);

/* True for a timeline history file ("00000002.history"). */
bool		rb_wal_file_is_history(const char *file_name);

/* The object's key (see above), malloc'd; file_name must pass rb_wal_file_timeline. */
char	   *rb_wal_object_key(uint64_t system_identifier, const char *incarnation,
							  uint32_t timeline, const char *file_name);

typedef struct rb_wal_archive_params
{
	rb_destination *dest;
	uint64_t	system_identifier;
	const char *incarnation;	/* required: 16 hex digits (incarnation.h) */
	const char *file_name;		/* the name PostgreSQL archives */
	const char *path;			/* where to read it */
	const rb_key *encryption_key;	/* NULL = stored unencrypted */
	int			compression_level;	/* -1 = zstd's default */
} rb_wal_archive_params;

typedef enum rb_wal_archive_outcome
{
	RB_WAL_STORED,				/* a new object was stored */
	RB_WAL_ALREADY_ARCHIVED		/* the same content was there already */
} rb_wal_archive_outcome;

typedef struct rb_wal_archive_result
{
	rb_wal_archive_outcome outcome;
	uint32_t	timeline;
	uint64_t	original_bytes;
	char		original_sha256[65];
	uint64_t	stored_bytes;	/* 0 when already archived */
	char		stored_sha256[65];	/* "" when already archived */
	double		seconds;
} rb_wal_archive_result;

/*
 * Archives one file by the rules above.  0, or -1 with err: RB_ERR_EXISTS (the
 * key holds different content: "WAL file F is already archived at URL with
 * different content: the archived file has SHA-256 A, this one has SHA-256 B"),
 * RB_ERR_IO (reading the file), the destination's errors.
 */
int			rb_wal_archive_file(const rb_wal_archive_params *p, rb_wal_archive_result *res,
								const rb_hooks *hooks, rb_error *err);

#endif							/* RB_WAL_ARCHIVE_H */
