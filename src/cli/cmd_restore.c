/*
 * cmd_restore.c — "ripple-backup restore": download a backup, prove it against
 * its metadata while decompressing it, optionally create the target database,
 * run pg_restore, then count the rows of every table the metadata lists and
 * compare.  With --role, the restore and the counts run as that role (the dump's
 * code runs as whoever restores).  Prints the time each step took.
 *
 * Into an existing database the archive is proven first: decompressed into a
 * temporary file in the work directory (pg_restore --jobs needs a seekable
 * file), then restored.  With --create, pg_restore reads the archive from its
 * stdin while it downloads (the plan of cli_restore_choose_plan): the whole
 * restore with --jobs 1, the schema and the data with --jobs N (then the
 * post-data section with N jobs from the temporary file).  If the object then
 * fails its proof, the database this command created is dropped.  The temporary
 * archive is removed whatever happens.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_db_properties.h"
#include "cli_exit.h"
#include "cli_fetch.h"
#include "cli_format.h"
#include "cli_pgtools.h"
#include "cli_progress.h"
#include "cli_report.h"
#include "cli_result.h"
#include "cli_restore_argv.h"
#include "cli_tempfile.h"
#include "pg_rowcount.h"
#include "rb_child.h"
#include "rb_file.h"
#include "verify.h"
#include "rb_time.h"

/* A pg_restore reading the archive from its stdin while the download goes on */
typedef struct restore_stream
{
	rb_child   *child;
	const rb_hooks *hooks;
	bool		stopped;		/* it stopped reading: done with what it needs, or failed */
} restore_stream;

static int
create_database(cli_ctx *ctx, const char *psql, const rb_pg_conn *conn, rb_error *err)
{
	const cli_args *args = ctx->args;
	rb_argv		argv = RB_ARGV_INIT;
	char	   *sql = cli_create_database_sql(args->dbname, args->role);
	int			rc;

	rb_pg_argv_psql(&argv, NULL, psql, conn, args->maintenance_db ? args->maintenance_db : "postgres");
	rb_argv_add(&argv, "-c");
	rb_argv_add(&argv, sql);
	rc = cli_run_program(&argv, NULL, "create db", NULL, &ctx->hooks, err);
	if (rc != 0)
		rb_error_prefix(err, "could not create database \"%s\": ", args->dbname);
	rb_argv_free(&argv);
	free(sql);
	return rc;
}

/* 't' when role (an SQL expression) names a superuser, else 'f' */
static void
append_is_superuser(rb_buf *sql, const char *role)
{
	rb_buf_appendf(sql,
				   " || '|' || coalesce((SELECT CASE WHEN rolsuper THEN 't' ELSE 'f' END"
				   " FROM pg_catalog.pg_roles WHERE rolname = %s), 'f')", role);
}

/*
 * Warns when the dump's code would run with superuser rights: the restore runs as
 * a superuser, or connects as one (SET ROLE does not confine code in a superuser's
 * session: it can RESET ROLE).
 */
static void
warn_superuser(const char *user, bool user_super, const char *role, bool role_super)
{
	if (user_super && role == NULL)
		cli_warning("the restore runs as superuser \"%s\": the dump's code (CHECK constraints, index expressions, triggers, materialized views) runs with superuser rights",
					user);
	else if (user_super)
		cli_warning("the restore connects as superuser \"%s\": the dump's code runs as \"%s\" after SET ROLE, but can return to the superuser with RESET ROLE",
					user, role);
	else if (role_super)
		cli_warning("the restore runs as superuser \"%s\" (--role): the dump's code (CHECK constraints, index expressions, triggers, materialized views) runs with superuser rights",
					role);
	else
		return;
	cli_hint("For a dump you do not trust, connect (--username) as a role without superuser rights: the database's future owner, or a login role that is a member of it, with --role.");
}

/*
 * Before a long download: can we reach the server, is the target as --create
 * expects (absent with --create, present without), and does --role name a role
 * the user may SET ROLE to?  Warns when the dump's code would run with superuser
 * rights.  Returns CLI_EXIT_OK or an exit code after printing the problem.
 */
static int
preflight(cli_ctx *ctx, const char *psql, const rb_pg_conn *conn)
{
	const cli_args *args = ctx->args;
	rb_argv		argv = RB_ARGV_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_buf		sql = RB_BUF_INIT;
	rb_error	err;
	char	   *lit = rb_pg_quote_literal(args->dbname);
	char	   *role_lit = args->role ? rb_pg_quote_literal(args->role) : NULL;
	char		membership[16] = "",
				user_super[2] = "",
				role_super[2] = "";
	const char *user = "";
	int			rc = CLI_EXIT_OK;
	int			nfields;
	bool		exists;

	rb_error_clear(&err);
	rb_pg_argv_psql(&argv, NULL, psql, conn, args->maintenance_db ? args->maintenance_db : "postgres");
	rb_argv_add(&argv, "-A");
	rb_argv_add(&argv, "-t");
	rb_argv_add(&argv, "-c");

	/*
	 * One line: "<target exists>|<member of --role, or missing>|<user is
	 * superuser>|<--role is superuser>|<user>", the user name last (it may hold a
	 * '|').
	 */
	rb_buf_appendf(&sql, "SELECT (SELECT count(*) FROM pg_catalog.pg_database WHERE datname = %s)", lit);
	if (role_lit)
		rb_buf_appendf(&sql,
					   " || '|' || coalesce((SELECT CASE WHEN pg_catalog.pg_has_role(session_user, r.oid, 'MEMBER')"
					   " THEN 'member' ELSE 'not-member' END FROM pg_catalog.pg_roles r WHERE r.rolname = %s),"
					   " 'missing')", role_lit);
	else
		rb_buf_append_str(&sql, " || '|member'");
	append_is_superuser(&sql, "session_user");
	append_is_superuser(&sql, role_lit ? role_lit : "NULL");
	rb_buf_append_str(&sql, " || '|' || session_user");
	rb_argv_add(&argv, rb_buf_str(&sql));
	if (cli_run_program(&argv, NULL, "connect", &out, &ctx->hooks, &err) != 0)
	{
		rb_error_prefix(&err, "could not connect to the target server: ");
		cli_error("%s", err.msg);
		cli_hint("Check --host, --port and --username (or PGHOST, PGPORT, PGUSER), and that the server is running; %s",
				 args->create ? "--create connects to --maintenance-db (default postgres)." :
				 "the target database is looked up from the postgres database.");
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	nfields = 0;
	exists = false;
	if (out.len > 0)
	{
		char	   *line = out.data;
		char	   *nl = strchr(line, '\n');
		int			skip = 0;

		if (nl)
			*nl = '\0';
		nfields = sscanf(line, "%*d|%15[^|]|%1[^|]|%1[^|]|%n", membership, user_super, role_super, &skip);
		user = skip > 0 ? line + skip : "";
		exists = (atoi(line) > 0);
	}
	if (nfields < 3)
	{
		cli_error("unexpected answer from the target server: \"%s\"", rb_buf_str(&out));
		rc = CLI_EXIT_ERROR;
		goto out;
	}
	if (args->create && exists)
	{
		cli_error("database \"%s\" already exists", args->dbname);
		cli_hint("Restore into a new name, or drop it first; without --create the backup is restored into the existing database.");
		rc = CLI_EXIT_ERROR;
	}
	else if (!args->create && !exists)
	{
		cli_error("database \"%s\" does not exist", args->dbname);
		cli_hint("Add --create to create it.");
		rc = CLI_EXIT_ERROR;
	}
	else if (strcmp(membership, "missing") == 0)
	{
		cli_error("role \"%s\" does not exist", args->role);
		cli_hint("A database's backup holds no roles: create the role first (CREATE ROLE ... NOLOGIN), or from the globals kept with pg_dumpall --globals-only.");
		rc = CLI_EXIT_ERROR;
	}
	else if (strcmp(membership, "member") != 0)
	{
		cli_error("user \"%s\" may not SET ROLE to \"%s\"", user, args->role);
		cli_hint("Connect as a user that is a member of the role (GRANT \"%s\" TO ...).", args->role);
		rc = CLI_EXIT_ERROR;
	}
	else
		warn_superuser(user, strcmp(user_super, "t") == 0, args->role,
					   strcmp(role_super, "t") == 0);
out:
	rb_argv_free(&argv);
	rb_buf_free(&out);
	rb_buf_free(&sql);
	free(lit);
	free(role_lit);
	return rc;
}

/* Drops the database this command created and streamed a failed restore into. */
static void
drop_created_database(cli_ctx *ctx, const char *psql, const rb_pg_conn *conn)
{
	const cli_args *args = ctx->args;
	rb_argv		argv = RB_ARGV_INIT;
	char	   *sql = cli_drop_database_sql(args->dbname);
	rb_error	err;

	rb_error_clear(&err);
	rb_pg_argv_psql(&argv, NULL, psql, conn, args->maintenance_db ? args->maintenance_db : "postgres");
	rb_argv_add(&argv, "-c");
	rb_argv_add(&argv, sql);
	/* not cancellable: after Ctrl-C too, an unproven restore must go */
	if (cli_run_program(&argv, NULL, "drop db", NULL, NULL, &err) == 0)
		cli_info("dropped database \"%s\", which this command created and partly restored", args->dbname);
	else
	{
		cli_warning("could not drop database \"%s\": %s", args->dbname, err.msg);
		cli_hint("Database \"%s\" was created by this command and holds a partial restore; drop it.",
				 args->dbname);
	}
	rb_argv_free(&argv);
	free(sql);
}

static int
run_pg_restore(cli_ctx *ctx, const char *pg_restore, const rb_pg_conn *conn, const char *file,
			   cli_restore_part part, rb_error *err)
{
	rb_argv		argv = RB_ARGV_INIT;
	int			rc;

	cli_pg_restore_argv_part(&argv, pg_restore, ctx->args, conn, file, part);
	rc = cli_run_program(&argv, NULL, "pg_restore", NULL, &ctx->hooks, err);
	rb_argv_free(&argv);
	return rc;
}

/* Starts a pg_restore of part that reads the archive from its stdin. */
static int
stream_start(restore_stream *s, cli_ctx *ctx, const char *pg_restore, const rb_pg_conn *conn,
			 cli_restore_part part, rb_error *err)
{
	rb_argv		argv = RB_ARGV_INIT;
	rb_child_options copt;

	memset(s, 0, sizeof(*s));
	s->hooks = &ctx->hooks;
	cli_pg_restore_argv_part(&argv, pg_restore, ctx->args, conn, NULL, part);
	if (argv.failed)
	{
		rb_argv_free(&argv);
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory while building the arguments of pg_restore");
	}
	memset(&copt, 0, sizeof(copt));
	copt.argv = (const char *const *) argv.v;
	copt.name = "pg_restore";
	copt.stdin_pipe = true;
	s->child = rb_child_start(&copt, err);
	rb_argv_free(&argv);
	return s->child ? 0 : -1;
}

/* verify_fetch's consumer: the decompressed archive into the streaming pg_restore */
static int
stream_out(void *arg, const void *data, size_t len, rb_error *err)
{
	restore_stream *s = arg;
	rb_error	e;

	if (s->stopped)
		return 0;
	rb_error_clear(&e);
	if (rb_child_write(s->child, data, len, s->hooks, &e) != 0)
	{
		if (e.code == RB_ERR_CANCELLED)
		{
			*err = e;
			return -1;
		}
		/* it needs no more (or failed): its exit says which; the proof reads on */
		s->stopped = true;
	}
	return 0;
}

/* End of input for the streaming pg_restore; waits for it, with a spinner. */
static int
stream_finish(restore_stream *s, rb_error *err)
{
	cli_progress spinner;
	void		(*tick) (void *) = NULL;
	void	   *tick_arg = NULL;
	char		buf[4096];
	int			rc = 0;

	rb_child_close_stdin(s->child);
	cli_progress_spinner(&spinner, "pg_restore", &tick, &tick_arg);
	for (;;)
	{
		ssize_t		n = rb_child_read(s->child, buf, sizeof(buf), 100, err);

		if (n == RB_CHILD_TIMEOUT)
		{
			if (rb_cancelled(s->hooks))
			{
				rc = rb_error_set(err, RB_ERR_CANCELLED, "pg_restore was canceled");
				break;
			}
			if (tick)
				tick(tick_arg);
			continue;
		}
		if (n <= 0)
		{
			rc = (int) n;
			break;
		}
	}
	if (rc == 0)
		rc = rb_child_wait(s->child, s->hooks, err);
	cli_progress_finish(&spinner);
	rb_child_free(s->child);
	s->child = NULL;
	return rc;
}

/*
 * The row counts of the restored database, as --role (pg_rowcount.h), and the
 * operator's report of every table that differs or could not be counted.
 */
static int
count_rows(cli_ctx *ctx, const char *psql, const rb_pg_conn *conn, const char *script_base,
		   const rb_table_counts *expected, rb_rowcount_result *counts, rb_buf *report,
		   rb_error *err)
{
	static const char *const env[] = {"PGCLIENTENCODING=UTF8", NULL};
	rb_rowcount_request req = {
		.psql = psql, .conn = conn, .env = env, .dbname = ctx->args->dbname,
		.role = ctx->args->role, .script_base = script_base
	};
	cli_progress spinner;
	int			rc;

	cli_progress_spinner(&spinner, "row counts", &req.tick, &req.tick_arg);
	rc = rb_rowcount_run(&req, expected, counts, &ctx->hooks, err);
	cli_progress_finish(&spinner);
	if (rc != 0)
	{
		rb_error_prefix(err, "could not count rows in database \"%s\": ", ctx->args->dbname);
		return -1;
	}
	for (size_t i = 0; i < counts->n; i++)
	{
		const rb_table_count *t = &expected->items[i];
		int64_t		found = counts->found[i];
		char	   *name;

		if (found == RB_ROWCOUNT_SKIPPED || found == t->rows)
			continue;
		name = rb_table_key_format(t->schema, t->table);
		if (found < 0)
			rb_buf_appendf(report,
						   "table %s could not be counted in the restored database (%" PRId64 " rows expected)\n",
						   name, t->rows);
		else
			rb_buf_appendf(report, "table %s has %" PRId64 " rows, the backup recorded %" PRId64 "\n",
						   name, found, t->rows);
		free(name);
	}
	if (counts->uncounted > 0 && counts->psql_stderr.len > 0)
		rb_buf_appendf(report, "psql said: %s\n", rb_buf_str(&counts->psql_stderr));
	return 0;
}

/*
 * restore --create: the owner, ACL, comment and settings the archive recorded for
 * its database, given to the new one (pg_restore applies them only when it creates
 * the database itself; see cli_db_properties.h).
 */
static int
apply_db_properties(cli_ctx *ctx, const char *psql, const rb_pg_conn *conn, const char *sql,
					rb_error *err)
{
	const cli_args *args = ctx->args;
	rb_argv		argv = RB_ARGV_INIT;
	cli_tempfile script = {NULL, -1};
	int			rc;

	/*
	 * From a file, in one transaction: a comment may be longer than one argument
	 * may be (E2BIG), and argv is for everyone to read.  The statements hold no
	 * psql syntax (no backslash or colon outside quotes: cli_db_properties.h).
	 */
	if (cli_tempfile_create(&script, cli_work_dir(args->work_dir), "ripple-backup-dbprops-", ".sql", err) != 0)
		return -1;
	if (rb_write_all(script.fd, sql, strlen(sql)) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not write \"%s\": %s", script.path, strerror(errno));
		cli_tempfile_remove(&script);
		return -1;
	}
	rb_pg_argv_psql(&argv, NULL, psql, conn, args->maintenance_db ? args->maintenance_db : "postgres");
	rb_argv_add(&argv, "--single-transaction");
	rb_argv_addf(&argv, "--file=%s", script.path);
	rc = cli_run_program(&argv, NULL, "database properties", NULL, &ctx->hooks, err);
	if (rc != 0)
		rb_error_prefix(err, "could not give database \"%s\" the owner, privileges and settings of the backup: ",
						args->dbname);
	cli_tempfile_remove(&script);
	rb_argv_free(&argv);
	return rc;
}

int
cli_cmd_restore(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	const char *work = cli_work_dir(args->work_dir);
	rb_pg_conn	conn = {args->host, args->port, args->username};
	cli_catalog cat;
	const cli_backup *b;
	cli_tempfile tmp = {NULL, -1};
	cli_restore_plan plan;
	restore_stream stream = {NULL, NULL, false};
	bool		created = false;	/* created here, and to drop if the restore is not proven */
	cli_fetch_options fo;
	rb_fetch_result res;
	rb_rowcount_result counts;
	rb_buf		report = RB_BUF_INIT;
	rb_buf		count_base = RB_BUF_INIT;
	rb_error	err;
	char	   *pg_restore = NULL;
	char	   *psql = NULL;
	char	   *db_props = NULL;
	int			n_db_props = 0;
	char		desc[512],
				s1[32],
				s2[32],
				s3[32];
	double		t0 = rb_now_seconds(),
				t_fetch = -1,
				t_restore0 = 0,
				t_restore = -1,
				t_count = -1;
	int			rc;
	cli_result	result;			/* --json */
	const rb_fetch_result *fetched = NULL;
	bool		counted = false;

	memset(&cat, 0, sizeof(cat));
	rb_rowcount_result_init(&counts);
	rb_error_clear(&err);
	memset(&fo, 0, sizeof(fo));
	pg_restore = cli_find_pg_program("pg_restore", args->pg_bindir, &err);
	if (pg_restore == NULL)
		return cli_fail(&err);
	psql = cli_find_pg_program("psql", args->pg_bindir, &err);
	if (psql == NULL)
	{
		free(pg_restore);
		return cli_fail(&err);
	}
	rc = preflight(ctx, psql, &conn);
	if (rc != CLI_EXIT_OK)
		goto out_programs;
	rc = cli_ctx_find_backup(ctx, &cat, &b);
	if (rc != CLI_EXIT_OK)
		goto out_programs;
	cli_describe_backup(b, desc, sizeof(desc));
	if (rb_backup_metadata_is_physical(&b->meta))
	{
		/* a tar of the whole cluster, not a pg_dump archive */
		cli_error("%s is a physical base backup; restore restores logical backups only (choose one with --id or --db)", desc);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	cli_info("restoring %s into database \"%s\"", desc, args->dbname);
	rc = cli_ctx_keyring(ctx, &fo.keyring);
	if (rc != CLI_EXIT_OK)
		goto out;
	/* an encrypted backup without its key: said before anything is created */
	if (cli_check_backup_key(b, fo.keyring, &err) != 0)
	{
		rc = cli_fail(&err);
		goto out;
	}

	plan = cli_restore_choose_plan(args, &b->meta.table_counts);

	/*
	 * 1. the temporary archive (with --create its TOC gives the database's own
	 * properties, whatever the plan), and with a streamed plan the target
	 * database and the pg_restore that reads the download
	 */
	if (cli_check_free_space(work, b->meta.uncompressed_bytes, &err) != 0 ||
		cli_tempfile_create(&tmp, work, "ripple-backup-restore-", ".dump", &err) != 0)
	{
		rc = cli_fail(&err);
		cli_hint("Choose a directory with enough space with --work-dir.");
		goto out;
	}
	if (plan != CLI_PLAN_AFTER_DOWNLOAD)
	{
		if (create_database(ctx, psql, &conn, &err) != 0)
		{
			rc = cli_fail(&err);
			goto out;
		}
		created = true;
		cli_info("created database \"%s\"", args->dbname);
		t_restore0 = rb_now_seconds();
		if (stream_start(&stream, ctx, pg_restore, &conn,
						 plan == CLI_PLAN_STREAM_ALL ? CLI_RESTORE_ALL : CLI_RESTORE_PRE_AND_DATA,
						 &err) != 0)
		{
			rc = cli_fail(&err);
			goto out;
		}
		if (plan == CLI_PLAN_STREAM_ALL)
			cli_info("pg_restore reads the archive as it downloads");
		else
			cli_info("pg_restore loads the schema and the rows as the archive downloads; indexes and constraints follow with --jobs=%d",
					 args->jobs);
	}

	/* 2. download, check, decompress (into the file and/or the streaming pg_restore) */
	fo.out_fd = tmp.fd;
	fo.out_name = tmp.path;
	if (stream.child != NULL)
	{
		fo.out_fn = stream_out;
		fo.out_arg = &stream;
	}
	fo.progress_label = "download";
	if (cli_fetch(ctx->dest, b, &fo, &ctx->hooks, &res, &err) != 0)
	{
		rc = cli_fail(&err);
		if (err.code == RB_ERR_INTEGRITY)
			cli_detail(created ? "The restore that read the download is stopped: the backup does not match its metadata." :
					   "Nothing was restored: the backup does not match its metadata.");
		goto out;
	}
	t_fetch = res.seconds;
	fetched = &res;
	rb_format_bytes(res.stored_bytes, s1, sizeof(s1));
	rb_format_bytes(res.archive_bytes, s2, sizeof(s2));
	cli_format_duration(t_fetch, s3, sizeof(s3));
	cli_info("downloaded %s, size and sha256 match, %s archive (%s)", s1, s2, s3);

	/*
	 * 3. what the archive says about its own database (from the file: its TOC),
	 * and the target database, after the proof when nothing was streamed
	 */
	if (args->create)
	{
		rb_buf		list_path = RB_BUF_INIT;
		int			prc;

		rb_buf_appendf(&list_path, "%s.dblist", tmp.path);
		prc = cli_db_properties_sql(pg_restore, tmp.path, rb_buf_str(&list_path), b->meta.dbname,
									args->dbname, args->no_owner, args->no_privileges,
									&ctx->hooks, &db_props, &n_db_props, &err);
		rb_buf_free(&list_path);
		if (prc != 0)
		{
			rc = cli_fail(&err);
			goto out;
		}
	}
	if (args->create && !created)
	{
		if (create_database(ctx, psql, &conn, &err) != 0)
		{
			rc = cli_fail(&err);
			goto out;
		}
		cli_info("created database \"%s\"", args->dbname);
	}

	/* 4. pg_restore: the streaming one finishes, then what reads the file */
	if (plan == CLI_PLAN_AFTER_DOWNLOAD)
		t_restore0 = rb_now_seconds();
	if ((stream.child != NULL && stream_finish(&stream, &err) != 0) ||
		(plan != CLI_PLAN_STREAM_ALL &&
		 run_pg_restore(ctx, pg_restore, &conn, tmp.path,
						plan == CLI_PLAN_STREAM_DATA ? CLI_RESTORE_POST_DATA : CLI_RESTORE_ALL,
						&err) != 0))
	{
		rb_error_prefix(&err, "pg_restore into database \"%s\" failed: ", args->dbname);
		rc = err.code == RB_ERR_CHILD ? CLI_EXIT_ERROR : cli_exit_for_error(err.code);
		cli_error("%s", err.msg);
		if (args->create)
			cli_hint("Database \"%s\" was created by this command and may be partly restored; drop it before trying again.",
					 args->dbname);
		created = false;		/* proven: what is there is the operator's to judge */
		goto out;
	}
	t_restore = rb_now_seconds() - t_restore0;
	created = false;
	/* the count script is written beside the archive, under its (unique) name */
	rb_buf_append_str(&count_base, tmp.path);
	cli_tempfile_remove(&tmp);
	cli_format_duration(t_restore, s3, sizeof(s3));
	cli_info("pg_restore --jobs=%d finished (%s)", args->jobs, s3);

	/* 5. row counts */
	{
		double		t = rb_now_seconds();

		if (count_rows(ctx, psql, &conn, rb_buf_str(&count_base), &b->meta.table_counts, &counts,
					   &report, &err) != 0)
		{
			rc = cli_fail(&err);
			goto out;
		}
		t_count = rb_now_seconds() - t;
		counted = true;
	}
	if (db_props != NULL && n_db_props > 0)
	{
		if (apply_db_properties(ctx, psql, &conn, db_props, &err) != 0)
		{
			rc = cli_fail(&err);
			goto out;
		}
		cli_info("database \"%s\": %d owner, privilege and setting statement%s of the backup applied",
				 args->dbname, n_db_props, n_db_props == 1 ? "" : "s");
	}
	if (counts.skipped > 0)
		cli_info("%zu table%s of extension %s (schema %s) restored but not compared (%" PRId64 " rows at backup time): "
				 "CREATE EXTENSION in the target adds rows of its own (the nightly job) that the dump leaves out",
				 counts.skipped, counts.skipped == 1 ? "" : "s", RB_VERIFY_EXTENSION_NAME,
				 RB_VERIFY_EXTENSION_NAME, counts.rows_skipped);
	cli_format_duration(rb_now_seconds() - t0, s1, sizeof(s1));
	if (counts.mismatched > 0 || counts.uncounted > 0)
	{
		rb_error_set(&err, RB_ERR_INTEGRITY,
					 "row counts of database \"%s\" do not match %s: %zu of %zu tables differ, %zu could not be counted",
					 args->dbname, desc, counts.mismatched, counts.tables, counts.uncounted);
		cli_error("%s", err.msg);
		fputs(rb_buf_str(&report), stderr);
		rc = CLI_EXIT_VERIFY;
		goto out;
	}
	cli_format_duration(t_count, s2, sizeof(s2));
	cli_info("row counts match the backup for all %zu tables (%" PRId64 " rows; %s)",
			 counts.tables, counts.rows_found, s2);
	if (!args->quiet && !args->json)
		printf("restored %s into database \"%s\" in %s (download %.1f s, pg_restore %.1f s, row counts %.1f s)\n",
			   desc, args->dbname, s1, t_fetch, t_restore, t_count);
	rc = CLI_EXIT_OK;

out:
	free(db_props);
	if (stream.child != NULL)
		rb_child_free(stream.child);	/* stops it: its input is not proven */
	if (created)
		drop_created_database(ctx, psql, &conn);
	if (args->json)
	{
		cli_result_init(&result, "restore", "restored");
		result.exit_code = rc;
		result.error = err.msg;
		result.backup = cat.n > 0 ? b : NULL;
		result.target_dbname = args->dbname;
		result.fetch = fetched;
		result.download_s = t_fetch;
		result.restore_s = t_restore;
		result.count_s = t_count;
		result.total_s = rb_now_seconds() - t0;
		result.expected = counted ? &b->meta.table_counts : NULL;
		result.counted = counted ? &counts : NULL;
		cli_result_print_json(&result);
	}
	cli_tempfile_remove(&tmp);
	rb_rowcount_result_free(&counts);
	rb_buf_free(&report);
	rb_buf_free(&count_base);
	cli_catalog_free(&cat);
out_programs:
	free(pg_restore);
	free(psql);
	return rc;
}
