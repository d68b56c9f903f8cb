/*
 * runner.c — the runner background worker: takes one backup and hands the
 * result to the launcher through its shared-memory slot.
 *
 * Connected to the database it backs up (pg_dump --snapshot needs a snapshot of
 * that database), it opens a REPEATABLE READ transaction, exports its snapshot
 * and runs the src/core pipeline (pg_dump from the server's own bin directory
 * through the unix socket → row counter → compressor → encryptor, when
 * ripple_backup.encryption_key_file names a key → SHA-256 → destination), then
 * writes the metadata last.  The key file is read and checked before anything
 * is stored: a key file that cannot be used fails the backup, never weakens it.  It never touches the catalog (which lives in
 * another database): the result goes into its slot, the per-table row counts
 * into a pinned DSM segment, and the launcher persists both.  Whatever happens
 * — an ERROR, SIGTERM, a pg_dump that dies — the slot ends up finished with a
 * reason (the exit callback), and the pipeline kills and reaps pg_dump itself.
 */
#include "postgres.h"

#include <limits.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/postmaster.h"
#include "storage/dsm.h"
#include "storage/ipc.h"
#include "storage/pmsignal.h"
#include "storage/procsignal.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "backup.h"
#include "core_hooks.h"
#include "dest.h"
#include "encrypt_stream.h"
#include "encryption.h"
#include "errors.h"
#include "guc.h"
#include "incarnation.h"
#include "rb_format.h"
#include "backup_metadata.h"
#include "rb_child.h"			/* rb_lower_priority */
#include "base_backup_runner.h"
#include "runner.h"
#include "runner_outcome.h"
#include "shmem.h"
#include "upload_journal.h"
#include "version.h"
#include "worker_common.h"

static int	my_slotno = -1;
static int64 my_backup_id = 0;
static char captured_error[RB_TEXT_LEN];
/* this backup's encryption key: wiped when the pipeline ends and at exit */
static rb_key backup_key;

void
rb_runner_progress(void *arg, const rb_backup_progress *p)
{
	RbRunnerSlot *slot = (RbRunnerSlot *) arg;

	pg_atomic_write_u64(&slot->bytes_read, p->bytes_read);
	pg_atomic_write_u64(&slot->bytes_stored, p->bytes_stored);
}

/*
 * rb_hooks.upload_abandoned: the multipart upload could not be aborted, so its
 * parts stay in the bucket; the slot carries it to the launcher, which records
 * it in ripple_backup.pending_aborts.  Called inside src/core: only copies.
 */
void
rb_runner_upload_abandoned(void *arg, const char *bucket, const char *key,
						const char *upload_id, const char *reason)
{
	RbRunnerSlot *slot = &rb_shared->slots[my_slotno];

	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	strlcpy(slot->abandoned_bucket, bucket, sizeof(slot->abandoned_bucket));
	strlcpy(slot->abandoned_key, key, sizeof(slot->abandoned_key));
	strlcpy(slot->abandoned_upload_id, upload_id, sizeof(slot->abandoned_upload_id));
	strlcpy(slot->abandoned_reason, reason && reason[0] ? reason : "the abort failed",
			sizeof(slot->abandoned_reason));
	LWLockRelease(rb_shared->lock);
}

/*
 * rb_hooks.upload_started: note the open upload durably, so that a crash of the
 * server before the upload completes or is aborted still gets it aborted later.
 */
void
rb_runner_upload_started(void *arg, const char *bucket, const char *key, const char *upload_id)
{
	rb_upload_journal_note(my_backup_id, bucket, key, upload_id);
}

/* If the runner exits before storing a result, store one that says why. */
static void
runner_exit(int code, Datum arg)
{
	RbRunnerSlot *slot = &rb_shared->slots[my_slotno];
	bool		told = false;

	rb_key_wipe(&backup_key);
	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	if (slot->state == RB_SLOT_ASSIGNED && slot->backup_id == my_backup_id)
	{
		slot->succeeded = false;
		slot->finished_at = GetCurrentTimestamp();
		if (rb_worker_got_sigterm)
			strlcpy(slot->error, "backup cancelled: the runner was terminated", sizeof(slot->error));
		else if (captured_error[0])
			strlcpy(slot->error, captured_error, sizeof(slot->error));
		else
			snprintf(slot->error, sizeof(slot->error),
					 "the backup runner (pid %d) exited with code %d without recording a result",
					 (int) MyProcPid, code);
		slot->phase = RB_PHASE_DONE;
		slot->state = RB_SLOT_FINISHED;
		told = true;
	}
	LWLockRelease(rb_shared->lock);
	if (told)
		rb_wake_launcher();
}

/* What to look at after a failed backup, by the kind of failure. */
static const char *
failure_hint(rb_error_code code)
{
	switch (code)
	{
		case RB_ERR_NETWORK:
		case RB_ERR_CIRCUIT_OPEN:
			return "Check that the destination (ripple_backup.destination, ripple_backup.s3_endpoint) is reachable from the database server; SELECT * FROM ripple_backup.destinations shows its state.";
		case RB_ERR_AUTH:
			return "Check the credentials in ripple_backup.s3_credentials_file (or the server's AWS_* environment) and their rights on the bucket.";
		case RB_ERR_NOT_FOUND:
			return "Check that the bucket or directory of ripple_backup.destination exists.";
		case RB_ERR_CHILD:
			return "The detail is pg_dump's own message; the database and its objects must be readable by the server's superuser.";
		case RB_ERR_INVALID:
			return "Check the ripple_backup.* settings (docs/configuration.md), then queue the backup again.";
		default:
			return "The error is kept in ripple_backup.backups.error; SELECT * FROM ripple_backup_health() shows the state of the backups.";
	}
}

/*
 * The key this backup is encrypted with, read now (a reload between backups
 * takes effect at the next one): a configured key file that is missing,
 * readable by others or not a key fails the backup here, before the
 * destination is even opened.  Records the algorithm and key id (or "none") in
 * out; *key is NULL when encryption is not configured.  The key stays in this
 * file's static until rb_runner_wipe_key (and is wiped at exit in any case).
 */
bool
rb_runner_encryption_key(RunOutcome *out, const rb_key **key)
{
	bool		encrypt = false;

	*key = NULL;
	if (rb_encryption_current_key(&backup_key, &encrypt, &out->err) != 0)
		return false;
	strlcpy(out->encryption, encrypt ? RB_ENCRYPT_ALGORITHM_NAME : "none", sizeof(out->encryption));
	strlcpy(out->key_id, encrypt ? backup_key.id_hex : "", sizeof(out->key_id));
	if (encrypt)
		*key = &backup_key;
	return true;
}

void
rb_runner_wipe_key(void)
{
	rb_key_wipe(&backup_key);
}

/*
 * backup_nice, when set: the child program (set before its exec, through the
 * nice parameter of its pipeline), the server process that answers it
 * (session_nice in its startup packet: env[1], PGOPTIONS in options) and this
 * runner, which compresses and uploads; a runner serves one backup, then
 * exits.  env has room for three entries, env[0] set.
 */
void
rb_runner_backup_nice(const char **env, char *options, size_t options_len)
{
	if (rb_guc_backup_nice <= 0)
		return;
	snprintf(options, options_len, "PGOPTIONS=-c ripple_backup.session_nice=%d",
			 rb_guc_backup_nice);
	env[1] = options;
	env[2] = NULL;
	rb_lower_priority(rb_guc_backup_nice);
}

/* A client program beside the running postgres binary: the server's own bin directory. */
char *
rb_runner_program_path(const char *program)
{
	char		dir[MAXPGPATH];
	char	   *path = palloc(MAXPGPATH);

	strlcpy(dir, my_exec_path, sizeof(dir));
	get_parent_directory(dir);
	join_path_components(path, dir, program);
	return path;
}

rb_compress_kind
rb_runner_compression_kind(void)
{
	switch (rb_guc_compression)
	{
		case RB_COMPRESSION_ZSTD:
			return RB_COMPRESS_ZSTD;
		case RB_COMPRESSION_GZIP:
			return RB_COMPRESS_GZIP;
		default:
			return RB_COMPRESS_NONE;
	}
}

/* Moves the per-table row counts into a pinned DSM segment; returns its handle. */
static dsm_handle
counts_to_dsm(int64 id, const rb_table_counts *tc)
{
	Size		size = offsetof(RbCountsHeader, counts) + sizeof(RbTableCount) * Max(tc->n, 1);
	dsm_segment *seg = dsm_create(size, 0);
	RbCountsHeader *h = (RbCountsHeader *) dsm_segment_address(seg);
	dsm_handle	handle = dsm_segment_handle(seg);

	h->backup_id = id;
	h->ncounts = (int32) tc->n;
	for (size_t i = 0; i < tc->n; i++)
	{
		strlcpy(h->counts[i].schema_name, tc->items[i].schema, NAMEDATALEN);
		strlcpy(h->counts[i].table_name, tc->items[i].table, NAMEDATALEN);
		h->counts[i].row_count = tc->items[i].rows;
	}
	dsm_pin_segment(seg);
	dsm_detach(seg);
	return handle;
}


/*
 * The backup itself, inside the exported snapshot's transaction.  Every
 * src/core object is freed before returning; src/core never raises an ERROR.
 */
static void
run_pipeline(RbRunnerSlot *slot, const char *dbname, const char *snapshot, RunOutcome *out)
{
	rb_hooks	hooks;
	RbCoreHookContext hook_ctx;
	rb_destination_options opt;
	rb_destination *dest;
	rb_backup_params params;
	rb_backup_result result;
	rb_backup_metadata m;
	rb_compress_kind kind = rb_runner_compression_kind();
	uint64		sysid = GetSystemIdentifier();
	time_t		started = time(NULL);
	char	   *key = NULL;
	char	   *url = NULL;
	char	   *socket_dir = rb_worker_socket_directory();
	char		appname[64];
	char		host[HOST_NAME_MAX + 1];
	char		options[64];
	const char *env[3];
	const rb_key *enc_key = NULL;
	int			rc;

	rb_core_hooks_init(&hooks, &hook_ctx, "backup %lld", (long long) my_backup_id);
	hooks.upload_abandoned = rb_runner_upload_abandoned;
	hooks.upload_started = rb_runner_upload_started;
	rb_guc_destination_options(&opt);
	/*
	 * ripple_backup.backup_timeout bounds the whole backup: the cancel hook says
	 * stop at the deadline (pg_dump is killed and reaped, an upload aborted), and
	 * S3 requests end there too, whichever is running.
	 */
	rb_core_hooks_set_timeout(&hook_ctx, (int64) rb_guc_backup_timeout_s * 1000);
	if (rb_guc_backup_timeout_s > 0)
		opt.s3_operation_timeout_ms = (int64_t) rb_guc_backup_timeout_s * 1000;

	/* the key names this server's incarnation: no other server writes there */
	if (!rb_incarnation_current(out->incarnation, &out->timeline))
	{
		rb_error_set(&out->err, RB_ERR_INTERNAL,
					 "the server incarnation for timeline %u is not recorded yet; the launcher records it before it starts a backup",
					 GetWALInsertionTimeLine());
		return;
	}

	if (rb_guc_destination == NULL || rb_guc_destination[0] == '\0')
	{
		rb_error_set(&out->err, RB_ERR_INVALID, "no backup destination is configured (ripple_backup.destination is empty)");
		return;
	}
	if (socket_dir == NULL)
	{
		rb_error_set(&out->err, RB_ERR_INVALID, "the server listens on no unix socket (unix_socket_directories is empty); pg_dump cannot connect");
		return;
	}

	/*
	 * S3 multipart parts all have one size, fixed now: large enough that 10,000
	 * of them hold twice the database's size (s3_part_size is the least).
	 */
	if (pg_strncasecmp(rb_guc_destination, "s3://", 5) == 0)
		opt.s3_expected_bytes = (uint64_t) DatumGetInt64(DirectFunctionCall1(pg_database_size_oid,
																			 ObjectIdGetDatum(MyDatabaseId)));

	/* the key, read and checked before the destination is opened */
	if (!rb_runner_encryption_key(out, &enc_key))
		return;

	dest = rb_destination_open(rb_guc_destination, &opt, &hooks, &out->err);
	if (dest == NULL)
	{
		rb_runner_wipe_key();
		return;
	}

	key = rb_backup_object_key(sysid, out->incarnation, dbname, started, slot->backup_id, kind);
	url = rb_destination_url_for(dest, key);
	strlcpy(out->object_key, key, sizeof(out->object_key));
	strlcpy(out->location, url, sizeof(out->location));
	/* published before anything is stored: a discarded run's objects can be found */
	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	strlcpy(slot->object_key, key, sizeof(slot->object_key));
	strlcpy(slot->location, url, sizeof(slot->location));
	LWLockRelease(rb_shared->lock);

	snprintf(appname, sizeof(appname), "PGAPPNAME=ripple_backup %lld", (long long) slot->backup_id);
	env[0] = appname;
	env[1] = NULL;
	rb_runner_backup_nice(env, options, sizeof(options));

	memset(&params, 0, sizeof(params));
	params.pg_dump_path = rb_runner_program_path("pg_dump");
	params.host = socket_dir;
	params.port = PostPortNumber;
	params.user = GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false);
	params.dbname = dbname;
	params.snapshot = snapshot;
	params.extra_env = env;
	params.dest = dest;
	params.object_key = key;
	params.compression = kind;
	params.compression_level = rb_guc_compression_level > 0 ? rb_guc_compression_level : -1;
	params.compression_workers = 0;
	params.nice = rb_guc_backup_nice;
	params.encryption_key = enc_key;
	params.progress = rb_runner_progress;
	params.progress_arg = slot;
	params.progress_interval_ms = 100;

	slot->phase = RB_PHASE_DUMPING;
	/* the two settings again: a reload may have applied them in either order (guc.h) */
	memset(&result, 0, sizeof(result));	/* as rb_backup_run leaves it, for the free */
	rc = rb_guc_check_compression(rb_guc_compression, rb_guc_compression_level, &out->err);
	if (rc == 0)
		rc = rb_backup_run(&params, &result, &hooks, &out->err);
	rb_runner_wipe_key();
	if (rc == 0)
	{
		char		ts[32];

		slot->phase = RB_PHASE_METADATA;
		rb_backup_metadata_init(&m);
		m.format_version = RB_METADATA_FORMAT_VERSION;
		m.backup_id = slot->backup_id;
		rb_metadata_format_time(started, ts, sizeof(ts));
		strlcpy(m.timestamp, ts, sizeof(m.timestamp));
		rb_metadata_set_str(&m.dbname, dbname);
		m.system_identifier = sysid;
		m.timeline = out->timeline;
		rb_metadata_set_str(&m.incarnation, out->incarnation);
		if (gethostname(host, sizeof(host)) == 0)
		{
			host[sizeof(host) - 1] = '\0';
			rb_metadata_set_str(&m.host_name, host);
		}
		rb_metadata_set_str(&m.cluster_name, cluster_name && cluster_name[0] ? cluster_name : NULL);
		rb_metadata_set_str(&m.backup_type, slot->backup_type);
		rb_metadata_set_str(&m.label, slot->has_label ? slot->label : NULL);
		m.size_bytes = result.size_bytes;
		memcpy(m.sha256, result.sha256, sizeof(m.sha256));
		rb_metadata_set_str(&m.compression, rb_compress_kind_name(kind));
		rb_metadata_set_str(&m.encryption, out->encryption);
		rb_metadata_set_str(&m.key_id, enc_key ? out->key_id : NULL);
		rb_metadata_set_str(&m.pg_dump_format, "custom");
		rb_metadata_set_str(&m.server_version, result.archive_server_version ? result.archive_server_version : PG_VERSION);
		rb_metadata_set_str(&m.extension_version, RB_EXTENSION_VERSION);
		m.duration_seconds = result.duration_seconds;
		m.uncompressed_bytes = result.bytes_read;
		rb_metadata_set_str(&m.object_key, key);
		rb_table_counts_copy(&m.table_counts, &result.table_counts);

		rc = rb_backup_write_metadata(dest, key, &m, &out->err);
		rb_backup_metadata_free(&m);
		if (rc == 0)
		{
			out->succeeded = true;
			out->size_bytes = result.size_bytes;
			out->bytes_read = result.bytes_read;
			out->duration = result.duration_seconds;
			memcpy(out->sha256, result.sha256, sizeof(out->sha256));
			out->counts = counts_to_dsm(slot->backup_id, &result.table_counts);
		}
		else
		{
			/* without its metadata the object is no backup: remove it */
			rb_error	ignored;

			rb_error_prefix(&out->err, "could not store the metadata: ");
			rb_error_clear(&ignored);
			(void) rb_destination_delete(dest, key, &ignored);
		}
	}
	if (!out->succeeded)
		rb_core_hooks_explain(&hook_ctx, &out->err);
	if (!out->succeeded && hook_ctx.deadline_passed && out->err.code == RB_ERR_CANCELLED)
		rb_error_set(&out->err, RB_ERR_NETWORK,
					 "backup did not finish within ripple_backup.backup_timeout (%d s); nothing was stored",
					 rb_guc_backup_timeout_s);
	rb_backup_result_free(&result);
	free(key);
	free(url);
	rb_destination_close(dest);
}

void
rb_runner_main(Datum main_arg)
{
	RbRunnerSlot *slot;
	char		dbname[NAMEDATALEN];
	RunOutcome *out;
	char		error[RB_TEXT_LEN];
	char		what[NAMEDATALEN + 64];
	bool		mine;
	bool		physical = false;
	int			slot_state = 0;
	int64		slot_backup = 0;

	my_slotno = DatumGetInt32(main_arg);
	memcpy(&my_backup_id, MyBgworkerEntry->bgw_extra, sizeof(my_backup_id));

	rb_worker_signals(false);	/* settings are read once, at start */

	if (rb_shared == NULL || my_slotno < 0 || my_slotno >= RB_MAX_RUNNERS)
		proc_exit(0);
	slot = &rb_shared->slots[my_slotno];
	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	mine = slot->state == RB_SLOT_ASSIGNED && slot->backup_id == my_backup_id;
	if (mine)
	{
		slot->pid = MyProcPid;
		strlcpy(dbname, slot->dbname, sizeof(dbname));
		physical = strcmp(slot->kind, "physical") == 0;
	}
	else
	{
		slot_state = (int) slot->state;
		slot_backup = slot->backup_id;
	}
	LWLockRelease(rb_shared->lock);
	if (!mine)
	{
		/* not ours to record in: say why in the log, the launcher records the slot's */
		ereport(LOG,
				(errmsg("ripple_backup: the runner of backup %lld exits without a backup: its slot %d holds backup %lld in state %d",
						(long long) my_backup_id, my_slotno, (long long) slot_backup, slot_state)));
		proc_exit(0);
	}
	before_shmem_exit(runner_exit, (Datum) 0);
	/* why the backup failed, for runner_exit: a FATAL while connecting cannot be caught */
	rb_worker_capture_errors(captured_error, sizeof(captured_error));

	/* a base backup covers the cluster: its runner connects to the catalog database */
	if (physical)
		snprintf(what, sizeof(what), "base backup %lld", (long long) my_backup_id);
	else
		snprintf(what, sizeof(what), "backup %lld of database \"%s\"", (long long) my_backup_id, dbname);
	rb_worker_connect(physical ? rb_guc_database : dbname, "ripple_backup runner");
	ereport(LOG, (errmsg("ripple_backup: %s started", what)));

	out = palloc0(sizeof(RunOutcome));
	PG_TRY();
	{
		char	   *snapshot;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		if (physical)
		{
			pgstat_report_activity(STATE_RUNNING, "ripple_backup: running pg_basebackup");
			PushActiveSnapshot(GetTransactionSnapshot());	/* it reads pg_tablespace */
			rb_base_backup_pipeline(slot, out);
			PopActiveSnapshot();
		}
		else
		{
			XactIsoLevel = XACT_REPEATABLE_READ;
			PushActiveSnapshot(GetTransactionSnapshot());
			snapshot = ExportSnapshot(GetActiveSnapshot());
			pgstat_report_activity(STATE_RUNNING, "ripple_backup: running pg_dump");

			run_pipeline(slot, dbname, snapshot, out);
			PopActiveSnapshot();
		}
		/* the upload is completed, aborted or handed to the launcher as abandoned */
		rb_upload_journal_forget(my_backup_id);
		CommitTransactionCommand();
		pgstat_report_activity(STATE_IDLE, NULL);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(TopMemoryContext);
		edata = CopyErrorData();
		strlcpy(captured_error, edata->message ? edata->message : "error", sizeof(captured_error));
		PG_RE_THROW();
	}
	PG_END_TRY();

	/* Hand the result to the launcher. */
	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	slot->succeeded = out->succeeded;
	slot->finished_at = GetCurrentTimestamp();
	slot->duration_seconds = out->succeeded ? out->duration :
		(double) (slot->finished_at - slot->started_at) / USECS_PER_SEC;
	slot->size_bytes = (int64) out->size_bytes;
	strlcpy(slot->sha256, out->sha256, sizeof(slot->sha256));
	strlcpy(slot->compression, rb_compression_name(rb_guc_compression), sizeof(slot->compression));
	strlcpy(slot->encryption, out->encryption, sizeof(slot->encryption));
	strlcpy(slot->key_id, out->key_id, sizeof(slot->key_id));
	strlcpy(slot->location, out->location, sizeof(slot->location));
	strlcpy(slot->object_key, out->object_key, sizeof(slot->object_key));
	strlcpy(slot->incarnation, out->incarnation, sizeof(slot->incarnation));
	slot->timeline = out->timeline;
	if (out->succeeded)
		slot->error[0] = '\0';
	else if (rb_worker_got_sigterm && out->err.code == RB_ERR_CANCELLED)
		strlcpy(slot->error, "backup cancelled: the runner was terminated", sizeof(slot->error));
	else
		strlcpy(slot->error, out->err.msg[0] ? out->err.msg : "backup failed", sizeof(slot->error));
	strlcpy(error, slot->error, sizeof(error));
	slot->counts_handle = out->counts;
	slot->phase = RB_PHASE_DONE;
	slot->state = RB_SLOT_FINISHED;
	LWLockRelease(rb_shared->lock);
	rb_wake_launcher();

	if (out->succeeded)
	{
		char		size[RB_FORMAT_BYTES_LEN];

		rb_format_bytes(out->size_bytes, size, sizeof(size));
		ereport(LOG,
				(errmsg("ripple_backup: %s succeeded: %s in %.1f s to %s",
						what, size, out->duration, out->location)));
	}
	else
		ereport(WARNING,
				(errcode(rb_errcode(out->err.code)),
				 errmsg("ripple_backup: %s failed", what),
				 errdetail("%s", error),
				 errhint("%s", failure_hint(out->err.code))));
	proc_exit(0);
}
