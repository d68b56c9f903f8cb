/*
 * rb_child.h — runs a helper program (pg_dump, pg_restore) as a child: fork and
 * execve, never a shell; stdin /dev/null, stdout a pipe the caller reads, stderr
 * kept in a bounded buffer (its last 8 KiB) that becomes the error text.
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
} rb_child_options;

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
