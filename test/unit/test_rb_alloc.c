/*
 * test_rb_alloc.c — unit tests of rb_alloc: an allocation that fails (made to
 * fail by the test hook) reaches the host's handler with the size asked for and
 * never returns NULL or aborts; calloc's size overflow is a failure too; the
 * default handler exits with status 1 and a message (a child process, checked
 * with waitpid: exited, not signalled); the emergency reserve serves a failed
 * allocation once and says so; and whichever allocation of a file destination's
 * work or of a metadata document's round trip fails, with the reserve armed the
 * work ends normally or as cancelled, never in the handler, and leaks nothing
 * (valgrind and ASan check that).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "backup_metadata.h"
#include "dest.h"
#include "rb_alloc.h"
#include "rb_buf.h"

static jmp_buf back;
static int	handler_calls;
static size_t handler_size;

static void
recording_handler(size_t size)
{
	handler_calls++;
	handler_size = size;
	longjmp(back, 1);
}

static int
setup(void **state)
{
	(void) state;
	handler_calls = 0;
	handler_size = 0;
	rb_alloc_set_failure_handler(recording_handler);
	return 0;
}

static int
teardown(void **state)
{
	(void) state;
	rb_alloc_test_fail_after(-1);
	rb_alloc_reserve(0);
	rb_alloc_set_failure_handler(NULL);
	return 0;
}

/* Each function, made to fail, calls the handler with the size and does not return. */
static void
test_failure_reaches_the_handler(void **state)
{
	void	   *volatile p = NULL;
	volatile int returned = 0;

	(void) state;
	rb_alloc_test_fail_after(0);
	if (setjmp(back) == 0)
	{
		p = rb_malloc(123);
		returned = 1;
	}
	assert_int_equal(returned, 0);
	assert_null(p);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(handler_size, 123);

	rb_alloc_test_fail_after(0);
	if (setjmp(back) == 0)
	{
		p = rb_calloc(10, 7);
		returned = 1;
	}
	assert_int_equal(returned, 0);
	assert_int_equal(handler_calls, 2);
	assert_int_equal(handler_size, 70);

	rb_alloc_test_fail_after(0);
	if (setjmp(back) == 0)
	{
		p = rb_strdup("abcdef");
		returned = 1;
	}
	assert_int_equal(returned, 0);
	assert_int_equal(handler_calls, 3);
	assert_int_equal(handler_size, 7);

	rb_alloc_test_fail_after(0);
	if (setjmp(back) == 0)
	{
		p = rb_strndup("abcdef", 3);
		returned = 1;
	}
	assert_int_equal(returned, 0);
	assert_int_equal(handler_calls, 4);
	assert_int_equal(handler_size, 4);

	/* a failed realloc leaves the old block to its owner */
	p = rb_malloc(16);
	memcpy(p, "kept", 5);
	rb_alloc_test_fail_after(0);
	if (setjmp(back) == 0)
	{
		p = rb_realloc(p, 4096);
		returned = 1;
	}
	assert_int_equal(returned, 0);
	assert_int_equal(handler_calls, 5);
	assert_int_equal(handler_size, 4096);
	assert_string_equal((char *) p, "kept");
	free(p);
}

/* The hook counts: after n good allocations the next one fails, once. */
static void
test_fail_after_counts(void **state)
{
	char	   *a,
			   *b,
			   *volatile c = NULL,
			   *d;

	(void) state;
	rb_alloc_test_fail_after(2);
	a = rb_malloc(1);
	b = rb_strdup("x");
	if (setjmp(back) == 0)
		c = rb_malloc(1);
	assert_null(c);
	assert_int_equal(handler_calls, 1);
	d = rb_malloc(0);			/* size 0 gives a block too, and the hook is off again */
	assert_non_null(d);
	assert_int_equal(handler_calls, 1);
	free(a);
	free(b);
	free(d);
}

static void
test_calloc_overflow(void **state)
{
	void	   *volatile p = NULL;

	(void) state;
	if (setjmp(back) == 0)
		p = rb_calloc(SIZE_MAX / 2, 4);
	assert_null(p);
	assert_int_equal(handler_calls, 1);
	assert_int_equal(handler_size, SIZE_MAX);
}

/* Without a handler: a line on stderr and exit status 1, never a signal. */
static void
test_default_handler_exits_1(void **state)
{
	int			fds[2];
	pid_t		pid;
	int			status;
	char		out[256] = {0};
	ssize_t		n;

	(void) state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
	{
		dup2(fds[1], STDERR_FILENO);
		rb_alloc_set_failure_handler(NULL);
		rb_alloc_test_fail_after(0);
		(void) rb_malloc(77);
		_exit(42);				/* not reached */
	}
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_false(WIFSIGNALED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_true(n > 0);
	assert_string_equal(out, "out of memory (could not allocate 77 bytes)\n");
}

/* The reserve serves one failure (no handler) and says so; re-arming resets it. */
static void
test_reserve(void **state)
{
	char	   *p,
			   *volatile q = NULL;

	(void) state;
	assert_true(rb_alloc_reserve(64 * 1024));
	assert_false(rb_alloc_reserve_spent());
	rb_alloc_test_fail_after(0);
	p = rb_malloc(100);
	assert_non_null(p);
	assert_true(rb_alloc_reserve_spent());
	assert_int_equal(handler_calls, 0);
	/* spent: the next failure has nothing to fall back on */
	rb_alloc_test_fail_after(0);
	if (setjmp(back) == 0)
		q = rb_malloc(100);
	assert_null(q);
	assert_int_equal(handler_calls, 1);
	assert_true(rb_alloc_reserve(64 * 1024));
	assert_false(rb_alloc_reserve_spent());
	free(p);
}

/* A host's cancel hook: stop once the reserve is spent (what the server's does). */
static bool
cancel_when_spent(void *arg)
{
	(void) arg;
	return rb_alloc_reserve_spent();
}

static int
count_cb(void *arg, const rb_object_info *info, rb_error *err)
{
	(void) info;
	(void) err;
	(*(int *) arg)++;
	return 0;
}

static int
to_buf(void *arg, const void *data, size_t len, rb_error *err)
{
	(void) err;
	rb_buf_append((rb_buf *) arg, data, len);
	return 0;
}

/*
 * One run of a file destination's work; returns 0, or -1 with err (cancelled
 * when the reserve was spent).
 */
static int
file_destination_work(const char *url, rb_error *err)
{
	rb_hooks	hooks = {0};
	rb_destination *d;
	rb_dest_writer *w;
	rb_buf		got = RB_BUF_INIT;
	int			n = 0;
	int			rc = -1;

	hooks.cancel = cancel_when_spent;
	d = rb_destination_open(url, NULL, &hooks, err);
	if (d == NULL)
		return -1;
	w = rb_destination_writer_open(d, "db/one.dump", err);
	if (w == NULL)
		goto done;
	if (rb_dest_writer_write(w, "0123456789", 10, err) < 0)
	{
		rb_dest_writer_abort(w);
		goto done;
	}
	if (rb_dest_writer_commit(w, err) < 0 ||
		rb_destination_put_small(d, "db/one.dump.metadata.json", "{}", 2, err) < 0 ||
		rb_destination_list(d, "db/", count_cb, &n, err) < 0 ||
		rb_destination_get(d, "db/one.dump", 0, 0, to_buf, &got, err) < 0 ||
		rb_destination_delete(d, "db/one.dump.metadata.json", err) < 0 ||
		rb_destination_delete(d, "db/one.dump", err) < 0)
		goto done;
	assert_int_equal(n, 2);
	assert_int_equal(got.len, 10);
	rc = 0;
done:
	rb_buf_free(&got);
	rb_destination_close(d);
	return rc;
}

static void
test_every_allocation_of_file_work_fails_cleanly(void **state)
{
	char		dir[] = "/tmp/rb_alloc_test_XXXXXX";
	char		url[64];
	char		cmd[128];
	long		n;
	int			failed_runs = 0;

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof(url), "file://%s", dir);
	for (n = 0;; n++)
	{
		rb_error	err;
		int			rc;

		rb_error_clear(&err);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s/db'", dir);
		assert_int_equal(system(cmd), 0);
		assert_true(rb_alloc_reserve(64 * 1024));
		rb_alloc_test_fail_after(n);
		rc = file_destination_work(url, &err);
		if (!rb_alloc_reserve_spent())
		{
			/* the work needs fewer than n + 1 allocations: every one was tried */
			assert_int_equal(rc, 0);
			break;
		}
		if (rc != 0)
		{
			assert_int_equal(err.code, RB_ERR_CANCELLED);
			failed_runs++;
		}
		assert_int_equal(handler_calls, 0);
	}
	rb_alloc_test_fail_after(-1);
	assert_true(n > 10);
	assert_true(failed_runs > 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void
test_every_allocation_of_metadata_fails_cleanly(void **state)
{
	long		n;

	(void) state;
	for (n = 0;; n++)
	{
		rb_backup_metadata m,
					back_m;
		rb_buf		json = RB_BUF_INIT;
		rb_error	err;
		int			rc;

		assert_true(rb_alloc_reserve(64 * 1024));
		rb_alloc_test_fail_after(n);
		rb_backup_metadata_init(&m);
		m.format_version = RB_METADATA_FORMAT_VERSION;
		m.backup_id = 7;
		strcpy(m.timestamp, "2026-01-02T03:04:05Z");
		m.system_identifier = 7000000000000000001ULL;
		m.size_bytes = 1234;
		memset(m.sha256, 'a', 64);
		m.duration_seconds = 1.5;
		rb_metadata_set_str(&m.dbname, "app");
		rb_metadata_set_str(&m.backup_type, "manual");
		rb_metadata_set_str(&m.compression, "zstd");
		rb_metadata_set_str(&m.pg_dump_format, "custom");
		rb_metadata_set_str(&m.server_version, "15.20");
		rb_metadata_set_str(&m.extension_version, "0.1.0");
		rb_metadata_set_str(&m.object_key, "x/app/1.dump.zst");
		rb_table_counts_add(&m.table_counts, "public", "t", 3);
		rb_backup_metadata_to_json(&m, &json);
		rc = rb_backup_metadata_from_json(rb_buf_str(&json), json.len, &back_m, &err);
		if (rc != 0)
			fail_msg("metadata round trip with allocation %ld failing: %s", n, err.msg);
		assert_int_equal(back_m.backup_id, 7);
		assert_int_equal(back_m.table_counts.n, 1);
		rb_backup_metadata_free(&back_m);
		rb_backup_metadata_free(&m);
		rb_buf_free(&json);
		assert_int_equal(handler_calls, 0);
		if (!rb_alloc_reserve_spent())
			break;
	}
	rb_alloc_test_fail_after(-1);
	assert_true(n > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_failure_reaches_the_handler, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_after_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_calloc_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_handler_exits_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_allocation_of_file_work_fails_cleanly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_allocation_of_metadata_fails_cleanly, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
