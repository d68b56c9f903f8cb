/*
 * cmd_restore_pitr.c — "ripple-backup restore-pitr": a point-in-time restore
 * into a new data directory.  Chooses the base backup (cli_pitr.h), streams
 * it from the destination through the one checked read (cli_fetch: SHA-256 of
 * the stored bytes, decryption, decompression) into the tar extractor
 * (tar_extract.h; no temporary copy of the tarball), then writes the recovery
 * settings: restore_command running this program's wal-fetch, the target,
 * recovery_target_timeline = 'latest', recovery_target_action, and
 * recovery.signal.  A base backup that fails its checks leaves no data
 * directory behind (its contents are removed).  With --start it runs
 * `pg_ctl start -w`; otherwise it says how to start the server.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_fetch.h"
#include "cli_format.h"
#include "cli_pgtools.h"
#include "cli_pitr.h"
#include "cli_report.h"
#include "tar_extract.h"
#include "tar_scan.h"
#include "rb_file.h"
#include "rb_format.h"
#include "rb_time.h"
#include "wal_range.h"

/* --- the data directory ------------------------------------------------------- */

/* Creates DIR (0700) or accepts an empty one; *created says which. */
static int
prepare_pgdata(const char *dir, bool *created)
{
	struct stat st;

	*created = false;
	if (stat(dir, &st) == 0)
	{
		DIR		   *d;
		struct dirent *e;
		bool		empty = true;

		if (!S_ISDIR(st.st_mode))
		{
			cli_error("\"%s\" exists and is not a directory", dir);
			return CLI_EXIT_ERROR;
		}
		d = opendir(dir);
		if (d == NULL)
		{
			cli_error("could not open directory \"%s\": %s", dir, strerror(errno));
			return CLI_EXIT_ERROR;
		}
		while ((e = readdir(d)) != NULL)
			if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
				empty = false;
		closedir(d);
		if (!empty)
		{
			cli_error("data directory \"%s\" exists and is not empty", dir);
			cli_hint("restore-pitr never writes over a data directory: give a new or empty one.");
			return CLI_EXIT_ERROR;
		}
		if (chmod(dir, 0700) != 0)
		{
			cli_error("could not change the mode of \"%s\": %s", dir, strerror(errno));
			return CLI_EXIT_ERROR;
		}
		return CLI_EXIT_OK;
	}
	if (errno != ENOENT || mkdir(dir, 0700) != 0)
	{
		cli_error("could not create data directory \"%s\": %s", dir, strerror(errno));
		return CLI_EXIT_ERROR;
	}
	*created = true;
	return CLI_EXIT_OK;
}

static int
remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	if (ftw->level > 0)
		(void) remove(path);
	return 0;
}

/* Removes what the restore put into dir (and dir itself when it was created). */
static void
clear_pgdata(const char *dir, bool created)
{
	(void) nftw(dir, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
	if (created)
		(void) rmdir(dir);
}

/* --- streaming the base backup into the data directory ------------------------- */

/*
 * The tar scanner, with the extractor as its sink (the one tar reader, shared
 * with the server's restore drill: only files and directories under relative
 * names are written, so a damaged or hostile archive cannot reach outside the
 * directory).  When the scanner stops (a stream it cannot read), the rest is
 * still read and hashed: a damaged object is then reported as such (the
 * checksum explains it best), not as the scanner's complaint about it.
 */
typedef struct tar_sink
{
	rb_tar_scan *scan;
	bool		failed;
	rb_error	err;
} tar_sink;

static int
to_tar(void *arg, const void *data, size_t len, rb_error *err)
{
	tar_sink   *t = arg;

	(void) err;
	if (!t->failed && rb_tar_scan_feed(t->scan, data, len, &t->err) != 0)
		t->failed = true;
	return 0;
}

static int
unpack_base(cli_ctx *ctx, const cli_backup *b, const char *pgdata, rb_fetch_result *res,
			rb_error *err)
{
	const rb_keyring *ring = NULL;
	cli_fetch_options fo;
	rb_tar_extract *x;
	rb_base_backup_info info;
	tar_sink	sink;
	int			rc;

	if (cli_ctx_keyring(ctx, &ring) != CLI_EXIT_OK)
		return rb_error_set(err, RB_ERR_INVALID, "the key files could not be read");
	if (cli_check_backup_key(b, ring, err) != 0)
		return -1;
	memset(&sink, 0, sizeof(sink));
	sink.scan = rb_tar_scan_new();
	x = rb_tar_extract_new(pgdata);
	if (sink.scan == NULL || x == NULL)
	{
		rb_tar_scan_free(sink.scan);
		rb_tar_extract_free(x);
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	}
	rb_tar_scan_set_sink(sink.scan, rb_tar_extract_sink(x));
	memset(&fo, 0, sizeof(fo));
	fo.out_fd = -1;
	fo.out_name = "the data directory";
	fo.out_fn = to_tar;
	fo.out_arg = &sink;
	fo.keyring = ring;
	fo.progress_label = "restore";
	rc = cli_fetch(ctx->dest, b, &fo, &ctx->hooks, res, err);
	if (rc == 0 && !sink.failed && rb_tar_scan_finish(sink.scan, &info, &sink.err) != 0)
		sink.failed = true;
	if (rc == 0 && !sink.failed && rb_base_backup_info_check(&info, &sink.err) != 0)
		sink.failed = true;
	if (rc == 0 && sink.failed)
	{
		if (err)
			*err = sink.err;
		rb_error_prefix(err, "could not unpack the base backup into \"%s\": ", pgdata);
		rc = -1;
	}
	rb_tar_extract_free(x);
	rb_tar_scan_free(sink.scan);
	return rc;
}

/* --- the recovery settings -------------------------------------------------------- */

/* One word of restore_command: shell-quoted, % doubled (PostgreSQL's escape). */
static void
command_word(rb_buf *cmd, const char *word)
{
	rb_buf		q = RB_BUF_INIT;

	cli_shell_quote(&q, word);
	rb_buf_append_char(cmd, ' ');
	for (const char *c = rb_buf_str(&q); *c; c++)
	{
		if (*c == '%')
			rb_buf_append_char(cmd, '%');
		rb_buf_append_char(cmd, *c);
	}
	rb_buf_free(&q);
}

static void
flag_word(rb_buf *cmd, const char *flag, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	command_word(cmd, flag);
	command_word(cmd, value);
}

/*
 * restore_command: this program's wal-fetch with the system identifier and the
 * settings that found the destination (never a secret: credentials stay in
 * the credentials file or the environment), and the config file's path when
 * one was read.
 */
static char *
restore_command(cli_ctx *ctx, uint64_t sysid, rb_error *err)
{
	const cli_args *args = ctx->args;
	const cli_settings *s = &ctx->settings;
	char		self[PATH_MAX];
	ssize_t		n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	rb_buf		cmd = RB_BUF_INIT;
	char		num[32];
	bool		required;
	char	   *cfg;

	if (n <= 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not find the path of ripple-backup: %s", strerror(errno));
		return NULL;
	}
	self[n] = '\0';
	{
		rb_buf		q = RB_BUF_INIT;

		cli_shell_quote(&q, self);
		for (const char *c = rb_buf_str(&q); *c; c++)
		{
			if (*c == '%')
				rb_buf_append_char(&cmd, '%');
			rb_buf_append_char(&cmd, *c);
		}
		rb_buf_free(&q);
	}
	rb_buf_append_str(&cmd, " wal-fetch %f %p");
	snprintf(num, sizeof(num), "%" PRIu64, sysid);
	flag_word(&cmd, "--system-identifier", num);
	for (int i = 0; i < args->n_incarnations; i++)
		flag_word(&cmd, "--incarnation", args->incarnations[i]);
	cfg = cli_config_path(args->config_file, (cli_getenv_fn) getenv, NULL, &required);
	if (cfg != NULL && access(cfg, R_OK) == 0)
	{
		char		abs[PATH_MAX];

		flag_word(&cmd, "--config", realpath(cfg, abs) ? abs : cfg);
	}
	free(cfg);
	flag_word(&cmd, "--destination", s->destination);
	flag_word(&cmd, "--s3-endpoint", s->s3_endpoint);
	flag_word(&cmd, "--s3-region", s->s3_region);
	flag_word(&cmd, "--s3-uri-style", s->s3_uri_style);
	flag_word(&cmd, "--s3-credentials-file", s->s3_credentials_file);
	flag_word(&cmd, "--s3-profile", s->s3_profile);
	flag_word(&cmd, "--s3-ca-file", s->s3_ca_file);
	if (s->s3_verify_tls == 0)
		command_word(&cmd, "--s3-no-verify-tls");
	flag_word(&cmd, "--encryption-key-file", s->encryption_key_file);
	flag_word(&cmd, "--encryption-key-file", s->decryption_key_files);
	return cmd.data;
}

static int
append_file(const char *path, const char *text, rb_error *err)
{
	int			fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return rb_error_set(err, RB_ERR_IO, "could not open \"%s\": %s", path, strerror(errno));
	if (rb_write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return close(fd) == 0 ? 0 :
		rb_error_set(err, RB_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
}

static char *
join(const char *dir, const char *name)
{
	rb_buf		p = RB_BUF_INIT;

	rb_buf_appendf(&p, "%s/%s", dir, name);
	return p.data;
}

/*
 * The Debian layout keeps postgresql.conf, pg_hba.conf and pg_ident.conf in
 * /etc, so a base backup has none; the server cannot start without them.
 * Minimal ones are written where they are missing (local connections by peer
 * authentication only).  Returns how many were written.
 */
static int
write_missing_conf(const char *pgdata, rb_error *err)
{
	static const struct
	{
		const char *name;
		const char *text;
	}			files[] = {
		{"postgresql.conf", "# Written by ripple-backup restore-pitr: the base backup had no postgresql.conf\n"
		"# (the server's lived outside its data directory, as on Debian).  Copy the\n"
		"# settings of the old server's file here, or start with -c options.\n"},
		{"pg_hba.conf", "# Written by ripple-backup restore-pitr: the base backup had no pg_hba.conf.\n"
		"local all all peer\nlocal replication all peer\n"},
		{"pg_ident.conf", "# Written by ripple-backup restore-pitr: the base backup had no pg_ident.conf.\n"},
	};
	int			written = 0;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
	{
		char	   *p = join(pgdata, files[i].name);
		struct stat st;
		int			rc = 0;

		if (stat(p, &st) != 0)
		{
			rc = append_file(p, files[i].text, err);
			written++;
		}
		free(p);
		if (rc != 0)
			return -1;
	}
	return written;
}

static int
write_recovery(cli_ctx *ctx, const cli_backup *b, const char *pgdata, const char *target_norm,
			   rb_error *err)
{
	const cli_args *args = ctx->args;
	rb_buf		conf = RB_BUF_INIT;
	char	   *cmd = restore_command(ctx, b->meta.system_identifier, err);
	char	   *path;
	char		now[32];
	int			rc;

	if (cmd == NULL)
		return -1;
	rb_metadata_format_time(time(NULL), now, sizeof(now));
	rb_buf_appendf(&conf, "\n# Point-in-time recovery, written by ripple-backup restore-pitr at %s\n"
				   "# from base backup %" PRId64 " (%s).  Remove these lines (ALTER SYSTEM RESET)\n"
				   "# once the restored server is in use.\n",
				   now, b->meta.backup_id, b->key);
	rb_buf_append_str(&conf, "restore_command = ");
	cli_conf_quote(&conf, cmd);
	rb_buf_append_char(&conf, '\n');
	if (args->target_time)
	{
		rb_buf_append_str(&conf, "recovery_target_time = ");
		cli_conf_quote(&conf, target_norm);
	}
	else if (args->target_lsn)
	{
		rb_buf_append_str(&conf, "recovery_target_lsn = ");
		cli_conf_quote(&conf, args->target_lsn);
	}
	else if (args->target_name)
	{
		rb_buf_append_str(&conf, "recovery_target_name = ");
		cli_conf_quote(&conf, args->target_name);
	}
	else
		rb_buf_append_str(&conf, "# --latest: no target, recovery runs to the end of the archived WAL");
	rb_buf_append_str(&conf, "\nrecovery_target_timeline = 'latest'\n");
	if (!args->target_latest)
		rb_buf_appendf(&conf, "recovery_target_action = '%s'\n",
					   args->target_action ? args->target_action : "pause");
	free(cmd);
	path = join(pgdata, "postgresql.auto.conf");
	rc = append_file(path, rb_buf_str(&conf), err);
	free(path);
	rb_buf_free(&conf);
	if (rc != 0)
		return -1;
	path = join(pgdata, "recovery.signal");
	rc = append_file(path, "", err);
	free(path);
	return rc;
}

/* --- starting the server ------------------------------------------------------------- */

static int
start_server(cli_ctx *ctx, const char *pgdata, rb_error *err)
{
	const cli_args *args = ctx->args;
	rb_argv		a = RB_ARGV_INIT;
	char	   *pg_ctl = cli_find_pg_program("pg_ctl", args->pg_bindir, err);
	char	   *log;
	int			rc;

	if (pg_ctl == NULL)
		return -1;
	log = join(pgdata, "restore-pitr-server.log");
	rb_argv_add(&a, pg_ctl);
	rb_argv_add(&a, "start");
	rb_argv_add(&a, "-w");
	rb_argv_add(&a, "-t");
	rb_argv_add(&a, "3600");
	rb_argv_add(&a, "-D");
	rb_argv_add(&a, pgdata);
	rb_argv_add(&a, "-l");
	rb_argv_add(&a, log);
	if (args->port != NULL)
	{
		/* pg_ctl passes -o through a shell: the port was checked to be digits */
		rb_argv_add(&a, "-o");
		rb_argv_addf(&a, "-c port=%s", args->port);
	}
	rc = cli_run_program(&a, NULL, "starting the server", NULL, &ctx->hooks, err);
	if (rc != 0)
		rb_error_prefix(err, "the server did not start (its log: %s): ", log);
	rb_argv_free(&a);
	free(pg_ctl);
	free(log);
	return rc;
}

/* --- the command ------------------------------------------------------------------ */

int
cli_cmd_restore_pitr(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	cli_pitr_target target;
	char		target_norm[64] = "";
	char		desc[256],
				t[40],
				s1[32],
				s2[32],
				s3[32];
	int64_t		base_id = -1;
	cli_catalog cat;
	const cli_backup *b;
	rb_fetch_result res;
	rb_error	err;
	double		t0 = rb_now_seconds();
	bool		created;
	long		idx;
	int			rc;
	int			nconf;

	rb_error_clear(&err);
	memset(&target, 0, sizeof(target));
	if (args->target_time)
	{
		target.kind = CLI_PITR_TIME;
		if (cli_pitr_parse_time(args->target_time, &target.time_us, target_norm,
								sizeof(target_norm), &err) != 0)
			return cli_fail(&err);
	}
	else if (args->target_lsn)
	{
		target.kind = CLI_PITR_LSN;
		if (!rb_lsn_parse(args->target_lsn, &target.lsn))
		{
			cli_error("invalid recovery target WAL position \"%s\": expected X/Y in hex (\"0/5000028\")",
					  args->target_lsn);
			return CLI_EXIT_USAGE;
		}
	}
	else if (args->target_name)
		target.kind = CLI_PITR_NAME;
	else
		target.kind = CLI_PITR_LATEST;
	if (args->base != NULL && strcmp(args->base, "latest") != 0)
	{
		uint64_t	id;

		if (!cli_parse_u64(args->base, &id) || id > INT64_MAX)
		{
			cli_error("invalid --base \"%s\": a base backup id or \"latest\"", args->base);
			return CLI_EXIT_USAGE;
		}
		base_id = (int64_t) id;
	}
	if (args->port != NULL && strspn(args->port, "0123456789") != strlen(args->port))
	{
		cli_error("invalid port \"%s\"", args->port);
		return CLI_EXIT_USAGE;
	}

	rc = cli_ctx_load_catalog(ctx, &cat);
	if (rc != CLI_EXIT_OK)
		return rc;
	idx = cli_pitr_choose_base(&cat, args->has_system_id, args->system_id, base_id, &target, &err);
	if (idx < 0)
	{
		rc = cli_fail(&err);
		if (err.code == RB_ERR_NOT_FOUND && target.kind != CLI_PITR_LATEST)
			cli_hint("A base backup can recover only to points after it ended; \"ripple-backup list\" shows them.");
		cli_catalog_free(&cat);
		return rc;
	}
	b = &cat.items[idx];
	cli_format_time(b->meta.timestamp, t, sizeof(t));
	snprintf(desc, sizeof(desc), "base backup %" PRId64 " taken %s UTC (timeline %u, WAL from %s to %s)",
			 b->meta.backup_id, t, b->meta.timeline, b->meta.start_lsn ? b->meta.start_lsn : "?",
			 b->meta.stop_lsn ? b->meta.stop_lsn : "?");
	if (!args->quiet)
		printf("restoring %s into \"%s\"\n", desc, args->pgdata);
	fflush(stdout);

	rc = prepare_pgdata(args->pgdata, &created);
	if (rc != CLI_EXIT_OK)
	{
		cli_catalog_free(&cat);
		return rc;
	}
	if (unpack_base(ctx, b, args->pgdata, &res, &err) != 0 ||
		(nconf = write_missing_conf(args->pgdata, &err)) < 0 ||
		write_recovery(ctx, b, args->pgdata, target_norm, &err) != 0)
	{
		clear_pgdata(args->pgdata, created);
		rc = cli_fail(&err);
		cli_detail("Nothing is left in \"%s\".", args->pgdata);
		cli_catalog_free(&cat);
		return rc;
	}
	rb_format_bytes(res.archive_bytes, s1, sizeof(s1));
	rb_format_bytes(res.stored_bytes, s2, sizeof(s2));
	cli_format_duration(rb_now_seconds() - t0, s3, sizeof(s3));
	if (!args->quiet)
	{
		printf("unpacked %s of base backup from %s stored (size and sha256 match) in %s\n", s1, s2, s3);
		printf("recovery settings appended to %s/postgresql.auto.conf, %s/recovery.signal written\n",
			   args->pgdata, args->pgdata);
		if (args->target_time)
			printf("target: recovery_target_time = '%s', then %s\n", target_norm,
				   args->target_action ? args->target_action : "pause");
		else if (args->target_lsn || args->target_name)
			printf("target: recovery_target_%s = '%s', then %s\n", args->target_lsn ? "lsn" : "name",
				   args->target_lsn ? args->target_lsn : args->target_name,
				   args->target_action ? args->target_action : "pause");
		else
			printf("target: the end of the archived WAL on the latest timeline, then promote\n");
		if (nconf > 0)
			printf("the base backup had no postgresql.conf (Debian keeps it in /etc/postgresql): minimal\n"
				   "configuration files were written; copy the old server's settings into\n"
				   "%s/postgresql.conf or pass them with -o '-c name=value'\n", args->pgdata);
		if (!args->start)
			printf("start it with: pg_ctl -D %s -l %s/restore-pitr-server.log -o '-c port=5433' start\n",
				   args->pgdata, args->pgdata);
		printf("the restored server keeps the old one's archive_library and destination: once promoted it\n"
			   "archives its new timeline under a new incarnation of the same system identifier\n");
	}
	fflush(stdout);
	if (args->start)
	{
		if (start_server(ctx, args->pgdata, &err) != 0)
		{
			cli_catalog_free(&cat);
			return cli_fail(&err);
		}
		if (!args->quiet)
			printf("server started (pg_ctl start -w): it replays WAL to the target; in total %s\n",
				   (cli_format_duration(rb_now_seconds() - t0, s3, sizeof(s3)), s3));
	}
	cli_catalog_free(&cat);
	return CLI_EXIT_OK;
}
