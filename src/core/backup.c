/*
 * backup.c — one backup: pg_dump → archive parser, then the stage chain's
 * compressor → (encryptor) → SHA-256 and byte count → destination writer (see
 * backup.h and stage_chain.h).  Also the object keys and the metadata object.
 */
#include "backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup_retry_class.h"
#include "base_backup.h"
#include "pg_client.h"
#include "rb_alloc.h"
#include "rb_child.h"
#include "pgdump_archive.h"
#include "rb_buf.h"
#include "rb_time.h"
#include "s3/s3_retry.h"
#include "stage_chain.h"

/* pg_dump as the chain's source, started again while the server refuses it. */
typedef struct dump_source
{
	const rb_backup_params *p;
	const rb_hooks *hooks;
	rb_child_options copt;
	rb_child   *child;
	uint64_t	bytes_read;		/* of this backup, over every attempt */
	rb_retry_policy connect_policy;
	uint64_t	rng;
	int			connect_attempt;
	double		start;
} dump_source;

static int
dump_start(void *arg, rb_error *err)
{
	dump_source *ds = arg;

	ds->child = rb_child_start(&ds->copt, err);
	if (ds->child == NULL)
		return -1;
	rb_log(ds->hooks, RB_LOG_DEBUG, "pg_dump started (pid %d) for database \"%s\"",
		   (int) rb_child_pid(ds->child), ds->p->dbname);
	return 0;
}

static ssize_t
dump_read(void *arg, void *buf, size_t cap, int timeout_ms, rb_error *err)
{
	dump_source *ds = arg;

	for (;;)
	{
		ssize_t		n = rb_child_read(ds->child, buf, cap, timeout_ms, err);
		rb_error	e;
		const char *reason;
		double		delay;

		if (n > 0)
			ds->bytes_read += (uint64_t) n;
		if (n != 0)
			return n;

		/* end of pg_dump's output: did it succeed? */
		rb_error_clear(&e);
		if (rb_child_wait(ds->child, ds->hooks, &e) == 0)
			return 0;
		reason = ds->bytes_read == 0 && e.code == RB_ERR_CHILD ?
			rb_connect_refusal_reason(e.msg) : NULL;
		if (reason == NULL || ds->connect_attempt >= ds->connect_policy.max_attempts)
		{
			if (err != NULL)
				*err = e;
			if (reason != NULL && ds->connect_attempt > 1)
				rb_error_prefix(err, "pg_dump could not connect in %d attempts over %.0f s: ",
								ds->connect_attempt, rb_now_seconds() - ds->start);
			return -1;
		}

		/* refused before it dumped a byte: start it again after a backoff */
		delay = rb_retry_delay(&ds->connect_policy, ds->connect_attempt, &ds->rng);
		rb_log(ds->hooks, RB_LOG_INFO,
			   "pg_dump could not connect to database \"%s\" (%s), attempt %d of %d; retrying in %.1f s",
			   ds->p->dbname, reason, ds->connect_attempt, ds->connect_policy.max_attempts, delay);
		rb_child_free(ds->child);
		ds->child = NULL;
		if (!rb_sleep_polling(delay, ds->hooks))
			return rb_error_set(err, RB_ERR_CANCELLED, "backup cancelled");
		ds->connect_attempt++;
		ds->child = rb_child_start(&ds->copt, err);
		if (ds->child == NULL)
			return -1;
		rb_log(ds->hooks, RB_LOG_DEBUG, "pg_dump started again (pid %d), attempt %d of %d",
			   (int) rb_child_pid(ds->child), ds->connect_attempt, ds->connect_policy.max_attempts);
	}
}

/* The archive parser as the chain's inspector: exact row counts, a whole archive. */
static int
parser_feed(void *arg, const void *data, size_t len, rb_error *err)
{
	if (rb_archive_parser_feed((rb_archive_parser *) arg, data, len, err) < 0)
	{
		rb_error_prefix(err, "pg_dump output: ");
		return -1;
	}
	return 0;
}

static int
parser_finish(void *arg, rb_error *err)
{
	if (rb_archive_parser_finish((rb_archive_parser *) arg, err) < 0)
	{
		rb_error_prefix(err, "pg_dump output: ");
		return -1;
	}
	return 0;
}

int
rb_backup_run(const rb_backup_params *p, rb_backup_result *r, const rb_hooks *hooks,
			  rb_error *err)
{
	rb_buf		conninfo = RB_BUF_INIT;
	rb_argv		argv = RB_ARGV_INIT;
	rb_archive_parser *parser = NULL;
	dump_source ds;
	rb_chain_params cp;
	rb_chain_result cr;
	const char *v;
	int			rc = -1;

	memset(r, 0, sizeof(*r));
	memset(&ds, 0, sizeof(ds));
	if (p == NULL || p->pg_dump_path == NULL || p->dbname == NULL || p->dbname[0] == '\0' ||
		p->dest == NULL || p->object_key == NULL)
		return rb_error_set(err, RB_ERR_INTERNAL, "backup parameters incomplete (pg_dump path, database, destination and key are required)");
	ds.p = p;
	ds.hooks = hooks;
	ds.start = rb_now_seconds();
	ds.connect_policy = p->connect_retry ? *p->connect_retry : rb_retry_policy_default();
	ds.rng = (uint64_t) rb_now_ms() ^ ((uint64_t) getpid() << 32);
	ds.connect_attempt = 1;
	if (rb_retry_policy_validate(&ds.connect_policy, err) < 0)
		return -1;

	/* pg_dump -Fc -Z0 -w: the connection as one quoted conninfo, never a password */
	rb_pg_conninfo_add(&conninfo, "dbname", p->dbname);
	rb_pg_conninfo_add_server(&conninfo, p->host, p->port, p->user);
	rb_argv_add(&argv, p->pg_dump_path);
	rb_argv_add(&argv, "--format=custom");
	rb_argv_add(&argv, "--compress=0");
	rb_argv_add(&argv, "--no-password");
	rb_argv_addf(&argv, "--dbname=%s", rb_buf_str(&conninfo));
	if (p->snapshot != NULL && p->snapshot[0] != '\0')
		rb_argv_addf(&argv, "--snapshot=%s", p->snapshot);
	if (argv.failed)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}
	parser = rb_archive_parser_new();
	if (parser == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}
	ds.copt.argv = (const char *const *) argv.v;
	ds.copt.env = p->extra_env;
	ds.copt.name = "pg_dump";
	ds.copt.nice = p->nice;

	memset(&cp, 0, sizeof(cp));
	cp.store.dest = p->dest;
	cp.store.key = p->object_key;
	cp.store.compression = p->compression;
	cp.store.compression_level = p->compression_level;
	cp.store.compression_workers = p->compression_workers;
	cp.store.encryption_key = p->encryption_key;
	cp.store.what = "backup";
	cp.store.no_original_sha256 = true;
	cp.source.start = dump_start;
	cp.source.read = dump_read;
	cp.source.arg = &ds;
	cp.inspect.feed = parser_feed;
	cp.inspect.finish = parser_finish;
	cp.inspect.arg = parser;
	cp.progress = p->progress;
	cp.progress_arg = p->progress_arg;
	cp.progress_interval_ms = p->progress_interval_ms;

	rc = rb_chain_run(&cp, &cr, hooks, err);
	r->bytes_read = ds.bytes_read;
	r->duration_seconds = cr.duration_seconds;
	if (rc == 0)
	{
		r->size_bytes = cr.stored.stored_bytes;
		memcpy(r->sha256, cr.stored.stored_sha256, sizeof(r->sha256));
		rb_table_counts_copy(&r->table_counts, rb_archive_parser_counts(parser));
		v = rb_archive_parser_server_version(parser);
		r->archive_server_version = v ? rb_strdup(v) : NULL;
		v = rb_archive_parser_dump_version(parser);
		r->archive_dump_version = v ? rb_strdup(v) : NULL;
	}

done:
	/* the chain has aborted the upload; pg_dump is stopped and reaped */
	rb_child_free(ds.child);
	rb_archive_parser_free(parser);
	rb_buf_free(&conninfo);
	rb_argv_free(&argv);
	return rc;
}

void
rb_backup_result_free(rb_backup_result *r)
{
	if (r == NULL)
		return;
	rb_table_counts_free(&r->table_counts);
	free(r->archive_server_version);
	free(r->archive_dump_version);
	memset(r, 0, sizeof(*r));
}

char *
rb_backup_metadata_key(const char *object_key)
{
	size_t		n = strlen(object_key) + sizeof(".metadata.json");
	char	   *k = rb_malloc(n);

	snprintf(k, n, "%s.metadata.json", object_key);
	return k;
}

int
rb_backup_write_metadata(rb_destination *dest, const char *object_key,
						 const rb_backup_metadata *m, rb_error *err)
{
	rb_buf		json = RB_BUF_INIT;
	char	   *key = rb_backup_metadata_key(object_key);
	int			rc;

	rb_backup_metadata_to_json(m, &json);
	rc = rb_destination_create_small(dest, key, json.data, json.len, err);
	if (rc < 0)
	{
		char	   *u = rb_destination_url_for(dest, key);

		rb_error_prefix(err, "could not store the backup metadata at %s: ", u);
		free(u);
	}
	free(key);
	rb_buf_free(&json);
	return rc;
}

/* One path segment: bytes outside [A-Za-z0-9._-] (and a leading dot) percent-encoded. */
static void
append_segment(rb_buf *k, const char *seg)
{
	for (const unsigned char *s = (const unsigned char *) seg; *s; s++)
	{
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
			*s == '_' || *s == '-' || (*s == '.' && s != (const unsigned char *) seg))
			rb_buf_append_char(k, (char) *s);
		else
			rb_buf_appendf(k, "%%%02X", *s);
	}
}

/* <sysid>/<incarnation>/<dir>/<second>-<id><ext><compression suffix> */
static char *
object_key(uint64_t system_identifier, const char *incarnation, const char *dir,
		   time_t when, int64_t backup_id, const char *ext, rb_compress_kind kind)
{
	rb_buf		k = RB_BUF_INIT;
	struct tm	tm;
	char		ts[32];

	gmtime_r(&when, &tm);
	strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
	rb_buf_appendf(&k, "%" PRIu64 "/", system_identifier);
	append_segment(&k, incarnation && incarnation[0] ? incarnation : "-");
	rb_buf_append_char(&k, '/');
	append_segment(&k, dir);
	rb_buf_appendf(&k, "/%s-%" PRId64 "%s%s", ts, backup_id, ext, rb_compress_suffix(kind));
	return k.data;
}

char *
rb_backup_object_key(uint64_t system_identifier, const char *incarnation, const char *dbname,
					 time_t when, int64_t backup_id, rb_compress_kind kind)
{
	return object_key(system_identifier, incarnation, dbname, when, backup_id, ".dump", kind);
}

char *
rb_base_backup_object_key(uint64_t system_identifier, const char *incarnation,
						  time_t when, int64_t backup_id, rb_compress_kind kind)
{
	return object_key(system_identifier, incarnation, "base", when, backup_id, ".tar", kind);
}
