/*
 * rb_child.h — runs a helper program (pg_dump, pg_restore) as a child: fork and
 * execve, never a shell; stdin /dev/null (or a pipe the caller writes, with
 * stdin_pipe), stdout a pipe the caller reads, stderr kept in a bounded buffer
 * (its last 8 KiB) that becomes the error text.  The child may be started at a
 * lower CPU and I/O priority (nice), set between fork and exec.
 *
 * Safe inside a PostgreSQL backend: the child resets every signal disposition and
 * the signal mask before exec, no descriptor but 0/1/2 survives into it, and the
 * child gets SIGKILL if the parent dies.  Every child started is reaped: by
 * rb_child_wait, or by rb_child_free (SIGTERM, then SIGKILL after a grace period).
 */
#ifndef RB_CHILD_PROCESS_H
#define RB_CHILD_PROCESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "rb_error.h"

#define RB_CHILD_STDERR_MAX 8192
/* rb_child_read's result when nothing arrived before the timeout */
#define RB_CHILD_TIMEOUT (-2)

typedef struct rb_child rb_child;

typedef struct rb_child_options
{
	const char *const *argv;	/* argv[0] is the program's path; NULL-ended */
	const char *const *env;		/* "NAME=value" added to (or replacing in) environ; NULL-ended */
	const char *name;			/* for messages ("pg_dump"); NULL = basename of argv[0] */
	int			kill_grace_ms;	/* SIGTERM → SIGKILL delay; 0 = 2000 */
	bool		stdin_pipe;		/* stdin is a pipe written with rb_child_write */
	/*
	 * 1..19: the child runs at this nice value (rb_lower_priority, before exec,
	 * so it holds from the program's first instruction; its threads and
	 * children inherit it); 0 = inherited.
	 */
	int			nice;
} rb_child_options;

/*
 * Lowers the calling process's priority: nice 1..19 (setpriority) and the
 * best-effort I/O class at the matching level (ioprio_set); 0, or a process
 * already at that nice value or lower, is left as it is (never raised).
 * Failures are ignored: a priority that cannot be lowered is no reason to stop.
 * An unprivileged process cannot raise it again.  Async-signal-safe.
 */
void		rb_lower_priority(int nice);

/* Starts the program; fails (RB_ERR_CHILD) when it cannot be executed. */
rb_child   *rb_child_start(const rb_child_options *opt, rb_error *err);

pid_t		rb_child_pid(const rb_child *c);

/*
 * Reads up to cap bytes of the child's stdout, collecting stderr meanwhile.
 * Returns the number of bytes (> 0), 0 at end of stdout, RB_CHILD_TIMEOUT when
 * nothing arrived within timeout_ms (-1 = wait forever), or -1 on error.
 */
ssize_t		rb_child_read(rb_child *c, void *buf, size_t cap, int timeout_ms, rb_error *err);

/*
 * With stdin_pipe: writes all len bytes to the child's stdin, collecting stderr
 * meanwhile (the child's stdout is not read: use it for programs that write
 * little there, such as pg_restore --dbname).  Returns 0, or -1 with err
 * (RB_ERR_CHILD when the child closed its stdin or exited first; RB_ERR_CANCELLED
 * when hooks->cancel said stop, polled every 100 ms while the pipe is full).
 */
int			rb_child_write(rb_child *c, const void *data, size_t len, const rb_hooks *hooks,
						   rb_error *err);

/* With stdin_pipe: end of input for the child (also done by rb_child_wait). */
void		rb_child_close_stdin(rb_child *c);

/*
 * After end of stdout: drains stderr and waits for the child to exit, polling
 * hooks->cancel (then kills it).  Returns 0 if it exited with code 0, else -1 and
 *   "pg_dump exited with code 1: <stderr>"
 *   "pg_dump was terminated by signal 9: Killed"
 */
int			rb_child_wait(rb_child *c, const rb_hooks *hooks, rb_error *err);

/* SIGTERM, SIGKILL after the grace period, reap.  Idempotent. */
void		rb_child_kill(rb_child *c);

/* Describes how the child ended (after wait or kill) as above; "" if still running. */
void		rb_child_describe_exit(const rb_child *c, char *buf, size_t len);

/* The last RB_CHILD_STDERR_MAX bytes of stderr collected so far, trimmed, NUL-ended. */
const char *rb_child_stderr(rb_child *c);

/* Kills and reaps the child if still running, closes its pipes, frees. */
void		rb_child_free(rb_child *c);

#endif							/* RB_CHILD_PROCESS_H */
