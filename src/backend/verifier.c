/*
 * verifier.c — the verifier background worker (see verifier.h).
 *
 * Connected to the catalog database, it reads the backup's row (SPI, with
 * parameters), commits, runs src/core's verification outside any transaction
 * (streaming the object back, and for the deeper levels pg_restore --list and a
 * restore into a scratch database through the server's own client programs on
 * the unix socket, logged in as the unprivileged restore role: restore_role.h;
 * an encrypted backup decrypted on the fly with the keys of
 * ripple_backup.encryption_key_file and decryption_key_files: encryption.h),
 * then records the outcome in the catalog and, when a caller waits, in its DSM
 * segment.  src/core never raises an ERROR; an ERROR here (the catalog) ends
 * the worker, and the waiting caller then reports that no result came back.
 */
#include "postgres.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "storage/dsm.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/varlena.h"

#include "access/xlog.h"
#include "backup_metadata.h"
#include "base_drill.h"
#include "core_hooks.h"
#include "dest.h"
#include "drill.h"
#include "encryption.h"
#include "guc.h"
#include "notify_queue.h"
#include "restore_role.h"
#include "verifier.h"
#include "verify.h"
#include "verify_cleanup.h"
#include "verify_record.h"
#include "worker_common.h"

bool		rb_guc_verify_after_backup = true;

static int64 my_backup_id = 0;

void
rb_verifier_define_gucs(void)
{
	DefineCustomBoolVariable("ripple_backup.verify_after_backup",
							 "Verify each new backup at checksum level right after it is stored.",
							 "A verifier worker streams the object back and compares its SHA-256 and size with the catalog and the metadata.",
							 &rb_guc_verify_after_backup, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	rb_restore_role_define_gucs();
}

bool
rb_verifier_start(const RbVerifyArgs *args, pid_t notify_pid, BackgroundWorkerHandle **handle,
				  bool keep_handle)
{
	BackgroundWorker worker;

	rb_worker_init(&worker, "rb_verifier_main", "ripple_backup verifier", BGW_NEVER_RESTART);
	snprintf(worker.bgw_name, BGW_MAXLEN, "ripple_backup verifier for backup %lld",
			 (long long) args->backup_id);
	worker.bgw_main_arg = Int64GetDatum(args->backup_id);
	StaticAssertStmt(sizeof(RbVerifyArgs) <= BGW_EXTRALEN, "RbVerifyArgs fits in bgw_extra");
	memcpy(worker.bgw_extra, args, sizeof(RbVerifyArgs));
	worker.bgw_notify_pid = notify_pid;
	return rb_worker_start(&worker, handle, keep_handle);
}

/* The backup's row, as the verification needs it. */
typedef struct VerifyRow
{
	bool		found;
	char		status[16];
	char	   *object_key;
	char	   *location;
	char	   *sha256;
	int64		size_bytes;
	char	   *superuser;
	bool		physical;		/* a base backup: checksum level, or a restore drill */
} VerifyRow;

static char *
spi_text(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		return NULL;
	return MemoryContextStrdup(TopMemoryContext, TextDatumGetCString(d));
}

static void
read_row(int64 id, VerifyRow *row)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(id)};
	int			rc;

	memset(row, 0, sizeof(*row));
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	rc = SPI_execute_with_args("SELECT status, object_key, location, sha256, size_bytes, kind = 'physical'"
							   "  FROM ripple_backup.backups WHERE id = $1",
							   1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed reading backup %lld: %d", (long long) id, rc);
	if (SPI_processed > 0)
	{
		char	   *status = spi_text(1);
		bool		isnull;
		Datum		d;

		row->found = true;
		strlcpy(row->status, status ? status : "", sizeof(row->status));
		row->object_key = spi_text(2);
		row->location = spi_text(3);
		row->sha256 = spi_text(4);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 5, &isnull);
		row->size_bytes = isnull ? -1 : DatumGetInt64(d);
		row->physical = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6, &isnull));
	}
	SPI_finish();
	row->superuser = MemoryContextStrdup(TopMemoryContext,
										 GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false));
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * The measured steps of a base backup's drill as a JSON object (the column
 * verify_details), NULL when no such drill ran.
 */
static char *
drill_details(const rb_verify_result *res)
{
	const rb_base_drill_result *d = &res->drill;
	StringInfoData b;

	if (!d->ran)
		return NULL;
	initStringInfo(&b);
	appendStringInfo(&b, "{\"unpack_seconds\": %.3f, \"unpacked_bytes\": " UINT64_FORMAT
					 ", \"pg_verifybackup_seconds\": %.3f, \"wal_fetch_seconds\": %.3f, \"wal_files\": %d"
					 ", \"replay_seconds\": %.3f, \"pg_amcheck_seconds\": %.3f",
					 d->unpack_seconds, d->unpacked_bytes, d->verifybackup_seconds,
					 d->wal_fetch_seconds, d->wal_files, d->replay_seconds, d->amcheck_seconds);
	appendStringInfoString(&b, ", \"last_wal\": ");
	if (d->last_wal[0])
		escape_json(&b, d->last_wal);
	else
		appendStringInfoString(&b, "null");
	appendStringInfoString(&b, ", \"replayed_lsn\": ");
	if (d->replayed_lsn[0])
		escape_json(&b, d->replayed_lsn);
	else
		appendStringInfoString(&b, "null");
	appendStringInfoString(&b, ", \"replayed_time\": ");
	if (d->replayed_time[0])
		escape_json(&b, d->replayed_time);
	else
		appendStringInfoString(&b, "null");
	appendStringInfoString(&b, ", \"pg_verifybackup\": ");
	escape_json(&b, d->verifybackup[0] ? d->verifybackup : "not run");
	appendStringInfoString(&b, ", \"pg_amcheck\": ");
	escape_json(&b, d->amcheck[0] ? d->amcheck : "not run");
	appendStringInfoChar(&b, '}');
	return b.data;
}

static void
record_outcome(int64 id, rb_verify_level level, bool verified, double restore_seconds,
			   const char *error, bool drill, const char *details)
{
	Oid			argtypes[6] = {INT8OID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', ' '};
	int			rc;

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(verified ? "verified" : "failed");
	values[2] = CStringGetTextDatum(rb_verify_level_name(level));
	values[3] = Float8GetDatum(restore_seconds);
	if (restore_seconds < 0)
		nulls[3] = 'n';
	if (verified || error == NULL)
		nulls[4] = 'n';
	else
		values[4] = CStringGetTextDatum(error);
	if (details == NULL)
		nulls[5] = 'n';
	else
		values[5] = CStringGetTextDatum(details);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	SPI_connect();
	/* a lower level keeps the restore time and details measured by an earlier drill */
	rc = SPI_execute_with_args("UPDATE ripple_backup.backups"
							   "   SET verify_status = $2, verify_level = $3,"
							   "       verified_at = pg_catalog.clock_timestamp(),"
							   "       restore_seconds = coalesce($4, restore_seconds),"
							   "       verify_error = $5,"
							   "       verify_details = coalesce($6::pg_catalog.jsonb, verify_details)"
							   " WHERE id = $1",
							   6, argtypes, values, nulls, false, 0);
	if (rc != SPI_OK_UPDATE)
		elog(ERROR, "SPI_execute_with_args failed recording the verification of backup %lld: %d",
			 (long long) id, rc);
	SPI_finish();
	/* verify.failed, drill.succeeded, drill.failed: queued with the outcome */
	rb_notify_verify_finished(id, verified, drill);
	PopActiveSnapshot();
	CommitTransactionCommand();
	rb_wake_launcher();			/* it starts the notifier */
}

/* "<dump>.verify.json" and the ".verified" marker of this verification */
static void
store_record(rb_destination *dest, const VerifyRow *row, rb_verify_level level, bool verified,
			 const rb_verify_result *res, const rb_error *err, const rb_hooks *hooks)
{
	rb_verify_record rec;

	memset(&rec, 0, sizeof(rec));
	rec.backup_id = my_backup_id;
	rec.verified = verified;
	strlcpy(rec.level, rb_verify_level_name(level), sizeof(rec.level));
	rb_metadata_format_time(time(NULL), rec.verified_at, sizeof(rec.verified_at));
	if (res->counts_mismatch)
		strlcpy(rec.rows, "mismatch", sizeof(rec.rows));
	else if (verified && level != RB_VERIFY_CHECKSUM && !res->drill.ran)
		strlcpy(rec.rows, "match", sizeof(rec.rows));
	else
		strlcpy(rec.rows, "not compared", sizeof(rec.rows));
	rec.restore_seconds = res->restore_seconds;
	strlcpy(rec.error, verified ? "" : (err->msg[0] ? err->msg : "verification failed"),
			sizeof(rec.error));
	rb_verify_record_store(dest, row->object_key, &rec, hooks);
}

/* rb_verify_pg.before_count: the restore role's password and settings again */
static int
rearm_login(void *arg, rb_error *err)
{
	(void) err;
	rb_restore_login_rearm((RbRestoreLogin *) arg);
	return 0;
}

/*
 * When the restore role could not log in (pg_hba.conf: peer or ident on the
 * unix socket, or no line for it), says what to change.
 */
static void
explain_login_failure(const char *role, rb_error *err)
{
	char		who[NAMEDATALEN + 16];

	/* "... authentication failed for user "r"", "no pg_hba.conf entry for ..., user "r", ..." */
	snprintf(who, sizeof(who), "user \"%s\"", role);
	if (strstr(err->msg, who) == NULL ||
		(strstr(err->msg, "authentication failed") == NULL && strstr(err->msg, "no pg_hba.conf entry") == NULL))
		return;
	ereport(LOG,
			(errmsg("ripple_backup: the restore role \"%s\" could not log in", role),
			 errhint("Add \"local all %s scram-sha-256\" to pg_hba.conf before the other \"local\" lines and reload; see \"Restore verification\" in docs/configuration.md.",
					 role)));
	snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
			 "; pg_hba.conf must let role \"%s\" log in with a password over the unix socket"
			 " (\"local all %s scram-sha-256\" before the other local lines)", role, role);
}

/* The destination URL a backup was stored in: its location without "/<object_key>". */
static char *
destination_of(const VerifyRow *row)
{
	size_t		ll = strlen(row->location);
	size_t		kl = strlen(row->object_key);

	if (ll > kl + 1 && strcmp(row->location + ll - kl, row->object_key) == 0 &&
		row->location[ll - kl - 1] == '/')
		return pnstrdup(row->location, ll - kl - 1);
	return NULL;
}

/*
 * The restore drill of a base backup (base_drill.h): where and how.  false
 * with err when ripple_backup.drill_directory cannot be used.
 */
static bool
base_drill_setup(rb_base_drill_params *bp, const VerifyRow *row, const RbVerifyArgs *args,
				 const char *bindir, const char *const *env, rb_error *err)
{
	static char scratch[64];
	char		share[MAXPGPATH];
	char		control[MAXPGPATH + 64];
	const char **settings = palloc0(sizeof(char *) * 4);
	const char *dir = rb_guc_drill_directory;

	memset(bp, 0, sizeof(*bp));
	if (rb_base_drill_check_directory(dir, err) != 0)
	{
		rb_error_prefix(err, "restore drill of a base backup impossible: ");
		return false;
	}
	/* the default directory (or one the DBA named) is made on first use; its parent must exist */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
	{
		rb_error_set(err, RB_ERR_INVALID,
					 "restore drill of a base backup impossible: could not create the drill directory \"%s\" (ripple_backup.drill_directory): %s",
					 dir, strerror(errno));
		return false;
	}
	snprintf(scratch, sizeof(scratch), "drill_%lld_%d", (long long) args->backup_id, (int) MyProcPid);
	get_share_path(my_exec_path, share);
	snprintf(control, sizeof(control), "%s/extension/amcheck.control", share);
	/* at least the live server's: replayed prepared transactions and locks must fit */
	settings[0] = psprintf("max_prepared_transactions = %s", GetConfigOption("max_prepared_transactions", false, false));
	settings[1] = psprintf("max_locks_per_transaction = %s", GetConfigOption("max_locks_per_transaction", false, false));
	settings[2] = psprintf("max_pred_locks_per_transaction = %s", GetConfigOption("max_pred_locks_per_transaction", false, false));
	bp->bindir = bindir;
	bp->directory = dir;
	bp->scratch_name = scratch;
	bp->user = row->superuser;
	bp->dbname = rb_guc_database;
	bp->wal_segment_size = (uint32) wal_segment_size;
	bp->amcheck = access(control, R_OK) == 0;
	bp->settings = settings;
	bp->start_timeout_s = args->timeout_ms > 0 ? (int) Min(args->timeout_ms / 1000 + 1, INT_MAX) : 3600;
	bp->env = env;
	return true;
}

void
rb_verifier_main(Datum main_arg)
{
	RbVerifyArgs args;
	RbVerifyOutcome *outcome = NULL;
	dsm_segment *seg = NULL;
	VerifyRow	row;
	rb_verify_result res;
	rb_verify_request req;
	rb_verify_pg pg;
	rb_error	err;
	rb_hooks	hooks;
	RbCoreHookContext hook_ctx;
	rb_destination_options opt;
	rb_destination *dest = NULL;
	char	   *dest_url;
	char		bindir[MAXPGPATH];
	char		tempdir[MAXPGPATH];
	char		tempprefix[64];
	char		scratch[NAMEDATALEN];
	char		appname[64];
	char		passfile_env[MAXPGPATH + 16];
	const char *env[3];
	RbRestoreLogin login;
	rb_keyring *ring = NULL;
	char		key_problems[1024];
	bool		verified = false;
	rb_base_drill_params drill_params;
	bool		base_drill = false;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	memset(&login, 0, sizeof(login));
	my_backup_id = args.backup_id;
	rb_core_hooks_init(&hooks, &hook_ctx, "verify of backup %lld", (long long) my_backup_id);
	/* a drill has no waiting caller to stop it: the verifier keeps its own deadline */
	rb_core_hooks_set_timeout(&hook_ctx, args.timeout_ms);

	rb_worker_signals(false);	/* settings are read once, at start */

	if (args.outcome != 0)
	{
		seg = dsm_attach(args.outcome);
		if (seg == NULL)
			proc_exit(0);		/* the caller gave up already */
		outcome = (RbVerifyOutcome *) dsm_segment_address(seg);
	}

	rb_worker_connect(rb_guc_database, "ripple_backup verifier");

	rb_error_clear(&err);
	rb_verify_result_init(&res);
	read_row(args.backup_id, &row);

	/*
	 * Started by the launcher (nobody waits): the success is recorded by the
	 * launcher's transaction, which may not have committed yet.
	 */
	for (int i = 0; args.outcome == 0 && i < 300 &&
		 (!row.found || strcmp(row.status, "running") == 0 || strcmp(row.status, "queued") == 0); i++)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH, 100,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		read_row(args.backup_id, &row);
	}
	if (args.outcome == 0 && row.found && strcmp(row.status, "succeeded") != 0)
		proc_exit(0);			/* the launcher recorded a failure after all */
	if (!row.found)
	{
		ereport(LOG, (errmsg("ripple_backup: backup %lld to verify does not exist", (long long) args.backup_id)));
		if (outcome)
			strlcpy(outcome->error, "the backup does not exist", sizeof(outcome->error));
		proc_exit(0);
	}
	ereport(LOG, (errmsg("ripple_backup: verify of backup %lld at level %s started",
						 (long long) args.backup_id, rb_verify_level_name(args.level))));
	pgstat_report_activity(STATE_RUNNING, "ripple_backup: verifying a backup");

	if (strcmp(row.status, "succeeded") != 0 || row.object_key == NULL ||
		row.location == NULL || row.sha256 == NULL || row.size_bytes < 0)
		rb_error_set(&err, RB_ERR_INVALID, "backup %lld has not succeeded (status %s)",
					 (long long) args.backup_id, row.status);
	else if (row.physical && args.level == RB_VERIFY_ARCHIVE)
		rb_error_set(&err, RB_ERR_INVALID, "backup %lld is a physical base backup and can be verified at checksum or restore level only",
					 (long long) args.backup_id);
	else if ((dest_url = destination_of(&row)) == NULL)
		rb_error_set(&err, RB_ERR_INTERNAL, "the location of backup %lld does not end with its object key",
					 (long long) args.backup_id);
	else
	{
		rb_guc_destination_options(&opt);
		dest = rb_destination_open(dest_url, &opt, &hooks, &err);
	}

	if (dest != NULL)
	{
		char	   *sock = rb_worker_socket_directory();

		strlcpy(bindir, my_exec_path, sizeof(bindir));
		get_parent_directory(bindir);
		/* names of this run's own (verify_cleanup.h): PostgreSQL and the launcher remove leftovers */
		rb_verify_temp_dir(tempdir, sizeof(tempdir));
		rb_verify_temp_prefix(tempprefix, sizeof(tempprefix));
		rb_verify_scratch_name(scratch, sizeof(scratch), args.backup_id);
		snprintf(appname, sizeof(appname), "PGAPPNAME=ripple_backup verify %lld", (long long) args.backup_id);
		env[0] = appname;
		env[1] = NULL;

		memset(&pg, 0, sizeof(pg));
		pg.bindir = bindir;
		pg.host = sock;
		pg.port = PostPortNumber;
		pg.user = row.superuser;
		pg.env = env;
		pg.maintenance_db = rb_guc_database;

		memset(&req, 0, sizeof(req));
		req.dest = dest;
		req.object_key = row.object_key;
		req.expected_size = (uint64) row.size_bytes;
		req.expected_sha256 = row.sha256;
		req.level = (rb_verify_level) args.level;
		req.force = args.force;
		req.temp_dir = tempdir;
		req.temp_prefix = tempprefix;
		req.scratch_db = scratch;
		req.pg = &pg;
		key_problems[0] = '\0';
		if (args.level != RB_VERIFY_CHECKSUM)
		{
			/* the checksum is of the stored bytes and needs no key */
			ring = palloc(sizeof(rb_keyring));
			rb_encryption_keyring(ring, key_problems, sizeof(key_problems));
			req.keyring = ring;
		}

		base_drill = row.physical && args.level == RB_VERIFY_RESTORE;
		if (base_drill)
		{
			/* a copy of its own: neither this server's socket nor the restore role */
			if (base_drill_setup(&drill_params, &row, &args, bindir, env, &err))
			{
				req.base_drill = &drill_params;
				pgstat_report_activity(STATE_RUNNING, "ripple_backup: restore drill of a base backup");
				verified = rb_verify_run(&req, &res, &hooks, &err) == 0;
				if (!verified && err.code == RB_ERR_AUTH && key_problems[0] != '\0')
					snprintf(err.msg + strlen(err.msg), sizeof(err.msg) - strlen(err.msg),
							 "; key files that could not be loaded: %s", key_problems);
			}
		}
		else if (args.level != RB_VERIFY_CHECKSUM && sock == NULL)
			rb_error_set(&err, RB_ERR_INVALID, "the server listens on no unix socket (unix_socket_directories is empty); pg_restore cannot connect");
		else if (args.level == RB_VERIFY_RESTORE &&
				 !rb_restore_login_open(tempdir, args.timeout_ms, &login, err.msg, sizeof(err.msg)))
			err.code = RB_ERR_INVALID;
		else
		{
			if (args.level == RB_VERIFY_RESTORE)
			{
				/* restore and count as the unprivileged role; its password in a file */
				pg.restore_user = login.role;
				pg.before_count = rearm_login;
				pg.before_count_arg = &login;
				snprintf(passfile_env, sizeof(passfile_env), "PGPASSFILE=%s", login.passfile);
				env[1] = passfile_env;
				env[2] = NULL;
			}
			verified = rb_verify_run(&req, &res, &hooks, &err) == 0;
			if (!verified && err.code == RB_ERR_AUTH && key_problems[0] != '\0')
				snprintf(err.msg + strlen(err.msg), sizeof(err.msg) - strlen(err.msg),
						 "; key files that could not be loaded: %s", key_problems);
			rb_restore_login_close(&login);
			if (!verified && args.level == RB_VERIFY_RESTORE)
				explain_login_failure(login.role, &err);
		}
		/*
		 * beside the backup, for ripple-backup when the database is gone: the
		 * outcome (verify_record.h) and the marker prune reads (retention_keys.h)
		 */
		if (verified || err.code != RB_ERR_CANCELLED)
			store_record(dest, &row, (rb_verify_level) args.level, verified, &res, &err, &hooks);
		if (ring != NULL)
			rb_keyring_wipe(ring);
		rb_destination_close(dest);
	}
	if (!verified)
		rb_core_hooks_explain(&hook_ctx, &err);
	if (!verified && rb_worker_got_sigterm && err.code == RB_ERR_CANCELLED)
		strlcpy(err.msg, "verification cancelled: the verifier was terminated", sizeof(err.msg));
	else if (!verified && hook_ctx.deadline_passed && err.code == RB_ERR_CANCELLED)
		snprintf(err.msg, sizeof(err.msg), "verification did not finish within %lld s",
				 (long long) (args.timeout_ms / 1000));

	record_outcome(args.backup_id, (rb_verify_level) args.level, verified, res.restore_seconds,
				   err.msg[0] ? err.msg : "verification failed", args.drill, drill_details(&res));
	if (res.note[0] != '\0')
		ereport(LOG,
				(errmsg("ripple_backup: verify of backup %lld: %s", (long long) args.backup_id, res.note),
				 errdetail("The verify restore runs as an unprivileged role; objects only a superuser may create are not restored.")));
	if (verified && res.drill.ran)
		ereport(LOG,
				(errmsg("ripple_backup: base backup %lld verified by a restore drill (%.1f s; restore %.1f s: unpack %.1f s, WAL %.1f s for %d segments, replay %.1f s)",
						(long long) args.backup_id, res.seconds, res.restore_seconds,
						res.drill.unpack_seconds, res.drill.wal_fetch_seconds, res.drill.wal_files,
						res.drill.replay_seconds),
				 errdetail("Replayed to %s%s%s; pg_verifybackup %s, pg_amcheck %s.",
						   res.drill.replayed_lsn,
						   res.drill.replayed_time[0] ? ", last transaction at " : "",
						   res.drill.replayed_time,
						   res.drill.verifybackup, res.drill.amcheck)));
	else if (verified)
		ereport(LOG,
				(errmsg("ripple_backup: backup %lld verified at level %s (%.1f s%s)",
						(long long) args.backup_id, rb_verify_level_name(args.level), res.seconds,
						res.restore_seconds >= 0 ? psprintf(", restore %.1f s", res.restore_seconds) : "")));
	else
		ereport(LOG,
				(errmsg("ripple_backup: verification of backup %lld at level %s failed",
						(long long) args.backup_id, rb_verify_level_name(args.level)),
				 errdetail("%s", err.msg)));

	if (outcome != NULL)
	{
		outcome->verified = verified;
		outcome->restore_seconds = res.restore_seconds;
		strlcpy(outcome->error, verified ? "" : err.msg, sizeof(outcome->error));
		pg_write_barrier();
		outcome->done = true;
	}
	rb_verify_result_free(&res);
	if (seg)
		dsm_detach(seg);
	proc_exit(0);
}
