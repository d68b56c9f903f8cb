/*
 * guc.c — defines the ripple_backup.* settings (see docs/configuration.md).
 *
 * ripple_backup.database is fixed at server start (the launcher connects to it);
 * the others are reloadable with SIGHUP (pg_reload_conf()), and a runner reads
 * them when it starts, so a reload changes the next backup, never a running one.
 */
#include "postgres.h"

#include <string.h>
#include <unistd.h>

#include "miscadmin.h"
#include "utils/guc.h"

#include "backup_compress.h"
#include "backup_retry.h"	/* ripple_backup.backup_retries, backup_retry_delay */
#include "base_backup_runner.h"	/* ripple_backup.base_backup_fast_checkpoint */
#include "dest.h"
#include "guc.h"
#include "breaker_shmem.h"	/* the shared S3 circuit breakers */
#include "drill.h"			/* ripple_backup.drill_schedule */
#include "rb_child.h"		/* rb_lower_priority */
#include "encryption.h"		/* ripple_backup.encryption_key_file, decryption_key_files */
#include "retention.h"		/* ripple_backup.retention* */
#include "s3_sse_settings.h"	/* ripple_backup.s3_sse, s3_sse_kms_key_id */
#include "notify_settings.h"	/* notifications, rpo_target, rto_target */
#include "scheduler.h"		/* ripple_backup.catch_up, history_days */
#include "verifier.h"		/* ripple_backup.verify_after_backup */
#include "wal_health.h"		/* wal_rpo_target, pg_wal_min_free, wal_archive_alert_after */

char	   *rb_guc_database = NULL;
char	   *rb_guc_destination = NULL;
char	   *rb_guc_s3_endpoint = NULL;
char	   *rb_guc_s3_region = NULL;
int			rb_guc_s3_uri_style = RB_URI_STYLE_AUTO;
char	   *rb_guc_s3_credentials_file = NULL;
char	   *rb_guc_s3_ca_file = NULL;
bool		rb_guc_s3_verify_tls = true;
int			rb_guc_s3_part_size_mb = 16;
int			rb_guc_s3_request_timeout_s = 120;
int			rb_guc_backup_timeout_s = 86400;
int			rb_guc_max_workers = 2;
int			rb_guc_compression = RB_COMPRESSION_ZSTD;
int			rb_guc_compression_level = 0;
int			rb_guc_backup_nice = 0;
static int	rb_guc_session_nice = 0;

static const struct config_enum_entry compression_options[] = {
	{"zstd", RB_COMPRESSION_ZSTD, false},
	{"gzip", RB_COMPRESSION_GZIP, false},
	{"none", RB_COMPRESSION_NONE, false},
	{NULL, 0, false}
};

static const struct config_enum_entry uri_style_options[] = {
	{"auto", RB_URI_STYLE_AUTO, false},
	{"path", RB_URI_STYLE_PATH, false},
	{"virtual", RB_URI_STYLE_VIRTUAL, false},
	{NULL, 0, false}
};

const char *
rb_compression_name(int compression)
{
	switch (compression)
	{
		case RB_COMPRESSION_ZSTD:
			return "zstd";
		case RB_COMPRESSION_GZIP:
			return "gzip";
		default:
			return "none";
	}
}

/*
 * A destination is "s3://bucket[/prefix]" or "file:///absolute/path".  The empty
 * string is accepted as a value (nothing configured yet): a backup then fails
 * with a message that says so.
 */
const char *
rb_destination_problem(const char *url)
{
	if (url == NULL || url[0] == '\0')
		return NULL;
	if (strncmp(url, "s3://", 5) == 0)
	{
		const char *bucket = url + 5;
		size_t		len = strcspn(bucket, "/");

		if (len == 0)
			return "An s3:// destination needs a bucket name: s3://bucket/prefix.";
		if (len < 3 || len > 63 || strspn(bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") < len)
			return "An S3 bucket name has 3 to 63 lowercase letters, digits, dots or hyphens.";
		return NULL;
	}
	if (strncmp(url, "file://", 7) == 0)
	{
		if (url[7] != '/' || url[8] == '\0')
			return "A file:// destination needs an absolute directory: file:///var/backups/pg.";
		return NULL;
	}
	return "The destination must start with s3:// or file://.";
}

/* ripple_backup.session_nice: this process from now on (0 changes nothing) */
static void
assign_session_nice(int newval, void *extra)
{
	rb_lower_priority(newval);
}

int
rb_guc_check_compression(int compression, int level, rb_error *err)
{
	rb_compress_kind kind = compression == RB_COMPRESSION_ZSTD ? RB_COMPRESS_ZSTD :
		compression == RB_COMPRESSION_GZIP ? RB_COMPRESS_GZIP : RB_COMPRESS_NONE;

	char		why[RB_ERROR_MSG_LEN];

	if (rb_compress_check_level(kind, level > 0 ? level : -1, err) == 0)
		return 0;
	strlcpy(why, err->msg, sizeof(why));
	return rb_error_set(err, RB_ERR_INVALID,
						"ripple_backup.compression_level = %d does not suit ripple_backup.compression = %s: %s",
						level, rb_compression_name(compression), why);
}

/*
 * compression_level against the compression in effect.  postgresql.conf
 * should name ripple_backup.compression first: a reload applies the settings
 * in the file's order, so this hook then sees the new compression.
 */
static bool
check_compression_level(int *newval, void **extra, GucSource source)
{
	rb_error	err;

	rb_error_clear(&err);
	if (rb_guc_check_compression(rb_guc_compression, *newval, &err) == 0)
		return true;
	GUC_check_errmsg("invalid compression level %d for compression %s", *newval,
					 rb_compression_name(rb_guc_compression));
	GUC_check_errdetail("%s", err.msg);
	GUC_check_errhint("Levels: zstd 1 to 19, gzip 1 to 9, 0 for the compressor's default. When changing both settings, put ripple_backup.compression before ripple_backup.compression_level.");
	return false;
}

/* An S3 credentials file: empty (the environment), or an absolute path to a readable file. */
static bool
check_credentials_file(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (v == NULL || v[0] == '\0')
		return true;
	if (v[0] != '/')
	{
		GUC_check_errmsg("S3 credentials file \"%s\" is not an absolute path", v);
		GUC_check_errdetail("The server's working directory is its data directory; a relative path would depend on it.");
		GUC_check_errhint("Give the absolute path of the AWS shared-credentials file, e.g. /etc/postgresql/ripple-backup.credentials.");
		return false;
	}
	if (access(v, R_OK) != 0)
	{
		GUC_check_errmsg("S3 credentials file \"%s\" cannot be read: %m", v);
		GUC_check_errhint("The file must exist and be readable by the operating-system user the server runs as.");
		return false;
	}
	return true;
}

static bool
check_destination(char **newval, void **extra, GucSource source)
{
	const char *problem = rb_destination_problem(*newval);

	if (problem == NULL)
		return true;
	GUC_check_errmsg("invalid backup destination \"%s\"", *newval);
	GUC_check_errdetail("%s", problem);
	GUC_check_errhint("Use s3://bucket/prefix or file:///absolute/directory.");
	return false;
}

static bool
check_endpoint(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (v == NULL || v[0] == '\0' || strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0)
		return true;
	GUC_check_errmsg("invalid S3 endpoint \"%s\"", v);
	GUC_check_errdetail("The endpoint must be empty (AWS) or start with http:// or https://.");
	return false;
}

static bool
check_region(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (v != NULL && v[0] != '\0' &&
		strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(v))
		return true;
	GUC_check_errmsg("invalid S3 region \"%s\"", v ? v : "");
	GUC_check_errdetail("A region is lowercase letters, digits and hyphens, such as us-east-1.");
	return false;
}

void
rb_guc_define(void)
{
	DefineCustomStringVariable("ripple_backup.database",
							   "Database holding the backup catalog; the launcher connects to it.",
							   "CREATE EXTENSION ripple_backup works only in this database.",
							   &rb_guc_database, "postgres",
	/* PGC_POSTMASTER can only be defined while preloading; without the launcher it matters less */
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   0, NULL, NULL, NULL);

	DefineCustomStringVariable("ripple_backup.destination",
							   "Where backups are stored: s3://bucket/prefix or file:///directory.",
							   NULL,
							   &rb_guc_destination, "",
							   PGC_SIGHUP, 0, check_destination, NULL, NULL);

	DefineCustomStringVariable("ripple_backup.s3_endpoint",
							   "S3 endpoint URL; empty means AWS.",
							   NULL,
							   &rb_guc_s3_endpoint, "",
							   PGC_SIGHUP, 0, check_endpoint, NULL, NULL);

	DefineCustomStringVariable("ripple_backup.s3_region",
							   "S3 region used for request signing.",
							   NULL,
							   &rb_guc_s3_region, "us-east-1",
							   PGC_SIGHUP, 0, check_region, NULL, NULL);

	DefineCustomEnumVariable("ripple_backup.s3_uri_style",
							 "S3 addressing: virtual (bucket.host) or path (host/bucket).",
							 "auto: virtual for AWS (no endpoint), path for any other endpoint.",
							 &rb_guc_s3_uri_style, RB_URI_STYLE_AUTO, uri_style_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomStringVariable("ripple_backup.s3_credentials_file",
							   "File with S3 credentials in the AWS shared-credentials format.",
							   "Empty: the AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY environment of the server.",
							   &rb_guc_s3_credentials_file, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_credentials_file, NULL, NULL);

	DefineCustomStringVariable("ripple_backup.s3_ca_file",
							   "CA bundle used to verify the S3 endpoint's TLS certificate; empty means the system's.",
							   NULL,
							   &rb_guc_s3_ca_file, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomBoolVariable("ripple_backup.s3_verify_tls",
							 "Verify the S3 endpoint's TLS certificate and host name.",
							 NULL,
							 &rb_guc_s3_verify_tls, true,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ripple_backup.s3_part_size",
							"Size of each multipart upload part.",
							"Memory per running backup is about one part.",
							&rb_guc_s3_part_size_mb, 16, 5, 5120,
							PGC_SIGHUP, GUC_UNIT_MB, NULL, NULL, NULL);

	DefineCustomIntVariable("ripple_backup.s3_request_timeout",
							"Deadline of one S3 request, all its retries and their waits included; 0 means none.",
							"The retry schedule (6 attempts, waits of up to 1, 2, 4, 8 and 16 s) fits within the default; each attempt also ends when its transfer stalls for 30 s.",
							&rb_guc_s3_request_timeout_s, 120, 0, 86400,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("ripple_backup.backup_timeout",
							"Longest one backup may run, pg_dump and upload included; 0 means no limit.",
							"A backup still running then is stopped (pg_dump killed, the upload aborted) and recorded as failed.",
							&rb_guc_backup_timeout_s, 86400, 0, INT_MAX / 1000,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);

	DefineCustomIntVariable("ripple_backup.backup_nice",
							"CPU and I/O priority of a backup, as a nice value: 0 (the server's) to 19 (the lowest).",
							"pg_dump, the server process that answers its queries and the runner that compresses and uploads run at this nice value and in the matching best-effort I/O class: the workload keeps the CPU and the disk when they are contended, and the backup takes longer.",
							&rb_guc_backup_nice, 0, 0, 19,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	/*
	 * Set only in the startup packet of a backup's pg_dump (PGOPTIONS), so that
	 * the server process that serves it runs at backup_nice: a setting of the
	 * session, never of the file, and lowered for good (an unprivileged process
	 * cannot raise its priority again; the session ends with pg_dump).
	 */
	DefineCustomIntVariable("ripple_backup.session_nice",
							"Lowers the CPU and I/O priority of this session's server process (a backup's pg_dump sets it).",
							NULL,
							&rb_guc_session_nice, 0, 0, 19,
							PGC_SU_BACKEND, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							NULL, assign_session_nice, NULL);

	DefineCustomIntVariable("ripple_backup.max_workers",
							"Maximum number of backups running at once.",
							"Each running backup uses one background worker (see max_worker_processes).",
							&rb_guc_max_workers, 2, 1, RB_MAX_RUNNERS,
							PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomEnumVariable("ripple_backup.compression",
							 "Compression of the stored dump: zstd, gzip or none.",
							 NULL,
							 &rb_guc_compression, RB_COMPRESSION_ZSTD, compression_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);

	DefineCustomIntVariable("ripple_backup.compression_level",
							"Compression level; 0 means the compressor's default (zstd 3, gzip 6).",
							NULL,
							&rb_guc_compression_level, 0, 0, 19,
							PGC_SIGHUP, 0, check_compression_level, NULL, NULL);

	/* the verifier's own settings live beside its code (verifier.c) */
	rb_verifier_define_gucs();
	/* the scheduler's settings live beside its code (scheduler.c) */
	rb_scheduler_define_gucs();
	rb_drill_define_gucs();
	rb_retention_define_gucs();
	rb_notify_define_gucs();
	rb_backup_retry_define_gucs();
	rb_breaker_define_gucs();
	rb_s3_sse_define_gucs();
	rb_encryption_define_gucs();
	rb_base_backup_define_gucs();
	rb_wal_health_define_gucs();

	MarkGUCPrefixReserved("ripple_backup");
}

void
rb_guc_destination_options(rb_destination_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->s3_endpoint = rb_guc_s3_endpoint;
	opt->s3_region = rb_guc_s3_region;
	opt->s3_uri_style = rb_guc_s3_uri_style == RB_URI_STYLE_PATH ? "path" :
		rb_guc_s3_uri_style == RB_URI_STYLE_VIRTUAL ? "virtual" : NULL;
	opt->s3_credentials_file = rb_guc_s3_credentials_file[0] ? rb_guc_s3_credentials_file : NULL;
	opt->s3_tls_no_verify = !rb_guc_s3_verify_tls;
	opt->s3_ca_file = rb_guc_s3_ca_file[0] ? rb_guc_s3_ca_file : NULL;
	rb_s3_sse_destination_options(opt);
	opt->s3_part_size = (size_t) rb_guc_s3_part_size_mb * 1024 * 1024;
	opt->s3_request_timeout_ms = rb_guc_s3_request_timeout_s > 0 ?
		(int64_t) rb_guc_s3_request_timeout_s * 1000 : -1;
	/* the endpoint's shared circuit breaker, when backups go to S3 */
	if (strncmp(rb_guc_destination, "s3://", 5) == 0)
		rb_breaker_shared_options(opt);
}
