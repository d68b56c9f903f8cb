/*
 * cli_db_properties.c — the database's own owner, ACL, comment and settings from a
 * backup's archive, for restore --create (see cli_db_properties.h).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_db_properties.h"
#include "cli_pgtools.h"
#include "pg_client.h"
#include "rb_alloc.h"

/* The buffer's text as a malloc'd string ("" when empty); the buffer is freed. */
static char *
take_string(rb_buf *b)
{
	char	   *s = rb_strdup(rb_buf_str(b));

	rb_buf_free(b);
	return s;
}

/* Whether line (up to its end) starts with prefix. */
static bool
starts_with(const char *line, const char *prefix)
{
	return strncmp(line, prefix, strlen(prefix)) == 0;
}

/*
 * A `pg_restore --list` line is "<dump id>; <oid> <oid> <desc> <schema> <tag> <owner>";
 * the database's own entries are the ones listed below (schema "-").
 */
static bool
is_database_entry(const char *line, size_t len)
{
	static const char *const kinds[] = {
		"DATABASE - ", "DATABASE PROPERTIES - ", "ACL - DATABASE ",
		"COMMENT - DATABASE ", "SECURITY LABEL - DATABASE "
	};
	const char *p = line;
	const char *end = line + len;
	int			fields = 0;

	if (len == 0 || line[0] == ';')
		return false;
	/* skip "<id>; <oid> <oid> " */
	while (p < end && fields < 3)
	{
		while (p < end && *p != ' ')
			p++;
		while (p < end && *p == ' ')
			p++;
		fields++;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if ((size_t) (end - p) > strlen(kinds[i]) && strncmp(p, kinds[i], strlen(kinds[i])) == 0)
			return true;
	return false;
}

char *
cli_db_properties_list(const char *listing)
{
	rb_buf		out = RB_BUF_INIT;
	const char *p = listing;

	while (*p)
	{
		const char *nl = strchr(p, '\n');
		size_t		len = nl ? (size_t) (nl - p) : strlen(p);

		if (is_database_entry(p, len))
		{
			rb_buf_append(&out, p, len);
			rb_buf_append_char(&out, '\n');
		}
		p += len + (nl ? 1 : 0);
	}
	return take_string(&out);
}

/* The ways pg_dump may have written the name: always quoted, or bare if it may be. */
static bool
name_at(const char *p, const char *quoted, const char *bare, size_t *len)
{
	size_t		ql = strlen(quoted);

	if (strncmp(p, quoted, ql) == 0 && (p[ql] == ' ' || p[ql] == ';'))
	{
		*len = ql;
		return true;
	}
	if (bare != NULL)
	{
		size_t		bl = strlen(bare);

		if (strncmp(p, bare, bl) == 0 && (p[bl] == ' ' || p[bl] == ';'))
		{
			*len = bl;
			return true;
		}
	}
	return false;
}

/* A name that pg_dump's fmtId leaves unquoted when it is no keyword: [a-z_][a-z0-9_$]*. */
static bool
may_be_bare(const char *name)
{
	if (!(islower((unsigned char) name[0]) || name[0] == '_'))
		return false;
	for (const char *c = name; *c; c++)
		if (!(islower((unsigned char) *c) || isdigit((unsigned char) *c) || *c == '_' || *c == '$'))
			return false;
	return true;
}

char *
cli_db_properties_rewrite(const char *dump_sql, const char *archived, const char *target, int *n)
{
	static const char *const kinds[] = {
		"ALTER DATABASE ", "ALTER ROLE ", "GRANT ", "REVOKE ",
		"COMMENT ON DATABASE ", "SECURITY LABEL "
	};
	char	   *quoted = rb_pg_quote_ident(archived);
	char	   *qtarget = rb_pg_quote_ident(target);
	const char *bare = may_be_bare(archived) ? archived : NULL;
	rb_buf		out = RB_BUF_INIT;
	rb_buf		stmt = RB_BUF_INIT;
	const char *p = dump_sql;

	*n = 0;
	while (*p)
	{
		const char *nl = strchr(p, '\n');
		size_t		len = nl ? (size_t) (nl - p) : strlen(p);
		bool		kind = false;

		for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !kind; i++)
			kind = starts_with(p, kinds[i]);
		/* one statement a line, as pg_dump writes these: "... ;" */
		if (kind && len > 0 && p[len - 1] == ';')
		{
			const char *q = p;
			const char *end = p + len;
			bool		renamed = false;

			rb_buf_reset(&stmt);
			while (q < end)
			{
				size_t		nlen;

				if (!renamed && (size_t) (end - q) > 9 && strncmp(q, "DATABASE ", 9) == 0 &&
					name_at(q + 9, quoted, bare, &nlen))
				{
					rb_buf_append_str(&stmt, "DATABASE ");
					rb_buf_append_str(&stmt, qtarget);
					q += 9 + nlen;
					renamed = true;
					continue;
				}
				rb_buf_append_char(&stmt, *q++);
			}
			/* a statement on another database is never run */
			if (renamed)
			{
				rb_buf_append(&out, rb_buf_str(&stmt), stmt.len);
				rb_buf_append_char(&out, '\n');
				(*n)++;
			}
		}
		p += len + (nl ? 1 : 0);
	}
	rb_buf_free(&stmt);
	free(quoted);
	free(qtarget);
	return take_string(&out);
}

int
cli_db_properties_sql(const char *pg_restore, const char *archive, const char *list_path,
					  const char *archived, const char *target, bool no_owner,
					  bool no_privileges, const rb_hooks *hooks, char **sql, int *n,
					  rb_error *err)
{
	rb_argv		argv = RB_ARGV_INIT;
	rb_argv		print = RB_ARGV_INIT;
	rb_buf		listing = RB_BUF_INIT;
	rb_buf		dump_sql = RB_BUF_INIT;
	char	   *list = NULL;
	int			rc = -1;
	int			fd;

	*sql = NULL;
	*n = 0;
	rb_argv_add(&argv, pg_restore);
	rb_argv_add(&argv, "--create");
	rb_argv_add(&argv, "--list");
	rb_argv_add(&argv, archive);
	if (cli_run_program(&argv, NULL, "pg_restore --list", &listing, hooks, err) != 0)
		goto out;
	list = cli_db_properties_list(rb_buf_str(&listing));
	if (list[0] == '\0')
	{
		*sql = rb_strdup("");
		rc = 0;
		goto out;
	}
	fd = open(list_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, list, strlen(list)) != (ssize_t) strlen(list) || close(fd) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not write \"%s\"", list_path);
		if (fd >= 0)
			close(fd);
		goto out;
	}
	rb_argv_add(&print, pg_restore);
	rb_argv_add(&print, "--create");
	if (no_owner)
		rb_argv_add(&print, "--no-owner");
	if (no_privileges)
		rb_argv_add(&print, "--no-privileges");
	rb_argv_addf(&print, "--use-list=%s", list_path);
	rb_argv_add(&print, "--file=-");
	rb_argv_add(&print, archive);
	if (cli_run_program(&print, NULL, "pg_restore --create", &dump_sql, hooks, err) != 0)
		goto out;
	*sql = cli_db_properties_rewrite(rb_buf_str(&dump_sql), archived, target, n);
	rc = 0;
out:
	unlink(list_path);
	free(list);
	rb_argv_free(&argv);
	rb_argv_free(&print);
	rb_buf_free(&listing);
	rb_buf_free(&dump_sql);
	return rc;
}
