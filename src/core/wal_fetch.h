/*
 * wal_fetch.h — restoring one archived WAL file (a segment, a .partial
 * segment, a .history or .backup file; wal_archive.h's layout) to a local path,
 * by the rules PostgreSQL sets for a restore_command:
 *   - a file that is not archived is a plain "not found" (RB_ERR_NOT_FOUND), so
 *     that the caller can exit non-zero without alarm: recovery asks for files
 *     that do not exist (the next timeline's history file, the segment after
 *     the last one) as part of its normal work;
 *   - a file that is archived is written whole or not at all: decrypted with a
 *     key of the ring, decompressed, its size and SHA-256 checked against the
 *     metadata object's original_bytes and original_sha256 (and the stored
 *     bytes against stored_sha256), written to "<path>.tmp-<pid>", fsynced and
 *     renamed to path.  Any mismatch is RB_ERR_INTEGRITY and leaves no file at
 *     path.
 *
 * Incarnations.  The same file name can exist under several incarnations of
 * one system identifier (two standbys promoted from one primary both write
 * timeline 2's segments).  The caller names the incarnations to search, in
 * order (the first that holds the file wins); with none named, every
 * incarnation under the system identifier is searched, and the file must be
 * found under exactly one of them or under several with the same
 * original_sha256 — otherwise RB_ERR_EXISTS, the message naming the
 * incarnations and telling the caller to choose one.
 *
 * This is the one implementation of reading a WAL file back: the CLI's
 * wal-fetch and restore-pitr and the server's restore drill of a base backup
 * call it.
 */
#ifndef RB_WAL_FETCH_H
#define RB_WAL_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "dest.h"
#include "encrypt_key.h"
#include "rb_error.h"

typedef struct rb_wal_fetch_params
{
	rb_destination *dest;
	uint64_t	system_identifier;
	const char *const *incarnations;	/* searched in order; NULL or none = all */
	int			n_incarnations;
	const char *file_name;		/* the name recovery asks for (%f) */
	const char *path;			/* where to write it (%p) */
	const rb_keyring *keyring;	/* NULL = none: an encrypted object then fails,
								 * RB_ERR_AUTH, naming its key id */
} rb_wal_fetch_params;

typedef struct rb_wal_fetch_result
{
	char		incarnation[17];	/* where it was found */
	uint32_t	timeline;
	uint64_t	original_bytes;
	uint64_t	stored_bytes;
	char		original_sha256[65];
	double		seconds;
} rb_wal_fetch_result;

/*
 * Restores one file by the rules above.  0, or -1 with err: RB_ERR_NOT_FOUND
 * (not archived under any searched incarnation), RB_ERR_INVALID (not a WAL
 * file name), RB_ERR_EXISTS (found under several incarnations with different
 * content), RB_ERR_INTEGRITY (size or checksum mismatch, does not decompress,
 * does not authenticate), RB_ERR_AUTH (no key of the ring decrypts it), RB_ERR_IO
 * (writing path), the destination's errors.
 */
int			rb_wal_fetch_file(const rb_wal_fetch_params *p, rb_wal_fetch_result *res,
							  const rb_hooks *hooks, rb_error *err);

/*
 * The incarnations (16 hex digits each) under which the system identifier has
 * archived WAL, newest object first is not promised: sorted by name.  *out is a
 * malloc'd array of malloc'd strings (free with rb_wal_incarnations_free).
 */
int			rb_wal_list_incarnations(rb_destination *dest, uint64_t system_identifier,
									 char ***out, int *n, rb_error *err);
void		rb_wal_incarnations_free(char **list, int n);

#endif							/* RB_WAL_FETCH_H */
