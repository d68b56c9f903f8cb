/*
 * base_drill.h — the restore drill of a physical base backup: proves that the
 * backup and the WAL archive together give back a cluster that starts.
 *
 *   1. The object is streamed once (verify_fetch.h: SHA-256 and size checked,
 *      decrypted, decompressed) through the tar scanner (tar_scan.h) into a tar
 *      extractor (tar_extract.h) that writes a fresh data directory
 *      <directory>/<scratch name>/data (0700).  A checksum mismatch, a stream
 *      that does not decompress or a tar without backup_label, pg_control or
 *      base/ fails the drill before anything runs.
 *   2. pg_verifybackup --no-parse-wal checks the files against the
 *      backup_manifest inside the tar (skipped when the tar has none).
 *   3. The WAL the backup needs is fetched from the archive (wal_fetch.h) into
 *      <scratch>/wal, by this process, so that the copy's restore_command is a
 *      plain cp that never sees a credential or a key: the segments of the
 *      backup's timeline from its start segment for as long as they exist in
 *      a row.  One missing before the segment of the backup's stop LSN fails
 *      the drill, naming it.
 *   4. The copy gets a configuration of its own, replacing the copied
 *      postgresql.conf, postgresql.auto.conf and pg_hba.conf wholly, so that
 *      nothing of the live server's configuration reaches it: no TCP listener
 *      (listen_addresses = ''), a unix socket in the 0700 scratch directory
 *      (or, when that path is too long for a socket, in a 0700 directory of its
 *      own under /tmp), archive_mode = off, shared_preload_libraries = '' (no
 *      ripple_backup launcher, no schedules), restore_command copying from
 *      <scratch>/wal, recovery.signal and recovery_target_timeline = 'current',
 *      no target: recovery replays every fetched segment, then promotes on a
 *      timeline of its own that nothing archives.  fsync is off: the copy is
 *      thrown away.
 *   5. pg_ctl start -w (fork and exec, no shell of ours) runs it as the calling
 *      process's OS user; hot_standby is off, so it accepts connections once
 *      recovery has ended.  The replayed end (pg_last_wal_replay_lsn(),
 *      pg_last_xact_replay_timestamp()) is read and must reach the stop LSN;
 *      pg_amcheck --all checks every database (when asked).  Then pg_ctl stop
 *      -m fast.
 *   6. Always, on success, failure and cancel alike: the server is stopped
 *      (pg_ctl stop -m immediate, then SIGKILL of the postmaster if it is still
 *      there) and the scratch directory is removed.
 *
 * Plain C: the server's verifier worker calls it (verify.h).
 */
#ifndef RB_BASE_DRILL_H
#define RB_BASE_DRILL_H

#include <stdbool.h>
#include <stdint.h>

#include "backup_metadata.h"
#include "dest.h"
#include "encrypt_key.h"
#include "rb_error.h"

typedef struct rb_base_drill_params
{
	const char *bindir;			/* pg_ctl, pg_verifybackup, pg_amcheck, psql */
	const char *directory;		/* where the scratch directory is made (must exist) */
	const char *scratch_name;	/* its name there, unique to this run */
	const char *user;			/* the copy's superuser to connect as */
	const char *dbname;			/* a database of the copy to connect to */
	uint32_t	wal_segment_size;	/* bytes (the cluster's) */
	bool		amcheck;		/* run pg_amcheck --all (the amcheck extension exists) */
	const char *const *settings;	/* "name = value" lines added to the copy's
									 * postgresql.conf; NULL-ended, may be NULL */
	int			start_timeout_s;	/* pg_ctl start -t */
	const char *const *env;		/* extra "NAME=value" for the children; may be NULL */
} rb_base_drill_params;

typedef struct rb_base_drill_result
{
	bool		ran;			/* the drill got past its checks of the setup */
	uint64_t	stored_bytes;
	char		sha256[65];
	bool		checksum_ok;
	uint64_t	unpacked_bytes; /* the data directory's files */
	double		unpack_seconds; /* download, checksum, decryption, decompression, unpack */
	double		verifybackup_seconds;
	double		wal_fetch_seconds;
	int			wal_files;		/* segments fetched */
	char		last_wal[32];	/* the last of them */
	double		replay_seconds; /* pg_ctl start until it accepts connections */
	double		amcheck_seconds;
	char		replayed_lsn[24];	/* "" = not read */
	char		replayed_time[64];	/* the last replayed commit, "" = none or not read */
	char		verifybackup[16];	/* "passed", "failed", "skipped", "" = not run */
	char		amcheck[16];	/* the same */
} rb_base_drill_result;

/*
 * Runs the drill of the base backup at object_key, described by meta (its
 * metadata document: compression, encryption, system identifier, incarnation,
 * timeline, start and stop LSN).  Returns 0 when every step passed, else -1
 * with err: RB_ERR_INVALID (the directory is unusable, the metadata lacks what
 * the drill needs), RB_ERR_INTEGRITY (checksum, tar, pg_verifybackup, a
 * missing WAL segment, the copy not starting or stopping short of the stop
 * LSN, pg_amcheck), RB_ERR_CANCELLED, the destination's errors.  res is filled
 * as far as the drill went.
 */
int			rb_base_drill_run(const rb_base_drill_params *p, rb_destination *dest,
							  const char *object_key, const rb_backup_metadata *meta,
							  uint64_t expected_size, const char *expected_sha256,
							  const rb_keyring *keyring, rb_base_drill_result *res,
							  const rb_hooks *hooks, rb_error *err);

/*
 * Removes what a drill killed outright (SIGKILL, a crash of the server that
 * ran it) left at scratch (a directory "<directory>/<scratch name>"): a copy
 * still running from scratch/data is stopped (SIGQUIT, then SIGKILL after 5 s;
 * only a process whose working directory is that data directory, so a reused
 * pid is never signalled), and the directory is removed.  0, or -1 with
 * RB_ERR_IO when something could not be removed.
 */
int			rb_base_drill_remove_leftover(const char *scratch, rb_error *err);

/*
 * Whether path can be a drill directory: absolute, of characters that need no
 * quoting in a configuration file or a socket list ([A-Za-z0-9/._+-]).
 * RB_ERR_INVALID saying why not.
 */
int			rb_base_drill_check_directory(const char *path, rb_error *err);

#endif							/* RB_BASE_DRILL_H */
