/*
 * verify.c — checksum, archive and restore verification of a stored backup
 * (see verify.h).  The object is streamed once (verify_fetch.c): every byte is
 * hashed and, for the deeper levels, decompressed into a temporary file that
 * pg_restore reads and that is unlinked before returning, whatever happens.
 * The client programs run through pg_client.c, the count through pg_rowcount.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_client.h"
#include "pg_rowcount.h"
#include "pgdump_archive.h"
#include "rb_buf.h"
#include "rb_file.h"
#include "rb_time.h"
#include "verify.h"
#include "verify_archive.h"
#include "verify_fetch.h"
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

/* ---- checksum -------------------------------------------------------------- */

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
 * receives a size/checksum mismatch (then res->checksum_ok is false).  A stream
 * that does not decompress or parse fails with the checksum's error when the
 * checksum failed too (it explains a damaged object best).
 */
static int
stream_object(rb_destination *dest, const char *object_key, const char *url,
			  uint64_t expected_size, const char *expected_sha256, int out_fd,
			  const char *out_name, rb_archive_parser *parser, const rb_keyring *keyring,
			  rb_verify_result *res, rb_error *checksum_err, const rb_hooks *hooks,
			  rb_error *err)
{
	rb_fetch_options opt;
	rb_fetch_result fr;

	memset(&opt, 0, sizeof(opt));
	opt.expected_size = expected_size;
	opt.expected_sha256 = expected_sha256 ? expected_sha256 : res->meta.sha256;
	opt.compression = res->meta.compression;
	opt.encryption = res->meta.encryption;
	opt.keyring = keyring;
	opt.out_fd = out_fd;
	opt.out_name = out_name;
	opt.parser = out_fd >= 0 ? parser : NULL;
	opt.activity = "verification";
	res->checksum_ok = false;
	if (rb_verify_fetch(dest, object_key, &opt, &fr, hooks, err) != 0)
	{
		if (err->code == RB_ERR_NOT_FOUND)
			rb_error_set(err, RB_ERR_INTEGRITY, "backup object %s is missing (its metadata exists)", url);
		return -1;
	}
	memcpy(res->sha256, fr.sha256, sizeof(res->sha256));
	res->stored_bytes = fr.stored_bytes;
	res->archive_bytes = fr.archive_bytes;

	rb_error_clear(checksum_err);
	if (!fr.size_ok)
		rb_error_set(checksum_err, RB_ERR_INTEGRITY,
					 "size mismatch for %s: expected %" PRIu64 " bytes, found %" PRIu64,
					 url, expected_size, fr.stored_bytes);
	else if (!fr.sha256_ok)
		rb_error_set(checksum_err, RB_ERR_INTEGRITY,
					 "checksum mismatch for %s: expected %s, found %s",
					 url, opt.expected_sha256, fr.sha256);
	else
		res->checksum_ok = true;

	if (out_fd >= 0 && (!fr.decompressed || (opt.parser != NULL && !fr.parsed)))
	{
		if (!res->checksum_ok)
			*err = *checksum_err;
		else if (fr.decrypt_failed)
			rb_error_set(err, fr.decrypt_err.code == RB_ERR_AUTH ? RB_ERR_AUTH : RB_ERR_INTEGRITY,
						 "%s matches its checksum but does not decrypt: %s",
						 url, fr.decrypt_err.msg);
		else if (!fr.decompressed)
			rb_error_set(err, RB_ERR_INTEGRITY, "%s matches its checksum but does not decompress: %s",
						 url, fr.decompress_err.msg);
		else
			rb_error_set(err, RB_ERR_INTEGRITY, "%s is not a valid pg_dump archive: %s",
						 url, fr.parse_err.msg);
		return -1;
	}
	return 0;
}

int
rb_verify_checksum(rb_destination *dest, const char *object_key,
				   const rb_backup_metadata *expected_or_NULL,
				   uint64_t expected_size, const char *expected_sha256,
				   rb_verify_result *res, const rb_hooks *hooks, rb_error *err)
{
	rb_verify_request req = {
		.dest = dest, .object_key = object_key, .expected = expected_or_NULL,
		.expected_size = expected_size, .expected_sha256 = expected_sha256,
		.level = RB_VERIFY_CHECKSUM
	};

	return rb_verify_run(&req, res, hooks, err);
}

/* ---- archive ---------------------------------------------------------------- */

/* The archive's own tables and row counts against the metadata's: the first difference. */
static int
compare_archive_counts(const rb_table_counts *meta, const rb_table_counts *found,
					   const char *url, rb_error *err)
{
	rb_buf		report = RB_BUF_INIT;
	int			rc = 0;

	if (rb_verify_compare_counts(meta, found, &report) > 0)
	{
		char	   *nl = strchr(report.data, '\n');

		if (nl != NULL)
			*nl = '\0';
		rc = rb_error_set(err, RB_ERR_INTEGRITY, "archive %s does not match its metadata: %s",
						  url, report.data);
	}
	rb_buf_free(&report);
	return rc;
}

static int
pg_restore_list(const rb_verify_pg *pg, const char *file, const char *url,
				rb_verify_result *res, rb_buf *out, const rb_hooks *hooks, rb_error *err)
{
	char	   *path = rb_pg_program_path(pg->bindir, "pg_restore");
	rb_pg_run_options run;
	int			rc;

	if (path == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	memset(&run, 0, sizeof(run));
	run.name = "pg_restore";
	run.env = pg->env;
	rc = rb_verify_list_archive(path, file, &run, out, &res->toc_entries,
								&res->table_data_entries, hooks, err);
	if (rc == 0 && (size_t) res->table_data_entries != res->meta.table_counts.n)
		rc = rb_error_set(err, RB_ERR_INTEGRITY,
						  "pg_restore --list shows %d TABLE DATA entries in %s, its metadata names %zu tables",
						  res->table_data_entries, url, res->meta.table_counts.n);
	else if (rc != 0 && err->code == RB_ERR_INTEGRITY)
		rb_error_prefix(err, "pg_restore --list cannot read %s: ", url);
	free(path);
	return rc;
}

/* ---- restore ---------------------------------------------------------------- */

/* The role that restores and counts: restore_user, else user. */
static const char *
restore_role(const rb_verify_pg *pg)
{
	return pg->restore_user ? pg->restore_user : pg->user;
}

/* How the client programs reach the server, as user. */
static rb_pg_conn
connect_as(const rb_verify_pg *pg, const char *user, char *port, size_t port_len)
{
	rb_pg_conn	c;

	port[0] = '\0';
	if (pg->port > 0)
		snprintf(port, port_len, "%d", pg->port);
	c.host = pg->host;
	c.port = port;
	c.user = user;
	return c;
}

/* program's path, then the connection options (as user, when not NULL) */
static void
argv_program_as(rb_argv *a, const rb_verify_pg *pg, const char *program, const char *user)
{
	char		port[16];
	rb_pg_conn	c = connect_as(pg, user, port, sizeof(port));

	rb_pg_argv_program(a, pg->bindir, program);
	rb_pg_conn_args(a, &c);
}

/* psql as user in db: no psqlrc, quiet, stop at the first error */
static void
argv_psql(rb_argv *a, const rb_verify_pg *pg, const char *user, const char *db)
{
	char		port[16];
	rb_pg_conn	c = connect_as(pg, user, port, sizeof(port));

	rb_pg_argv_psql(a, pg->bindir, "psql", &c, db);
}

/* Runs the program, collecting stdout into out (may be NULL); 0 when it exited 0. */
static int
run_program(const rb_argv *a, const rb_verify_pg *pg, const char *name, rb_buf *out,
			const rb_hooks *hooks, rb_error *err)
{
	rb_pg_run_options run;

	memset(&run, 0, sizeof(run));
	run.name = name;
	run.env = pg->env;
	run.out = out;
	return rb_pg_run(a, &run, hooks, err);
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
run_program_steady(const rb_argv *a, const rb_verify_pg *pg, const char *name,
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

/*
 * The scratch database dropped, as pg->user.  First its IS_TEMPLATE is cleared:
 * the restore role owns it and may have set it, and a template cannot be dropped.
 */
static int
drop_scratch(const rb_verify_pg *pg, const char *db, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	int			rc;

	if (strchr(db, '$') == NULL)	/* never in a scratch name; the DO body is $rb$-quoted */
	{
		char	   *lit = rb_pg_quote_literal(db);
		rb_buf		sql = RB_BUF_INIT;
		rb_error	terr;

		rb_buf_appendf(&sql,
					   "DO $rb$BEGIN\n"
					   "  IF EXISTS (SELECT FROM pg_catalog.pg_database WHERE datistemplate"
					   " AND datname OPERATOR(pg_catalog.=) %s) THEN\n"
					   "    EXECUTE pg_catalog.format('ALTER DATABASE %%I IS_TEMPLATE false', %s::pg_catalog.text);\n"
					   "  END IF;\n"
					   "END$rb$", lit, lit);
		argv_psql(&a, pg, pg->user, pg->maintenance_db ? pg->maintenance_db : "postgres");
		rb_argv_add(&a, "-c");
		rb_argv_add(&a, rb_buf_str(&sql));
		/* dropdb goes on whatever this says: its own error explains best */
		rb_error_clear(&terr);
		(void) run_program(&a, pg, "psql", NULL, hooks, &terr);
		rb_argv_free(&a);
		rb_buf_free(&sql);
		free(lit);
	}
	argv_program_as(&a, pg, "dropdb", pg->user);
	rb_argv_add(&a, "--if-exists");
	rb_argv_add(&a, "--force");
	rb_argv_add(&a, "--maintenance-db");
	rb_argv_add(&a, pg->maintenance_db ? pg->maintenance_db : "postgres");
	rb_argv_add(&a, db);
	rc = run_program_steady(&a, pg, "dropdb", hooks, err);
	rb_argv_free(&a);
	return rc;
}

/* pg_restore of the entries in list_file, connected as the restore role. */
static int
restore_entries(const rb_verify_pg *pg, const char *db, const char *conn, const char *list_file,
				const char *file, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	int			rc;

	argv_program_as(&a, pg, "pg_restore", restore_role(pg));
	rb_argv_add(&a, "--no-owner");
	rb_argv_add(&a, "--no-privileges");
	rb_argv_add(&a, "--exit-on-error");
	rb_argv_add(&a, "-L");
	rb_argv_add(&a, list_file);
	rb_argv_addf(&a, "--dbname=%s", conn);
	rb_argv_add(&a, file);
	rc = run_program(&a, pg, "pg_restore", NULL, hooks, err);
	if (rc != 0)
	{
		rb_error_prefix(err, "restore into the scratch database \"%s\" failed: ", db);
		if (err->code == RB_ERR_CHILD)
			err->code = RB_ERR_INTEGRITY;
	}
	rb_argv_free(&a);
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
create_schemas_and_extensions(const rb_verify_pg *pg, const char *db, const char *list_file,
							  const char *file, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	rb_buf		dump_sql = RB_BUF_INIT;
	rb_buf		sql = RB_BUF_INIT;
	char	   *stmts = NULL;
	int			schemas;
	int			extensions;
	int			rc = -1;

	rb_pg_argv_program(&a, pg->bindir, "pg_restore");
	rb_argv_add(&a, "--no-owner");
	rb_argv_add(&a, "-f");
	rb_argv_add(&a, "-");
	rb_argv_add(&a, "-L");
	rb_argv_add(&a, list_file);
	rb_argv_add(&a, file);
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
	rb_argv_free(&a);
	argv_psql(&a, pg, pg->user, db);
	rb_argv_add(&a, "-c");
	rb_argv_add(&a, rb_buf_str(&sql));
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
	rb_argv_free(&a);
	return rc;
}

/* The error for table t, whose count after the restore is found (not t->rows). */
static int
count_problem(const rb_table_count *t, int64_t found, const rb_buf *psql_stderr, rb_error *err)
{
	char	   *k = rb_table_key_format(t->schema, t->table);

	if (found == RB_ROWCOUNT_NOT_TABLE)
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "after the restore, table %s is not an ordinary table (the metadata says %" PRId64 " rows)",
					 k, t->rows);
	else if (found == RB_ROWCOUNT_FAILED)
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "after the restore, table %s could not be counted (the metadata says %" PRId64 " rows): %s",
					 k, t->rows, psql_stderr->len > 0 ? rb_buf_str(psql_stderr) : "psql gave no count");
	else
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "row count mismatch after the restore: table %s has %" PRId64 " rows, the metadata says %" PRId64,
					 k, found, t->rows);
	free(k);
	return -1;
}

/*
 * Counts every table of the metadata in db (pg_rowcount.h) as the restore
 * role, after dropping FORCE ROW LEVEL SECURITY on its tables (it owns every
 * restored table), and compares: the first difference fails the verification.
 */
static int
count_and_compare(const rb_verify_pg *pg, const char *db, const char *file,
				  const rb_table_counts *tc, rb_verify_result *res, const rb_hooks *hooks,
				  rb_error *err)
{
	char		port[16];
	rb_pg_conn	c = connect_as(pg, restore_role(pg), port, sizeof(port));
	rb_rowcount_request req = {
		.conn = &c, .env = pg->env, .dbname = db, .disable_forced_rls = true, .script_base = file
	};
	rb_rowcount_result counts;
	char	   *psql = rb_pg_program_path(pg->bindir, "psql");
	int			rc;

	if (psql == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	req.psql = psql;
	rb_rowcount_result_init(&counts);
	rc = rb_rowcount_run(&req, tc, &counts, hooks, err);
	if (rc != 0)
	{
		rb_error_prefix(err, "could not count the restored rows in database \"%s\": ", db);
		if (err->code == RB_ERR_CHILD)
			err->code = RB_ERR_INTEGRITY;
	}
	for (size_t i = 0; rc == 0 && i < counts.n; i++)
	{
		if (counts.found[i] == RB_ROWCOUNT_SKIPPED)
			continue;
		if (counts.found[i] != tc->items[i].rows)
		{
			rc = count_problem(&tc->items[i], counts.found[i], &counts.psql_stderr, err);
			if (counts.found[i] >= 0)
				res->counts_mismatch = true;
		}
		else
			res->tables_checked++;
	}
	rb_rowcount_result_free(&counts);
	free(psql);
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
close_scratch(const rb_verify_pg *pg, const char *db, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	char	   *qdb = rb_pg_quote_ident(db);
	rb_buf		sql = RB_BUF_INIT;
	int			rc;

	rb_buf_appendf(&sql, "REVOKE ALL ON DATABASE %s FROM PUBLIC", qdb);
	argv_psql(&a, pg, pg->user, db);
	rb_argv_add(&a, "-c");
	rb_argv_add(&a, rb_buf_str(&sql));
	rb_argv_add(&a, "-c");
	rb_argv_add(&a, "SELECT pg_catalog.count(pg_catalog.pg_terminate_backend(pid, 5000))"
				" FROM pg_catalog.pg_stat_activity"
				" WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
				" AND pid OPERATOR(pg_catalog.<>) pg_catalog.pg_backend_pid()");
	rc = run_program(&a, pg, "psql", NULL, hooks, err);
	if (rc != 0)
		rb_error_prefix(err, "could not restrict connections to the scratch database \"%s\": ", db);
	rb_argv_free(&a);
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
	rb_argv		a = RB_ARGV_INIT;
	char	   *conn = rb_pg_conninfo_dbname(db);
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
		if ((server_file = rb_file_write_new(file, ".server.list", server_list, err)) == NULL)
			goto out;
	}
	if ((rest_file = rb_file_write_new(file, ".list", plan.rest, err)) == NULL)
		goto out;
	if (plan.own_entries > 0)
		rb_log(hooks, RB_LOG_INFO, "the restore skips %d entries of extension %s", plan.own_entries,
			   RB_VERIFY_EXTENSION_NAME);
	if (plan.event_triggers > 0)
		snprintf(res->note, sizeof(res->note),
				 "the restore left out %d event trigger%s (only a superuser may create one)",
				 plan.event_triggers, plan.event_triggers == 1 ? "" : "s");

	t0 = rb_now_seconds();
	argv_program_as(&a, pg, "createdb", pg->user);
	rb_argv_add(&a, "--maintenance-db");
	rb_argv_add(&a, pg->maintenance_db ? pg->maintenance_db : "postgres");
	rb_argv_add(&a, "--template");
	rb_argv_add(&a, "template0");
	rb_argv_add(&a, "--owner");
	rb_argv_add(&a, restore_role(pg));
	rb_argv_add(&a, db);
	if (run_program_steady(&a, pg, "createdb", hooks, err) != 0)
	{
		rb_error_prefix(err, "could not create the scratch database \"%s\": ", db);
		goto out;
	}
	if (close_scratch(pg, db, hooks, err) != 0)
		goto drop;
	if ((server_file != NULL &&
		 create_schemas_and_extensions(pg, db, server_file, file, hooks, err) != 0) ||
		restore_entries(pg, db, conn, rest_file, file, hooks, err) != 0)
		goto drop;
	res->restore_seconds = rb_now_seconds() - t0;
	if (pg->before_count != NULL && pg->before_count(pg->before_count_arg, err) != 0)
		goto drop;
	rc = count_and_compare(pg, db, file, &res->meta.table_counts, res, hooks, err);

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
	rb_argv_free(&a);
	rb_file_remove(server_file);
	rb_file_remove(rest_file);
	free(server_list);
	rb_verify_toc_plan_free(&plan);
	free(conn);
	return rc;
}

/* ---- a physical base backup -------------------------------------------------- */

/* The restore level of a base backup: its drill (base_drill.h); no archive level. */
static int
verify_base_backup(const rb_verify_request *req, const char *url, rb_verify_result *res,
				   const rb_hooks *hooks, rb_error *err)
{
	const rb_base_drill_result *d = &res->drill;
	int			rc;

	if (req->level == RB_VERIFY_ARCHIVE)
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is a physical base backup: the archive level reads a pg_dump archive; use checksum or restore",
							url);
	if (req->base_drill == NULL)
		return rb_error_set(err, RB_ERR_INVALID, "%s is a physical base backup, and no drill of one was set up", url);
	rc = rb_base_drill_run(req->base_drill, req->dest, req->object_key, &res->meta,
						   req->expected_size, req->expected_sha256, req->keyring,
						   &res->drill, hooks, err);
	res->stored_bytes = d->stored_bytes;
	memcpy(res->sha256, d->sha256, sizeof(res->sha256));
	res->checksum_ok = d->checksum_ok;
	res->archive_bytes = d->unpacked_bytes;
	/* the time to a running copy: download and unpack, WAL, replay until it accepts connections */
	if (d->replayed_lsn[0] != '\0')
		res->restore_seconds = d->unpack_seconds + d->wal_fetch_seconds + d->replay_seconds;
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

	if (rb_backup_metadata_is_physical(&res->meta) && req->level != RB_VERIFY_CHECKSUM)
	{
		rc = verify_base_backup(req, url, res, hooks, err);
		goto done;
	}
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
					  fd, tmp, parser, req->keyring, res, &checksum_err, hooks, err) != 0)
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
	{
		res->counts_mismatch = true;
		goto done;
	}
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
