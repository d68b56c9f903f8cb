/*
 * cli_pgtools.c — finding and running pg_restore and psql (see cli_pgtools.h).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rb_child.h"
#include "cli_pgtools.h"
#include "cli_progress.h"

static void
oom(void)
{
	fprintf(stderr, "ripple-backup: out of memory\n");
	exit(1);
}

void
cli_argv_add(cli_argv *a, const char *s)
{
	if (a->n + 2 > a->cap)
	{
		size_t		cap = a->cap ? a->cap * 2 : 16;
		char	  **v = realloc(a->v, cap * sizeof(char *));

		if (v == NULL)
			oom();
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n] = strdup(s);
	if (a->v[a->n] == NULL)
		oom();
	a->n++;
	a->v[a->n] = NULL;
}

void
cli_argv_addf(cli_argv *a, const char *fmt,...)
{
	rb_buf		b = RB_BUF_INIT;
	va_list		ap;

	va_start(ap, fmt);
	rb_buf_vappendf(&b, fmt, ap);
	va_end(ap);
	cli_argv_add(a, rb_buf_str(&b));
	rb_buf_free(&b);
}

void
cli_argv_free(cli_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

void
cli_conn_add_args(const cli_conn *c, cli_argv *a)
{
	if (c->host && c->host[0])
		cli_argv_addf(a, "--host=%s", c->host);
	if (c->port && c->port[0])
		cli_argv_addf(a, "--port=%s", c->port);
	if (c->username && c->username[0])
		cli_argv_addf(a, "--username=%s", c->username);
}

static char *
executable_in(const char *dir, const char *name)
{
	rb_buf		p = RB_BUF_INIT;

	if (dir == NULL || dir[0] == '\0')
		return NULL;
	rb_buf_appendf(&p, "%s/%s", dir, name);
	if (access(rb_buf_str(&p), X_OK) == 0)
		return p.data;
	rb_buf_free(&p);
	return NULL;
}

char *
cli_find_pg_program(const char *name, const char *bindir, rb_error *err)
{
	char	   *found;
	char		self[PATH_MAX];
	ssize_t		n;
	const char *path;

	if (bindir != NULL && bindir[0] != '\0')
	{
		found = executable_in(bindir, name);
		if (found == NULL)
			rb_error_set(err, RB_ERR_NOT_FOUND, "program \"%s\" not found in \"%s\"", name, bindir);
		return found;
	}
	if ((found = executable_in(getenv("RIPPLE_BACKUP_PG_BINDIR"), name)) != NULL)
		return found;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
	{
		char	   *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
		{
			*slash = '\0';
			if ((found = executable_in(self, name)) != NULL)
				return found;
		}
	}
	path = getenv("PATH");
	if (path != NULL)
	{
		char	   *copy = strdup(path);
		char	   *save = NULL;

		if (copy == NULL)
			oom();
		for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
			if ((found = executable_in(dir, name)) != NULL)
				break;
		free(copy);
		if (found)
			return found;
	}
	rb_error_set(err, RB_ERR_NOT_FOUND,
				 "program \"%s\" not found beside ripple-backup nor on PATH; use --pg-bindir", name);
	return NULL;
}

char *
cli_quote_ident(const char *name)
{
	rb_buf		b = RB_BUF_INIT;

	rb_buf_append_char(&b, '"');
	for (const char *p = name; *p; p++)
	{
		if (*p == '"')
			rb_buf_append_char(&b, '"');
		rb_buf_append_char(&b, *p);
	}
	rb_buf_append_char(&b, '"');
	return b.data;
}

char *
cli_conninfo_dbname(const char *dbname)
{
	rb_buf		b = RB_BUF_INIT;

	rb_buf_append_str(&b, "dbname='");
	for (const char *p = dbname; *p; p++)
	{
		if (*p == '\'' || *p == '\\')
			rb_buf_append_char(&b, '\\');
		rb_buf_append_char(&b, *p);
	}
	rb_buf_append_char(&b, '\'');
	return b.data;
}

int
cli_run_program(const cli_argv *argv, const char *const *env, const char *label,
				rb_buf *out, const rb_hooks *hooks, rb_error *err)
{
	rb_child_options opt;
	rb_child   *child;
	cli_progress pg;
	char		buf[65536];
	int			rc = 0;

	memset(&opt, 0, sizeof(opt));
	opt.argv = (const char *const *) argv->v;
	opt.env = env;
	child = rb_child_start(&opt, err);
	if (child == NULL)
		return -1;
	cli_progress_start(&pg, label, 0);
	for (;;)
	{
		ssize_t		n = rb_child_read(child, buf, sizeof(buf), 100, err);

		if (n == RB_CHILD_TIMEOUT)
		{
			if (rb_cancelled(hooks))
			{
				rc = rb_error_set(err, RB_ERR_CANCELLED, "canceled by user");
				break;
			}
			cli_progress_tick(&pg);
			continue;
		}
		if (n < 0)
		{
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (out)
			rb_buf_append(out, buf, (size_t) n);
		cli_progress_tick(&pg);
	}
	if (rc == 0)
		rc = rb_child_wait(child, hooks, err);
	cli_progress_finish(&pg);
	rb_child_free(child);
	return rc;
}
