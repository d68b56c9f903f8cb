/*
 * base_drill.c — the restore drill of a physical base backup (see
 * base_drill.h): unpack, pg_verifybackup, fetch WAL, configure, start, check,
 * stop, remove.
 */
#include "base_drill.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_client.h"
#include "rb_buf.h"
#include "rb_file.h"
#include "rb_time.h"
#include "tar_extract.h"
#include "tar_scan.h"
#include "verify_fetch.h"
#include "wal_fetch.h"
#include "wal_range.h"

#define SOCKET_PATH_MAX 107		/* sizeof(sun_path) - 1 on Linux */
#define LOG_TAIL 1200
#define SOCKET_PREFIX "/tmp/ripple_backup_drill_"
#define SOCKET_NOTE "socket_directory"	/* in the scratch directory: a socket directory of its own */

typedef struct drill
{
	const rb_base_drill_params *p;
	char		scratch[4096];
	char		data[4200];
	char		wal[4200];
	char		log[4200];
	char		sock[4096];
	bool		own_sock;		/* sock is a directory of its own under /tmp */
	char		port[16];
	bool		started;		/* pg_ctl start was run */
} drill;

int
rb_base_drill_check_directory(const char *path, rb_error *err)
{
	if (path == NULL || path[0] == '\0')
		return rb_error_set(err, RB_ERR_INVALID, "ripple_backup.drill_directory is not set");
	if (path[0] != '/')
		return rb_error_set(err, RB_ERR_INVALID, "the drill directory \"%s\" is not an absolute path", path);
	for (const char *c = path; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			  strchr("/._+-", *c) != NULL))
			return rb_error_set(err, RB_ERR_INVALID,
								"the drill directory \"%s\" has a character other than letters, digits and / . _ + -",
								path);
	return 0;
}

/* Creates or replaces path with text, mode 0600. */
static int
write_text(const char *path, const char *text, rb_error *err)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0 || rb_write_all(fd, text, strlen(text)) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (close(fd) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not write \"%s\": %s", path, strerror(errno));
	return 0;
}

/* The last bytes of the copy's server log, from a line start, for an error message. */
static void
log_tail(const drill *d, char *buf, size_t cap)
{
	int			fd = open(d->log, O_RDONLY | O_CLOEXEC);
	off_t		size;
	ssize_t		n;
	char	   *nl;

	buf[0] = '\0';
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t) (cap - 1))
		(void) lseek(fd, size - (off_t) (cap - 1), SEEK_SET);
	else
		(void) lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n <= 0)
	{
		buf[0] = '\0';
		return;
	}
	buf[n] = '\0';
	if (size > (off_t) (cap - 1) && (nl = strchr(buf, '\n')) != NULL)
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
	for (char *c = buf; *c; c++)
		if (*c == '\n')
			*c = ' ';
}

/* Runs a prepared argv; its stdout into out (may be NULL). */
static int
run(const drill *d, rb_argv *a, const char *name, rb_buf *out, const rb_hooks *hooks, rb_error *err)
{
	rb_pg_run_options opt;
	int			rc;

	memset(&opt, 0, sizeof(opt));
	opt.name = name;
	opt.env = d->p->env;
	opt.out = out;
	rc = rb_pg_run(a, &opt, hooks, err);
	rb_argv_free(a);
	return rc;
}

/* ---- 1. the scratch directory ---------------------------------------------- */

static int
make_scratch(drill *d, rb_error *err)
{
	const rb_base_drill_params *p = d->p;
	struct stat st;
	char		path[4300];

	if (rb_base_drill_check_directory(p->directory, err) != 0)
		return -1;
	if (stat(p->directory, &st) != 0)
		return rb_error_set(err, RB_ERR_INVALID, "the drill directory \"%s\" cannot be used: %s",
							p->directory, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return rb_error_set(err, RB_ERR_INVALID, "the drill directory \"%s\" is not a directory", p->directory);
	if (access(p->directory, W_OK | X_OK) != 0)
		return rb_error_set(err, RB_ERR_INVALID, "the drill directory \"%s\" is not writable by the server's OS user: %s",
							p->directory, strerror(errno));
	snprintf(d->scratch, sizeof(d->scratch), "%s/%s", p->directory, p->scratch_name);
	snprintf(d->data, sizeof(d->data), "%s/data", d->scratch);
	snprintf(d->wal, sizeof(d->wal), "%s/wal", d->scratch);
	snprintf(d->log, sizeof(d->log), "%s/server.log", d->scratch);
	/* a directory of this name is what an interrupted run of the same name left */
	if (rb_base_drill_remove_leftover(d->scratch, err) != 0)
	{
		d->scratch[0] = '\0';
		return -1;
	}
	if (mkdir(d->scratch, 0700) != 0)
	{
		int			e = errno;

		d->scratch[0] = '\0';
		return rb_error_set(err, RB_ERR_INVALID, "could not create the drill's scratch directory in \"%s\": %s",
							p->directory, strerror(e));
	}
	if (mkdir(d->data, 0700) != 0 || mkdir(d->wal, 0700) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not create directories in \"%s\": %s", d->scratch, strerror(errno));
	/* "<dir>/.s.PGSQL.<port>" must fit in a socket address */
	if (strlen(d->scratch) + strlen("/.s.PGSQL.65535") <= SOCKET_PATH_MAX)
		snprintf(d->sock, sizeof(d->sock), "%s", d->scratch);
	else
	{
		snprintf(d->sock, sizeof(d->sock), SOCKET_PREFIX "XXXXXX");
		if (mkdtemp(d->sock) == NULL)
		{
			d->sock[0] = '\0';
			return rb_error_set(err, RB_ERR_IO, "could not create a socket directory under /tmp: %s", strerror(errno));
		}
		d->own_sock = true;
		/* for rb_base_drill_remove_leftover, should this process be killed */
		snprintf(path, sizeof(path), "%s/" SOCKET_NOTE, d->scratch);
		if (write_text(path, d->sock, err) != 0)
			return -1;
	}
	return 0;
}

/* A TCP port nothing listens on now (the copy listens on no TCP port: it names the socket). */
static int
pick_port(drill *d, rb_error *err)
{
	struct sockaddr_in sa;
	socklen_t	len = sizeof(sa);
	int			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0 ||
		getsockname(fd, (struct sockaddr *) &sa, &len) != 0)
	{
		if (fd >= 0)
			close(fd);
		return rb_error_set(err, RB_ERR_IO, "could not find a free port: %s", strerror(errno));
	}
	close(fd);
	snprintf(d->port, sizeof(d->port), "%d", (int) ntohs(sa.sin_port));
	return 0;
}

/* ---- 2. download and unpack ------------------------------------------------ */

static int
feed_scan(void *arg, const void *data, size_t len, rb_error *err)
{
	return rb_tar_scan_feed((rb_tar_scan *) arg, data, len, err);
}

static int
unpack(drill *d, rb_destination *dest, const char *object_key, const rb_backup_metadata *meta,
	   uint64_t expected_size, const char *expected_sha256, const rb_keyring *keyring,
	   rb_base_drill_result *res, const rb_hooks *hooks, rb_error *err)
{
	char	   *url = rb_destination_url_for(dest, object_key);
	rb_tar_scan *scan = rb_tar_scan_new();
	rb_tar_extract *x = rb_tar_extract_new(d->data);
	rb_fetch_options opt;
	rb_fetch_result fr;
	rb_base_backup_info info;
	rb_error	terr;
	double		t0 = rb_now_seconds();
	int			rc = -1;

	if (scan == NULL || x == NULL || url == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}
	rb_tar_scan_set_sink(scan, rb_tar_extract_sink(x));
	memset(&opt, 0, sizeof(opt));
	opt.expected_size = expected_size;
	opt.expected_sha256 = expected_sha256;
	opt.compression = meta->compression;
	opt.encryption = meta->encryption;
	opt.keyring = keyring;
	opt.out_fd = -1;
	opt.out_fn = feed_scan;
	opt.out_arg = scan;
	opt.activity = "restore drill";
	if (rb_verify_fetch(dest, object_key, &opt, &fr, hooks, err) != 0)
	{
		if (err->code == RB_ERR_NOT_FOUND)
			rb_error_set(err, RB_ERR_INTEGRITY, "backup object %s is missing (its metadata exists)", url);
		goto done;
	}
	res->stored_bytes = fr.stored_bytes;
	memcpy(res->sha256, fr.sha256, sizeof(res->sha256));
	res->unpacked_bytes = rb_tar_extract_bytes(x);
	res->unpack_seconds = rb_now_seconds() - t0;
	rb_error_clear(&terr);
	if (!fr.size_ok)
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "restore refused: size mismatch for %s: expected %" PRIu64 " bytes, found %" PRIu64,
					 url, expected_size, fr.stored_bytes);
	else if (!fr.sha256_ok)
		rb_error_set(err, RB_ERR_INTEGRITY, "restore refused: checksum mismatch for %s: expected %s, found %s",
					 url, expected_sha256, fr.sha256);
	else if ((res->checksum_ok = true, fr.decrypt_failed))
		rb_error_set(err, fr.decrypt_err.code == RB_ERR_AUTH ? RB_ERR_AUTH : RB_ERR_INTEGRITY,
					 "%s matches its checksum but does not decrypt: %s", url, fr.decrypt_err.msg);
	else if (!fr.decompressed)
		rb_error_set(err, RB_ERR_INTEGRITY, "%s matches its checksum but does not decompress: %s",
					 url, fr.decompress_err.msg[0] ? fr.decompress_err.msg : "the stream ended early");
	else if (rb_tar_scan_finish(scan, &info, &terr) != 0 || rb_base_backup_info_check(&info, &terr) != 0)
		rb_error_set(err, RB_ERR_INTEGRITY, "%s is not a usable base backup: %s", url, terr.msg);
	else if (meta->start_lsn != NULL && strcmp(info.start_lsn, meta->start_lsn) != 0)
		rb_error_set(err, RB_ERR_INTEGRITY, "the backup_label of %s starts at %s, its metadata says %s",
					 url, info.start_lsn, meta->start_lsn);
	else
	{
		rc = 0;
		strcpy(res->verifybackup, info.has_manifest ? "" : "skipped");
	}
done:
	rb_tar_extract_free(x);
	rb_tar_scan_free(scan);
	free(url);
	return rc;
}

/* ---- 3. pg_verifybackup ---------------------------------------------------- */

static int
verify_files(drill *d, rb_base_drill_result *res, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	double		t0 = rb_now_seconds();
	int			rc;

	if (strcmp(res->verifybackup, "skipped") == 0)
	{
		rb_log(hooks, RB_LOG_INFO, "the base backup has no backup_manifest: pg_verifybackup skipped");
		return 0;
	}
	rb_pg_argv_program(&a, d->p->bindir, "pg_verifybackup");
	rb_argv_add(&a, "--no-parse-wal");	/* the WAL is not in the tar: it is fetched next */
	rb_argv_add(&a, "--quiet");
	rb_argv_add(&a, d->data);
	rc = run(d, &a, "pg_verifybackup", NULL, hooks, err);
	res->verifybackup_seconds = rb_now_seconds() - t0;
	if (rc != 0 && err->code == RB_ERR_CHILD)
	{
		strcpy(res->verifybackup, "failed");
		err->code = RB_ERR_INTEGRITY;
		rb_error_prefix(err, "the unpacked base backup does not match its backup_manifest: ");
	}
	else if (rc == 0)
		strcpy(res->verifybackup, "passed");
	return rc;
}

/* ---- 4. WAL from the archive ------------------------------------------------ */

static int
fetch_wal(drill *d, rb_destination *dest, const rb_backup_metadata *meta,
		  const rb_keyring *keyring, rb_base_drill_result *res, const rb_hooks *hooks,
		  rb_error *err)
{
	const rb_base_drill_params *p = d->p;
	const char *incarnations[1] = {meta->incarnation};
	rb_wal_fetch_params wp;
	rb_wal_fetch_result wr;
	uint64_t	start,
				stop;
	uint64_t	first,
				last_needed;
	double		t0 = rb_now_seconds();
	char		name[32];
	char		path[4300];

	if (!rb_lsn_parse(meta->start_lsn, &start) || !rb_lsn_parse(meta->stop_lsn, &stop) ||
		meta->timeline == 0 || meta->system_identifier == 0)
		return rb_error_set(err, RB_ERR_INVALID,
							"the base backup's metadata lacks its start or stop LSN, timeline or system identifier");
	if (p->wal_segment_size == 0 || (p->wal_segment_size & (p->wal_segment_size - 1)) != 0)
		return rb_error_set(err, RB_ERR_INVALID, "invalid WAL segment size %u", p->wal_segment_size);
	first = start / p->wal_segment_size;
	last_needed = (stop > 0 ? stop - 1 : 0) / p->wal_segment_size;

	memset(&wp, 0, sizeof(wp));
	wp.dest = dest;
	wp.system_identifier = meta->system_identifier;
	wp.incarnations = meta->incarnation ? incarnations : NULL;
	wp.n_incarnations = meta->incarnation ? 1 : 0;
	wp.keyring = keyring;

	/* a later timeline's history tells recovery where this one came from */
	if (meta->timeline > 1)
	{
		snprintf(name, sizeof(name), "%08X.history", meta->timeline);
		snprintf(path, sizeof(path), "%s/%s", d->wal, name);
		wp.file_name = name;
		wp.path = path;
		if (rb_wal_fetch_file(&wp, &wr, hooks, err) != 0 && err->code != RB_ERR_NOT_FOUND)
		{
			rb_error_prefix(err, "could not fetch %s from the WAL archive: ", name);
			return -1;
		}
		rb_error_clear(err);
	}
	for (uint64_t segno = first;; segno++)
	{
		rb_wal_segment_name(meta->timeline, segno, p->wal_segment_size, name);
		snprintf(path, sizeof(path), "%s/%s", d->wal, name);
		wp.file_name = name;
		wp.path = path;
		if (rb_wal_fetch_file(&wp, &wr, hooks, err) != 0)
		{
			if (err->code != RB_ERR_NOT_FOUND)
			{
				rb_error_prefix(err, "could not fetch WAL file %s from the archive: ", name);
				return -1;
			}
			if (segno <= last_needed)
			{
				char		from[32];
				char		need[32];

				rb_wal_segment_name(meta->timeline, first, p->wal_segment_size, from);
				rb_wal_segment_name(meta->timeline, last_needed, p->wal_segment_size, need);
				return rb_error_set(err, RB_ERR_INTEGRITY,
									"WAL file %s is missing from the archive: the base backup needs every segment from %s through %s (its stop LSN %s) to be consistent",
									name, from, need, meta->stop_lsn);
			}
			rb_error_clear(err);
			break;
		}
		res->wal_files++;
		snprintf(res->last_wal, sizeof(res->last_wal), "%s", name);
		res->wal_fetch_seconds = rb_now_seconds() - t0;
	}
	res->wal_fetch_seconds = rb_now_seconds() - t0;
	rb_log(hooks, RB_LOG_INFO, "fetched %d WAL segments from the archive (the last %s) in %.1f s",
		   res->wal_files, res->last_wal, res->wal_fetch_seconds);
	return 0;
}

/* ---- 5. the copy's configuration ------------------------------------------- */

static int
configure(drill *d, rb_error *err)
{
	rb_buf		conf = RB_BUF_INIT;
	char		path[4300];
	int			rc = -1;

	rb_buf_appendf(&conf,
				   "# The whole configuration of a ripple_backup restore drill's throwaway copy:\n"
				   "# nothing of the live server's configuration reaches it.\n"
				   "port = %s\n"
				   "listen_addresses = ''\n"
				   "unix_socket_directories = '%s'\n"
				   "unix_socket_permissions = 0700\n"
				   "archive_mode = off\n"
				   "archive_command = ''\n"
				   "archive_library = ''\n"
				   "shared_preload_libraries = ''\n"
				   "session_preload_libraries = ''\n"
				   "local_preload_libraries = ''\n"
				   "restore_command = 'cp ../wal/%%f %%p'\n"
				   "recovery_target_timeline = 'current'\n"
				   "recovery_end_command = ''\n"
				   "archive_cleanup_command = ''\n"
				   "primary_conninfo = ''\n"
				   "hot_standby = off\n"
				   "max_connections = 10\n"
				   "superuser_reserved_connections = 3\n"
				   "max_wal_senders = 0\n"
				   "max_worker_processes = 8\n"
				   "shared_buffers = 32MB\n"
				   "autovacuum = off\n"
				   /* CREATE EXTENSION amcheck (pg_amcheck --install-missing) fires no event trigger */
				   "session_replication_role = 'replica'\n"
				   "fsync = off\n"
				   "full_page_writes = on\n"
				   "jit = off\n"
				   "ssl = off\n"
				   "logging_collector = off\n"
				   "log_destination = 'stderr'\n"
				   "cluster_name = 'ripple_backup drill'\n",
				   d->port, d->sock);
	for (const char *const *s = d->p->settings; s != NULL && *s != NULL; s++)
		rb_buf_appendf(&conf, "%s\n", *s);

	snprintf(path, sizeof(path), "%s/postgresql.conf", d->data);
	if (write_text(path, rb_buf_str(&conf), err) != 0)
		goto done;
	snprintf(path, sizeof(path), "%s/postgresql.auto.conf", d->data);
	if (write_text(path, "# Do not edit this file manually!\n"
				   "# It will be overwritten by the ALTER SYSTEM command.\n", err) != 0)
		goto done;
	/* only the server's OS user reaches the 0700 socket directory */
	snprintf(path, sizeof(path), "%s/pg_hba.conf", d->data);
	if (write_text(path, "local all all trust\n", err) != 0)
		goto done;
	snprintf(path, sizeof(path), "%s/pg_ident.conf", d->data);
	if (write_text(path, "", err) != 0)
		goto done;
	snprintf(path, sizeof(path), "%s/standby.signal", d->data);
	(void) unlink(path);
	snprintf(path, sizeof(path), "%s/recovery.signal", d->data);
	if (write_text(path, "", err) != 0)
		goto done;
	rc = 0;
done:
	rb_buf_free(&conf);
	return rc;
}

/* ---- 6. start, check, stop ---------------------------------------------------- */

static void
argv_pg_ctl(drill *d, rb_argv *a, const char *action)
{
	rb_pg_argv_program(a, d->p->bindir, "pg_ctl");
	rb_argv_add(a, action);
	rb_argv_add(a, "-D");
	rb_argv_add(a, d->data);
	rb_argv_add(a, "-s");
}

static void
conn_of(const drill *d, rb_pg_conn *c)
{
	c->host = d->sock;
	c->port = d->port;
	c->user = d->p->user;
}

static pid_t postmaster_pid(const drill *d);
static bool process_alive(pid_t pid);

/* err's message followed by the end of the copy's log. */
static void
add_log_tail(const drill *d, rb_error *err)
{
	char		tail[LOG_TAIL];

	log_tail(d, tail, sizeof(tail));
	if (tail[0] != '\0')
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
				 "; its log ends: %s", tail);
}

/*
 * pg_ctl -w returns once recovery has begun (with hot_standby off the
 * postmaster reports itself a standby then): polls pg_isready until the copy
 * accepts connections, which it does once recovery has replayed everything
 * and it has promoted.  Fails when the postmaster exits first.
 */
static int
wait_ready(drill *d, double deadline, const rb_hooks *hooks, rb_error *err)
{
	rb_pg_conn	c;

	conn_of(d, &c);
	for (;;)
	{
		rb_argv		a = RB_ARGV_INIT;
		pid_t		pid;

		rb_pg_argv_program(&a, d->p->bindir, "pg_isready");
		rb_pg_conn_args(&a, &c);
		rb_argv_addf(&a, "--dbname=%s", d->p->dbname);
		rb_argv_add(&a, "--quiet");
		if (run(d, &a, "pg_isready", NULL, hooks, err) == 0)
			return 0;
		if (err->code != RB_ERR_CHILD)
			return -1;
		pid = postmaster_pid(d);
		if (pid == 0 || !process_alive(pid))
		{
			rb_error_set(err, RB_ERR_INTEGRITY, "the restored copy stopped before it accepted connections");
			add_log_tail(d, err);
			return -1;
		}
		if (rb_now_seconds() > deadline)
		{
			rb_error_set(err, RB_ERR_INTEGRITY, "the restored copy did not finish recovery within %d s",
						 d->p->start_timeout_s);
			add_log_tail(d, err);
			return -1;
		}
		for (int i = 0; i < 4; i++)
		{
			if (rb_cancelled(hooks))
				return rb_error_set(err, RB_ERR_CANCELLED, "the restore drill was canceled");
			usleep(50 * 1000);
		}
	}
}

static int
start_copy(drill *d, rb_base_drill_result *res, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	double		t0 = rb_now_seconds();
	int			timeout = d->p->start_timeout_s > 0 ? d->p->start_timeout_s : 3600;
	int			rc;

	argv_pg_ctl(d, &a, "start");
	rb_argv_add(&a, "-w");
	rb_argv_addf(&a, "--timeout=%d", timeout);
	rb_argv_add(&a, "-l");
	rb_argv_add(&a, d->log);
	d->started = true;
	rc = run(d, &a, "pg_ctl start", NULL, hooks, err);
	if (rc != 0 && err->code == RB_ERR_CHILD)
	{
		err->code = RB_ERR_INTEGRITY;
		rb_error_prefix(err, "the restored copy did not start: ");
		add_log_tail(d, err);
	}
	if (rc == 0)
		rc = wait_ready(d, t0 + timeout, hooks, err);
	res->replay_seconds = rb_now_seconds() - t0;
	return rc;
}

static int
read_replay_end(drill *d, const rb_backup_metadata *meta, rb_base_drill_result *res,
				const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_pg_conn	c;
	uint64_t	replayed,
				stop;
	char	   *bar;
	int			rc;

	conn_of(d, &c);
	rb_pg_argv_psql(&a, d->p->bindir, "psql", &c, d->p->dbname);
	rb_argv_add(&a, "-A");
	rb_argv_add(&a, "-t");
	rb_argv_add(&a, "-c");
	rb_argv_add(&a, "SELECT pg_catalog.pg_last_wal_replay_lsn(), pg_catalog.pg_last_xact_replay_timestamp()");
	rc = run(d, &a, "psql", &out, hooks, err);
	if (rc != 0)
	{
		rb_error_prefix(err, "could not read how far the restored copy replayed: ");
		goto done;
	}
	bar = strchr(rb_buf_str(&out), '|');
	if (bar != NULL)
	{
		*bar = '\0';
		snprintf(res->replayed_lsn, sizeof(res->replayed_lsn), "%s", rb_buf_str(&out));
		snprintf(res->replayed_time, sizeof(res->replayed_time), "%s", bar + 1);
		res->replayed_time[strcspn(res->replayed_time, "\n")] = '\0';
	}
	if (!rb_lsn_parse(res->replayed_lsn, &replayed))
	{
		rc = rb_error_set(err, RB_ERR_INTEGRITY, "the restored copy replayed no WAL");
		goto done;
	}
	if (rb_lsn_parse(meta->stop_lsn, &stop) && replayed < stop)
		rc = rb_error_set(err, RB_ERR_INTEGRITY,
						  "the restored copy replayed WAL to %s only, short of the backup's stop LSN %s",
						  res->replayed_lsn, meta->stop_lsn);
done:
	rb_buf_free(&out);
	return rc;
}

static int
amcheck(drill *d, rb_base_drill_result *res, const rb_hooks *hooks, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_pg_conn	c;
	double		t0 = rb_now_seconds();
	int			rc;

	if (!d->p->amcheck)
	{
		strcpy(res->amcheck, "skipped");
		rb_log(hooks, RB_LOG_INFO, "the amcheck extension is not installed: pg_amcheck skipped");
		return 0;
	}
	conn_of(d, &c);
	rb_pg_argv_program(&a, d->p->bindir, "pg_amcheck");
	rb_pg_conn_args(&a, &c);
	rb_argv_add(&a, "--no-password");
	rb_argv_addf(&a, "--maintenance-db=%s", d->p->dbname);
	rb_argv_add(&a, "--all");
	/* in the throwaway copy only */
	rb_argv_add(&a, "--install-missing");
	rc = run(d, &a, "pg_amcheck", &out, hooks, err);
	res->amcheck_seconds = rb_now_seconds() - t0;
	if (rc != 0 && err->code == RB_ERR_CHILD)
	{
		strcpy(res->amcheck, "failed");
		err->code = RB_ERR_INTEGRITY;
		if (out.len > 0)
		{
			char	   *o = (char *) rb_buf_str(&out);

			if (strlen(o) > 600)
				o[600] = '\0';
			for (char *ch = o; *ch; ch++)
				if (*ch == '\n')
					*ch = ' ';
			snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg), "; %s", o);
		}
		rb_error_prefix(err, "pg_amcheck found problems in the restored copy: ");
	}
	else if (rc == 0)
		strcpy(res->amcheck, "passed");
	rb_buf_free(&out);
	return rc;
}

/*
 * Whether pid is a running process: a zombie (exited, not yet reaped by init,
 * to which the copy's postmaster belongs once pg_ctl has exited) is not.
 */
static bool
process_alive(pid_t pid)
{
	char		path[64];
	char		buf[512];
	FILE	   *f;
	char	   *paren;
	bool		alive = true;

	if (kill(pid, 0) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	f = fopen(path, "re");
	if (f == NULL)
		return true;
	if (fgets(buf, sizeof(buf), f) != NULL && (paren = strrchr(buf, ')')) != NULL &&
		paren[1] == ' ' && paren[2] == 'Z')
		alive = false;
	fclose(f);
	return alive;
}

/* The copy's postmaster pid from postmaster.pid, 0 when there is none. */
static pid_t
postmaster_pid(const drill *d)
{
	char		path[4300];
	FILE	   *f;
	long		pid = 0;

	snprintf(path, sizeof(path), "%s/postmaster.pid", d->data);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld", &pid) != 1)
		pid = 0;
	fclose(f);
	return pid > 0 ? (pid_t) pid : 0;
}

static int
stop_copy(drill *d, const char *mode, rb_error *err)
{
	rb_argv		a = RB_ARGV_INIT;

	argv_pg_ctl(d, &a, "stop");
	rb_argv_add(&a, "-m");
	rb_argv_add(&a, mode);
	rb_argv_add(&a, "-w");
	rb_argv_add(&a, "--timeout=60");
	/* no hooks: a stop runs to its end also when the drill is being cancelled */
	return run(d, &a, "pg_ctl stop", NULL, NULL, err);
}

/* Whatever happened: no server left running, no scratch directory left. */
static void
clean_up(drill *d, const rb_hooks *hooks)
{
	rb_error	e;

	if (d->started)
	{
		pid_t		pid = postmaster_pid(d);

		rb_error_clear(&e);
		if (pid > 0 && process_alive(pid) && stop_copy(d, "immediate", &e) != 0)
			rb_log(hooks, RB_LOG_WARNING, "could not stop the restored copy: %s", e.msg);
		if (pid > 0 && process_alive(pid))
		{
			rb_log(hooks, RB_LOG_WARNING, "killing the restored copy's postmaster (pid %d)", (int) pid);
			(void) kill(pid, SIGKILL);
		}
	}
	if (d->scratch[0] != '\0' && rb_remove_tree(d->scratch) != 0)
		rb_log(hooks, RB_LOG_WARNING, "could not remove the drill's scratch directory \"%s\": %s",
			   d->scratch, strerror(errno));
	if (d->own_sock && d->sock[0] != '\0')
		(void) rb_remove_tree(d->sock);
}

int
rb_base_drill_run(const rb_base_drill_params *p, rb_destination *dest,
				  const char *object_key, const rb_backup_metadata *meta,
				  uint64_t expected_size, const char *expected_sha256,
				  const rb_keyring *keyring, rb_base_drill_result *res,
				  const rb_hooks *hooks, rb_error *err)
{
	drill	   *d = calloc(1, sizeof(drill));
	rb_error	serr;
	int			rc = -1;

	memset(res, 0, sizeof(*res));
	if (d == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	d->p = p;
	if (p->bindir == NULL || p->scratch_name == NULL || p->user == NULL || p->dbname == NULL)
	{
		rb_error_set(err, RB_ERR_INVALID, "a base backup drill needs the bin directory, a scratch name, a user and a database");
		goto out;
	}
	if (make_scratch(d, err) != 0 || pick_port(d, err) != 0)
		goto out;
	res->ran = true;
	rb_log(hooks, RB_LOG_INFO, "restore drill in \"%s\"", d->scratch);
	if (unpack(d, dest, object_key, meta, expected_size, expected_sha256, keyring, res, hooks, err) != 0 ||
		verify_files(d, res, hooks, err) != 0 ||
		fetch_wal(d, dest, meta, keyring, res, hooks, err) != 0 ||
		configure(d, err) != 0 ||
		start_copy(d, res, hooks, err) != 0 ||
		read_replay_end(d, meta, res, hooks, err) != 0 ||
		amcheck(d, res, hooks, err) != 0)
		goto out;
	rb_error_clear(&serr);
	if (stop_copy(d, "fast", &serr) != 0)
	{
		*err = serr;
		rb_error_prefix(err, "the restored copy did not stop: ");
		goto out;
	}
	rc = 0;
out:
	clean_up(d, hooks);
	free(d);
	return rc;
}

int
rb_base_drill_remove_leftover(const char *scratch, rb_error *err)
{
	drill		d;
	pid_t		pid;

	memset(&d, 0, sizeof(d));
	snprintf(d.data, sizeof(d.data), "%s/data", scratch);
	pid = postmaster_pid(&d);
	if (pid > 0 && process_alive(pid))
	{
		char		link[64];
		char		cwd[4300];
		char	   *real = realpath(d.data, NULL);
		ssize_t		n;

		snprintf(link, sizeof(link), "/proc/%d/cwd", (int) pid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n > 0 && real != NULL)
		{
			cwd[n] = '\0';
			if (strcmp(cwd, real) == 0)
			{
				(void) kill(pid, SIGQUIT);	/* the postmaster's immediate shutdown */
				for (int i = 0; i < 50 && process_alive(pid); i++)
					usleep(100 * 1000);
				if (process_alive(pid))
					(void) kill(pid, SIGKILL);
			}
		}
		free(real);
	}
	/* the socket directory of its own, when it had one (and only one of that name) */
	{
		char		note[4300];
		char		sock[128];
		FILE	   *f;

		snprintf(note, sizeof(note), "%s/" SOCKET_NOTE, scratch);
		f = fopen(note, "re");
		if (f != NULL)
		{
			if (fgets(sock, sizeof(sock), f) != NULL &&
				strncmp(sock, SOCKET_PREFIX, strlen(SOCKET_PREFIX)) == 0 &&
				strchr(sock + strlen(SOCKET_PREFIX), '/') == NULL &&
				strstr(sock, "..") == NULL)
				(void) rb_remove_tree(sock);
			fclose(f);
		}
	}
	if (rb_remove_tree(scratch) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not remove \"%s\": %s", scratch, strerror(errno));
	return 0;
}
