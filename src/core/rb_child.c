/*
 * rb_child.c — fork/execve of helper programs with captured output, safe
 * inside a PostgreSQL backend (see rb_child.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rb_child.h"
#include "rb_time.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

struct rb_child
{
	pid_t		pid;
	int			in_fd;			/* write end of stdin (stdin_pipe), -1 when closed */
	int			out_fd;			/* read end of stdout, -1 when closed */
	int			err_fd;			/* read end of stderr, -1 when closed */
	int			reaped;
	int			status;			/* waitpid status once reaped */
	int			kill_grace_ms;
	char		name[64];
	char		errbuf[RB_CHILD_STDERR_MAX + 1];
	size_t		errlen;
	int			err_truncated;	/* older stderr bytes were dropped */
	char		errtrim[RB_CHILD_STDERR_MAX + 8];
};

static void
close_fd(int *fd)
{
	if (*fd >= 0)
	{
		close(*fd);
		*fd = -1;
	}
}

/* Builds environ with opt->env's entries added or replacing ones of the same name. */
static char **
build_env(const char *const *extra)
{
	size_t		n = 0,
				m = 0,
				k = 0;
	char	  **envp;

	while (environ != NULL && environ[n] != NULL)
		n++;
	while (extra != NULL && extra[m] != NULL)
		m++;
	envp = calloc(n + m + 1, sizeof(char *));
	if (envp == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
	{
		const char *eq = strchr(environ[i], '=');
		size_t		namelen = eq ? (size_t) (eq - environ[i]) : strlen(environ[i]);
		int			replaced = 0;

		for (size_t j = 0; j < m; j++)
			if (strncmp(extra[j], environ[i], namelen) == 0 && extra[j][namelen] == '=')
				replaced = 1;
		if (!replaced)
			envp[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		envp[k++] = (char *) extra[j];
	envp[k] = NULL;
	return envp;
}

/* Marks every descriptor from 3 up close-on-exec (in the child, before exec). */
static void
cloexec_from_3(void)
{
#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	{
		long		max = sysconf(_SC_OPEN_MAX);

		if (max < 0 || max > 65536)
			max = 65536;
		for (int fd = 3; fd < max; fd++)
			(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
}

/*
 * glibc refuses sigaction() on the real-time signals it reserves for itself (32
 * and 33 on Linux), yet a parent started with them ignored passes that on through
 * exec: seen when the server is started from a background job.  Reset them with
 * the raw system call so pg_dump starts with default dispositions everywhere.
 */
static void
reset_reserved_signal(int sig)
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
	ksa.handler = SIG_DFL;
	(void) syscall(SYS_rt_sigaction, sig, &ksa, NULL, sizeof(ksa.mask));
#else
	(void) sig;
#endif
}

/*
 * The I/O class is best-effort at the level the kernel derives from a nice value
 * for a process without an I/O priority of its own ((nice + 20) / 5: nice 10 is
 * level 6, nice 15 and 19 level 7, the lowest), set explicitly so that it holds
 * whatever the process's I/O priority was; the I/O schedulers that honour it
 * (bfq) then favour the workload too.
 */
void
rb_lower_priority(int nice)
{
	int			now;

	if (nice <= 0)
		return;
	if (nice > 19)
		nice = 19;
	/* already as low or lower (a server started under nice): never raise it */
	errno = 0;
	now = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && now >= nice)
		return;
#if defined(__linux__) && defined(SYS_ioprio_set)
	{
		const int	ioprio_class_be = 2,
					ioprio_class_shift = 13,
					ioprio_who_process = 1;
		int			level = (nice + 20) / 5;

		if (level > 7)
			level = 7;
		(void) syscall(SYS_ioprio_set, ioprio_who_process, 0,
					   (ioprio_class_be << ioprio_class_shift) | level);
	}
#endif
	(void) setpriority(PRIO_PROCESS, 0, nice);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void
child_exec(const rb_child_options *opt, char **envp, int in_fd, int out_fd, int err_fd,
		   int report_fd, pid_t parent)
{
	struct sigaction sa;
	sigset_t	none;
	int			e;

	/* default dispositions and an empty mask: the backend's handlers must not run here */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP &&
			sigaction(sig, &sa, NULL) < 0 && errno == EINVAL)
			reset_reserved_signal(sig);
	sigemptyset(&none);
	(void) sigprocmask(SIG_SETMASK, &none, NULL);

	/* die with the parent */
	(void) prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	rb_lower_priority(opt->nice);

	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		goto fail;
	cloexec_from_3();
	execve(opt->argv[0], (char *const *) opt->argv, envp);
fail:
	e = errno;
	if (write(report_fd, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

rb_child *
rb_child_start(const rb_child_options *opt, rb_error *err)
{
	rb_child   *c;
	int			in_pipe[2] = {-1, -1},
				out_pipe[2] = {-1, -1},
				err_pipe[2] = {-1, -1},
				rep_pipe[2] = {-1, -1};
	int			in_src = -1,	/* the child's stdin: /dev/null or the pipe's read end */
				in_hi = -1,
				out_hi = -1,
				err_hi = -1;
	char	  **envp = NULL;
	const char *base;
	pid_t		parent = getpid();
	int			child_errno = 0;
	ssize_t		n;

	if (opt == NULL || opt->argv == NULL || opt->argv[0] == NULL)
	{
		rb_error_set(err, RB_ERR_INTERNAL, "no program to run");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	c->pid = -1;
	c->in_fd = c->out_fd = c->err_fd = -1;
	c->kill_grace_ms = opt->kill_grace_ms > 0 ? opt->kill_grace_ms : 2000;
	base = strrchr(opt->argv[0], '/');
	snprintf(c->name, sizeof(c->name), "%s",
			 opt->name ? opt->name : (base ? base + 1 : opt->argv[0]));

	envp = build_env(opt->env);
	if (envp == NULL ||
		pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0 ||
		pipe2(rep_pipe, O_CLOEXEC) < 0 ||
		(opt->stdin_pipe && pipe2(in_pipe, O_CLOEXEC) < 0) ||
		(in_src = opt->stdin_pipe ? fcntl(in_pipe[0], F_DUPFD_CLOEXEC, 3) :
		 open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
		/* the child's 0/1/2 sources above 2, so no dup2 can clobber another */
		(in_hi = fcntl(in_src, F_DUPFD_CLOEXEC, 3)) < 0 ||
		(out_hi = fcntl(out_pipe[1], F_DUPFD_CLOEXEC, 3)) < 0 ||
		(err_hi = fcntl(err_pipe[1], F_DUPFD_CLOEXEC, 3)) < 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not create pipes for %s: %s", c->name, strerror(errno));
		goto fail;
	}

	c->pid = fork();
	if (c->pid < 0)
	{
		rb_error_set(err, RB_ERR_CHILD, "could not fork %s: %s", c->name, strerror(errno));
		goto fail;
	}
	if (c->pid == 0)
		child_exec(opt, envp, in_hi, out_hi, err_hi, rep_pipe[1], parent);

	/* parent */
	close_fd(&in_src);
	close_fd(&in_hi);
	close_fd(&out_hi);
	close_fd(&err_hi);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[1]);
	close_fd(&rep_pipe[1]);
	close_fd(&in_pipe[0]);
	free(envp);
	envp = NULL;
	c->in_fd = in_pipe[1];
	in_pipe[1] = -1;
	if (c->in_fd >= 0)
	{
		(void) fcntl(c->in_fd, F_SETFL, O_NONBLOCK);
#ifdef F_SETPIPE_SZ
		(void) fcntl(c->in_fd, F_SETPIPE_SZ, 1024 * 1024);
#endif
	}
	c->out_fd = out_pipe[0];
	c->err_fd = err_pipe[0];
	out_pipe[0] = err_pipe[0] = -1;
	(void) fcntl(c->out_fd, F_SETFL, O_NONBLOCK);
	(void) fcntl(c->err_fd, F_SETFL, O_NONBLOCK);
#ifdef F_SETPIPE_SZ
	/* a 1 MiB pipe (the unprivileged maximum by default): fewer wake-ups per MB */
	(void) fcntl(c->out_fd, F_SETPIPE_SZ, 1024 * 1024);
#endif

	/* exec succeeded when the report pipe closes without a word */
	do
		n = read(rep_pipe[0], &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	close_fd(&rep_pipe[0]);
	if (n == (ssize_t) sizeof(child_errno))
	{
		rb_child_kill(c);
		rb_error_set(err, RB_ERR_CHILD, "could not execute \"%s\": %s", opt->argv[0],
					 strerror(child_errno));
		rb_child_free(c);
		return NULL;
	}
	return c;

fail:
	free(envp);
	close_fd(&in_pipe[0]);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&rep_pipe[0]);
	close_fd(&rep_pipe[1]);
	close_fd(&in_src);
	close_fd(&in_hi);
	close_fd(&out_hi);
	close_fd(&err_hi);
	free(c);
	return NULL;
}

pid_t
rb_child_pid(const rb_child *c)
{
	return c->pid;
}

/* Reads what stderr has now; closes it at EOF. */
static void
drain_stderr(rb_child *c)
{
	char		tmp[RB_CHILD_STDERR_MAX / 2];

	while (c->err_fd >= 0)
	{
		ssize_t		n = read(c->err_fd, tmp, sizeof(tmp));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				close_fd(&c->err_fd);
			return;
		}
		if (n == 0)
		{
			close_fd(&c->err_fd);
			return;
		}
		/* keep the last RB_CHILD_STDERR_MAX bytes (tmp is smaller than that) */
		if (c->errlen + (size_t) n > RB_CHILD_STDERR_MAX)
		{
			size_t		drop = c->errlen + (size_t) n - RB_CHILD_STDERR_MAX;

			memmove(c->errbuf, c->errbuf + drop, c->errlen - drop);
			c->errlen -= drop;
			c->err_truncated = 1;
		}
		memcpy(c->errbuf + c->errlen, tmp, (size_t) n);
		c->errlen += (size_t) n;
	}
}

ssize_t
rb_child_read(rb_child *c, void *buf, size_t cap, int timeout_ms, rb_error *err)
{
	int64_t		deadline = timeout_ms < 0 ? -1 : rb_now_ms() + timeout_ms;

	for (;;)
	{
		struct pollfd pfd[2];
		int			nfd = 0,
					wait_ms,
					r;

		if (c->out_fd < 0)
			return 0;
		/* try stdout first: a busy pipe is read without a poll */
		{
			ssize_t		n = read(c->out_fd, buf, cap);

			if (n > 0)
				return n;
			if (n == 0)
			{
				close_fd(&c->out_fd);
				return 0;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			{
				rb_error_set(err, RB_ERR_IO, "could not read the output of %s: %s",
							 c->name, strerror(errno));
				return -1;
			}
		}
		pfd[nfd].fd = c->out_fd;
		pfd[nfd].events = POLLIN;
		nfd++;
		if (c->err_fd >= 0)
		{
			pfd[nfd].fd = c->err_fd;
			pfd[nfd].events = POLLIN;
			nfd++;
		}
		if (deadline < 0)
			wait_ms = -1;
		else
		{
			int64_t		left = deadline - rb_now_ms();

			if (left <= 0)
				return RB_CHILD_TIMEOUT;
			wait_ms = (int) left;
		}
		r = poll(pfd, (nfds_t) nfd, wait_ms);
		if (r < 0 && errno != EINTR)
		{
			rb_error_set(err, RB_ERR_IO, "poll failed: %s", strerror(errno));
			return -1;
		}
		if (r < 0)
			return RB_CHILD_TIMEOUT;	/* a signal: let the caller check its flags */
		if (nfd > 1 && pfd[1].revents)
			drain_stderr(c);
		if (r == 0)
			return RB_CHILD_TIMEOUT;
	}
}

int
rb_child_write(rb_child *c, const void *data, size_t len, const rb_hooks *hooks, rb_error *err)
{
	const char *p = data;

	if (c->in_fd < 0)
		return rb_error_set(err, RB_ERR_CHILD, "the input of %s is closed", c->name);
	while (len > 0)
	{
		ssize_t		n = write(c->in_fd, p, len);
		struct pollfd pfd[2];
		nfds_t		nfd = 1;

		if (n > 0)
		{
			p += n;
			len -= (size_t) n;
			continue;
		}
		if (n < 0 && errno == EPIPE)
		{
			close_fd(&c->in_fd);
			drain_stderr(c);
			return rb_error_set(err, RB_ERR_CHILD, "%s stopped reading its input", c->name);
		}
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return rb_error_set(err, RB_ERR_IO, "could not write to %s: %s", c->name,
								strerror(errno));
		/* the pipe is full: wait for room, reading stderr so that the child cannot block on it */
		if (rb_cancelled(hooks))
			return rb_error_set(err, RB_ERR_CANCELLED, "%s was canceled", c->name);
		pfd[0].fd = c->in_fd;
		pfd[0].events = POLLOUT;
		pfd[0].revents = 0;
		if (c->err_fd >= 0)
		{
			pfd[1].fd = c->err_fd;
			pfd[1].events = POLLIN;
			pfd[1].revents = 0;
			nfd = 2;
		}
		if (poll(pfd, nfd, 100) > 0 && nfd > 1 && pfd[1].revents)
			drain_stderr(c);
	}
	return 0;
}

void
rb_child_close_stdin(rb_child *c)
{
	close_fd(&c->in_fd);
}

static int
try_reap(rb_child *c, int block)
{
	pid_t		r;

	if (c->reaped || c->pid <= 0)
		return 1;
	do
		r = waitpid(c->pid, &c->status, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == c->pid || (r < 0 && errno == ECHILD))
	{
		if (r < 0)
			c->status = 0;		/* reaped by someone else (SIGCHLD ignored): unknown */
		c->reaped = 1;
		return 1;
	}
	return 0;
}

const char *
rb_child_stderr(rb_child *c)
{
	size_t		start = 0,
				end = c->errlen;

	while (start < end && (c->errbuf[start] == '\n' || c->errbuf[start] == ' ' ||
						   c->errbuf[start] == '\r' || c->errbuf[start] == '\t'))
		start++;
	while (end > start && (c->errbuf[end - 1] == '\n' || c->errbuf[end - 1] == ' ' ||
						   c->errbuf[end - 1] == '\r' || c->errbuf[end - 1] == '\t'))
		end--;
	snprintf(c->errtrim, sizeof(c->errtrim), "%s%.*s", c->err_truncated ? "..." : "",
			 (int) (end - start), c->errbuf + start);
	return c->errtrim;
}

void
rb_child_describe_exit(const rb_child *c, char *buf, size_t len)
{
	if (!c->reaped)
		snprintf(buf, len, "%s", "");
	else if (WIFEXITED(c->status))
		snprintf(buf, len, "%s exited with code %d", c->name, WEXITSTATUS(c->status));
	else if (WIFSIGNALED(c->status))
		snprintf(buf, len, "%s was terminated by signal %d: %s", c->name, WTERMSIG(c->status),
				 strsignal(WTERMSIG(c->status)));
	else
		snprintf(buf, len, "%s exited with unrecognized status %d", c->name, c->status);
}

/* Fills err from how the child ended, with its stderr. */
static int
exit_error(rb_child *c, rb_error *err)
{
	char		how[256];
	const char *text = rb_child_stderr(c);

	rb_child_describe_exit(c, how, sizeof(how));
	if (text[0])
		return rb_error_set(err, RB_ERR_CHILD, "%s: %s", how, text);
	return rb_error_set(err, RB_ERR_CHILD, "%s", how);
}

int
rb_child_wait(rb_child *c, const rb_hooks *hooks, rb_error *err)
{
	close_fd(&c->in_fd);		/* end of its input */
	close_fd(&c->out_fd);		/* a child still writing gets SIGPIPE */
	while (!try_reap(c, 0))
	{
		struct pollfd pfd = {c->err_fd, POLLIN, 0};

		if (rb_cancelled(hooks))
		{
			rb_child_kill(c);
			return rb_error_set(err, RB_ERR_CANCELLED, "%s was cancelled", c->name);
		}
		if (c->err_fd >= 0)
		{
			if (poll(&pfd, 1, 50) > 0)
				drain_stderr(c);
		}
		else
		{
			struct timespec ts = {0, 10 * 1000 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	drain_stderr(c);			/* what is left (a grandchild may keep it open) */
	close_fd(&c->err_fd);
	if (WIFEXITED(c->status) && WEXITSTATUS(c->status) == 0)
		return 0;
	return exit_error(c, err);
}

void
rb_child_kill(rb_child *c)
{
	int64_t		deadline;

	if (c == NULL || c->pid <= 0 || try_reap(c, 0))
		return;
	(void) kill(c->pid, SIGTERM);
	deadline = rb_now_ms() + c->kill_grace_ms;
	while (rb_now_ms() < deadline)
	{
		struct timespec ts = {0, 10 * 1000 * 1000};

		if (try_reap(c, 0))
			break;
		drain_stderr(c);
		nanosleep(&ts, NULL);
	}
	if (!c->reaped)
	{
		(void) kill(c->pid, SIGKILL);
		(void) try_reap(c, 1);
	}
	drain_stderr(c);
}

void
rb_child_free(rb_child *c)
{
	if (c == NULL)
		return;
	close_fd(&c->in_fd);
	close_fd(&c->out_fd);
	rb_child_kill(c);
	close_fd(&c->err_fd);
	free(c);
}
