/*
 * backup_run.c — runs one backup with src/core's pipeline (rb_backup_run) against
 * a live cluster, outside the extension: for TAP tests and benchmarks.
 *
 *   backup_run --dest URL --dbname DB [--host H] [--port P] [--user U]
 *              [--pg-dump PATH] [--compression zstd|gzip|none] [--level N]
 *              [--workers N] [--key KEY] [--id N] [--sysid N] [--snapshot ID]
 *              [--incarnation ID] [--timeline N]
 *              [--s3-endpoint URL] [--s3-region R] [--s3-uri-style path|virtual]
 *              [--s3-part-size BYTES] [--s3-small-parts] [--no-metadata]
 *              [--progress] [--slow-ms N] [--encryption-key-file FILE]
 *
 * Prints key=value lines (key, url, size_bytes, sha256, bytes_read, duration,
 * then "rows <schema.table> <n>" per table) and exits 0, or prints
 * "error: <message>" on stderr and exits 1.  S3 credentials come from the AWS_*
 * environment.  SIGTERM/SIGINT cancel the backup.  --progress prints
 * "progress <bytes read> <bytes stored>" lines on stderr; --slow-ms sleeps that long
 * in every progress report, made after every chunk when it is set (tests use it to
 * catch pg_dump in the middle of a run).
 * The key's incarnation is --incarnation (default 0000000000000001), recorded in
 * the metadata with --timeline (default 1).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backup.h"
#include "encrypt_stream.h"

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void) sig;
	stop_requested = 1;
}

static bool show_progress;
static int	slow_ms;

static void
progress_cb(void *arg, const rb_backup_progress *pr)
{
	(void) arg;
	if (show_progress)
	{
		fprintf(stderr, "progress %llu %llu\n", (unsigned long long) pr->bytes_read,
				(unsigned long long) pr->bytes_stored);
		fflush(stderr);
	}
	if (slow_ms > 0)
	{
		struct timespec ts = {slow_ms / 1000, (long) (slow_ms % 1000) * 1000000L};

		nanosleep(&ts, NULL);
	}
}

static bool
cancel_cb(void *arg)
{
	(void) arg;
	return stop_requested != 0;
}

static void
log_cb(void *arg, rb_log_level level, const char *line)
{
	(void) arg;
	if (level >= RB_LOG_INFO || getenv("BACKUP_RUN_DEBUG"))
		fprintf(stderr, "log: %s\n", line);
}

static void
usage(void)
{
	fprintf(stderr, "usage: backup_run --dest URL --dbname DB [options] (see the source header)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	rb_destination_options dopt;
	rb_backup_params p;
	rb_backup_result r;
	rb_hooks	hooks = {log_cb, cancel_cb, NULL, NULL, NULL};
	rb_error	err = {0};
	rb_destination *dest;
	const char *dest_url = NULL,
			   *key = NULL,
			   *compression = "zstd";
	char	   *auto_key = NULL,
			   *url;
	long long	id = 1;
	unsigned long long sysid = 1;
	const char *incarnation = "0000000000000001";
	unsigned long timeline = 1;
	bool		metadata = true;
	const char *key_file = NULL;
	rb_key		enc_key;
	time_t		started = time(NULL);
	struct sigaction sa;

	memset(&dopt, 0, sizeof(dopt));
	memset(&p, 0, sizeof(p));
	p.pg_dump_path = "/usr/lib/postgresql/15/bin/pg_dump";
	p.compression_level = -1;
	for (int i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define OPT(name) (strcmp(a, name) == 0 && v != NULL && ++i)
		if (OPT("--dest"))
			dest_url = v;
		else if (OPT("--dbname"))
			p.dbname = v;
		else if (OPT("--host"))
			p.host = v;
		else if (OPT("--port"))
			p.port = atoi(v);
		else if (OPT("--user"))
			p.user = v;
		else if (OPT("--pg-dump"))
			p.pg_dump_path = v;
		else if (OPT("--compression"))
			compression = v;
		else if (OPT("--level"))
			p.compression_level = atoi(v);
		else if (OPT("--workers"))
			p.compression_workers = atoi(v);
		else if (OPT("--key"))
			key = v;
		else if (OPT("--id"))
			id = atoll(v);
		else if (OPT("--sysid"))
			sysid = strtoull(v, NULL, 10);
		else if (OPT("--incarnation"))
			incarnation = v;
		else if (OPT("--timeline"))
			timeline = strtoul(v, NULL, 10);
		else if (OPT("--snapshot"))
			p.snapshot = v;
		else if (OPT("--s3-endpoint"))
			dopt.s3_endpoint = v;
		else if (OPT("--s3-region"))
			dopt.s3_region = v;
		else if (OPT("--s3-uri-style"))
			dopt.s3_uri_style = v;
		else if (OPT("--s3-part-size"))
			dopt.s3_part_size = (size_t) strtoull(v, NULL, 10);
		else if (strcmp(a, "--s3-small-parts") == 0)
			dopt.s3_allow_small_parts = true;
		else if (strcmp(a, "--progress") == 0)
			show_progress = true;
		else if (OPT("--encryption-key-file"))
			key_file = v;
		else if (OPT("--slow-ms"))
			slow_ms = atoi(v);
		else if (strcmp(a, "--no-metadata") == 0)
			metadata = false;
		else
			usage();
#undef OPT
	}
	if (dest_url == NULL || p.dbname == NULL)
		usage();
	if (key_file != NULL)
	{
		/* encrypted after compression, as the runner does with encryption_key_file */
		if (rb_key_load_file(key_file, &enc_key, &err) < 0)
		{
			fprintf(stderr, "backup_run: %s\n", err.msg);
			return 2;
		}
		p.encryption_key = &enc_key;
	}
	if (rb_compress_kind_parse(compression, &p.compression, &err) < 0)
	{
		fprintf(stderr, "error: %s\n", err.msg);
		return 1;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	dest = rb_destination_open(dest_url, &dopt, &hooks, &err);
	if (dest == NULL)
	{
		fprintf(stderr, "error: %s\n", err.msg);
		return 1;
	}
	if (key == NULL)
		key = auto_key = rb_backup_object_key(sysid, incarnation, p.dbname, started, id, p.compression);
	p.dest = dest;
	p.object_key = key;
	if (show_progress || slow_ms > 0)
		p.progress = progress_cb;
	/*
	 * --slow-ms holds the pipeline from its first chunk on: with the default
	 * interval a fast machine reads a small dump whole before the first callback.
	 */
	if (slow_ms > 0)
		p.progress_interval_ms = 1;

	if (rb_backup_run(&p, &r, &hooks, &err) < 0)
	{
		fprintf(stderr, "error: %s\n", err.msg);
		rb_backup_result_free(&r);
		rb_destination_close(dest);
		free(auto_key);
		return 1;
	}
	if (metadata)
	{
		rb_backup_metadata m;

		rb_backup_metadata_init(&m);
		m.backup_id = id;
		rb_metadata_format_time(started, m.timestamp, sizeof(m.timestamp));
		rb_metadata_set_str(&m.dbname, p.dbname);
		m.system_identifier = sysid;
		m.timeline = (uint32_t) timeline;
		rb_metadata_set_str(&m.incarnation, incarnation);
		rb_metadata_set_str(&m.backup_type, "manual");
		m.size_bytes = r.size_bytes;
		memcpy(m.sha256, r.sha256, sizeof(m.sha256));
		rb_metadata_set_str(&m.compression, rb_compress_kind_name(p.compression));
		rb_metadata_set_str(&m.encryption, key_file ? RB_ENCRYPT_ALGORITHM_NAME : "none");
		rb_metadata_set_str(&m.key_id, key_file ? enc_key.id_hex : NULL);
		rb_metadata_set_str(&m.pg_dump_format, "custom");
		rb_metadata_set_str(&m.server_version, r.archive_server_version);
		rb_metadata_set_str(&m.extension_version, "backup_run");
		m.duration_seconds = r.duration_seconds;
		m.uncompressed_bytes = r.bytes_read;
		rb_metadata_set_str(&m.object_key, key);
		rb_table_counts_copy(&m.table_counts, &r.table_counts);
		if (rb_backup_write_metadata(dest, key, &m, &err) < 0)
		{
			fprintf(stderr, "error: %s\n", err.msg);
			rb_backup_metadata_free(&m);
			rb_backup_result_free(&r);
			rb_destination_close(dest);
			free(auto_key);
			return 1;
		}
		rb_backup_metadata_free(&m);
	}
	url = rb_destination_url_for(dest, key);
	printf("key=%s\nurl=%s\nsize_bytes=%llu\nsha256=%s\nbytes_read=%llu\nduration=%.3f\n",
		   key, url, (unsigned long long) r.size_bytes, r.sha256,
		   (unsigned long long) r.bytes_read, r.duration_seconds);
	for (size_t i = 0; i < r.table_counts.n; i++)
	{
		char	   *k = rb_table_key_format(r.table_counts.items[i].schema, r.table_counts.items[i].table);

		printf("rows %s %lld\n", k, (long long) r.table_counts.items[i].rows);
		free(k);
	}
	free(url);
	rb_backup_result_free(&r);
	rb_destination_close(dest);
	free(auto_key);
	return 0;
}
