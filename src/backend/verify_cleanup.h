/*
 * verify_cleanup.h — the names of what a restore verify creates on the server
 * while it runs, and their removal when no running verifier owns them.
 *
 * A verifier restores into the scratch database ripple_backup_verify_<id>_<pid>
 * (backup id, the verifier's process id): two verifies of one backup never share
 * a database, and a name tells which process owns it.  Its temporary files are
 * base/pgsql_tmp/pgsql_tmp_ripple_backup_verify_<pid>_XXXXXX (and ".list" beside
 * it): the pgsql_tmp prefix makes PostgreSQL itself remove them at every start,
 * crash restarts included (remove_temp_files_after_crash).  At its start the
 * launcher drops the scratch databases and removes the temporary files whose
 * process is no longer running: what a verifier killed on the way left behind;
 * and likewise the scratch directories drill_<id>_<pid> of base backup drills
 * in ripple_backup.drill_directory, stopping a copy still running from one
 * (base_drill.h).
 */
#ifndef RB_VERIFY_CLEANUP_H
#define RB_VERIFY_CLEANUP_H

#include "postgres.h"

/* The scratch database name of this process's verify of backup_id (< NAMEDATALEN). */
extern void rb_verify_scratch_name(char *buf, size_t len, int64 backup_id);

/* The directory of the temporary files: the server's own base/pgsql_tmp (created). */
extern void rb_verify_temp_dir(char *buf, size_t len);

/* The file name prefix of this process's temporary files (mkstemp adds XXXXXX). */
extern void rb_verify_temp_prefix(char *buf, size_t len);

/*
 * Drops the scratch databases and removes the temporary files and drill
 * directories of verifiers that are no longer running.  Called by the launcher at start, outside any
 * transaction (each DROP DATABASE runs in a transaction of its own); a database
 * that cannot be dropped is reported with a WARNING and left for the next start.
 */
extern void rb_verify_cleanup_leftovers(void);

#endif							/* RB_VERIFY_CLEANUP_H */
