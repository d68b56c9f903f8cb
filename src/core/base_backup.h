/*
 * base_backup.h — one physical base backup, start to finish: pg_basebackup (tar
 * format to stdout, -X none: WAL comes from the archive) → tar scanner (start and
 * stop LSN, timeline, backup_label) → compressor → encryptor (when a key is
 * given) → SHA-256 and byte count → destination writer.  The same stage chain as a logical backup (backup.h,
 * stage_chain.h) with pg_basebackup as its source and the tar scanner as its
 * inspector, and no temporary file; on any failure the upload is aborted and
 * pg_basebackup is killed and reaped.
 */
#ifndef RB_BASE_BACKUP_H
#define RB_BASE_BACKUP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "backup.h"
#include "tar_scan.h"

typedef struct rb_base_backup_params
{
	const char *pg_basebackup_path; /* absolute path (the server's bindir) */
	const char *host;			/* socket directory; NULL = libpq default */
	int			port;
	const char *user;
	const char *label;			/* pg_basebackup --label (required) */
	bool		fast_checkpoint;	/* --checkpoint=fast, else spread */
	const char *const *extra_env;	/* "NAME=value", NULL-ended */
	int			nice;			/* pg_basebackup's nice value, 1..19 (rb_child_options); 0 = inherited */

	rb_destination *dest;
	const char *object_key;		/* see rb_base_backup_object_key */
	rb_compress_kind compression;
	int			compression_level;	/* -1 = the kind's default */
	int			compression_workers;

	/*
	 * When not NULL, the compressed tar is encrypted with this key
	 * (encrypt_stream.h) before it is hashed and stored, as a logical backup's
	 * archive is: not one byte of the cluster reaches the destination in the
	 * clear.  Only read.
	 */
	const rb_key *encryption_key;

	rb_backup_progress_fn progress;
	void	   *progress_arg;
	int			progress_interval_ms;	/* 0 = 100 ms */
} rb_base_backup_params;

typedef struct rb_base_backup_result
{
	uint64_t	size_bytes;		/* stored bytes */
	char		sha256[65];
	uint64_t	bytes_read;		/* tar bytes from pg_basebackup */
	double		duration_seconds;
	rb_base_backup_info info;	/* LSNs, timeline, members */
	char	   *backup_label;	/* the backup_label file's text; malloc'd */
} rb_base_backup_result;

/*
 * Runs one base backup.  result is initialised by the call; free it with
 * rb_base_backup_result_free.  Returns 0, or -1 with err:
 *   RB_ERR_CHILD      pg_basebackup failed ("pg_basebackup exited with code 1: ...";
 *                     a refused replication connection says that pg_hba.conf must
 *                     allow one, naming the user)
 *   RB_ERR_CANCELLED  hooks->cancel said stop
 *   RB_ERR_INTEGRITY  the tar stream was malformed or lacks backup_label,
 *                     global/pg_control or base/
 *   other             the destination's error
 */
int			rb_base_backup_run(const rb_base_backup_params *params, rb_base_backup_result *result,
							   const rb_hooks *hooks, rb_error *err);
void		rb_base_backup_result_free(rb_base_backup_result *result);

/*
 * The relative key <system identifier>/<incarnation>/base/<YYYYMMDDTHHMMSSZ>-<id>.tar<.zst|.gz|>
 * (a logical backup's key with "base" in place of the database and ".tar" in
 * place of ".dump"; the destination adds its prefix).  malloc'd.
 */
char	   *rb_base_backup_object_key(uint64_t system_identifier, const char *incarnation,
									  time_t when, int64_t backup_id, rb_compress_kind kind);

#endif							/* RB_BASE_BACKUP_H */
