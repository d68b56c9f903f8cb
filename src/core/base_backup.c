/*
 * base_backup.c — one physical base backup: pg_basebackup -Ft -D - -X none →
 * tar scanner → compressor → SHA-256 and byte count → destination writer (see
 * base_backup.h).  The loop runs in the caller's thread.
 */
#include "base_backup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_client.h"
#include "rb_alloc.h"
#include "rb_child.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "rb_time.h"

#define READ_CHUNK (256 * 1024)

/* The last stage: hash, count, store. */
typedef struct sink
{
	rb_digest  *sha;
	rb_dest_writer *writer;
	uint64_t	stored;
} sink;

static int
sink_write(void *arg, const void *data, size_t len, rb_error *err)
{
	sink	   *s = arg;

	if (rb_digest_update(s->sha, data, len, err) < 0)
		return -1;
	if (rb_dest_writer_write(s->writer, data, len, err) < 0)
		return -1;
	s->stored += len;
	return 0;
}

/* pg_basebackup's failures that have a cause an operator can fix, said plainly. */
static void
explain_failure(const rb_base_backup_params *p, rb_error *err)
{
	if (err == NULL || err->code != RB_ERR_CHILD)
		return;
	if (strstr(err->msg, "replication connection") != NULL)
		rb_error_prefix(err, "pg_hba.conf must allow a replication connection for user \"%s\" over the local socket: ",
						p->user ? p->user : "(default)");
	else if (strstr(err->msg, "max_wal_senders") != NULL)
		rb_error_prefix(err, "max_wal_senders must allow one more replication connection: ");
	else if (strstr(err->msg, "single tablespace") != NULL)
		rb_error_prefix(err, "base backups of clusters with tablespaces are not supported yet: ");
}

int
rb_base_backup_run(const rb_base_backup_params *p, rb_base_backup_result *r,
				   const rb_hooks *hooks, rb_error *err)
{
	rb_buf		conninfo = RB_BUF_INIT;
	rb_argv		argv = RB_ARGV_INIT;
	rb_child_options copt;
	rb_child   *child = NULL;
	rb_tar_scan *scan = NULL;
	rb_compressor *comp = NULL;
	sink		out = {NULL, NULL, 0};
	char	   *url = NULL;
	unsigned char *buf = NULL;
	double		start = rb_now_seconds(),
				last_progress = start;
	double		interval;
	int			rc = -1;

	memset(r, 0, sizeof(*r));
	if (p == NULL || p->pg_basebackup_path == NULL || p->dest == NULL || p->object_key == NULL ||
		p->label == NULL)
		return rb_error_set(err, RB_ERR_INTERNAL, "base backup parameters incomplete (pg_basebackup path, label, destination and key are required)");
	interval = (p->progress_interval_ms > 0 ? p->progress_interval_ms : 100) / 1000.0;
	url = rb_destination_url_for(p->dest, p->object_key);

	/* the connection as one quoted conninfo, never a password */
	rb_pg_conninfo_add(&conninfo, "host", p->host);
	if (p->port > 0)
	{
		char		port[16];

		snprintf(port, sizeof(port), "%d", p->port);
		rb_pg_conninfo_add(&conninfo, "port", port);
	}
	rb_pg_conninfo_add(&conninfo, "user", p->user);
	rb_argv_add(&argv, p->pg_basebackup_path);
	rb_argv_add(&argv, "--pgdata=-");
	rb_argv_add(&argv, "--format=tar");
	rb_argv_add(&argv, "--wal-method=none");
	rb_argv_add(&argv, "--no-password");
	rb_argv_add(&argv, p->fast_checkpoint ? "--checkpoint=fast" : "--checkpoint=spread");
	rb_argv_addf(&argv, "--label=%s", p->label);
	if (conninfo.len > 0)
		rb_argv_addf(&argv, "--dbname=%s", rb_buf_str(&conninfo));
	if (argv.failed)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}

	out.sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (out.sha == NULL)
		goto done;
	scan = rb_tar_scan_new();
	buf = malloc(READ_CHUNK);
	if (scan == NULL || buf == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}
	out.writer = rb_destination_writer_open(p->dest, p->object_key, err);
	if (out.writer == NULL)
	{
		rb_error_prefix(err, "could not store the base backup at %s: ", url);
		goto done;
	}
	comp = rb_compressor_new(p->compression, p->compression_level, p->compression_workers,
							 sink_write, &out, err);
	if (comp == NULL)
		goto done;

	memset(&copt, 0, sizeof(copt));
	copt.argv = (const char *const *) argv.v;
	copt.env = p->extra_env;
	copt.name = "pg_basebackup";
	child = rb_child_start(&copt, err);
	if (child == NULL)
		goto done;
	rb_log(hooks, RB_LOG_DEBUG, "pg_basebackup started (pid %d)", (int) rb_child_pid(child));

	for (;;)
	{
		ssize_t		n = rb_child_read(child, buf, READ_CHUNK, 100, err);
		double		now;

		if (n == -1)
			goto done;
		if (n == 0)
		{
			if (rb_child_wait(child, hooks, err) == 0)
				break;
			explain_failure(p, err);
			goto done;
		}
		if (n == RB_CHILD_TIMEOUT &&
			rb_dest_writer_pump(out.writer, 50, err) < 0)
		{
			rb_error_prefix(err, "could not store the base backup at %s: ", url);
			goto done;
		}
		if (n > 0)
		{
			r->bytes_read += (uint64_t) n;
			if (rb_tar_scan_feed(scan, buf, (size_t) n, err) < 0)
			{
				rb_error_prefix(err, "pg_basebackup output: ");
				goto done;
			}
			if (rb_compressor_write(comp, buf, (size_t) n, err) < 0)
			{
				if (err != NULL && err->code != RB_ERR_INTERNAL)
					rb_error_prefix(err, "could not store the base backup at %s: ", url);
				goto done;
			}
		}
		if (rb_cancelled(hooks))
		{
			rb_error_set(err, RB_ERR_CANCELLED, "base backup cancelled");
			goto done;
		}
		now = rb_now_seconds();
		if (p->progress != NULL && now - last_progress >= interval)
		{
			rb_backup_progress pr = {r->bytes_read, out.stored, now - start};

			p->progress(p->progress_arg, &pr);
			last_progress = now;
		}
	}

	/* pg_basebackup succeeded: is the tar whole, and a base backup? */
	if (rb_tar_scan_finish(scan, &r->info, err) < 0 ||
		rb_base_backup_info_check(&r->info, err) < 0)
	{
		rb_error_prefix(err, "pg_basebackup output: ");
		goto done;
	}
	if (rb_compressor_finish(comp, err) < 0)
	{
		rb_error_prefix(err, "could not store the base backup at %s: ", url);
		goto done;
	}
	if (rb_digest_final_hex(out.sha, r->sha256, err) < 0)
		goto done;
	{
		rb_dest_writer *w = out.writer;

		out.writer = NULL;		/* commit frees it whatever happens */
		if (rb_dest_writer_commit(w, err) < 0)
		{
			rb_error_prefix(err, "could not store the base backup at %s: ", url);
			goto done;
		}
	}
	r->size_bytes = out.stored;
	r->duration_seconds = rb_now_seconds() - start;
	r->backup_label = rb_strdup(rb_tar_scan_backup_label(scan));
	if (p->progress != NULL)
	{
		rb_backup_progress pr = {r->bytes_read, out.stored, r->duration_seconds};

		p->progress(p->progress_arg, &pr);
	}
	rc = 0;

done:
	if (rc != 0)
	{
		if (out.writer != NULL)
			rb_dest_writer_abort(out.writer);
		out.writer = NULL;
		r->duration_seconds = rb_now_seconds() - start;
	}
	rb_child_free(child);
	rb_compressor_free(comp);
	rb_tar_scan_free(scan);
	rb_digest_free(out.sha);
	free(buf);
	free(url);
	rb_buf_free(&conninfo);
	rb_argv_free(&argv);
	return rc;
}

void
rb_base_backup_result_free(rb_base_backup_result *r)
{
	if (r == NULL)
		return;
	free(r->backup_label);
	memset(r, 0, sizeof(*r));
}
