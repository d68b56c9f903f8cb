/*
 * verify.h — proves a stored backup, at three levels:
 *   checksum  stream the object back, recompute its SHA-256 and size, compare
 *             them with the catalog's values and with its metadata object
 *             (<key>.metadata.json, which must exist and parse);
 *   archive   also decrypt it (an encrypted backup, with a key of the request's
 *             ring: the checksum level needs none) and decompress it to a temporary file, read the archive's table
 *             of contents with `pg_restore --list` and check that its TABLE DATA
 *             entries (and their row counts, read from the archive itself) are
 *             the metadata's tables;
 *   restore   (a physical base backup: the drill of base_drill.h, which streams,
 *             unpacks, replays WAL from the archive and starts a copy; the
 *             archive level, which reads a pg_dump archive, does not apply)
 *             also restore it into a scratch database, count the rows of every
 *             table the metadata names, compare, drop the scratch database, and
 *             measure how long the restore took.  The restore and the counting
 *             connect as an unprivileged restore role that owns the scratch
 *             database; only the creation of the database, of the archive's
 *             schemas and extensions (from statements rebuilt from their names)
 *             and the drop use the server's own role (see verify_toc.h).
 * A restore does not proceed from an object whose checksum fails unless forced.
 * Used by the extension's verifier worker; plain C (no postgres.h).
 */
#ifndef RB_VERIFY_H
#define RB_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "encrypt_key.h"
#include "backup_metadata.h"
#include "base_drill.h"
#include "rb_error.h"

typedef enum rb_verify_level
{
	RB_VERIFY_CHECKSUM = 0,
	RB_VERIFY_ARCHIVE,
	RB_VERIFY_RESTORE
} rb_verify_level;

/* "checksum", "archive", "restore" -> level; RB_ERR_INVALID otherwise. */
int			rb_verify_level_parse(const char *name, rb_verify_level *level, rb_error *err);
const char *rb_verify_level_name(rb_verify_level level);

typedef struct rb_verify_result
{
	uint64_t	stored_bytes;	/* bytes read back */
	uint64_t	archive_bytes;	/* after decompression (archive and restore levels) */
	char		sha256[65];		/* of the bytes read back */
	bool		checksum_ok;	/* size and SHA-256 matched the catalog and the metadata */
	int			toc_entries;	/* pg_restore --list entries (archive, restore) */
	int			table_data_entries; /* TABLE DATA entries among them */
	size_t		tables_checked; /* tables counted after the restore */
	bool		counts_mismatch;	/* the archive's or the restored row counts are not
									 * the metadata's (the failure says which) */
	double		restore_seconds;	/* createdb + pg_restore wall time; < 0 = no restore */
	double		seconds;		/* whole verification */
	char		note[256];		/* what the restore left out, e.g. event triggers; "" = nothing */
	rb_base_drill_result drill; /* a base backup's restore drill (drill.ran) */
	rb_backup_metadata meta;	/* the metadata object as read; free with rb_verify_result_free */
} rb_verify_result;

void		rb_verify_result_init(rb_verify_result *r);
void		rb_verify_result_free(rb_verify_result *r);

/* How to reach the server for the archive and restore levels. */
typedef struct rb_verify_pg
{
	const char *bindir;			/* directory of pg_restore, psql, createdb, dropdb */
	const char *host;			/* unix socket directory (or host) */
	int			port;
	const char *user;			/* a role allowed to create databases and extensions */
	const char *restore_user;	/* restores and counts; NULL = user.  Its password, if
								 * one is needed, comes through env (PGPASSFILE) */
	const char *const *env;		/* extra "NAME=value" for the children; may be NULL */

	/*
	 * Called after the restore and before the count when not NULL: the
	 * restored code ran as restore_user and may have changed that role (its
	 * password, its settings); the caller puts it right.  0 = go on.
	 */
	int			(*before_count) (void *arg, rb_error *err);
	void	   *before_count_arg;
	const char *maintenance_db; /* where createdb/dropdb connect; NULL = "postgres" */
} rb_verify_pg;

typedef struct rb_verify_request
{
	rb_destination *dest;
	const char *object_key;		/* relative to the destination */
	uint64_t	expected_size;	/* the catalog's size_bytes */
	const char *expected_sha256;	/* the catalog's sha256 (hex) */
	const rb_backup_metadata *expected; /* optional: compared with the metadata object */
	rb_verify_level level;
	bool		force;			/* restore even when the checksum fails */
	const char *temp_dir;		/* where the decompressed archive is written (then unlinked) */
	const char *temp_prefix;	/* its file name before mkstemp's XXXXXX (and ".list" after);
								 * NULL = "ripple_backup_verify_" */
	const char *scratch_db;		/* restore level: the scratch database's name */
	const rb_verify_pg *pg;		/* archive and restore levels */
	const rb_keyring *keyring;	/* archive and restore levels of an encrypted backup:
								 * the keys to decrypt with (NULL = none); only read */
	const rb_base_drill_params *base_drill; /* restore level of a base backup; NULL =
											 * such a drill is refused */
} rb_verify_request;

/*
 * The checksum level.  Returns 0 when the object and its metadata match the
 * expected values, else -1 with err (RB_ERR_INTEGRITY for a mismatch, a missing
 * metadata object or a malformed one; other codes for network, I/O, cancel):
 *   checksum mismatch for file:///b/k: expected <sha>, found <sha>
 *   size mismatch for file:///b/k: expected 10 bytes, found 9
 *   metadata object "file:///b/k.metadata.json" is missing
 * res is filled as far as the verification went (free it with rb_verify_result_free).
 */
int			rb_verify_checksum(rb_destination *dest, const char *object_key,
							   const rb_backup_metadata *expected_or_NULL,
							   uint64_t expected_size, const char *expected_sha256,
							   rb_verify_result *res, const rb_hooks *hooks, rb_error *err);

/* Any level, as the request says; same conventions as rb_verify_checksum. */
int			rb_verify_run(const rb_verify_request *req, rb_verify_result *res,
						  const rb_hooks *hooks, rb_error *err);

/* The extension's name and schema: its own objects are not restored by a verify. */
#define RB_VERIFY_EXTENSION_NAME "ripple_backup"

#endif							/* RB_VERIFY_H */
