/*
 * backup.c — one backup: pg_dump → archive parser → compressor → (encryptor) →
 * SHA-256 and byte count → destination writer (see backup.h).  The loop runs in the caller's
 * thread; zstd may use worker threads of its own.
 */
#include "backup.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backup_retry_class.h"
#include "encrypt_stream.h"
#include "base_backup.h"
#include "pg_client.h"
#include "rb_alloc.h"
#include "rb_child.h"
#include "pgdump_archive.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "rb_time.h"
#include "s3/s3_retry.h"

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

/* Between the compressor and the sink when the backup is encrypted. */
static int
encrypt_write(void *arg, const void *data, size_t len, rb_error *err)
{
	return rb_encryptor_write((rb_encryptor *) arg, data, len, err);
}

int
rb_backup_run(const rb_backup_params *p, rb_backup_result *r, const rb_hooks *hooks,
			  rb_error *err)
{
	rb_buf		conninfo = RB_BUF_INIT;
	rb_argv		argv = RB_ARGV_INIT;
	rb_child_options copt;
	rb_child   *child = NULL;
	rb_archive_parser *parser = NULL;
	rb_compressor *comp = NULL;
	rb_encryptor *enc = NULL;
	sink		out = {NULL, NULL, 0};
	char	   *url = NULL;
	unsigned char *buf = NULL;
	double		start = rb_now_seconds(),
				last_progress = start;
	double		interval;
	const char *v;
	int			rc = -1;
	rb_retry_policy connect_policy = p && p->connect_retry ? *p->connect_retry :
		rb_retry_policy_default();
	uint64_t	rng = (uint64_t) rb_now_ms() ^ ((uint64_t) getpid() << 32);
	int			connect_attempt = 1;

	memset(r, 0, sizeof(*r));
	if (p == NULL || p->pg_dump_path == NULL || p->dbname == NULL || p->dbname[0] == '\0' ||
		p->dest == NULL || p->object_key == NULL)
		return rb_error_set(err, RB_ERR_INTERNAL, "backup parameters incomplete (pg_dump path, database, destination and key are required)");
	if (rb_retry_policy_validate(&connect_policy, err) < 0)
		return -1;
	interval = (p->progress_interval_ms > 0 ? p->progress_interval_ms : 100) / 1000.0;
	url = rb_destination_url_for(p->dest, p->object_key);

	/* pg_dump -Fc -Z0 -w: the connection as one quoted conninfo, never a password */
	rb_pg_conninfo_add(&conninfo, "dbname", p->dbname);
	rb_pg_conninfo_add(&conninfo, "host", p->host);
	if (p->port > 0)
	{
		char		port[16];

		snprintf(port, sizeof(port), "%d", p->port);
		rb_pg_conninfo_add(&conninfo, "port", port);
	}
	rb_pg_conninfo_add(&conninfo, "user", p->user);
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

	out.sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (out.sha == NULL)
		goto done;
	parser = rb_archive_parser_new();
	buf = malloc(READ_CHUNK);
	if (parser == NULL || buf == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}
	out.writer = rb_destination_writer_open(p->dest, p->object_key, err);
	if (out.writer == NULL)
	{
		rb_error_prefix(err, "could not store the backup at %s: ", url);
		goto done;
	}
	if (p->encryption_key != NULL)
	{
		enc = rb_encryptor_new(p->encryption_key, sink_write, &out, err);
		if (enc == NULL)
		{
			rb_error_prefix(err, "could not start the encryption of the backup: ");
			goto done;
		}
		comp = rb_compressor_new(p->compression, p->compression_level, p->compression_workers,
								 encrypt_write, enc, err);
	}
	else
		comp = rb_compressor_new(p->compression, p->compression_level, p->compression_workers,
								 sink_write, &out, err);
	if (comp == NULL)
		goto done;

	memset(&copt, 0, sizeof(copt));
	copt.argv = (const char *const *) argv.v;
	copt.env = p->extra_env;
	copt.name = "pg_dump";
	copt.nice = p->nice;
	child = rb_child_start(&copt, err);
	if (child == NULL)
		goto done;
	rb_log(hooks, RB_LOG_DEBUG, "pg_dump started (pid %d) for database \"%s\"",
		   (int) rb_child_pid(child), p->dbname);

	for (;;)
	{
		ssize_t		n = rb_child_read(child, buf, READ_CHUNK, 100, err);
		double		now;

		if (n == -1)
			goto done;
		if (n == 0)
		{
			rb_error	e;
			const char *reason;

			/* end of pg_dump's output: did it succeed? */
			rb_error_clear(&e);
			if (rb_child_wait(child, hooks, &e) == 0)
				break;
			reason = r->bytes_read == 0 && e.code == RB_ERR_CHILD ?
				rb_connect_refusal_reason(e.msg) : NULL;
			if (reason != NULL && connect_attempt < connect_policy.max_attempts)
			{
				/* refused before it dumped a byte: start it again after a backoff */
				double		delay = rb_retry_delay(&connect_policy, connect_attempt, &rng);

				rb_log(hooks, RB_LOG_INFO,
					   "pg_dump could not connect to database \"%s\" (%s), attempt %d of %d; retrying in %.1f s",
					   p->dbname, reason, connect_attempt, connect_policy.max_attempts, delay);
				rb_child_free(child);
				child = NULL;
				if (!rb_sleep_polling(delay, hooks))
				{
					rb_error_set(err, RB_ERR_CANCELLED, "backup cancelled");
					goto done;
				}
				connect_attempt++;
				child = rb_child_start(&copt, err);
				if (child == NULL)
					goto done;
				rb_log(hooks, RB_LOG_DEBUG, "pg_dump started again (pid %d), attempt %d of %d",
					   (int) rb_child_pid(child), connect_attempt, connect_policy.max_attempts);
				continue;
			}
			if (err != NULL)
				*err = e;
			if (reason != NULL && connect_attempt > 1)
				rb_error_prefix(err, "pg_dump could not connect in %d attempts over %.0f s: ",
								connect_attempt, rb_now_seconds() - start);
			goto done;
		}
		if (n == RB_CHILD_TIMEOUT &&
			rb_dest_writer_pump(out.writer, 50, err) < 0)
		{
			rb_error_prefix(err, "could not store the backup at %s: ", url);
			goto done;
		}
		if (n > 0)
		{
			r->bytes_read += (uint64_t) n;
			if (rb_archive_parser_feed(parser, buf, (size_t) n, err) < 0)
			{
				rb_error_prefix(err, "pg_dump output: ");
				goto done;
			}
			if (rb_compressor_write(comp, buf, (size_t) n, err) < 0)
			{
				if (err != NULL && err->code != RB_ERR_INTERNAL)
					rb_error_prefix(err, "could not store the backup at %s: ", url);
				goto done;
			}
		}
		if (rb_cancelled(hooks))
		{
			rb_error_set(err, RB_ERR_CANCELLED, "backup cancelled");
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

	/* pg_dump succeeded: is the archive whole? */
	if (rb_archive_parser_finish(parser, err) < 0)
	{
		rb_error_prefix(err, "pg_dump output: ");
		goto done;
	}
	if (rb_compressor_finish(comp, err) < 0 ||
		(enc != NULL && rb_encryptor_finish(enc, err) < 0))
	{
		rb_error_prefix(err, "could not store the backup at %s: ", url);
		goto done;
	}
	if (rb_digest_final_hex(out.sha, r->sha256, err) < 0)
		goto done;
	{
		rb_dest_writer *w = out.writer;

		out.writer = NULL;		/* commit frees it whatever happens */
		if (rb_dest_writer_commit(w, err) < 0)
		{
			rb_error_prefix(err, "could not store the backup at %s: ", url);
			goto done;
		}
	}
	r->size_bytes = out.stored;
	r->duration_seconds = rb_now_seconds() - start;
	rb_table_counts_copy(&r->table_counts, rb_archive_parser_counts(parser));
	v = rb_archive_parser_server_version(parser);
	r->archive_server_version = v ? rb_strdup(v) : NULL;
	v = rb_archive_parser_dump_version(parser);
	r->archive_dump_version = v ? rb_strdup(v) : NULL;
	if (p->progress != NULL)
	{
		rb_backup_progress pr = {r->bytes_read, out.stored, r->duration_seconds};

		p->progress(p->progress_arg, &pr);
	}
	rc = 0;

done:
	if (rc != 0)
	{
		/* nothing that looks like a backup may remain; pg_dump is stopped and reaped */
		if (out.writer != NULL)
			rb_dest_writer_abort(out.writer);
		out.writer = NULL;
		r->duration_seconds = rb_now_seconds() - start;
	}
	rb_child_free(child);
	rb_compressor_free(comp);
	rb_encryptor_free(enc);
	rb_archive_parser_free(parser);
	rb_digest_free(out.sha);
	free(buf);
	free(url);
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
