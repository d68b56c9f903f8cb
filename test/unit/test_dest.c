/*
 * test_dest.c — unit tests of destinations without network: URL parsing
 * and errors, full URLs of keys, key checks, and the file:// implementation
 * (temporary name, commit by rename, abort leaves nothing, put/get/head/list/
 * delete), and the rule that a new object never replaces one: the writer and
 * create_small refuse a taken key before writing (file:// stat, s3:// HEAD
 * against a scripted server, fake_s3.h), a commit that finds its name taken
 * meanwhile fails and removes its temporary file, through renameat2 and through
 * the link() fallback.  The TAP tests talk to the S3 test server.
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
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dest.h"
#include "dest_impl.h"
#include "fake_s3.h"
#include "rb_buf.h"

static char root[256];

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/rb_dest_test_XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char		cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_bad_urls(void **state)
{
	static const struct
	{
		const char *url;
		const char *msg;
	}			cases[] = {
		{"ftp://x", "invalid destination \"ftp://x\": scheme must be s3:// or file://"},
		{"/tmp/x", "invalid destination \"/tmp/x\": scheme must be s3:// or file://"},
		{"file://relative/x", "invalid destination \"file://relative/x\": a file:// URL needs an absolute path (file:///dir)"},
		{"s3://", "invalid destination \"s3://\": no bucket name"},
		{"s3:///prefix", "invalid destination \"s3:///prefix\": no bucket name"},
		{"s3://b/a/../c", "invalid destination \"s3://b/a/../c\": invalid object key \"a/../c\": empty, \".\" or \"..\" path segment"},
		{"", "no destination configured"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		rb_error	err = {0};

		assert_null(rb_destination_open(cases[i].url, NULL, NULL, &err));
		assert_int_equal(err.code, RB_ERR_INVALID);
		assert_string_equal(err.msg, cases[i].msg);
	}
}

static void
test_urls_for_keys(void **state)
{
	rb_error	err = {0};
	rb_destination *d;
	char	   *u;

	d = rb_destination_open("file:///var/backups/", NULL, NULL, &err);
	assert_non_null(d);
	assert_int_equal(rb_destination_get_kind(d), RB_DEST_FILE);
	assert_string_equal(rb_destination_url(d), "file:///var/backups");
	u = rb_destination_url_for(d, "1/db/x.dump.zst");
	assert_string_equal(u, "file:///var/backups/1/db/x.dump.zst");
	free(u);
	rb_destination_close(d);

	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	d = rb_destination_open("s3://bucket//team/prod/", NULL, NULL, &err);
	if (d == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(rb_destination_get_kind(d), RB_DEST_S3);
	assert_string_equal(rb_destination_url(d), "s3://bucket/team/prod");
	u = rb_destination_url_for(d, "1/db/x.dump.zst");
	assert_string_equal(u, "s3://bucket/team/prod/1/db/x.dump.zst");
	free(u);
	rb_destination_close(d);

	d = rb_destination_open("s3://bucket", NULL, NULL, &err);
	assert_non_null(d);
	u = rb_destination_url_for(d, "k");
	assert_string_equal(u, "s3://bucket/k");
	free(u);
	rb_destination_close(d);
}

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_buf_append(arg, data, len);
	return 0;
}

/* names in dir, sorted, joined by spaces */
static void
dir_names(const char *dir, rb_buf *out)
{
	struct dirent **list;
	int			n = scandir(dir, &list, NULL, alphasort);

	rb_buf_reset(out);
	for (int i = 0; i < n; i++)
	{
		if (strcmp(list[i]->d_name, ".") != 0 && strcmp(list[i]->d_name, "..") != 0)
		{
			rb_buf_append_str(out, list[i]->d_name);
			rb_buf_append_char(out, ' ');
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

static void
test_file_writer(void **state)
{
	char		url[300],
				dir[400],
				tmpname[100];
	rb_error	err = {0};
	rb_destination *d;
	rb_dest_writer *w;
	rb_buf		names = RB_BUF_INIT,
				got = RB_BUF_INIT;
	uint64_t	size;
	int64_t		mtime;
	struct stat st;

	snprintf(url, sizeof(url), "file://%s/backups", root);
	snprintf(dir, sizeof(dir), "%s/backups/42/my db", root);
	snprintf(tmpname, sizeof(tmpname), ".1.dump.zst.tmp-%d ", (int) getpid());
	d = rb_destination_open(url, NULL, NULL, &err);
	assert_non_null(d);

	/* a committed object: temporary name while writing, final name after */
	w = rb_destination_writer_open(d, "42/my db/1.dump.zst", &err);
	if (w == NULL)
		fail_msg("%s", err.msg);
	assert_int_equal(rb_dest_writer_write(w, "hello ", 6, &err), 0);
	assert_int_equal(rb_dest_writer_write(w, "world", 5, &err), 0);
	dir_names(dir, &names);
	assert_string_equal(rb_buf_str(&names), tmpname);
	assert_int_equal(rb_dest_writer_commit(w, &err), 0);
	dir_names(dir, &names);
	assert_string_equal(rb_buf_str(&names), "1.dump.zst ");
	assert_int_equal(rb_destination_head(d, "42/my db/1.dump.zst", &size, &mtime, &err), 0);
	assert_int_equal(size, 11);
	assert_true(mtime > 0);
	assert_int_equal(rb_destination_get(d, "42/my db/1.dump.zst", 0, 0, collect, &got, &err), 0);
	assert_string_equal(rb_buf_str(&got), "hello world");
	rb_buf_reset(&got);
	assert_int_equal(rb_destination_get(d, "42/my db/1.dump.zst", 6, 3, collect, &got, &err), 0);
	assert_string_equal(rb_buf_str(&got), "wor");
	snprintf(tmpname, sizeof(tmpname), "%s/1.dump.zst", dir);
	assert_int_equal(stat(tmpname, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* an aborted object leaves nothing */
	w = rb_destination_writer_open(d, "42/my db/2.dump.zst", &err);
	assert_int_equal(rb_dest_writer_write(w, "partial", 7, &err), 0);
	rb_dest_writer_abort(w);
	dir_names(dir, &names);
	assert_string_equal(rb_buf_str(&names), "1.dump.zst ");
	assert_int_equal(rb_destination_head(d, "42/my db/2.dump.zst", &size, &mtime, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);

	/* small objects, list, delete */
	assert_int_equal(rb_destination_put_small(d, "42/my db/1.dump.zst.metadata.json", "{}", 2, &err), 0);
	assert_int_equal(rb_destination_put_small(d, "43/other", "x", 1, &err), 0);
	assert_int_equal(rb_destination_put_small(d, "43/other", "yy", 2, &err), 0);
	assert_int_equal(rb_destination_head(d, "43/other", &size, NULL, &err), 0);
	assert_int_equal(size, 2);
	rb_buf_free(&got);
	rb_buf_free(&names);
	rb_destination_close(d);
}

static int
list_keys(void *arg, const rb_object_info *info, rb_error *err)
{
	rb_buf_appendf(arg, "%s=%llu ", info->key, (unsigned long long) info->size);
	return 0;
}

static int
list_stop(void *arg, const rb_object_info *info, rb_error *err)
{
	return rb_error_set(err, RB_ERR_INTERNAL, "stop at %s", info->key);
}

static void
test_file_list_delete(void **state)
{
	char		url[300];
	rb_error	err = {0};
	rb_destination *d;
	rb_buf		keys = RB_BUF_INIT;

	snprintf(url, sizeof(url), "file://%s/backups", root);
	d = rb_destination_open(url, NULL, NULL, &err);
	assert_int_equal(rb_destination_list(d, "", list_keys, &keys, &err), 0);
	assert_string_equal(rb_buf_str(&keys),
						"42/my db/1.dump.zst=11 42/my db/1.dump.zst.metadata.json=2 43/other=2 ");
	rb_buf_reset(&keys);
	assert_int_equal(rb_destination_list(d, "42/", list_keys, &keys, &err), 0);
	assert_string_equal(rb_buf_str(&keys), "42/my db/1.dump.zst=11 42/my db/1.dump.zst.metadata.json=2 ");
	rb_buf_reset(&keys);
	{
		rb_object_list all;

		/* the collected list: sorted copies of the keys, with their sizes */
		assert_int_equal(rb_destination_list_all(d, "4", &all, &err), 0);
		assert_int_equal(all.n, 3);
		assert_string_equal(all.objs[0].key, "42/my db/1.dump.zst");
		assert_int_equal(all.objs[0].size, 11);
		assert_string_equal(all.objs[1].key, "42/my db/1.dump.zst.metadata.json");
		assert_string_equal(all.objs[2].key, "43/other");
		assert_int_equal(all.objs[2].size, 2);
		rb_object_list_free(&all);
		assert_int_equal(all.n, 0);
		assert_null(all.objs);
		assert_int_equal(rb_destination_list_all(d, "44", &all, &err), 0);
		assert_int_equal(all.n, 0);
		rb_object_list_free(&all);
	}
	assert_int_equal(rb_destination_list(d, "4", list_stop, NULL, &err), -1);
	assert_string_equal(err.msg, "stop at 42/my db/1.dump.zst");
	assert_int_equal(rb_destination_delete(d, "43/other", &err), 0);
	assert_int_equal(rb_destination_delete(d, "43/other", &err), 0);	/* already gone: fine */
	assert_int_equal(rb_destination_list(d, "43", list_keys, &keys, &err), 0);
	assert_string_equal(rb_buf_str(&keys), "");
	rb_buf_free(&keys);
	rb_destination_close(d);

	/* a directory that does not exist yet lists nothing */
	snprintf(url, sizeof(url), "file://%s/not-yet", root);
	d = rb_destination_open(url, NULL, NULL, &err);
	assert_int_equal(rb_destination_list(d, "", list_keys, &keys, &err), 0);
	assert_int_equal(keys.len, 0);
	rb_destination_close(d);
}

static void
test_bad_keys_and_io_errors(void **state)
{
	char		url[300];
	rb_error	err = {0};
	rb_destination *d;
	const char *bad[] = {"", "/abs", "a/../b", "..", "a//b", "a/./b"};

	snprintf(url, sizeof(url), "file://%s/backups", root);
	d = rb_destination_open(url, NULL, NULL, &err);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		assert_null(rb_destination_writer_open(d, bad[i], &err));
		assert_int_equal(err.code, RB_ERR_INVALID);
		assert_int_equal(rb_destination_put_small(d, bad[i], "x", 1, &err), -1);
	}
	/* a file where a directory must go */
	assert_int_equal(rb_destination_put_small(d, "plainfile", "x", 1, &err), 0);
	assert_null(rb_destination_writer_open(d, "plainfile/sub/x", &err));
	assert_int_equal(err.code, RB_ERR_IO);
	assert_int_equal(rb_destination_get(d, "missing", 0, 0, collect, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	rb_destination_close(d);
}

/* The whole content of a file ("" when it cannot be read). */
static void
slurp(const char *path, rb_buf *out)
{
	FILE	   *f = fopen(path, "rb");
	char		buf[256];
	size_t		n;

	rb_buf_reset(out);
	if (f == NULL)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		rb_buf_append(out, buf, n);
	fclose(f);
}

static void
test_file_never_overwrites(void **state)
{
	char		url[300],
				dir[300],
				path[400];
	rb_error	err = {0};
	rb_destination *d;
	rb_dest_writer *w;
	rb_buf		names = RB_BUF_INIT,
				got = RB_BUF_INIT;
	FILE	   *f;

	snprintf(url, sizeof(url), "file://%s/noreplace", root);
	snprintf(dir, sizeof(dir), "%s/noreplace/1/inc/db", root);
	d = rb_destination_open(url, NULL, NULL, &err);
	assert_non_null(d);
	assert_int_equal(rb_destination_create_small(d, "1/inc/db/a.dump", "first", 5, &err), 0);

	/* a taken key: refused before anything is written */
	assert_null(rb_destination_writer_open(d, "1/inc/db/a.dump", &err));
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_string_equal(err.msg, "an object already exists at this key (5 bytes); nothing was written: "
						"a backup never replaces an existing object");
	assert_int_equal(rb_destination_create_small(d, "1/inc/db/a.dump", "second", 6, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	snprintf(path, sizeof(path), "%s/a.dump", dir);
	slurp(path, &got);
	assert_string_equal(rb_buf_str(&got), "first");
	dir_names(dir, &names);
	assert_string_equal(rb_buf_str(&names), "a.dump ");

	/* another writer takes the name while this one writes: its commit fails, nothing replaced */
	w = rb_destination_writer_open(d, "1/inc/db/b.dump", &err);
	assert_non_null(w);
	assert_int_equal(rb_dest_writer_write(w, "mine", 4, &err), 0);
	snprintf(path, sizeof(path), "%s/b.dump", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	fputs("theirs", f);
	fclose(f);
	assert_int_equal(rb_dest_writer_commit(w, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "b.dump\" already exists: another writer stored it first; nothing was overwritten"));
	slurp(path, &got);
	assert_string_equal(rb_buf_str(&got), "theirs");
	dir_names(dir, &names);
	assert_string_equal(rb_buf_str(&names), "a.dump b.dump ");	/* no temporary file left */

	/* put_small still replaces (the documented exception) */
	assert_int_equal(rb_destination_put_small(d, "1/inc/db/b.dump", "new", 3, &err), 0);
	slurp(path, &got);
	assert_string_equal(rb_buf_str(&got), "new");
	rb_buf_free(&names);
	rb_buf_free(&got);
	rb_destination_close(d);
}

static void
test_rename_noreplace(void **state)
{
	char		from[300],
				to[300];
	rb_buf		got = RB_BUF_INIT;

	for (int use_link = 0; use_link <= 1; use_link++)
	{
		FILE	   *f;

		snprintf(from, sizeof(from), "%s/rn-from-%d", root, use_link);
		snprintf(to, sizeof(to), "%s/rn-to-%d", root, use_link);
		f = fopen(from, "wb");
		fputs("new", f);
		fclose(f);
		f = fopen(to, "wb");
		fputs("old", f);
		fclose(f);
		/* the name is taken: EEXIST, both files as they were */
		errno = 0;
		assert_int_equal(rb_dest_file_rename_noreplace(from, to, use_link), -1);
		assert_int_equal(errno, EEXIST);
		slurp(to, &got);
		assert_string_equal(rb_buf_str(&got), "old");
		slurp(from, &got);
		assert_string_equal(rb_buf_str(&got), "new");
		/* free: moved, the source name gone */
		assert_int_equal(unlink(to), 0);
		assert_int_equal(rb_dest_file_rename_noreplace(from, to, use_link), 0);
		slurp(to, &got);
		assert_string_equal(rb_buf_str(&got), "new");
		assert_int_equal(access(from, F_OK), -1);
	}
	rb_buf_free(&got);
}

static void
test_s3_head_before_write(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_destination_options opt;
	rb_error	err = {0};
	rb_destination *d;
	rb_dest_writer *w;

	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	memset(&opt, 0, sizeof(opt));
	opt.s3_endpoint = f->endpoint;
	opt.s3_uri_style = "path";
	opt.max_attempts = 1;
	d = rb_destination_open("s3://b/pre", &opt, NULL, &err);
	if (d == NULL)
		fail_msg("%s", err.msg);

	/* the key is taken: the writer is refused after a HEAD, nothing is sent */
	fake_s3_answer_head(f, 200, "0123456789abcdef0123456789abcdef", 42);
	assert_null(rb_destination_writer_open(d, "1/inc/db/x.dump.zst", &err));
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "(42 bytes); nothing was written"));
	assert_int_equal(f->nreq, 1);
	assert_string_equal(f->req[0].line, "HEAD /b/pre/1/inc/db/x.dump.zst HTTP/1.1");

	/* free: HEAD says 404, then a conditional PutObject */
	fake_s3_answer_head(f, 404, NULL, 0);
	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	w = rb_destination_writer_open(d, "1/inc/db/y.dump.zst", &err);
	assert_non_null(w);
	assert_int_equal(rb_dest_writer_write(w, "data", 4, &err), 0);
	assert_int_equal(rb_dest_writer_commit(w, &err), 0);
	assert_int_equal(f->nreq, 3);
	assert_string_equal(f->req[2].line, "PUT /b/pre/1/inc/db/y.dump.zst HTTP/1.1");
	assert_true(f->req[2].if_none_match);

	/* a HEAD the server refuses (write-only credentials) is no answer: the conditional write decides */
	fake_s3_answer_head(f, 403, NULL, 0);
	fake_s3_answer(f, 412, NULL, FAKE_PRECONDITION_FAILED);
	w = rb_destination_writer_open(d, "1/inc/db/z.dump.zst", &err);
	assert_non_null(w);
	assert_int_equal(rb_dest_writer_write(w, "data", 4, &err), 0);
	assert_int_equal(rb_dest_writer_commit(w, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_int_equal(f->nreq, 5);
	assert_true(f->req[4].if_none_match);

	/* create_small: the same; put_small replaces without a condition */
	fake_s3_answer_head(f, 200, "0123456789abcdef0123456789abcdef", 2);
	assert_int_equal(rb_destination_create_small(d, "1/inc/db/y.dump.zst.metadata.json", "{}", 2, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_int_equal(f->nreq, 6);
	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	assert_int_equal(rb_destination_put_small(d, "1/inc/db/y.dump.zst.metadata.json", "{}", 2, &err), 0);
	assert_int_equal(f->nreq, 7);
	assert_false(f->req[6].if_none_match);

	rb_destination_close(d);
	fake_s3_stop(f);
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_urls_for_keys),
		cmocka_unit_test(test_file_writer),
		cmocka_unit_test(test_file_list_delete),
		cmocka_unit_test(test_bad_keys_and_io_errors),
		cmocka_unit_test(test_file_never_overwrites),
		cmocka_unit_test(test_rename_noreplace),
		cmocka_unit_test(test_s3_head_before_write),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
