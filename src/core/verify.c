/*
 * verify.c — checksum, archive and restore verification of a stored backup
 * (see verify.h).  The object is streamed once: every byte is hashed and, for
 * the deeper levels, decompressed into a temporary file that pg_restore reads
 * and that is unlinked before returning, whatever happens.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rb_child.h"
#include "backup_compress.h"
#include "pgdump_archive.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "rb_time.h"
#include "verify.h"
#include "verify_toc.h"

static const char *const level_names[] = {"checksum", "archive", "restore"};

int
rb_verify_level_parse(const char *name, rb_verify_level *level, rb_error *err)
{
	for (int i = 0; i < 3; i++)
	{
		if (name != NULL && strcmp(name, level_names[i]) == 0)
		{
			*level = (rb_verify_level) i;
			return 0;
		}
	}
	return rb_error_set(err, RB_ERR_INVALID,
						"invalid verify level \"%s\": must be checksum, archive or restore",
						name ? name : "");
}

const char *
rb_verify_level_name(rb_verify_level level)
{
	if ((int) level < 0 || (int) level > 2)
		return "?";
	return level_names[level];
}

void
rb_verify_result_init(rb_verify_result *r)
{
	memset(r, 0, sizeof(*r));
	r->restore_seconds = -1;
	rb_backup_metadata_init(&r->meta);
}

void
rb_verify_result_free(rb_verify_result *r)
{
	rb_backup_metadata_free(&r->meta);
}

char *
rb_verify_quote_ident(const char *name)
{
	rb_buf		b = RB_BUF_INIT;

	rb_buf_append_char(&b, '"');
	for (const char *p = name; *p; p++)
	{
		if (*p == '"')
			rb_buf_append_char(&b, '"');
		rb_buf_append_char(&b, *p);
	}
	rb_buf_append_char(&b, '"');
	return b.data;
}

/* E'x' (' and \ doubled): a string literal whatever standard_conforming_strings says */
static char *
quote_literal(const char *s)
{
	rb_buf		b = RB_BUF_INIT;

	rb_buf_append_str(&b, "E'");
	for (const char *p = s; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			rb_buf_append_char(&b, *p);
		rb_buf_append_char(&b, *p);
	}
	rb_buf_append_char(&b, '\'');
	return b.data;
}

/* dbname='x' (' and \ escaped): a name is never taken as a connection string */
static char *
conninfo_dbname(const char *dbname)
{
	rb_buf		b = RB_BUF_INIT;

	rb_buf_append_str(&b, "dbname='");
	for (const char *p = dbname; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			rb_buf_append_char(&b, '\\');
		rb_buf_append_char(&b, *p);
	}
	rb_buf_append_char(&b, '\'');
	return b.data;
}

int
rb_verify_count_table_data(const char *listing, int *entries)
{
	int			table_data = 0;
	const char *p = listing;

	*entries = 0;
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);

		if (len > 0 && *p != ';')
		{
			const char *semi = memchr(p, ';', len);

			(*entries)++;
			if (semi != NULL)
			{
				/* "<id>; <catalog oid> <oid> <DESC> ..." */
				const char *q = semi + 1;
				const char *end = p + len;
				int			words = 0;

				while (q < end && words < 2)
				{
					while (q < end && *q == ' ')
						q++;
					while (q < end && *q != ' ')
						q++;
					words++;
				}
				while (q < end && *q == ' ')
					q++;
				if ((size_t) (end - q) > 11 && strncmp(q, "TABLE DATA ", 11) == 0)
					table_data++;
			}
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return table_data;
}

/* ---- running a client program ------------------------------------------------- */

typedef struct argv_list
{
	char	   *v[32];
	int			n;
} argv_list;

static void
argv_add(argv_list *a, const char *s)
{
	if (a->n < 31)
		a->v[a->n++] = strdup(s);
	a->v[a->n] = NULL;
}

static void
argv_free(argv_list *a)
{
	for (int i = 0; i < a->n; i++)
		free(a->v[i]);
	a->n = 0;
}

/* program's path, then the connection options (as user, when not NULL) */
static void
argv_program_as(argv_list *a, const rb_verify_pg *pg, const char *program, const char *user)
{
	char		path[4096];
	char		port[16];

	snprintf(path, sizeof(path), "%s/%s", pg->bindir, program);
	argv_add(a, path);
	if (pg->host)
	{
		argv_add(a, "-h");
		argv_add(a, pg->host);
	}
	if (pg->port > 0)
	{
		snprintf(port, sizeof(port), "%d", pg->port);
		argv_add(a, "-p");
		argv_add(a, port);
	}
	if (user)
	{
		argv_add(a, "-U");
		argv_add(a, user);
	}
}

/* as pg->user, the server's own role */
static void
argv_program(argv_list *a, const rb_verify_pg *pg, const char *program)
{
	argv_program_as(a, pg, program, pg->user);
}

/* Runs the program, collecting stdout into out (may be NULL); 0 when it exited 0. */
static int
run_program(const argv_list *a, const rb_verify_pg *pg, const char *name, rb_buf *out,
			const rb_hooks *hooks, rb_error *err)
{
	rb_child_options opt;
	rb_child   *child;
	char		buf[8192];
	int			rc = 0;

	memset(&opt, 0, sizeof(opt));
	opt.argv = (const char *const *) a->v;
	opt.env = pg->env;
	opt.name = name;
	child = rb_child_start(&opt, err);
	if (child == NULL)
		return -1;
	for (;;)
	{
		ssize_t		n = rb_child_read(child, buf, sizeof(buf), 100, err);

		if (n == RB_CHILD_TIMEOUT)
		{
			if (rb_cancelled(hooks))
			{
				rc = rb_error_set(err, RB_ERR_CANCELLED, "%s was canceled", name);
				break;
			}
			continue;
		}
		if (n < 0)
		{
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (out)
			rb_buf_append(out, buf, (size_t) n);
	}
	if (rc == 0)
		rc = rb_child_wait(child, hooks, err);
	rb_child_free(child);
	return rc;
}

/* ---- checksum -------------------------------------------------------------- */

typedef struct stream_state
{
	rb_digest  *digest;
	rb_decompressor *decomp;
	rb_archive_parser *parser;
	int			out_fd;
	const char *out_name;
	uint64_t	stored;
	uint64_t	archive;
	bool		decomp_failed;
	rb_error	decomp_err;
	bool		parser_failed;
	rb_error	parser_err;
	const rb_hooks *hooks;
} stream_state;

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* downstream of the decompressor: the archive file and the archive parser */
static int
archive_out(void *arg, const void *data, size_t len, rb_error *err)
{
	stream_state *st = arg;

	st->archive += len;
	if (st->parser && !st->parser_failed &&
		rb_archive_parser_feed(st->parser, data, len, &st->parser_err) != 0)
		st->parser_failed = true;
	if (write_all(st->out_fd, data, len) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not write to file \"%s\": %s",
							st->out_name, strerror(errno));
	return 0;
}

/* downstream of the destination: hash, count, decompress */
static int
stored_in(void *arg, const void *data, size_t len, rb_error *err)
{
	stream_state *st = arg;

	if (rb_cancelled(st->hooks))
		return rb_error_set(err, RB_ERR_CANCELLED, "verification was canceled");
	if (rb_digest_update(st->digest, data, len, err) != 0)
		return -1;
	st->stored += len;
	if (st->decomp != NULL && !st->decomp_failed)
	{
		rb_error	e;

		rb_error_clear(&e);
		if (rb_decompressor_write(st->decomp, data, len, &e) != 0)
		{
			if (e.code != RB_ERR_INTEGRITY)
			{
				*err = e;
				return -1;
			}
			/* a corrupt stream: keep hashing, the checksum explains it best */
			st->decomp_failed = true;
			st->decomp_err = e;
		}
	}
	return 0;
}

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	(void) err;
	rb_buf_append((rb_buf *) arg, data, len);
	return 0;
}

/* Reads and parses <key>.metadata.json into res->meta and compares it. */
static int
check_metadata(rb_destination *dest, const char *object_key, const char *url,
			   const rb_backup_metadata *expected, uint64_t expected_size,
			   const char *expected_sha256, rb_verify_result *res, rb_error *err)
{
	rb_buf		json = RB_BUF_INIT;
	char	   *mkey = malloc(strlen(object_key) + sizeof(".metadata.json"));
	int			rc = -1;

	if (mkey == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	sprintf(mkey, "%s.metadata.json", object_key);
	if (rb_destination_get(dest, mkey, 0, 0, collect, &json, err) != 0)
	{
		if (err->code == RB_ERR_NOT_FOUND)
			rb_error_set(err, RB_ERR_INTEGRITY, "metadata object \"%s.metadata.json\" is missing", url);
		goto done;
	}
	rb_backup_metadata_free(&res->meta);
	if (rb_backup_metadata_from_json(rb_buf_str(&json), json.len, &res->meta, err) != 0)
	{
		rb_error_prefix(err, "metadata object \"%s.metadata.json\" is invalid: ", url);
		err->code = RB_ERR_INTEGRITY;
		goto done;
	}
	if (res->meta.size_bytes != expected_size)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "metadata of %s disagrees with the catalog: size %" PRIu64 " bytes, expected %" PRIu64,
					 url, res->meta.size_bytes, expected_size);
		goto done;
	}
	if (expected_sha256 != NULL && strcmp(res->meta.sha256, expected_sha256) != 0)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "metadata of %s disagrees with the catalog: sha256 %s, expected %s",
					 url, res->meta.sha256, expected_sha256);
		goto done;
	}
	if (res->meta.object_key != NULL && strcmp(res->meta.object_key, object_key) != 0)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "metadata of %s names another object: \"%s\"", url, res->meta.object_key);
		goto done;
	}
	if (expected != NULL)
	{
		if (expected->backup_id != res->meta.backup_id)
		{
			rb_error_set(err, RB_ERR_INTEGRITY,
						 "metadata of %s is of backup %" PRId64 ", expected %" PRId64,
						 url, res->meta.backup_id, expected->backup_id);
			goto done;
		}
		if (expected->table_counts.n != res->meta.table_counts.n)
		{
			rb_error_set(err, RB_ERR_INTEGRITY,
						 "metadata of %s lists %zu tables, expected %zu",
						 url, res->meta.table_counts.n, expected->table_counts.n);
			goto done;
		}
		for (size_t i = 0; i < expected->table_counts.n; i++)
		{
			const rb_table_count *e = &expected->table_counts.items[i];
			const rb_table_count *f = rb_table_counts_find(&res->meta.table_counts, e->schema, e->table);

			if (f == NULL || f->rows != e->rows)
			{
				char	   *k = rb_table_key_format(e->schema, e->table);

				rb_error_set(err, RB_ERR_INTEGRITY,
							 "metadata of %s disagrees on table %s: %" PRId64 " rows expected",
							 url, k, e->rows);
				free(k);
				goto done;
			}
		}
	}
	rc = 0;
done:
	rb_buf_free(&json);
	free(mkey);
	return rc;
}

/*
 * Streams the object: hash and size always; when out_fd >= 0, decompressed into
 * it (and through parser).  Returns 0 when the stream was read; *checksum_err
 * receives a size/checksum mismatch (then res->checksum_ok is false).
 */
static int
stream_object(rb_destination *dest, const char *object_key, const char *url,
			  uint64_t expected_size, const char *expected_sha256, int out_fd,
			  const char *out_name, rb_archive_parser *parser, rb_verify_result *res,
			  rb_error *checksum_err, const rb_hooks *hooks, rb_error *err)
{
	stream_state st;
	int			rc = -1;

	memset(&st, 0, sizeof(st));
	st.out_fd = out_fd;
	st.out_name = out_name;
	st.parser = parser;
	st.hooks = hooks;
	res->checksum_ok = false;
	st.digest = rb_digest_new(RB_DIGEST_SHA256, err);
	if (st.digest == NULL)
		return -1;
	if (out_fd >= 0)
	{
		rb_compress_kind kind;

		if (rb_compress_kind_parse(res->meta.compression ? res->meta.compression : "none",
								   &kind, err) != 0)
			goto done;
		st.decomp = rb_decompressor_new(kind, archive_out, &st, err);
		if (st.decomp == NULL)
			goto done;
	}
	if (rb_destination_get(dest, object_key, 0, 0, stored_in, &st, err) != 0)
	{
		if (err->code == RB_ERR_NOT_FOUND)
			rb_error_set(err, RB_ERR_INTEGRITY, "backup object %s is missing (its metadata exists)", url);
		goto done;
	}
	if (rb_digest_final_hex(st.digest, res->sha256, err) != 0)
		goto done;
	res->stored_bytes = st.stored;

	rb_error_clear(checksum_err);
	if (st.stored != expected_size)
		rb_error_set(checksum_err, RB_ERR_INTEGRITY,
					 "size mismatch for %s: expected %" PRIu64 " bytes, found %" PRIu64,
					 url, expected_size, st.stored);
	else if (!rb_ct_streq(res->sha256, expected_sha256 ? expected_sha256 : res->meta.sha256))
		rb_error_set(checksum_err, RB_ERR_INTEGRITY,
					 "checksum mismatch for %s: expected %s, found %s",
					 url, expected_sha256 ? expected_sha256 : res->meta.sha256, res->sha256);
	else
		res->checksum_ok = true;

	if (st.decomp != NULL)
	{
		if (!st.decomp_failed && rb_decompressor_finish(st.decomp, &st.decomp_err) != 0)
		{
			if (st.decomp_err.code != RB_ERR_INTEGRITY)
			{
				*err = st.decomp_err;
				goto done;
			}
			st.decomp_failed = true;
		}
		if (st.decomp_failed)
		{
			if (!res->checksum_ok)
				*err = *checksum_err;
			else
				rb_error_set(err, RB_ERR_INTEGRITY, "%s matches its checksum but does not decompress: %s",
							 url, st.decomp_err.msg);
			goto done;
		}
		if (parser != NULL && !st.parser_failed &&
			rb_archive_parser_finish(parser, &st.parser_err) != 0)
			st.parser_failed = true;
		if (parser != NULL && st.parser_failed)
		{
			if (!res->checksum_ok)
				*err = *checksum_err;
			else
				rb_error_set(err, RB_ERR_INTEGRITY, "%s is not a valid pg_dump archive: %s",
							 url, st.parser_err.msg);
			goto done;
		}
	}
	res->archive_bytes = st.archive;
	rc = 0;
done:
	if (st.decomp)
		rb_decompressor_free(st.decomp);
	rb_digest_free(st.digest);
	return rc;
}

int
rb_verify_checksum(rb_destination *dest, const char *object_key,
				   const rb_backup_metadata *expected_or_NULL,
				   uint64_t expected_size, const char *expected_sha256,
				   rb_verify_result *res, const rb_hooks *hooks, rb_error *err)
{
	rb_verify_request req;

	memset(&req, 0, sizeof(req));
	req.dest = dest;
	req.object_key = object_key;
	req.expected = expected_or_NULL;
	req.expected_size = expected_size;
	req.expected_sha256 = expected_sha256;
	req.level = RB_VERIFY_CHECKSUM;
	return rb_verify_run(&req, res, hooks, err);
}

/* ---- archive ---------------------------------------------------------------- */

/* The archive's own tables and row counts against the metadata's. */
static int
compare_archive_counts(const rb_table_counts *meta, const rb_table_counts *found,
					   const char *url, rb_error *err)
{
	for (size_t i = 0; i < meta->n; i++)
	{
		const rb_table_count *e = &meta->items[i];
		const rb_table_count *f = rb_table_counts_find(found, e->schema, e->table);

		if (f == NULL || f->rows != e->rows)
		{
			char	   *k = rb_table_key_format(e->schema, e->table);

			if (f == NULL)
				rb_error_set(err, RB_ERR_INTEGRITY,
							 "archive %s has no data for table %s named in its metadata", url, k);
			else
				rb_error_set(err, RB_ERR_INTEGRITY,
							 "archive %s has %" PRId64 " rows of table %s, its metadata says %" PRId64,
							 url, f->rows, k, e->rows);
			free(k);
			return -1;
		}
	}
	for (size_t i = 0; i < found->n; i++)
	{
		const rb_table_count *f = &found->items[i];

		if (rb_table_counts_find(meta, f->schema, f->table) == NULL)
		{
			char	   *k = rb_table_key_format(f->schema, f->table);

			rb_error_set(err, RB_ERR_INTEGRITY,
						 "archive %s has data for table %s, which its metadata does not name", url, k);
			free(k);
			return -1;
		}
	}
	return 0;
}

static int
pg_restore_list(const rb_verify_pg *pg, const char *file, const char *url,
				rb_verify_result *res, rb_buf *out, const rb_hooks *hooks, rb_error *err)
{
	argv_list	a = {{0}, 0};
	char		path[4096];
	int			rc;

	snprintf(path, sizeof(path), "%s/pg_restore", pg->bindir);
	argv_add(&a, path);
	argv_add(&a, "--list");
	argv_add(&a, file);
	rc = run_program(&a, pg, "pg_restore", out, hooks, err);
	if (rc == 0)
	{
		res->table_data_entries = rb_verify_count_table_data(rb_buf_str(out), &res->toc_entries);
		if ((size_t) res->table_data_entries != res->meta.table_counts.n)
			rc = rb_error_set(err, RB_ERR_INTEGRITY,
							  "pg_restore --list shows %d TABLE DATA entries in %s, its metadata names %zu tables",
							  res->table_data_entries, url, res->meta.table_counts.n);
	}
	else if (err->code == RB_ERR_CHILD)
	{
		err->code = RB_ERR_INTEGRITY;
		rb_error_prefix(err, "pg_restore --list cannot read %s: ", url);
	}
	argv_free(&a);
	return rc;
}

/* ---- restore ---------------------------------------------------------------- */

/* Writes text to a new file <base><suffix> (mode 0600); returns its path (malloc'd). */
static char *
write_side_file(const char *base, const char *suffix, const char *text, rb_error *err)
{
	size_t		len = strlen(base) + strlen(suffix) + 1;
	char	   *path = malloc(len);
	int			fd;

	if (path == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	snprintf(path, len, "%s%s", base, suffix);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL, 0600);
	if (fd < 0 || write_all(fd, text, strlen(text)) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not write file \"%s\": %s", path, strerror(errno));
		if (fd >= 0)
		{
			close(fd);
			unlink(path);
		}
		free(path);
		return NULL;
	}
	close(fd);
	return path;
}

/*
 * createdb and dropdb of the scratch database run to their end after a stop
 * request (for up to SCRATCH_GRACE_SECONDS): the server completes a CREATE or
 * DROP DATABASE whose client was killed, so a cancelled createdb could leave a
 * database behind and a cancelled dropdb would.  The caller's cancel hook is
 * still polled for what it does besides answering (a backend absorbs barriers
 * there, and DROP DATABASE waits for every backend to absorb one).
 */
#define SCRATCH_GRACE_SECONDS 30.0

typedef struct steady_hooks
{
	rb_hooks	hooks;
	const rb_hooks *inner;
	double		stop_seen;		/* when the caller first asked to stop; 0 = not yet */
} steady_hooks;

static bool
steady_cancel(void *arg)
{
	steady_hooks *s = arg;

	if (!rb_cancelled(s->inner))
		return false;
	if (s->stop_seen == 0)
		s->stop_seen = rb_now_seconds();
	return rb_now_seconds() - s->stop_seen > SCRATCH_GRACE_SECONDS;
}

static void
steady_log(void *arg, rb_log_level level, const char *line)
{
	steady_hooks *s = arg;

	if (s->inner != NULL && s->inner->log != NULL)
		s->inner->log(s->inner->arg, level, line);
}

static int
run_program_steady(const argv_list *a, const rb_verify_pg *pg, const char *name,
				   const rb_hooks *hooks, rb_error *err)
{
	steady_hooks s;

	s.hooks.log = steady_log;
	s.hooks.cancel = steady_cancel;
	s.hooks.arg = &s;
	s.inner = hooks;
	s.stop_seen = 0;
	return run_program(a, pg, name, NULL, &s.hooks, err);
}

static void
remove_side_file(char *path)
{
	if (path != NULL)
	{
		unlink(path);
		free(path);
	}
}

static void argv_psql(argv_list *a, const rb_verify_pg *pg, const char *user, const char *conn);

/*
 * The scratch database dropped, as pg->user.  First its IS_TEMPLATE is cleared:
 * the restore role owns it and may have set it, and a template cannot be dropped.
 */
static int
drop_scratch(const rb_verify_pg *pg, const char *db, const rb_hooks *hooks, rb_error *err)
{
	argv_list	a = {{0}, 0};
	int			rc;

	if (strchr(db, '$') == NULL)	/* never in a scratch name; the DO body is $rb$-quoted */
	{
		char	   *lit = quote_literal(db);
		rb_buf		sql = RB_BUF_INIT;
		char	   *conn = conninfo_dbname(pg->maintenance_db ? pg->maintenance_db : "postgres");
		rb_error	terr;

		rb_buf_appendf(&sql,
					   "DO $rb$BEGIN\n"
					   "  IF EXISTS (SELECT FROM pg_catalog.pg_database WHERE datistemplate"
					   " AND datname OPERATOR(pg_catalog.=) %s) THEN\n"
					   "    EXECUTE pg_catalog.format('ALTER DATABASE %%I IS_TEMPLATE false', %s::pg_catalog.text);\n"
					   "  END IF;\n"
					   "END$rb$", lit, lit);
		argv_psql(&a, pg, pg->user, conn);
		argv_add(&a, "-c");
		argv_add(&a, rb_buf_str(&sql));
		/* dropdb goes on whatever this says: its own error explains best */
		rb_error_clear(&terr);
		(void) run_program(&a, pg, "psql", NULL, hooks, &terr);
		argv_free(&a);
		rb_buf_free(&sql);
		free(conn);
		free(lit);
	}
	argv_program(&a, pg, "dropdb");
	argv_add(&a, "--if-exists");
	argv_add(&a, "--force");
	argv_add(&a, "--maintenance-db");
	argv_add(&a, pg->maintenance_db ? pg->maintenance_db : "postgres");
	argv_add(&a, db);
	rc = run_program_steady(&a, pg, "dropdb", hooks, err);
	argv_free(&a);
	return rc;
}

/* The role that restores and counts: restore_user, else user. */
static const char *
restore_role(const rb_verify_pg *pg)
{
	return pg->restore_user ? pg->restore_user : pg->user;
}

/* psql as user in conn: no psqlrc, quiet, stop at the first error */
static void
argv_psql(argv_list *a, const rb_verify_pg *pg, const char *user, const char *conn)
{
	argv_program_as(a, pg, "psql", user);
	argv_add(a, "-X");
	argv_add(a, "-q");
	argv_add(a, "-v");
	argv_add(a, "ON_ERROR_STOP=1");
	argv_add(a, "-d");
	argv_add(a, conn);
}

/* pg_restore of the entries in list_file, connected as the restore role. */
static int
restore_entries(const rb_verify_pg *pg, const char *db, const char *conn, const char *list_file,
				const char *file, const rb_hooks *hooks, rb_error *err)
{
	argv_list	a = {{0}, 0};
	int			rc;

	argv_program_as(&a, pg, "pg_restore", restore_role(pg));
	argv_add(&a, "--no-owner");
	argv_add(&a, "--no-privileges");
	argv_add(&a, "--exit-on-error");
	argv_add(&a, "-L");
	argv_add(&a, list_file);
	argv_add(&a, "-d");
	argv_add(&a, conn);
	argv_add(&a, file);
	rc = run_program(&a, pg, "pg_restore", NULL, hooks, err);
	if (rc != 0)
	{
		rb_error_prefix(err, "restore into the scratch database \"%s\" failed: ", db);
		if (err->code == RB_ERR_CHILD)
			err->code = RB_ERR_INTEGRITY;
	}
	argv_free(&a);
	return rc;
}

/*
 * After the extensions, as superuser: the restore role (the scratch database's
 * owner, so a member of pg_database_owner there) may fill the extensions'
 * configuration tables and sequences, as pg_dump dumps their rows, and use
 * their foreign-data wrappers.  Reads the catalog only.
 */
static const char extension_grants[] =
"DO $rb$\n"
"DECLARE r record;\n"
"BEGIN\n"
"  FOR r IN SELECT c.oid::pg_catalog.regclass::pg_catalog.text AS name, c.relkind\n"
"             FROM pg_catalog.pg_extension e\n"
"             CROSS JOIN LATERAL pg_catalog.unnest(e.extconfig) AS x(oid)\n"
"             JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) x.oid LOOP\n"
"    EXECUTE 'GRANT ALL ON ' OPERATOR(pg_catalog.||)\n"
"            CASE WHEN r.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE ' ELSE 'TABLE ' END\n"
"            OPERATOR(pg_catalog.||) r.name OPERATOR(pg_catalog.||) ' TO pg_database_owner';\n"
"  END LOOP;\n"
"  FOR r IN SELECT pg_catalog.quote_ident(w.fdwname) AS name FROM pg_catalog.pg_foreign_data_wrapper w LOOP\n"
"    EXECUTE 'GRANT USAGE ON FOREIGN DATA WRAPPER ' OPERATOR(pg_catalog.||) r.name\n"
"            OPERATOR(pg_catalog.||) ' TO pg_database_owner';\n"
"  END LOOP;\n"
"END\n"
"$rb$;\n";

/*
 * The archive's schemas (owned by the restore role) and extensions, created by
 * the server's own role (pg->user) in the new scratch database before the
 * restore role first connects to it, from statements rebuilt from their names
 * (rb_verify_server_sql): an extension's script is code the DBA installed; the
 * dump's text is never run as superuser, and nothing of the backup exists yet.
 */
static int
create_schemas_and_extensions(const rb_verify_pg *pg, const char *db, const char *conn,
							  const char *list_file, const char *file, const rb_hooks *hooks,
							  rb_error *err)
{
	argv_list	a = {{0}, 0};
	rb_buf		dump_sql = RB_BUF_INIT;
	rb_buf		sql = RB_BUF_INIT;
	char		path[4096];
	char	   *stmts = NULL;
	int			schemas;
	int			extensions;
	int			rc = -1;

	snprintf(path, sizeof(path), "%s/pg_restore", pg->bindir);
	argv_add(&a, path);
	argv_add(&a, "--no-owner");
	argv_add(&a, "-f");
	argv_add(&a, "-");
	argv_add(&a, "-L");
	argv_add(&a, list_file);
	argv_add(&a, file);
	if (run_program(&a, pg, "pg_restore", &dump_sql, hooks, err) != 0)
	{
		rb_error_prefix(err, "could not read the archive's schemas and extensions: ");
		goto done;
	}
	stmts = rb_verify_server_sql(rb_buf_str(&dump_sql), restore_role(pg), &schemas, &extensions, err);
	if (stmts == NULL)
		goto done;
	rb_buf_appendf(&sql, "SET search_path = pg_catalog, pg_temp;\n%s%s", stmts,
				   extensions > 0 ? extension_grants : "");
	argv_free(&a);
	argv_psql(&a, pg, pg->user, conn);
	argv_add(&a, "-c");
	argv_add(&a, rb_buf_str(&sql));
	rc = run_program(&a, pg, "psql", NULL, hooks, err);
	if (rc != 0)
	{
		rb_error_prefix(err, "could not create the archive's schemas and extensions in the scratch database \"%s\": ", db);
		if (err->code == RB_ERR_CHILD)
			err->code = RB_ERR_INTEGRITY;
	}
done:
	free(stmts);
	rb_buf_free(&dump_sql);
	rb_buf_free(&sql);
	argv_free(&a);
	return rc;
}

/*
 * The counting script: one statement per table (any number of tables; psql
 * reads it from a file), as the restore role, with row security off.  The role
 * owns every restored table, so it may drop FORCE ROW LEVEL SECURITY first and
 * then count every row without any role attribute such as BYPASSRLS.  FROM ONLY:
 * pg_dump writes the rows of each table without those of its inheritance
 * children, and the metadata counts them so.
 */
static char *
count_script(const rb_table_counts *tc, size_t *counted)
{
	rb_buf		sql = RB_BUF_INIT;

	*counted = 0;
	rb_buf_append_str(&sql,
					  "SET search_path = pg_catalog, pg_temp;\n"
					  "SELECT pg_catalog.format('ALTER TABLE %s NO FORCE ROW LEVEL SECURITY', c.oid::pg_catalog.regclass)"
					  " FROM pg_catalog.pg_class c"
					  " WHERE c.relforcerowsecurity AND c.relowner OPERATOR(pg_catalog.=)"
					  " (SELECT r.oid FROM pg_catalog.pg_roles r WHERE r.rolname OPERATOR(pg_catalog.=) CURRENT_USER)"
					  " \\gexec\n"
					  "SET row_security = off;\n");
	for (size_t i = 0; i < tc->n; i++)
	{
		char	   *s;
		char	   *t;
		char	   *lit;
		rb_buf		name = RB_BUF_INIT;

		/* the extension's own catalog is not restored (see verify_toc.h) */
		if (strcmp(tc->items[i].schema, RB_VERIFY_EXTENSION_NAME) == 0)
			continue;
		s = rb_verify_quote_ident(tc->items[i].schema);
		t = rb_verify_quote_ident(tc->items[i].table);
		rb_buf_appendf(&name, "%s.%s", s, t);
		lit = quote_literal(rb_buf_str(&name));
		/* -1 unless the name is still an ordinary table (not a view put in its place) */
		rb_buf_appendf(&sql, "SELECT %zu, CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'r'"
					   " THEN (SELECT pg_catalog.count(*) FROM ONLY %s) ELSE -1 END"
					   " FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) %s::pg_catalog.regclass;\n",
					   i, rb_buf_str(&name), lit);
		rb_buf_free(&name);
		free(lit);
		free(s);
		free(t);
		(*counted)++;
	}
	return sql.data;
}

/* Counts every table of the metadata in db (see count_script) and compares. */
static int
count_and_compare(const rb_verify_pg *pg, const char *db, const char *conn, const char *file,
				  const rb_table_counts *tc, rb_verify_result *res, const rb_hooks *hooks,
				  rb_error *err)
{
	argv_list	a = {{0}, 0};
	rb_buf		out = RB_BUF_INIT;
	char	   *script;
	char	   *script_file = NULL;
	int64_t    *found;
	size_t		counted;
	int			rc = -1;

	if (tc->n == 0)
		return 0;
	found = calloc(tc->n, sizeof(int64_t));
	if (found == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	for (size_t i = 0; i < tc->n; i++)
		found[i] = -1;
	script = count_script(tc, &counted);
	if (counted == 0)
		goto compare;
	if ((script_file = write_side_file(file, ".count.sql", script, err)) == NULL)
		goto done;
	argv_psql(&a, pg, restore_role(pg), conn);
	argv_add(&a, "-At");
	argv_add(&a, "-f");
	argv_add(&a, script_file);
	if (run_program(&a, pg, "psql", &out, hooks, err) != 0)
	{
		rb_error_prefix(err, "could not count the restored rows in database \"%s\": ", db);
		if (err->code == RB_ERR_CHILD)
			err->code = RB_ERR_INTEGRITY;
		goto done;
	}
	for (const char *p = rb_buf_str(&out); *p;)
	{
		size_t		idx;
		long long	n;

		if (sscanf(p, "%zu|%lld", &idx, &n) == 2 && idx < tc->n)
			found[idx] = n;
		p = strchr(p, '\n');
		if (p == NULL)
			break;
		p++;
	}
compare:
	for (size_t i = 0; i < tc->n; i++)
	{
		if (strcmp(tc->items[i].schema, RB_VERIFY_EXTENSION_NAME) == 0)
			continue;
		if (found[i] != tc->items[i].rows)
		{
			char	   *k = rb_table_key_format(tc->items[i].schema, tc->items[i].table);

			if (found[i] < 0)
				rb_error_set(err, RB_ERR_INTEGRITY,
							 "after the restore, table %s is not an ordinary table (the metadata says %" PRId64 " rows)",
							 k, tc->items[i].rows);
			else
				rb_error_set(err, RB_ERR_INTEGRITY,
							 "row count mismatch after the restore: table %s has %" PRId64 " rows, the metadata says %" PRId64,
							 k, found[i], tc->items[i].rows);
			free(k);
			goto done;
		}
		res->tables_checked++;
	}
	rc = 0;
done:
	remove_side_file(script_file);
	free(script);
	free(found);
	rb_buf_free(&out);
	argv_free(&a);
	return rc;
}

/*
 * As pg->user, right after createdb: only the restore role (its owner) and
 * superusers may connect to the scratch database, which holds a copy of another
 * database that PUBLIC could otherwise connect to (CREATE DATABASE grants it
 * CONNECT and TEMP); then any session that came in before the REVOKE is ended
 * (nothing of the backup exists yet, and the restore role has not connected).
 */
static int
close_scratch(const rb_verify_pg *pg, const char *db, const char *conn, const rb_hooks *hooks,
			  rb_error *err)
{
	argv_list	a = {{0}, 0};
	char	   *qdb = rb_verify_quote_ident(db);
	rb_buf		sql = RB_BUF_INIT;
	int			rc;

	rb_buf_appendf(&sql, "REVOKE ALL ON DATABASE %s FROM PUBLIC", qdb);
	argv_psql(&a, pg, pg->user, conn);
	argv_add(&a, "-c");
	argv_add(&a, rb_buf_str(&sql));
	argv_add(&a, "-c");
	argv_add(&a, "SELECT pg_catalog.count(pg_catalog.pg_terminate_backend(pid, 5000))"
			 " FROM pg_catalog.pg_stat_activity"
			 " WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
			 " AND pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()");
	rc = run_program(&a, pg, "psql", NULL, hooks, err);
	if (rc != 0)
		rb_error_prefix(err, "could not restrict connections to the scratch database \"%s\": ", db);
	argv_free(&a);
	rb_buf_free(&sql);
	free(qdb);
	return rc;
}

/*
 * The restore: the server's own role creates the scratch database, owned by
 * the restore role, and in it the archive's schemas (owned by the restore role)
 * and extensions; then the restore role restores everything else, in the
 * archive's order, and counts.  No object of the backup but its schemas and
 * extensions (rebuilt from their names) is created, and none of its code runs,
 * as a superuser.
 */
static int
restore_and_count(const rb_verify_request *req, const char *file, const char *listing,
				  rb_verify_result *res, const rb_hooks *hooks, rb_error *err)
{
	const rb_verify_pg *pg = req->pg;
	const char *db = req->scratch_db;
	argv_list	a = {{0}, 0};
	char	   *conn = conninfo_dbname(db);
	rb_verify_toc_plan plan;
	char	   *server_file = NULL;
	char	   *rest_file = NULL;
	char	   *server_list = NULL;
	double		t0;
	int			rc = -1;
	rb_error	derr;

	rb_verify_toc_plan_make(listing, RB_VERIFY_EXTENSION_NAME, &plan);

	/*
	 * A database of this name left by an interrupted run goes first (the
	 * caller's names are unique per run: never another run's database).
	 */
	if (drop_scratch(pg, db, hooks, err) != 0)
	{
		rb_error_prefix(err, "could not drop the scratch database \"%s\": ", db);
		goto out;
	}
	if (plan.n_schemas + plan.n_extensions > 0)
	{
		/* every schema before any extension: an extension needs its schema */
		size_t		len = strlen(plan.schemas) + strlen(plan.extensions) + 1;

		server_list = malloc(len);
		if (server_list == NULL)
		{
			rb_error_set(err, RB_ERR_NOMEM, "out of memory");
			goto out;
		}
		snprintf(server_list, len, "%s%s", plan.schemas, plan.extensions);
		if ((server_file = write_side_file(file, ".server.list", server_list, err)) == NULL)
			goto out;
	}
	if ((rest_file = write_side_file(file, ".list", plan.rest, err)) == NULL)
		goto out;
	if (plan.own_entries > 0)
		rb_log(hooks, RB_LOG_INFO, "the restore skips %d entries of extension %s", plan.own_entries,
			   RB_VERIFY_EXTENSION_NAME);
	if (plan.event_triggers > 0)
		snprintf(res->note, sizeof(res->note),
				 "the restore left out %d event trigger%s (only a superuser may create one)",
				 plan.event_triggers, plan.event_triggers == 1 ? "" : "s");

	t0 = rb_now_seconds();
	argv_program(&a, pg, "createdb");
	argv_add(&a, "--maintenance-db");
	argv_add(&a, pg->maintenance_db ? pg->maintenance_db : "postgres");
	argv_add(&a, "--template");
	argv_add(&a, "template0");
	argv_add(&a, "--owner");
	argv_add(&a, restore_role(pg));
	argv_add(&a, db);
	if (run_program_steady(&a, pg, "createdb", hooks, err) != 0)
	{
		rb_error_prefix(err, "could not create the scratch database \"%s\": ", db);
		goto out;
	}
	if (close_scratch(pg, db, conn, hooks, err) != 0)
		goto drop;
	if ((server_file != NULL &&
		 create_schemas_and_extensions(pg, db, conn, server_file, file, hooks, err) != 0) ||
		restore_entries(pg, db, conn, rest_file, file, hooks, err) != 0)
		goto drop;
	res->restore_seconds = rb_now_seconds() - t0;
	if (pg->before_count != NULL && pg->before_count(pg->before_count_arg, err) != 0)
		goto drop;
	rc = count_and_compare(pg, db, conn, file, &res->meta.table_counts, res, hooks, err);

drop:
	/*
	 * With the caller's hooks: a backend caller must keep absorbing signals
	 * (DROP DATABASE waits for every backend to absorb a barrier) while it waits.
	 */
	rb_error_clear(&derr);
	if (drop_scratch(pg, db, hooks, &derr) != 0)
	{
		rb_log(hooks, RB_LOG_WARNING, "could not drop the scratch database \"%s\": %s", db, derr.msg);
		if (rc == 0)
		{
			*err = derr;
			rb_error_prefix(err, "could not drop the scratch database \"%s\": ", db);
			rc = -1;
		}
	}
out:
	argv_free(&a);
	remove_side_file(server_file);
	remove_side_file(rest_file);
	free(server_list);
	rb_verify_toc_plan_free(&plan);
	free(conn);
	return rc;
}

/* ---- the whole verification ------------------------------------------------ */

int
rb_verify_run(const rb_verify_request *req, rb_verify_result *res,
			  const rb_hooks *hooks, rb_error *err)
{
	char	   *url = rb_destination_url_for(req->dest, req->object_key);
	double		t0 = rb_now_seconds();
	char	   *tmp = NULL;
	int			fd = -1;
	rb_archive_parser *parser = NULL;
	rb_error	checksum_err;
	rb_buf		listing = RB_BUF_INIT;
	int			rc = -1;

	rb_error_clear(&checksum_err);
	if (req->level != RB_VERIFY_CHECKSUM &&
		(req->pg == NULL || req->pg->bindir == NULL || req->temp_dir == NULL ||
		 (req->level == RB_VERIFY_RESTORE && req->scratch_db == NULL)))
	{
		rb_error_set(err, RB_ERR_INVALID, "verify level %s needs the server's bin directory and a temporary directory",
					 rb_verify_level_name(req->level));
		goto done;
	}
	rb_log(hooks, RB_LOG_INFO, "verifying %s at level %s", url, rb_verify_level_name(req->level));
	if (check_metadata(req->dest, req->object_key, url, req->expected, req->expected_size,
					   req->expected_sha256, res, err) != 0)
		goto done;

	if (req->level != RB_VERIFY_CHECKSUM)
	{
		const char *prefix = req->temp_prefix ? req->temp_prefix : "ripple_backup_verify_";
		size_t		len = strlen(req->temp_dir) + strlen(prefix) + sizeof("/XXXXXX");

		tmp = malloc(len);
		if (tmp == NULL)
		{
			rb_error_set(err, RB_ERR_NOMEM, "out of memory");
			goto done;
		}
		snprintf(tmp, len, "%s/%sXXXXXX", req->temp_dir, prefix);
		fd = mkstemp(tmp);
		if (fd < 0)
		{
			rb_error_set(err, RB_ERR_IO, "could not create a temporary file in \"%s\": %s",
						 req->temp_dir, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto done;
		}
		parser = rb_archive_parser_new();
	}
	if (stream_object(req->dest, req->object_key, url, req->expected_size, req->expected_sha256,
					  fd, tmp, parser, res, &checksum_err, hooks, err) != 0)
	{
		/* a damaged object that does not even decompress */
		if (req->level == RB_VERIFY_RESTORE && checksum_err.code == RB_ERR_INTEGRITY)
			rb_error_prefix(err, req->force ?
							"forced restore impossible (the object does not decompress): " :
							"restore refused: ");
		goto done;
	}
	if (!res->checksum_ok && !(req->force && req->level == RB_VERIFY_RESTORE))
	{
		*err = checksum_err;
		if (req->level == RB_VERIFY_RESTORE)
			rb_error_prefix(err, "restore refused: ");
		goto done;
	}
	if (req->level == RB_VERIFY_CHECKSUM)
	{
		rc = 0;
		goto done;
	}
	if (res->checksum_ok &&
		compare_archive_counts(&res->meta.table_counts, rb_archive_parser_counts(parser), url, err) != 0)
		goto done;
	if (pg_restore_list(req->pg, tmp, url, res, &listing, hooks, err) != 0)
		goto done;
	if (req->level == RB_VERIFY_RESTORE)
	{
		if (!res->checksum_ok)
			rb_log(hooks, RB_LOG_WARNING, "%s; restoring anyway (forced)", checksum_err.msg);
		if (restore_and_count(req, tmp, rb_buf_str(&listing), res, hooks, err) != 0)
			goto done;
	}
	if (!res->checksum_ok)
	{
		/* forced restore of a damaged object: it ran, yet the backup is not proven */
		*err = checksum_err;
		rb_error_prefix(err, "forced restore completed, but: ");
		goto done;
	}
	rc = 0;

done:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
	{
		unlink(tmp);
		free(tmp);
	}
	if (parser)
		rb_archive_parser_free(parser);
	rb_buf_free(&listing);
	res->seconds = rb_now_seconds() - t0;
	free(url);
	return rc;
}
