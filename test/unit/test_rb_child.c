/*
 * test_rb_child.c — unit tests of child processes: output capture, extra
 * environment, exit codes and signals in the error text, bounded stderr, exec
 * failure, default signal state and no inherited descriptors in the child, kill
 * with SIGKILL escalation, cancellation, and no zombie left behind; a stdin pipe
 * (more than a pipe's worth written, end of input, a child that stops reading),
 * and a lower priority (nice) seen by the child itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rb_child.h"
#include "rb_buf.h"

/* Runs argv to completion; returns rb_child_wait's result, output in out. */
static int
run(const char *const *argv, const char *const *env, const char *name, rb_buf *out, rb_error *err)
{
	rb_child_options opt = {.argv = argv, .env = env, .name = name, .kill_grace_ms = 0};
	rb_child   *c = rb_child_start(&opt, err);
	char		buf[1000];
	ssize_t		n;
	int			rc;

	if (c == NULL)
		return -2;
	while ((n = rb_child_read(c, buf, sizeof(buf), 1000, err)) != 0)
	{
		if (n == -1)
			fail_msg("read: %s", err->msg);
		if (n > 0)
			rb_buf_append(out, buf, (size_t) n);
	}
	rc = rb_child_wait(c, NULL, err);
	assert_true(waitpid(rb_child_pid(c), NULL, WNOHANG) == -1 && errno == ECHILD);
	rb_child_free(c);
	return rc;
}

static void
test_output_and_env(void **state)
{
	const char *echo[] = {"/bin/echo", "hello", "world", NULL};
	const char *envp[] = {"/usr/bin/env", NULL};
	const char *extra[] = {"RB_TEST_VAR=a b;c", "HOME=/nowhere", NULL};
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};

	assert_int_equal(run(echo, NULL, NULL, &out, &err), 0);
	assert_string_equal(rb_buf_str(&out), "hello world\n");
	rb_buf_reset(&out);
	assert_int_equal(run(envp, extra, NULL, &out, &err), 0);
	assert_non_null(strstr(rb_buf_str(&out), "\nRB_TEST_VAR=a b;c\n"));
	assert_non_null(strstr(rb_buf_str(&out), "HOME=/nowhere\n"));
	assert_null(strstr(rb_buf_str(&out), "HOME=/root"));
	rb_buf_free(&out);
}

static void
test_large_output(void **state)
{
	const char *argv[] = {"/usr/bin/head", "-c", "3000000", "/dev/zero", NULL};
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};

	assert_int_equal(run(argv, NULL, NULL, &out, &err), 0);
	assert_int_equal(out.len, 3000000);
	rb_buf_free(&out);
}

static void
test_exit_code_and_stderr(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "echo 'pg_dump: error: connection failed' >&2; exit 3", NULL};
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};

	assert_int_equal(run(argv, NULL, "pg_dump", &out, &err), -1);
	assert_int_equal(err.code, RB_ERR_CHILD);
	assert_string_equal(err.msg, "pg_dump exited with code 3: pg_dump: error: connection failed");
	rb_buf_free(&out);
}

static void
test_signal_message(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "echo partial; kill -9 $$", NULL};
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};

	assert_int_equal(run(argv, NULL, "pg_dump", &out, &err), -1);
	assert_string_equal(err.msg, "pg_dump was terminated by signal 9: Killed");
	assert_string_equal(rb_buf_str(&out), "partial\n");
	rb_buf_free(&out);
}

static void
test_stderr_bounded(void **state)
{
	const char *argv[] = {"/bin/sh", "-c",
	"i=0; while [ $i -lt 2000 ]; do echo \"line $i of noise\" >&2; i=$((i+1)); done; exit 1", NULL};
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};
	rb_child_options opt = {.argv = argv, .env = NULL, .name = "noisy", .kill_grace_ms = 0};
	rb_child   *c = rb_child_start(&opt, &err);
	char		buf[100];
	const char *text;

	while (rb_child_read(c, buf, sizeof(buf), 1000, &err) != 0)
		;
	assert_int_equal(rb_child_wait(c, NULL, &err), -1);
	text = rb_child_stderr(c);
	assert_true(strlen(text) <= RB_CHILD_STDERR_MAX + 3);
	assert_true(strlen(text) > RB_CHILD_STDERR_MAX - 100);
	assert_true(strncmp(text, "...", 3) == 0);
	assert_non_null(strstr(text, "line 1999 of noise"));
	assert_null(strstr(text, "line 10 of noise"));
	assert_true(strncmp(err.msg, "noisy exited with code 1: ...", 29) == 0);
	rb_child_free(c);
	rb_buf_free(&out);
}

static void
test_exec_failure(void **state)
{
	const char *argv[] = {"/nonexistent/pg_dump", "-V", NULL};
	rb_child_options opt = {.argv = argv, .env = NULL, .name = NULL, .kill_grace_ms = 0};
	rb_error	err = {0};

	assert_null(rb_child_start(&opt, &err));
	assert_int_equal(err.code, RB_ERR_CHILD);
	assert_string_equal(err.msg, "could not execute \"/nonexistent/pg_dump\": No such file or directory");
	assert_true(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

/*
 * Sets the disposition of a signal glibc reserves (32, 33) with the raw system
 * call, as a parent started from a background job may have it; returns false
 * where that cannot be done here.
 */
static bool
set_reserved_signal(int sig, void (*handler) (int))
{
#if defined(__linux__) && defined(SYS_rt_sigaction) && (defined(__x86_64__) || defined(__aarch64__))
	struct
	{
		void		(*handler) (int);
		unsigned long flags;
		void		(*restorer) (void);
		uint64_t	mask;
	}			ksa;

	memset(&ksa, 0, sizeof(ksa));
	ksa.handler = handler;
	return syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask)) == 0;
#else
	return false;
#endif
}

static void
test_child_state_is_clean(void **state)
{
	const char *status[] = {"/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL};
	const char *fds[] = {"/bin/ls", "/proc/self/fd", NULL};
	const char *cat[] = {"/bin/cat", NULL};
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};
	sigset_t	block,
				old;
	struct sigaction ign,
				old_int;
	int			leak;

	/* a parent like a backend: signals blocked and ignored, descriptors open */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	leak = dup2(open("/dev/null", O_RDONLY), 57);	/* no O_CLOEXEC */
	/* glibc's own real-time signals ignored too (sigaction() refuses them) */
	(void) set_reserved_signal(32, SIG_IGN);
	(void) set_reserved_signal(33, SIG_IGN);

	assert_int_equal(run(status, NULL, NULL, &out, &err), 0);
	assert_string_equal(rb_buf_str(&out), "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	rb_buf_reset(&out);
	assert_int_equal(run(fds, NULL, NULL, &out, &err), 0);
	/* 0, 1, 2 and ls's own directory descriptor */
	assert_string_equal(rb_buf_str(&out), "0\n1\n2\n3\n");
	rb_buf_reset(&out);
	/* stdin is /dev/null: cat ends at once */
	assert_int_equal(run(cat, NULL, NULL, &out, &err), 0);
	assert_int_equal(out.len, 0);

	close(leak);
	(void) set_reserved_signal(32, SIG_DFL);
	(void) set_reserved_signal(33, SIG_DFL);
	sigaction(SIGINT, &old_int, NULL);
	sigprocmask(SIG_SETMASK, &old, NULL);
	rb_buf_free(&out);
}

static void
test_kill_escalates(void **state)
{
	const char *polite[] = {"/bin/sleep", "30", NULL};
	const char *stubborn[] = {"/bin/sh", "-c", "trap '' TERM; exec /bin/sleep 30", NULL};
	rb_child_options opt = {.argv = polite, .env = NULL, .name = "pg_dump", .kill_grace_ms = 300};
	rb_error	err = {0};
	rb_child   *c = rb_child_start(&opt, &err);
	char		how[200];
	char		buf[10];
	pid_t		pid;

	assert_non_null(c);
	assert_int_equal(rb_child_read(c, buf, sizeof(buf), 50, &err), RB_CHILD_TIMEOUT);
	rb_child_kill(c);
	rb_child_describe_exit(c, how, sizeof(how));
	assert_string_equal(how, "pg_dump was terminated by signal 15: Terminated");
	rb_child_free(c);

	opt.argv = stubborn;
	c = rb_child_start(&opt, &err);
	assert_non_null(c);
	usleep(200 * 1000);			/* let sh install the trap and exec */
	pid = rb_child_pid(c);
	rb_child_free(c);			/* SIGTERM ignored: SIGKILL after 300 ms */
	assert_true(kill(pid, 0) == -1 && errno == ESRCH);
	assert_true(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

static int	cancel_calls;

static bool
cancel_after_a_while(void *arg)
{
	return ++cancel_calls > 5;
}

static void
test_stdin_pipe(void **state)
{
	/* wc -c counts what it is given: 3 MiB, more than the 1 MiB pipe holds */
	const char *wc[] = {"/usr/bin/wc", "-c", NULL};
	const char *dd[] = {"/bin/dd", "bs=10", "count=1", "of=/dev/null", "status=none", NULL};
	rb_child_options opt;
	rb_child   *c;
	rb_error	err = {0};
	char	   *block = malloc(1024 * 1024);
	char		buf[64];
	ssize_t		n;
	int			rc = 0;

	memset(block, 'x', 1024 * 1024);
	memset(&opt, 0, sizeof(opt));
	opt.argv = wc;
	opt.stdin_pipe = true;
	c = rb_child_start(&opt, &err);
	assert_non_null(c);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rb_child_write(c, block, 1024 * 1024, NULL, &err), 0);
	rb_child_close_stdin(c);
	n = rb_child_read(c, buf, sizeof(buf) - 1, 5000, &err);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(atol(buf), 3 * 1024 * 1024);
	assert_int_equal(rb_child_wait(c, NULL, &err), 0);
	rb_child_free(c);

	/* dd stops reading after 10 bytes: the writer hears of it, and is not killed by SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	opt.argv = dd;
	c = rb_child_start(&opt, &err);
	assert_non_null(c);
	for (int i = 0; i < 20 && rc == 0; i++)
		rc = rb_child_write(c, block, 1024 * 1024, NULL, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, RB_ERR_CHILD);
	assert_non_null(strstr(err.msg, "dd stopped reading its input"));
	if (rb_child_wait(c, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	rb_child_free(c);
	signal(SIGPIPE, SIG_DFL);
	free(block);
}

static void
test_nice(void **state)
{
	/* field 19 of /proc/self/stat is the nice value of the process reading it */
	const char *stat[] = {"/bin/cat", "/proc/self/stat", NULL};
	rb_child_options opt;
	rb_child   *c;
	rb_error	err = {0};
	char		buf[1024];
	ssize_t		n,
				len = 0;
	const char *p;
	int			field = 2;
	/* nice 7, or what this test runs at when that is lower already (never raised) */
	int			want = getpriority(PRIO_PROCESS, 0) > 7 ? getpriority(PRIO_PROCESS, 0) : 7;

	memset(&opt, 0, sizeof(opt));
	opt.argv = stat;
	opt.nice = 7;
	c = rb_child_start(&opt, &err);
	assert_non_null(c);
	while ((n = rb_child_read(c, buf + len, sizeof(buf) - 1 - (size_t) len, 5000, &err)) > 0)
		len += n;
	buf[len] = '\0';
	assert_int_equal(rb_child_wait(c, NULL, &err), 0);
	rb_child_free(c);
	/* after the command name in parentheses, fields are separated by spaces */
	p = strrchr(buf, ')');
	assert_non_null(p);
	while (*p && field < 19)
		if (*p++ == ' ')
			field++;
	assert_int_equal(atoi(p), want);
}

static void
test_wait_cancelled(void **state)
{
	const char *argv[] = {"/bin/sh", "-c", "exec /bin/sleep 30 >/dev/null", NULL};
	rb_child_options opt = {.argv = argv, .env = NULL, .name = "pg_dump", .kill_grace_ms = 0};
	rb_hooks	hooks = {NULL, cancel_after_a_while, NULL, NULL, NULL};
	rb_error	err = {0};
	rb_child   *c = rb_child_start(&opt, &err);
	char		buf[10];

	while (rb_child_read(c, buf, sizeof(buf), 100, &err) != 0)
		;
	assert_int_equal(rb_child_wait(c, &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_CANCELLED);
	rb_child_free(c);
	assert_true(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_output_and_env),
		cmocka_unit_test(test_large_output),
		cmocka_unit_test(test_exit_code_and_stderr),
		cmocka_unit_test(test_signal_message),
		cmocka_unit_test(test_stderr_bounded),
		cmocka_unit_test(test_exec_failure),
		cmocka_unit_test(test_child_state_is_clean),
		cmocka_unit_test(test_kill_escalates),
		cmocka_unit_test(test_wait_cancelled),
		cmocka_unit_test(test_stdin_pipe),
		cmocka_unit_test(test_nice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
