/*
 * backup.h — one logical backup, start to finish: pg_dump (custom format, no
 * compression of its own) → archive parser (exact per-table row counts) →
 * compressor → encryptor (when a key is given) → SHA-256 and byte count of the
 * stored bytes → destination writer: the stage chain (stage_chain.h) with
 * pg_dump as its source and the archive parser as its inspector.
 *
 * Called by the runner background worker (src/backend) and by the CLI and test
 * drivers.  Memory stays bounded whatever the database size; nothing is written
 * to a temporary file.  On any failure the destination writer is aborted, pg_dump
 * is killed and reaped, and the error says why (pg_dump's stderr included).
 *
 * Writing the metadata is a separate call (rb_backup_write_metadata) so that the
 * caller can write it last, after recording what it knows.
 */
#ifndef RB_BACKUP_H
#define RB_BACKUP_H

#include <stdint.h>
#include <time.h>

#include "backup_compress.h"
#include "dest.h"
#include "encrypt_key.h"
#include "backup_metadata.h"
#include "rb_error.h"
#include "backup_table_counts.h"
#include "stage_chain.h"			/* rb_backup_progress: bytes_read are pg_dump's */

typedef struct rb_backup_params
{
	const char *pg_dump_path;	/* absolute path of pg_dump (the server's bindir) */
	/* connection: NULL/0 = libpq default; passed as one quoted conninfo, never a password */
	const char *host;			/* socket directory or host name */
	int			port;
	const char *user;
	const char *dbname;			/* required */
	const char *snapshot;		/* exported snapshot id → --snapshot; NULL = none */
	const char *const *extra_env;	/* "NAME=value" (PGPASSFILE, PGAPPNAME...), NULL-ended */

	rb_destination *dest;		/* where to write */
	const char *object_key;		/* key of the dump object (see rb_backup_object_key) */

	rb_compress_kind compression;	/* RB_COMPRESS_ZSTD by default (0 = none!) */
	int			compression_level;	/* -1 = the kind's default */
	int			compression_workers;	/* zstd threads; 0 = in the calling thread */
	int			nice;			/* pg_dump's nice value, 1..19 (rb_child_options); 0 = inherited */

	/*
	 * Starting pg_dump again when the server refuses its connection for a reason
	 * that passes (rb_connect_refusal_reason: no free connection slot, starting
	 * up, shutting down, crash recovery) and it has written nothing: attempts in
	 * all and the backoff between them.  NULL = rb_retry_policy_default() (6
	 * attempts, waits of 1, 2, 4, 8, 16 s each shortened by up to half at random).
	 */
	const struct rb_retry_policy *connect_retry;

	/*
	 * When not NULL, the compressed stream is encrypted with this key
	 * (encrypt_stream.h) before it is hashed and stored: not one byte of the
	 * archive reaches the destination in the clear.  Only read.
	 */
	const rb_key *encryption_key;

	rb_backup_progress_fn progress; /* NULL = no progress reports */
	void	   *progress_arg;
	int			progress_interval_ms;	/* 0 = 100 ms */
} rb_backup_params;

typedef struct rb_backup_result
{
	uint64_t	size_bytes;		/* stored bytes */
	char		sha256[65];		/* hex SHA-256 of the stored bytes */
	uint64_t	bytes_read;		/* bytes pg_dump wrote (uncompressed archive) */
	double		duration_seconds;
	rb_table_counts table_counts;	/* rows of every table, in dump order */
	char	   *archive_server_version; /* server version recorded by pg_dump; malloc'd */
	char	   *archive_dump_version;	/* pg_dump's version; malloc'd */
} rb_backup_result;

/*
 * Runs one backup.  result is initialised by the call; free it with
 * rb_backup_result_free whatever the outcome.  A pg_dump refused by the server
 * before it wrote anything is started again (params->connect_retry), each retry
 * logged (RB_LOG_INFO: the reason and the wait); these retries are part of this
 * one backup.  Returns 0, or -1 with err:
 *   RB_ERR_CHILD      pg_dump failed: "pg_dump exited with code 1: <stderr>",
 *                     "pg_dump was terminated by signal 9: Killed",
 *                     "pg_dump could not connect in 6 attempts over 24 s: pg_dump
 *                     exited with code 1: ... too many clients already"
 *   RB_ERR_CANCELLED  hooks->cancel said stop
 *   RB_ERR_INTEGRITY  the archive could not be parsed
 *   other             the destination's error
 * hooks->cancel is polled at least every 100 ms.
 */
int			rb_backup_run(const rb_backup_params *params, rb_backup_result *result,
						  const rb_hooks *hooks, rb_error *err);
void		rb_backup_result_free(rb_backup_result *result);

/*
 * Writes m as JSON at object_key + ".metadata.json" (create_small: RB_ERR_EXISTS
 * when a metadata object is already there).
 */
int			rb_backup_write_metadata(rb_destination *dest, const char *object_key,
									 const rb_backup_metadata *m, rb_error *err);
/* object_key + ".metadata.json", malloc'd. */
char	   *rb_backup_metadata_key(const char *object_key);

/*
 * Builds the relative object key
 *   <system identifier>/<incarnation>/<dbname>/<YYYYMMDDTHHMMSSZ>-<backup id>.dump<.zst|.gz|>
 * (the destination adds its prefix).  The incarnation tells apart servers that
 * share a system identifier (a promoted standby, a clone; see backup_metadata.h).  Bytes
 * of incarnation and dbname outside [A-Za-z0-9._-] are percent-encoded so the key
 * keeps exactly four levels (an empty incarnation is written "-").  Returns a
 * malloc'd string.
 */
char	   *rb_backup_object_key(uint64_t system_identifier, const char *incarnation,
								 const char *dbname, time_t when, int64_t backup_id,
								 rb_compress_kind kind);

#endif							/* RB_BACKUP_H */
