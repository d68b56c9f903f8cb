/*
 * test_stage_chain.c — unit tests of the stage chain (stage_chain.c) with a
 * scripted source and a file:// destination: the stored object is the source's
 * bytes compressed, both SHA-256s and counts right; the inspector sees every byte
 * and its finish runs before the commit; an idle source is waited on; the source
 * starts only after the store is open (a taken key starts nothing); a failing
 * source, inspector or cancellation leaves nothing behind, with the caller's
 * wording ("base backup cancelled", "could not store the backup at URL: ...");
 * progress reports, the last one after the commit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "backup_compress.h"
#include "dest.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "stage_chain.h"

static char root[256];
static char url[300];

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/rb_chain_test_XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(url, sizeof(url), "file://%s/dest", root);
	return 0;
}

static int
teardown(void **state)
{
	char		cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* A source of `total` bytes in pieces of `piece`, idle every third read. */
typedef struct script
{
	size_t		total;
	size_t		piece;
	size_t		given;
	int			reads;
	int			idles;
	bool		started;
	bool		fail_at_end;	/* the producer fails after its last byte */
	rb_buf		all;			/* every byte given */
} script;

static int
script_start(void *arg, rb_error *err)
{
	((script *) arg)->started = true;
	return 0;
}

static ssize_t
script_read(void *arg, void *buf, size_t cap, int timeout_ms, rb_error *err)
{
	script	   *s = arg;
	size_t		n;
	unsigned char *b = buf;

	assert_true(s->started);
	assert_true(timeout_ms > 0 && timeout_ms <= 100);
	if (++s->reads % 3 == 0)
	{
		s->idles++;
		return RB_CHAIN_IDLE;
	}
	if (s->given == s->total)
	{
		if (s->fail_at_end)
			return rb_error_set(err, RB_ERR_CHILD, "producer exited with code 1: boom");
		return 0;
	}
	n = s->total - s->given < s->piece ? s->total - s->given : s->piece;
	if (n > cap)
		n = cap;
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char) ((s->given + i) % 251 < 200 ? 'a' : (s->given + i) % 7);
	rb_buf_append(&s->all, b, n);
	s->given += n;
	return (ssize_t) n;
}

typedef struct inspector
{
	uint64_t	seen;
	bool		finished;
	uint64_t	fail_after;		/* 0 = never */
	bool		fail_finish;
} inspector;

static int
insp_feed(void *arg, const void *data, size_t len, rb_error *err)
{
	inspector  *in = arg;

	in->seen += len;
	if (in->fail_after > 0 && in->seen > in->fail_after)
		return rb_error_set(err, RB_ERR_INTEGRITY, "producer output: not what it should be");
	return 0;
}

static int
insp_finish(void *arg, rb_error *err)
{
	inspector  *in = arg;

	in->finished = true;
	if (in->fail_finish)
		return rb_error_set(err, RB_ERR_INTEGRITY, "producer output: it ends too soon");
	return 0;
}

static int	progress_calls;
static rb_backup_progress last_progress;

static void
on_progress(void *arg, const rb_backup_progress *pr)
{
	progress_calls++;
	last_progress = *pr;
}

static int	cancel_after;

static bool
cancel_countdown(void *arg)
{
	return --cancel_after == 0;
}

static void
init(rb_chain_params *cp, rb_destination *d, const char *key, script *s, inspector *in)
{
	memset(cp, 0, sizeof(*cp));
	cp->store.dest = d;
	cp->store.key = key;
	cp->store.compression = RB_COMPRESS_ZSTD;
	cp->store.compression_level = -1;
	cp->source.start = script_start;
	cp->source.read = script_read;
	cp->source.arg = s;
	if (in != NULL)
	{
		cp->inspect.feed = insp_feed;
		cp->inspect.finish = insp_finish;
		cp->inspect.arg = in;
	}
	cp->progress = on_progress;
	cp->progress_interval_ms = 1;
}

static rb_destination *
open_dest(void)
{
	rb_error	err;
	rb_destination *d = rb_destination_open(url, NULL, NULL, &err);

	assert_non_null(d);
	return d;
}

static void
assert_absent(rb_destination *d, const char *key)
{
	rb_error	err;

	assert_int_equal(rb_destination_head(d, key, NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
}

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_buf_append((rb_buf *) arg, data, len);
	return 0;
}

static void
test_stores(void **state)
{
	rb_destination *d = open_dest();
	script		s = {.total = 3 * 1024 * 1024 + 5, .piece = 100000};
	inspector	in = {0};
	rb_chain_params cp;
	rb_chain_result r;
	rb_error	err;
	rb_buf		obj = RB_BUF_INIT,
				plain = RB_BUF_INIT;
	rb_decompressor *dz;
	char		sha[65];

	init(&cp, d, "ok/one.zst", &s, &in);
	progress_calls = 0;
	assert_int_equal(rb_chain_run(&cp, &r, NULL, &err), 0);
	assert_true(s.idles > 0);
	assert_int_equal(in.seen, s.total);
	assert_true(in.finished);
	assert_int_equal(r.stored.original_bytes, s.total);
	assert_int_equal(rb_sha256_hex(s.all.data, s.all.len, sha, &err), 0);
	assert_string_equal(r.stored.original_sha256, sha);

	assert_int_equal(rb_destination_get(d, "ok/one.zst", 0, 0, collect, &obj, &err), 0);
	assert_int_equal(obj.len, r.stored.stored_bytes);
	assert_true(obj.len < s.total);
	assert_int_equal(rb_sha256_hex(obj.data, obj.len, sha, &err), 0);
	assert_string_equal(r.stored.stored_sha256, sha);
	dz = rb_decompressor_new(RB_COMPRESS_ZSTD, collect, &plain, &err);
	assert_non_null(dz);
	assert_int_equal(rb_decompressor_write(dz, obj.data, obj.len, &err), 0);
	assert_int_equal(rb_decompressor_finish(dz, &err), 0);
	rb_decompressor_free(dz);
	assert_int_equal(plain.len, s.all.len);
	assert_memory_equal(plain.data, s.all.data, plain.len);

	/* progress: the last report, after the commit, says everything */
	assert_true(progress_calls >= 2);
	assert_int_equal(last_progress.bytes_read, s.total);
	assert_int_equal(last_progress.bytes_stored, r.stored.stored_bytes);

	/* the key is taken now: the store refuses before the source starts */
	{
		script		s2 = {.total = 10, .piece = 10};

		init(&cp, d, "ok/one.zst", &s2, NULL);
		cp.store.what = "backup";
		assert_int_equal(rb_chain_run(&cp, &r, NULL, &err), -1);
		assert_int_equal(err.code, RB_ERR_EXISTS);
		assert_non_null(strstr(err.msg, "could not store the backup at file://"));
		assert_false(s2.started);
		rb_buf_free(&s2.all);
	}

	rb_buf_free(&obj);
	rb_buf_free(&plain);
	rb_buf_free(&s.all);
	rb_destination_close(d);
}

static void
test_failures(void **state)
{
	rb_destination *d = open_dest();
	rb_chain_params cp;
	rb_chain_result r;
	rb_error	err;

	/* the producer fails at its end */
	{
		script		s = {.total = 500000, .piece = 65536, .fail_at_end = true};

		init(&cp, d, "f/source.zst", &s, NULL);
		assert_int_equal(rb_chain_run(&cp, &r, NULL, &err), -1);
		assert_int_equal(err.code, RB_ERR_CHILD);
		assert_string_equal(err.msg, "producer exited with code 1: boom");
		assert_int_equal(r.stored.original_bytes, s.total);
		assert_absent(d, "f/source.zst");
		rb_buf_free(&s.all);
	}
	/* the inspector refuses a byte: nothing more is read */
	{
		script		s = {.total = 500000, .piece = 65536};
		inspector	in = {.fail_after = 100000};

		init(&cp, d, "f/inspect.zst", &s, &in);
		assert_int_equal(rb_chain_run(&cp, &r, NULL, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		assert_string_equal(err.msg, "producer output: not what it should be");
		assert_true(s.given < s.total);
		assert_false(in.finished);
		assert_absent(d, "f/inspect.zst");
		rb_buf_free(&s.all);
	}
	/* the inspector's finish refuses the whole stream: not committed */
	{
		script		s = {.total = 500000, .piece = 65536};
		inspector	in = {.fail_finish = true};

		init(&cp, d, "f/finish.zst", &s, &in);
		assert_int_equal(rb_chain_run(&cp, &r, NULL, &err), -1);
		assert_string_equal(err.msg, "producer output: it ends too soon");
		assert_absent(d, "f/finish.zst");
		rb_buf_free(&s.all);
	}
	/* cancelled, in the caller's words */
	{
		script		s = {.total = 50 * 1024 * 1024, .piece = 65536};
		rb_hooks	hooks = {NULL, cancel_countdown, NULL, NULL, NULL};

		init(&cp, d, "f/cancel.zst", &s, NULL);
		cp.store.what = "base backup";
		cancel_after = 5;
		assert_int_equal(rb_chain_run(&cp, &r, &hooks, &err), -1);
		assert_int_equal(err.code, RB_ERR_CANCELLED);
		assert_string_equal(err.msg, "base backup cancelled");
		assert_true(s.given < s.total);
		assert_absent(d, "f/cancel.zst");
		rb_buf_free(&s.all);

		memset(&s, 0, sizeof(s));
		s.total = 50 * 1024 * 1024;
		s.piece = 65536;
		init(&cp, d, "f/cancel2.zst", &s, NULL);
		cancel_after = 2;
		assert_int_equal(rb_chain_run(&cp, &r, &hooks, &err), -1);
		assert_string_equal(err.msg, "cancelled");
		rb_buf_free(&s.all);
	}
	/* no source: refused */
	memset(&cp, 0, sizeof(cp));
	assert_int_equal(rb_chain_run(&cp, &r, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTERNAL);
	rb_destination_close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stores),
		cmocka_unit_test(test_failures),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
