/*
 * pg_client.c — argv, quoting, connection options and the run of PostgreSQL's
 * client programs (see pg_client.h).
 */
#define _GNU_SOURCE				/* vasprintf */
#include "pg_client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_child.h"

void
rb_argv_add(rb_argv *a, const char *s)
{
	char	   *copy;

	if (a->failed)
		return;
	if (a->n + 2 > a->cap)
	{
		size_t		cap = a->cap ? a->cap * 2 : 16;
		char	  **v = realloc(a->v, cap * sizeof(char *));

		if (v == NULL)
		{
			a->failed = true;
			return;
		}
		a->v = v;
		a->cap = cap;
	}
	copy = strdup(s);
	if (copy == NULL)
	{
		a->failed = true;
		return;
	}
	a->v[a->n++] = copy;
	a->v[a->n] = NULL;
}

void
rb_argv_addf(rb_argv *a, const char *fmt,...)
{
	char	   *s = NULL;
	va_list		ap;
	int			n;

	if (a->failed)
		return;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
	{
		a->failed = true;
		return;
	}
	rb_argv_add(a, s);
	free(s);
}

void
rb_argv_free(rb_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* open + text with every character of `special` preceded by `escape` + close */
static char *
quote_with(const char *open, const char *text, const char *special, char escape, char close)
{
	rb_buf		b = RB_BUF_INIT;

	rb_buf_append_str(&b, open);
	for (const char *p = text; *p; p++)
	{
		if (strchr(special, *p) != NULL)
			rb_buf_append_char(&b, escape ? escape : *p);
		rb_buf_append_char(&b, *p);
	}
	rb_buf_append_char(&b, close);
	return b.data;
}

char *
rb_pg_quote_ident(const char *name)
{
	return quote_with("\"", name, "\"", 0, '"');
}

char *
rb_pg_quote_literal(const char *text)
{
	return quote_with("E'", text, "'\\", 0, '\'');
}

void
rb_pg_conninfo_add(rb_buf *ci, const char *key, const char *value)
{
	char	   *q;

	if (value == NULL || value[0] == '\0')
		return;
	if (ci->len > 0)
		rb_buf_append_char(ci, ' ');
	rb_buf_append_str(ci, key);
	q = quote_with("='", value, "'\\", '\\', '\'');
	rb_buf_append_str(ci, q);
	free(q);
}

void
rb_pg_conninfo_add_server(rb_buf *ci, const char *host, int port, const char *user)
{
	rb_pg_conninfo_add(ci, "host", host);
	if (port > 0)
	{
		char		text[16];

		snprintf(text, sizeof(text), "%d", port);
		rb_pg_conninfo_add(ci, "port", text);
	}
	rb_pg_conninfo_add(ci, "user", user);
}

char *
rb_pg_conninfo_dbname(const char *dbname)
{
	rb_buf		b = RB_BUF_INIT;

	/* even an empty name is passed as such, never libpq's default */
	if (dbname[0] == '\0')
		rb_buf_append_str(&b, "dbname=''");
	else
		rb_pg_conninfo_add(&b, "dbname", dbname);
	return b.data;
}

void
rb_pg_conn_args(rb_argv *a, const rb_pg_conn *c)
{
	if (c->host && c->host[0])
		rb_argv_addf(a, "--host=%s", c->host);
	if (c->port && c->port[0])
		rb_argv_addf(a, "--port=%s", c->port);
	if (c->user && c->user[0])
		rb_argv_addf(a, "--username=%s", c->user);
}

char *
rb_pg_program_path(const char *bindir, const char *program)
{
	size_t		len;
	char	   *path;

	if (bindir == NULL)
		return strdup(program);
	len = strlen(bindir) + strlen(program) + 2;
	path = malloc(len);
	if (path != NULL)
		snprintf(path, len, "%s/%s", bindir, program);
	return path;
}

void
rb_pg_argv_program(rb_argv *a, const char *bindir, const char *program)
{
	char	   *path = rb_pg_program_path(bindir, program);

	if (path == NULL)
		a->failed = true;
	else
		rb_argv_add(a, path);
	free(path);
}

void
rb_pg_argv_psql(rb_argv *a, const char *bindir, const char *psql, const rb_pg_conn *conn,
				const char *dbname)
{
	char	   *conninfo = rb_pg_conninfo_dbname(dbname);

	rb_pg_argv_program(a, bindir, psql);
	rb_argv_add(a, "-X");
	rb_argv_add(a, "-q");
	rb_argv_add(a, "--no-password");
	rb_argv_add(a, "-v");
	rb_argv_add(a, "ON_ERROR_STOP=1");
	rb_pg_conn_args(a, conn);
	rb_argv_addf(a, "--dbname=%s", conninfo);
	free(conninfo);
}

int
rb_pg_run(const rb_argv *a, const rb_pg_run_options *opt, const rb_hooks *hooks, rb_error *err)
{
	rb_child_options copt;
	rb_child   *child;
	const char *name = opt->name;
	char		buf[16384];
	int			rc = 0;

	if (a->failed || a->n == 0)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory while building the arguments of %s",
							name ? name : "a client program");
	if (name == NULL)
	{
		name = strrchr(a->v[0], '/');
		name = name ? name + 1 : a->v[0];
	}
	memset(&copt, 0, sizeof(copt));
	copt.argv = (const char *const *) a->v;
	copt.env = opt->env;
	copt.name = name;
	child = rb_child_start(&copt, err);
	if (child == NULL)
		return -1;
	for (;;)
	{
		ssize_t		n = rb_child_read(child, buf, sizeof(buf), 100, err);

		if (n == RB_CHILD_TIMEOUT)
		{
			if (rb_cancelled(hooks))
			{
				rc = rb_error_set(err, RB_ERR_CANCELLED, "%s was canceled", name);
				break;
			}
			if (opt->tick)
				opt->tick(opt->tick_arg);
			continue;
		}
		if (n < 0)
		{
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		if (opt->out)
			rb_buf_append(opt->out, buf, (size_t) n);
		if (opt->tick)
			opt->tick(opt->tick_arg);
	}
	if (rc == 0)
		rc = rb_child_wait(child, hooks, err);
	if (opt->stderr_text)
		rb_buf_append_str(opt->stderr_text, rb_child_stderr(child));
	rb_child_free(child);
	return rc;
}
