/*
 * base_backup_runner.c — a physical base backup inside the runner worker (see
 * base_backup_runner.h).  pg_basebackup comes from the server's own bin
 * directory and connects over the unix socket as the bootstrap superuser, as
 * pg_dump does; the tar stream goes through the src/core pipeline with no
 * temporary file, encrypted with ripple_backup.encryption_key_file's key when
 * one is configured, as a logical backup is.  Clusters with tablespaces are refused before it starts
 * (pg_basebackup cannot write more than one tablespace to stdout).
 */
#include "postgres.h"

#include <limits.h>
#include <time.h>
#include <unistd.h>

#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "postmaster/postmaster.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "base_backup.h"
#include "base_backup_runner.h"
#include "core_hooks.h"
#include "dest.h"
#include "guc.h"
#include "incarnation.h"
#include "backup_metadata.h"
#include "version.h"
#include "worker_common.h"

bool		rb_guc_base_backup_fast_checkpoint = true;

void
rb_base_backup_define_gucs(void)
{
	DefineCustomBoolVariable("ripple_backup.base_backup_fast_checkpoint",
							 "Base backups start with an immediate checkpoint (pg_basebackup --checkpoint=fast) rather than a spread one.",
							 NULL,
							 &rb_guc_base_backup_fast_checkpoint, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
}

/* Tablespaces other than pg_default and pg_global, and the cluster's size in bytes. */
static void
cluster_facts(int64 *tablespaces, int64 *bytes)
{
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT (SELECT count(*) FROM pg_catalog.pg_tablespace"
					"         WHERE spcname NOT IN ('pg_default', 'pg_global')),"
					"       (SELECT coalesce(sum(pg_catalog.pg_database_size(d.oid)), 0)::bigint"
					"          FROM pg_catalog.pg_database d WHERE d.datallowconn)",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "reading the cluster's tablespaces failed");
	*tablespaces = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*bytes = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();
}

void
rb_base_backup_pipeline(RbRunnerSlot *slot, RunOutcome *out)
{
	rb_hooks	hooks;
	RbCoreHookContext hook_ctx;
	rb_destination_options opt;
	rb_destination *dest;
	rb_base_backup_params params;
	rb_base_backup_result result;
	rb_backup_metadata m;
	rb_compress_kind kind = rb_runner_compression_kind();
	uint64		sysid = GetSystemIdentifier();
	time_t		started = time(NULL);
	char	   *key = NULL;
	char	   *url = NULL;
	char	   *socket_dir = rb_worker_socket_directory();
	char		appname[64];
	char		label[RB_LABEL_LEN + 64];
	char		host[HOST_NAME_MAX + 1];
	char		options[64];
	const char *env[3];
	int64		tablespaces;
	int64		cluster_bytes;
	const rb_key *enc_key = NULL;
	int			rc;

	rb_core_hooks_init(&hooks, &hook_ctx, "base backup %lld", (long long) slot->backup_id);
	hooks.upload_abandoned = rb_runner_upload_abandoned;
	hooks.upload_started = rb_runner_upload_started;	/* the journal, for a crash */
	rb_guc_destination_options(&opt);
	rb_core_hooks_set_timeout(&hook_ctx, (int64) rb_guc_backup_timeout_s * 1000);
	if (rb_guc_backup_timeout_s > 0)
		opt.s3_operation_timeout_ms = (int64_t) rb_guc_backup_timeout_s * 1000;

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
		rb_error_set(&out->err, RB_ERR_INVALID, "the server listens on no unix socket (unix_socket_directories is empty); pg_basebackup cannot connect");
		return;
	}
	cluster_facts(&tablespaces, &cluster_bytes);
	if (tablespaces > 0)
	{
		rb_error_set(&out->err, RB_ERR_INVALID,
					 "base backups of clusters with tablespaces are not supported yet (this cluster has %lld besides pg_default and pg_global)",
					 (long long) tablespaces);
		return;
	}

	if (pg_strncasecmp(rb_guc_destination, "s3://", 5) == 0)
		opt.s3_expected_bytes = (uint64_t) cluster_bytes;
	/*
	 * Encrypted like a logical backup, with the same key: a key file that
	 * cannot be used fails the backup here, before anything is stored, never
	 * weakens it.
	 */
	if (!rb_runner_encryption_key(out, &enc_key))
		return;
	dest = rb_destination_open(rb_guc_destination, &opt, &hooks, &out->err);
	if (dest == NULL)
	{
		rb_runner_wipe_key();
		return;
	}

	key = rb_base_backup_object_key(sysid, out->incarnation, started, slot->backup_id, kind);
	url = rb_destination_url_for(dest, key);
	strlcpy(out->object_key, key, sizeof(out->object_key));
	strlcpy(out->location, url, sizeof(out->location));
	LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
	strlcpy(slot->object_key, key, sizeof(slot->object_key));
	strlcpy(slot->location, url, sizeof(slot->location));
	LWLockRelease(rb_shared->lock);

	snprintf(appname, sizeof(appname), "PGAPPNAME=ripple_backup %lld", (long long) slot->backup_id);
	env[0] = appname;
	env[1] = NULL;
	rb_runner_backup_nice(env, options, sizeof(options));
	/* the label pg_basebackup writes into backup_label: the id, then the user's label */
	if (slot->has_label)
		snprintf(label, sizeof(label), "ripple_backup %lld: %s", (long long) slot->backup_id, slot->label);
	else
		snprintf(label, sizeof(label), "ripple_backup %lld", (long long) slot->backup_id);

	memset(&params, 0, sizeof(params));
	params.pg_basebackup_path = rb_runner_program_path("pg_basebackup");
	params.host = socket_dir;
	params.port = PostPortNumber;
	params.user = GetUserNameFromId(BOOTSTRAP_SUPERUSERID, false);
	params.label = label;
	params.fast_checkpoint = rb_guc_base_backup_fast_checkpoint;
	params.extra_env = env;
	params.nice = rb_guc_backup_nice;
	params.dest = dest;
	params.object_key = key;
	params.compression = kind;
	params.compression_level = rb_guc_compression_level > 0 ? rb_guc_compression_level : -1;
	params.compression_workers = 0;
	params.encryption_key = enc_key;
	params.progress = rb_runner_progress;
	params.progress_arg = slot;
	params.progress_interval_ms = 100;

	slot->phase = RB_PHASE_DUMPING;
	rc = rb_base_backup_run(&params, &result, &hooks, &out->err);
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
		m.system_identifier = sysid;
		m.timeline = result.info.timeline ? result.info.timeline : out->timeline;
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
		rb_metadata_set_str(&m.pg_dump_format, "tar");
		rb_metadata_set_str(&m.server_version, PG_VERSION);
		rb_metadata_set_str(&m.extension_version, RB_EXTENSION_VERSION);
		m.duration_seconds = result.duration_seconds;
		m.uncompressed_bytes = result.bytes_read;
		rb_metadata_set_str(&m.object_key, key);
		rb_metadata_set_str(&m.kind, "physical");
		rb_metadata_set_str(&m.start_lsn, result.info.start_lsn[0] ? result.info.start_lsn : NULL);
		rb_metadata_set_str(&m.stop_lsn, result.info.stop_lsn[0] ? result.info.stop_lsn : NULL);
		rb_metadata_set_str(&m.backup_label, result.backup_label);

		rc = rb_backup_write_metadata(dest, key, &m, &out->err);
		rb_backup_metadata_free(&m);
		if (rc == 0)
		{
			out->succeeded = true;
			out->size_bytes = result.size_bytes;
			out->bytes_read = result.bytes_read;
			out->duration = result.duration_seconds;
			memcpy(out->sha256, result.sha256, sizeof(out->sha256));
			if (result.info.timeline)
				out->timeline = result.info.timeline;
			LWLockAcquire(rb_shared->lock, LW_EXCLUSIVE);
			strlcpy(slot->start_lsn, result.info.start_lsn, sizeof(slot->start_lsn));
			strlcpy(slot->stop_lsn, result.info.stop_lsn, sizeof(slot->stop_lsn));
			strlcpy(slot->backup_label, result.backup_label ? result.backup_label : "",
					sizeof(slot->backup_label));
			LWLockRelease(rb_shared->lock);
		}
		else
		{
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
					 "base backup did not finish within ripple_backup.backup_timeout (%d s); nothing was stored",
					 rb_guc_backup_timeout_s);
	rb_base_backup_result_free(&result);
	free(key);
	free(url);
	rb_destination_close(dest);
}
