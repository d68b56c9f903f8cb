/*
 * base_backup.c — one physical base backup: pg_basebackup -Ft -D - -X none →
 * tar scanner, then the stage chain's compressor → (encryptor) → SHA-256 and
 * byte count → destination writer (see base_backup.h and stage_chain.h).
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
#include "stage_chain.h"

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

/* pg_basebackup as the chain's source. */
typedef struct basebackup_source
{
	const rb_base_backup_params *p;
	const rb_hooks *hooks;
	rb_child_options copt;
	rb_child   *child;
} basebackup_source;

static int
basebackup_start(void *arg, rb_error *err)
{
	basebackup_source *bs = arg;

	bs->child = rb_child_start(&bs->copt, err);
	if (bs->child == NULL)
		return -1;
	rb_log(bs->hooks, RB_LOG_DEBUG, "pg_basebackup started (pid %d)", (int) rb_child_pid(bs->child));
	return 0;
}

static ssize_t
basebackup_read(void *arg, void *buf, size_t cap, int timeout_ms, rb_error *err)
{
	basebackup_source *bs = arg;
	ssize_t		n = rb_child_read(bs->child, buf, cap, timeout_ms, err);

	if (n != 0)
		return n;
	/* end of the tar stream: did pg_basebackup succeed? */
	if (rb_child_wait(bs->child, bs->hooks, err) == 0)
		return 0;
	explain_failure(bs->p, err);
	return -1;
}

/* The tar scanner as the chain's inspector: the WAL positions, a whole base backup. */
typedef struct tar_inspector
{
	rb_tar_scan *scan;
	rb_base_backup_info *info;
} tar_inspector;

static int
tar_feed(void *arg, const void *data, size_t len, rb_error *err)
{
	tar_inspector *ti = arg;

	if (rb_tar_scan_feed(ti->scan, data, len, err) < 0)
	{
		rb_error_prefix(err, "pg_basebackup output: ");
		return -1;
	}
	return 0;
}

static int
tar_finish(void *arg, rb_error *err)
{
	tar_inspector *ti = arg;

	if (rb_tar_scan_finish(ti->scan, ti->info, err) < 0 ||
		rb_base_backup_info_check(ti->info, err) < 0)
	{
		rb_error_prefix(err, "pg_basebackup output: ");
		return -1;
	}
	return 0;
}

int
rb_base_backup_run(const rb_base_backup_params *p, rb_base_backup_result *r,
				   const rb_hooks *hooks, rb_error *err)
{
	rb_buf		conninfo = RB_BUF_INIT;
	rb_argv		argv = RB_ARGV_INIT;
	basebackup_source bs;
	tar_inspector ti;
	rb_chain_params cp;
	rb_chain_result cr;
	int			rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&bs, 0, sizeof(bs));
	memset(&ti, 0, sizeof(ti));
	if (p == NULL || p->pg_basebackup_path == NULL || p->dest == NULL || p->object_key == NULL ||
		p->label == NULL)
		return rb_error_set(err, RB_ERR_INTERNAL, "base backup parameters incomplete (pg_basebackup path, label, destination and key are required)");

	/* the connection as one quoted conninfo, never a password */
	rb_pg_conninfo_add_server(&conninfo, p->host, p->port, p->user);
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
	ti.scan = rb_tar_scan_new();
	ti.info = &r->info;
	if (ti.scan == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}
	bs.p = p;
	bs.hooks = hooks;
	bs.copt.argv = (const char *const *) argv.v;
	bs.copt.env = p->extra_env;
	bs.copt.name = "pg_basebackup";
	bs.copt.nice = p->nice;

	memset(&cp, 0, sizeof(cp));
	cp.store.dest = p->dest;
	cp.store.key = p->object_key;
	cp.store.compression = p->compression;
	cp.store.compression_level = p->compression_level;
	cp.store.compression_workers = p->compression_workers;
	cp.store.encryption_key = p->encryption_key;
	cp.store.what = "base backup";
	cp.store.no_original_sha256 = true;
	cp.source.start = basebackup_start;
	cp.source.read = basebackup_read;
	cp.source.arg = &bs;
	cp.inspect.feed = tar_feed;
	cp.inspect.finish = tar_finish;
	cp.inspect.arg = &ti;
	cp.progress = p->progress;
	cp.progress_arg = p->progress_arg;
	cp.progress_interval_ms = p->progress_interval_ms;

	rc = rb_chain_run(&cp, &cr, hooks, err);
	r->bytes_read = cr.stored.original_bytes;
	r->duration_seconds = cr.duration_seconds;
	if (rc == 0)
	{
		r->size_bytes = cr.stored.stored_bytes;
		memcpy(r->sha256, cr.stored.stored_sha256, sizeof(r->sha256));
		r->backup_label = rb_strdup(rb_tar_scan_backup_label(ti.scan));
	}

done:
	/* the chain has aborted the upload; pg_basebackup is stopped and reaped */
	rb_child_free(bs.child);
	rb_tar_scan_free(ti.scan);
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
