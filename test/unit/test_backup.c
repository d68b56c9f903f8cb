/*
 * test_backup.c — unit tests of the backup pipeline with a stand-in pg_dump (a
 * small script that writes the fixture archive, or fails, or is killed) and a
 * file:// destination: stored bytes, checksum, row counts, pg_dump's arguments and
 * environment, failures leaving nothing behind, cancellation, progress, the object
 * key and the metadata object.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <unistd.h>

#include "backup.h"
#include "rb_buf.h"
#include "rb_crypto.h"

static char root[256];
static char fixture[1024];

static int
setup(void **state)
{
	const char *src = getenv("RIPPLE_SRC");

	snprintf(fixture, sizeof(fixture), "%s/test/fixtures/pgdump_small.dump", src ? src : ".");
	if (access(fixture, R_OK) != 0)
		return -1;
	snprintf(root, sizeof(root), "/tmp/rb_backup_test_XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int
teardown(void **state)
{
	char		cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes an executable script standing in for pg_dump; returns its path (static). */
static const char *
fake_pg_dump(const char *body)
{
	static char path[300];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/pg_dump", root);
	unlink(path);
	f = fopen(path, "w");
	fprintf(f, "#!/bin/sh\nFIXTURE='%s'\nOUT='%s'\n%s\n", fixture, root, body);
	fclose(f);
	chmod(path, 0700);
	return path;
}

static void
read_file(const char *path, rb_buf *out)
{
	FILE	   *f = fopen(path, "rb");
	char		buf[65536];
	size_t		n;

	assert_non_null(f);
	rb_buf_reset(out);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		rb_buf_append(out, buf, n);
	fclose(f);
}

/* the files under root/dest, recursively, as "relpath " strings (hidden ones included) */
static void
list_tree(const char *dir, const char *rel, rb_buf *out)
{
	DIR		   *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
	{
		char		path[1024],
					r[1024];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		snprintf(r, sizeof(r), "%s%s%s", rel, rel[0] ? "/" : "", de->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			list_tree(path, r, out);
		else
			rb_buf_appendf(out, "%s ", r);
	}
	closedir(d);
}

static int	progress_calls;
static rb_backup_progress last_progress;

static void
on_progress(void *arg, const rb_backup_progress *pr)
{
	progress_calls++;
	last_progress = *pr;
}

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_buf_append(arg, data, len);
	return 0;
}

static rb_destination *
open_dest(void)
{
	char		url[300];
	rb_error	err = {0};
	rb_destination *d;

	snprintf(url, sizeof(url), "file://%s/dest", root);
	d = rb_destination_open(url, NULL, NULL, &err);
	assert_non_null(d);
	return d;
}

static void
init_params(rb_backup_params *p, rb_destination *d, const char *key, const char *script)
{
	memset(p, 0, sizeof(*p));
	p->pg_dump_path = fake_pg_dump(script);
	p->host = "/var/run/postgresql";
	p->port = 5432;
	p->user = "postgres";
	p->dbname = "fixture";
	p->dest = d;
	p->object_key = key;
	p->compression = RB_COMPRESS_ZSTD;
	p->compression_level = -1;
	p->progress = on_progress;
}

static void
test_success(void **state)
{
	static const rb_compress_kind kinds[] = {RB_COMPRESS_ZSTD, RB_COMPRESS_GZIP, RB_COMPRESS_NONE};

	for (int k = 0; k < 3; k++)
	{
		rb_destination *d = open_dest();
		rb_backup_params p;
		rb_backup_result r;
		rb_error	err = {0};
		char	   *key = rb_backup_object_key(7312345678901234567ULL, "5f0c2a9e7b1d4c36", "fixture", 1795665600, 42 + k, kinds[k]);
		char		path[600],
					sha[65];
		rb_buf		stored = RB_BUF_INIT,
					plain = RB_BUF_INIT,
					orig = RB_BUF_INIT,
					tree = RB_BUF_INIT;
		rb_decompressor *dc;
		const rb_table_counts *tc;

		init_params(&p, d, key, "cat \"$FIXTURE\"");
		p.compression = kinds[k];
		p.compression_workers = k == 0 ? 2 : 0;
		progress_calls = 0;
		if (rb_backup_run(&p, &r, NULL, &err) != 0)
			fail_msg("%s", err.msg);

		snprintf(path, sizeof(path), "%s/dest/%s", root, key);
		read_file(path, &stored);
		read_file(fixture, &orig);
		assert_int_equal(r.size_bytes, stored.len);
		assert_int_equal(r.bytes_read, orig.len);
		rb_sha256_hex(stored.data, stored.len, sha, NULL);
		assert_string_equal(r.sha256, sha);
		assert_true(rb_compress_detect(stored.data, stored.len) == kinds[k]);
		dc = rb_decompressor_new(kinds[k], collect, &plain, &err);
		assert_int_equal(rb_decompressor_write(dc, stored.data, stored.len, &err), 0);
		assert_int_equal(rb_decompressor_finish(dc, &err), 0);
		rb_decompressor_free(dc);
		assert_int_equal(plain.len, orig.len);
		assert_memory_equal(plain.data, orig.data, orig.len);

		tc = &r.table_counts;
		assert_int_equal(tc->n, 6);
		assert_int_equal(rb_table_counts_find(tc, "public", "plain")->rows, 1000);
		assert_int_equal(rb_table_counts_find(tc, "odd.schema", "Table \"With\" Spaces")->rows, 42);
		assert_int_equal(rb_table_counts_total(tc), 1000 + 42 + 314 + 186 + 8);
		assert_non_null(strstr(r.archive_server_version, "15."));
		assert_true(progress_calls >= 1);
		assert_int_equal(last_progress.bytes_read, orig.len);
		assert_int_equal(last_progress.bytes_stored, stored.len);

		/* only the object itself: no temporary file */
		list_tree(root, "", &tree);
		assert_non_null(strstr(rb_buf_str(&tree), key));
		assert_null(strstr(rb_buf_str(&tree), ".tmp-"));

		rb_backup_result_free(&r);
		rb_buf_free(&stored);
		rb_buf_free(&plain);
		rb_buf_free(&orig);
		rb_buf_free(&tree);
		free(key);
		rb_destination_close(d);
	}
}

static void
test_arguments_and_environment(void **state)
{
	rb_destination *d = open_dest();
	rb_backup_params p;
	rb_backup_result r;
	rb_error	err = {0};
	const char *env[] = {"PGAPPNAME=ripple_backup 7", "PGPASSFILE=/etc/ripple/pgpass", NULL};
	char		path[400];
	rb_buf		args = RB_BUF_INIT;

	init_params(&p, d, "args/x.dump.zst",
				"for a in \"$@\"; do printf '[%s]\\n' \"$a\"; done > \"$OUT/args\"\n"
				"echo \"$PGAPPNAME|$PGPASSFILE\" >> \"$OUT/args\"\ncat \"$FIXTURE\"");
	p.dbname = "it's a \\db";
	p.host = "/tmp/sock dir";
	p.user = "o'neil";
	p.snapshot = "00000003-00000002-1";
	p.extra_env = env;
	assert_int_equal(rb_backup_run(&p, &r, NULL, &err), 0);
	snprintf(path, sizeof(path), "%s/args", root);
	read_file(path, &args);
	assert_string_equal(rb_buf_str(&args),
						"[--format=custom]\n[--compress=0]\n[--no-password]\n"
						"[--dbname=dbname='it\\'s a \\\\db' host='/tmp/sock dir' port='5432' user='o\\'neil']\n"
						"[--snapshot=00000003-00000002-1]\n"
						"ripple_backup 7|/etc/ripple/pgpass\n");
	rb_backup_result_free(&r);
	rb_buf_free(&args);
	rb_destination_close(d);
}

/* Runs a failing backup; checks the message and that nothing remains at the key. */
static void
expect_failure(const char *script, const char *key, rb_error_code code, const char *msg,
			   const rb_hooks *hooks)
{
	rb_destination *d = open_dest();
	rb_backup_params p;
	rb_backup_result r;
	rb_error	err = {0};
	rb_buf		tree = RB_BUF_INIT;
	uint64_t	size;

	init_params(&p, d, key, script);
	assert_int_equal(rb_backup_run(&p, &r, hooks, &err), -1);
	assert_int_equal(err.code, code);
	if (strncmp(err.msg, msg, strlen(msg)) != 0)
		fail_msg("got \"%s\", expected \"%s...\"", err.msg, msg);
	assert_int_equal(rb_destination_head(d, key, &size, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	list_tree(root, "", &tree);
	assert_null(strstr(rb_buf_str(&tree), ".tmp-"));
	assert_true(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
	rb_backup_result_free(&r);
	rb_buf_free(&tree);
	rb_destination_close(d);
}

static void
test_pg_dump_fails(void **state)
{
	expect_failure("head -c 20000 \"$FIXTURE\"; echo 'pg_dump: error: query failed: ERROR:  permission denied' >&2; exit 1",
				   "fail/exit.dump.zst", RB_ERR_CHILD,
				   "pg_dump exited with code 1: pg_dump: error: query failed: ERROR:  permission denied", NULL);
	expect_failure("head -c 20000 \"$FIXTURE\"; kill -9 $$",
				   "fail/killed.dump.zst", RB_ERR_CHILD,
				   "pg_dump was terminated by signal 9: Killed", NULL);
	expect_failure("echo 'not an archive'", "fail/garbage.dump.zst", RB_ERR_INTEGRITY,
				   "pg_dump output: invalid pg_dump archive: no PGDMP signature", NULL);
	expect_failure("head -c 20000 \"$FIXTURE\"", "fail/short.dump.zst", RB_ERR_INTEGRITY,
				   "pg_dump output: invalid pg_dump archive: the archive ends in the middle of a data block", NULL);
}

static int	cancel_polls;

static bool
cancel_soon(void *arg)
{
	return ++cancel_polls > 3;
}

static void
test_cancel(void **state)
{
	rb_hooks	hooks = {NULL, cancel_soon, NULL, NULL, NULL};
	time_t		t0 = time(NULL);

	cancel_polls = 0;
	expect_failure("head -c 20000 \"$FIXTURE\"; exec sleep 30", "cancel/x.dump.zst",
				   RB_ERR_CANCELLED, "backup cancelled", &hooks);
	assert_true(time(NULL) - t0 < 10);
}

static void
test_missing_pg_dump(void **state)
{
	rb_destination *d = open_dest();
	rb_backup_params p;
	rb_backup_result r;
	rb_error	err = {0};

	init_params(&p, d, "missing/x.dump", "true");
	p.pg_dump_path = "/nonexistent/bin/pg_dump";
	assert_int_equal(rb_backup_run(&p, &r, NULL, &err), -1);
	assert_string_equal(err.msg, "could not execute \"/nonexistent/bin/pg_dump\": No such file or directory");
	rb_backup_result_free(&r);
	rb_destination_close(d);
}

static void
test_object_key_and_metadata(void **state)
{
	char	   *key = rb_backup_object_key(7312345678901234567ULL, "5f0c2a9e7b1d4c36", "app", 1795665600, 7, RB_COMPRESS_ZSTD);
	rb_destination *d;
	rb_backup_metadata m,
				back;
	rb_error	err = {0};
	rb_buf		json = RB_BUF_INIT;

	assert_string_equal(key, "7312345678901234567/5f0c2a9e7b1d4c36/app/20261126T040000Z-7.dump.zst");
	free(key);
	key = rb_backup_object_key(1, "00ff00ff00ff00ff", "../my db/ü", 0, 12, RB_COMPRESS_GZIP);
	assert_string_equal(key, "1/00ff00ff00ff00ff/%2E.%2Fmy%20db%2F%C3%BC/19700101T000000Z-12.dump.gz");
	free(key);
	key = rb_backup_object_key(1, "0123456789abcdef", "x", 0, 1, RB_COMPRESS_NONE);
	assert_string_equal(key, "1/0123456789abcdef/x/19700101T000000Z-1.dump");
	free(key);
	/* the incarnation is one path segment whatever it holds; none is "-" */
	key = rb_backup_object_key(1, "a/../b", "x", 0, 1, RB_COMPRESS_NONE);
	assert_string_equal(key, "1/a%2F..%2Fb/x/19700101T000000Z-1.dump");
	free(key);
	key = rb_backup_object_key(1, NULL, "x", 0, 1, RB_COMPRESS_NONE);
	assert_string_equal(key, "1/-/x/19700101T000000Z-1.dump");
	free(key);

	d = open_dest();
	rb_backup_metadata_init(&m);
	m.backup_id = 7;
	strcpy(m.timestamp, "2026-11-26T00:00:00Z");
	rb_metadata_set_str(&m.dbname, "app");
	rb_metadata_set_str(&m.backup_type, "manual");
	memset(m.sha256, 'f', 64);
	rb_metadata_set_str(&m.compression, "zstd");
	rb_metadata_set_str(&m.pg_dump_format, "custom");
	rb_table_counts_add(&m.table_counts, "public", "t", 3);
	assert_int_equal(rb_backup_write_metadata(d, "meta/x.dump.zst", &m, &err), 0);
	assert_int_equal(rb_destination_get(d, "meta/x.dump.zst.metadata.json", 0, 0, collect, &json, &err), 0);
	assert_int_equal(rb_backup_metadata_from_json(json.data, json.len, &back, &err), 0);
	assert_int_equal(back.backup_id, 7);
	assert_int_equal(back.table_counts.items[0].rows, 3);
	rb_backup_metadata_free(&back);
	rb_backup_metadata_free(&m);
	rb_buf_free(&json);
	rb_destination_close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_success),
		cmocka_unit_test(test_arguments_and_environment),
		cmocka_unit_test(test_pg_dump_fails),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_missing_pg_dump),
		cmocka_unit_test(test_object_key_and_metadata),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
