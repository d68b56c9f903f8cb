/*
 * cli_db_properties.c — the database's own owner, ACL, comment and settings from a
 * backup's archive, for restore --create (see cli_db_properties.h).
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
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

/*
 * SQL of the archive as tokens.  pg_restore's output is not trusted text: a comment,
 * setting value or role name recorded in the archive may hold newlines, quotes,
 * semicolons or dollar quotes.  So statements are found by lexing the whole text as
 * the server would (standard_conforming_strings on, as pg_dump writes), never line by
 * line, and a statement is kept only when every token is a plain word, a quoted
 * identifier, a string literal, a number or one of , = . ( ): no comment, dollar
 * quote, operator, psql variable or second statement can ride along.
 */
typedef enum
{
	TK_END, TK_WORD, TK_QIDENT, TK_STRING, TK_ESTRING, TK_NUMBER, TK_PUNCT, TK_SEMI,
	TK_META, TK_BAD
} tk_kind;

typedef struct
{
	tk_kind		kind;
	const char *start;
	size_t		len;
} tk;

static bool
is_ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool
is_ident_char(unsigned char c)
{
	return is_ident_start(c) || isdigit(c) || c == '$';
}

/* The end of a quoted run that starts at p (on the quote q), or NULL if unterminated. */
static const char *
quoted_end(const char *p, char q, bool backslash)
{
	for (p++; *p; p++)
	{
		if (backslash && *p == '\\')
		{
			if (p[1] == '\0')
				return NULL;
			p++;
		}
		else if (*p == q)
		{
			if (p[1] != q)
				return p + 1;
			p++;
		}
	}
	return NULL;
}

/*
 * The next token from *pp.  Whitespace and "--" comments before it are skipped
 * (*ws_comment tells whether a comment was among them); a backslash starts a psql
 * meta-command, which runs to the end of its line.
 */
static tk
next_token(const char **pp, bool *ws_comment)
{
	const char *p = *pp;
	tk			t = {TK_BAD, NULL, 0};
	const char *e = NULL;

	*ws_comment = false;
	for (;;)
	{
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v')
			p++;
		if (p[0] == '-' && p[1] == '-')
		{
			*ws_comment = true;
			while (*p && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	t.start = p;
	if (*p == '\0')
	{
		t.kind = TK_END;
		e = p;
	}
	else if ((*p == 'E' || *p == 'e') && p[1] == '\'')
	{
		e = quoted_end(p + 1, '\'', true);
		t.kind = TK_ESTRING;
	}
	else if (is_ident_start((unsigned char) *p))
	{
		e = p;
		while (is_ident_char((unsigned char) *e))
			e++;
		/* B'', X'', N'', U&'' and friends: not written by pg_dump for these */
		t.kind = (*e == '\'' || *e == '&' || *e == '"') ? TK_BAD : TK_WORD;
	}
	else if (*p == '"')
	{
		e = quoted_end(p, '"', false);
		t.kind = TK_QIDENT;
	}
	else if (*p == '\'')
	{
		e = quoted_end(p, '\'', false);
		t.kind = TK_STRING;
	}
	else if (isdigit((unsigned char) *p))
	{
		e = p;
		while (isdigit((unsigned char) *e) || *e == '.')
			e++;
		t.kind = is_ident_char((unsigned char) *e) ? TK_BAD : TK_NUMBER;
	}
	else if (*p == ',' || *p == '=' || *p == '.' || *p == '(' || *p == ')')
	{
		e = p + 1;
		t.kind = TK_PUNCT;
	}
	else if (*p == ';')
	{
		e = p + 1;
		t.kind = TK_SEMI;
	}
	else if (*p == '\\')
	{
		e = p;
		while (*e && *e != '\n')
			e++;
		t.kind = TK_META;
	}
	if (e == NULL || t.kind == TK_BAD)
	{
		t.kind = TK_BAD;
		e = p + strlen(p);
	}
	t.len = (size_t) (e - p);
	*pp = e;
	return t;
}

static bool
word_is(const tk *t, const char *word)
{
	return t->kind == TK_WORD && strlen(word) == t->len && strncasecmp(t->start, word, t->len) == 0;
}

/* Whether token t names database `name` (a bare word is folded to lower case). */
static bool
names(const tk *t, const char *name)
{
	size_t		i = 0;

	if (t->kind == TK_WORD)
	{
		if (strlen(name) != t->len)
			return false;
		for (i = 0; i < t->len; i++)
			if (tolower((unsigned char) t->start[i]) != (unsigned char) name[i])
				return false;
		return true;
	}
	if (t->kind == TK_QIDENT)
	{
		const char *c = t->start + 1;
		const char *end = t->start + t->len - 1;

		for (; c < end; c++, i++)
		{
			if (name[i] != *c)
				return false;
			if (*c == '"')
				c++;
		}
		return name[i] == '\0';
	}
	return false;
}

/*
 * Which token of statement s[0..n) names the database, or -1 if the statement is
 * none of the kinds kept (ALTER DATABASE d ..., ALTER ROLE r IN DATABASE d SET|RESET
 * ..., GRANT|REVOKE privileges ON DATABASE d TO|FROM ..., COMMENT ON DATABASE d IS
 * 'text', SECURITY LABEL [FOR p] ON DATABASE d IS 'text').
 */
static int
database_token(const tk *s, int n)
{
	int			i;

	if (n >= 3 && word_is(&s[0], "ALTER") && word_is(&s[1], "DATABASE"))
		return 2;
	if (n >= 7 && word_is(&s[0], "ALTER") && word_is(&s[1], "ROLE") &&
		(s[2].kind == TK_WORD || s[2].kind == TK_QIDENT) && word_is(&s[3], "IN") &&
		word_is(&s[4], "DATABASE") && (word_is(&s[6], "SET") || word_is(&s[6], "RESET")))
		return 5;
	if (n >= 5 && (word_is(&s[0], "GRANT") || word_is(&s[0], "REVOKE")))
	{
		for (i = 1; i + 2 < n && !word_is(&s[i], "ON"); i++)
			if (s[i].kind != TK_WORD && !(s[i].kind == TK_PUNCT && s[i].start[0] == ','))
				return -1;
		if (i + 3 < n && word_is(&s[i + 1], "DATABASE") &&
			word_is(&s[i + 3], word_is(&s[0], "GRANT") ? "TO" : "FROM"))
			return i + 2;
		return -1;
	}
	i = 0;
	if (n >= 2 && word_is(&s[0], "SECURITY") && word_is(&s[1], "LABEL"))
	{
		i = 2;
		if (n > 4 && word_is(&s[2], "FOR") && (s[3].kind == TK_WORD || s[3].kind == TK_QIDENT))
			i = 4;
	}
	else if (n >= 1 && word_is(&s[0], "COMMENT"))
		i = 1;
	if (i > 0 && n == i + 5 && word_is(&s[i], "ON") && word_is(&s[i + 1], "DATABASE") &&
		word_is(&s[i + 3], "IS") &&
		(s[i + 4].kind == TK_STRING || s[i + 4].kind == TK_ESTRING || word_is(&s[i + 4], "NULL")))
		return i + 2;
	return -1;
}

/*
 * Token t as it is sent: a standard string holding a backslash becomes an E'' string
 * with the backslashes doubled, so that it means the same whatever
 * standard_conforming_strings the server that runs it has.
 */
static void
append_token(rb_buf *out, const tk *t)
{
	if (t->kind == TK_STRING && memchr(t->start, '\\', t->len) != NULL)
	{
		rb_buf_append_char(out, 'E');
		for (size_t i = 0; i < t->len; i++)
		{
			if (t->start[i] == '\\')
				rb_buf_append_char(out, '\\');
			rb_buf_append_char(out, t->start[i]);
		}
	}
	else
		rb_buf_append(out, t->start, t->len);
}

char *
cli_db_properties_rewrite(const char *dump_sql, const char *archived, const char *target, int *n)
{
	char	   *qtarget = rb_pg_quote_ident(target);
	rb_buf		out = RB_BUF_INIT;
	rb_buf		encoding = RB_BUF_INIT;
	tk		   *s = NULL;
	int			ns = 0,
				cap = 0;
	bool		unreadable = false;
	const char *p = dump_sql;

	*n = 0;
	while (!unreadable)
	{
		bool		comment;
		tk			t = next_token(&p, &comment);

		if (t.kind == TK_BAD || (comment && ns > 0) || (t.kind == TK_END && ns > 0))
		{
			/* a statement this lexer cannot read: nothing is run rather than a guess */
			unreadable = true;
			break;
		}
		if (t.kind == TK_END)
			break;
		if (t.kind == TK_META)
		{
			if (ns > 0)
				unreadable = true;
			continue;			/* \connect, \restrict ...: psql's, not the server's */
		}
		if (t.kind != TK_SEMI)
		{
			if (ns == cap)
			{
				cap = cap ? cap * 2 : 32;
				s = rb_realloc(s, sizeof(tk) * (size_t) cap);
			}
			s[ns++] = t;
			continue;
		}
		/*
		 * pg_restore's SET client_encoding: the encoding of the archive's text, sent
		 * first so that psql and the server read the rest in it, not in psql's
		 * locale's (where a byte of a character may look like a backslash)
		 */
		if (ns == 4 && word_is(&s[0], "SET") && word_is(&s[1], "client_encoding") &&
			s[2].kind == TK_PUNCT && s[2].start[0] == '=' && s[3].kind == TK_STRING)
		{
			rb_buf_reset(&encoding);
			rb_buf_append_str(&encoding, "SET client_encoding = ");
			append_token(&encoding, &s[3]);
			rb_buf_append_str(&encoding, ";\n");
		}
		else if (ns > 0)
		{
			int			d = database_token(s, ns);

			/* a statement on another database is never run */
			if (d >= 0 && names(&s[d], archived))
			{
				for (int i = 0; i < ns; i++)
				{
					/* between tokens there is only whitespace (a comment was refused) */
					if (i > 0)
						rb_buf_append(&out, s[i - 1].start + s[i - 1].len,
									  (size_t) (s[i].start - (s[i - 1].start + s[i - 1].len)));
					if (i == d)
						rb_buf_append_str(&out, qtarget);
					else
						append_token(&out, &s[i]);
				}
				rb_buf_append_str(&out, ";\n");
				(*n)++;
			}
		}
		ns = 0;
	}
	free(s);
	free(qtarget);
	if (unreadable)
	{
		rb_buf_free(&out);
		rb_buf_free(&encoding);
		*n = -1;
		return NULL;
	}
	if (*n > 0 && encoding.len > 0)
	{
		rb_buf_append(&encoding, rb_buf_str(&out), out.len);
		rb_buf_free(&out);
		return take_string(&encoding);
	}
	rb_buf_free(&encoding);
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
	if (*sql == NULL)
	{
		*n = 0;
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "the database's owner, privileges and settings in the backup could not be read: pg_restore printed SQL that is not a plain statement of the kinds kept");
		goto out;
	}
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
