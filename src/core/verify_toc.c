/*
 * verify_toc.c — the split of a backup's table of contents for an unprivileged
 * restore, and the rebuilt CREATE EXTENSION statements (see verify_toc.h).
 *
 * A `pg_restore --list` line is "<id>; <catalog oid> <oid> <DESC> <namespace>
 * <name> <owner>", where DESC may be several words and namespace is "-" for
 * objects outside a schema.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pg_client.h"
#include "rb_buf.h"
#include "verify.h"
#include "verify_toc.h"

/* pg_dump's TOC descriptions of more than one word (the rest are one word) */
static const char *const multiword_descs[] = {
	"MATERIALIZED VIEW DATA", "MATERIALIZED VIEW", "TABLE DATA", "TABLE ATTACH",
	"SEQUENCE SET", "SEQUENCE OWNED BY", "FK CONSTRAINT", "CHECK CONSTRAINT",
	"DEFAULT ACL", "FOREIGN TABLE", "FOREIGN DATA WRAPPER", "USER MAPPING",
	"LARGE OBJECT", "ROW SECURITY", "EVENT TRIGGER", "INDEX ATTACH",
	"OPERATOR CLASS", "OPERATOR FAMILY", "ACCESS METHOD", "SHELL TYPE",
	"PROCEDURAL LANGUAGE", "DATABASE PROPERTIES", "PUBLICATION TABLES IN SCHEMA",
	"PUBLICATION TABLE", "TEXT SEARCH CONFIGURATION", "TEXT SEARCH DICTIONARY",
	"TEXT SEARCH PARSER", "TEXT SEARCH TEMPLATE", "POLICY", NULL
};

/* s (of length len) starts with word w followed by a space or its end */
static bool
starts_with_word(const char *s, size_t len, const char *w)
{
	size_t		wl = strlen(w);

	return len >= wl && strncmp(s, w, wl) == 0 && (len == wl || s[wl] == ' ');
}

typedef struct toc_line
{
	const char *desc;
	size_t		desc_len;
	const char *ns;				/* the namespace, then the name and the owner */
	size_t		ns_len;			/* to the end of the line */
} toc_line;

/* false for comments, blank lines and anything that is not an entry */
static bool
toc_line_parse(const char *line, size_t len, toc_line *t)
{
	const char *end = line + len;
	const char *semi = memchr(line, ';', len);
	const char *q;
	size_t		rest;

	if (len == 0 || *line == ';' || semi == NULL)
		return false;
	q = semi + 1;
	for (int words = 0; words < 2 && q < end; words++)
	{
		while (q < end && *q == ' ')
			q++;
		while (q < end && *q != ' ')
			q++;
	}
	while (q < end && *q == ' ')
		q++;
	t->desc = q;
	t->desc_len = 0;
	rest = (size_t) (end - q);
	for (int i = 0; multiword_descs[i]; i++)
	{
		if (starts_with_word(q, rest, multiword_descs[i]))
		{
			t->desc_len = strlen(multiword_descs[i]);
			break;
		}
	}
	if (t->desc_len == 0)
	{
		while (t->desc_len < rest && q[t->desc_len] != ' ')
			t->desc_len++;
	}
	t->ns = q + t->desc_len;
	while (t->ns < end && *t->ns == ' ')
		t->ns++;
	t->ns_len = (size_t) (end - t->ns);
	return true;
}

static bool
desc_is(const toc_line *t, const char *d)
{
	return t->desc_len == strlen(d) && strncmp(t->desc, d, t->desc_len) == 0;
}

/* the name after a "-" namespace ("- <name> <owner>"), or NULL */
static const char *
name_outside_schema(const toc_line *t, size_t *len)
{
	const char *end = t->ns + t->ns_len;
	const char *name;

	if (!starts_with_word(t->ns, t->ns_len, "-"))
		return NULL;
	name = t->ns + 1;
	while (name < end && *name == ' ')
		name++;
	*len = (size_t) (end - name);
	return name;
}

/* name (of length len) is "<word> <ext>..." */
static bool
names_object(const char *name, size_t len, const char *word, const char *ext)
{
	size_t		wl = strlen(word);

	return starts_with_word(name, len, word) && len > wl + 1 &&
		starts_with_word(name + wl + 1, len - wl - 1, ext);
}

/*
 * The entries of extension ext: "EXTENSION - <ext>", "SCHEMA - <ext>", their
 * COMMENT and ACL entries, and every entry whose namespace is <ext>.
 */
static bool
is_own_entry(const toc_line *t, const char *ext)
{
	const char *name;
	size_t		nlen;

	if (starts_with_word(t->ns, t->ns_len, ext))
		return true;
	name = name_outside_schema(t, &nlen);
	if (name == NULL)
		return false;
	if ((desc_is(t, "EXTENSION") || desc_is(t, "SCHEMA")) && starts_with_word(name, nlen, ext))
		return true;
	return (desc_is(t, "COMMENT") || desc_is(t, "ACL")) &&
		(names_object(name, nlen, "EXTENSION", ext) || names_object(name, nlen, "SCHEMA", ext));
}

/* "COMMENT - <what> ...", where what may be several words */
static bool
comment_on(const toc_line *t, const char *what)
{
	const char *name;
	size_t		nlen;

	if (!desc_is(t, "COMMENT") || (name = name_outside_schema(t, &nlen)) == NULL)
		return false;
	return starts_with_word(name, nlen, what);
}

static void
append_line(rb_buf *b, int *n, const char *line, size_t len)
{
	rb_buf_append(b, line, len);
	rb_buf_append_char(b, '\n');
	(*n)++;
}

void
rb_verify_toc_plan_make(const char *listing, const char *ext, rb_verify_toc_plan *plan)
{
	rb_buf		schemas = RB_BUF_INIT;
	rb_buf		extensions = RB_BUF_INIT;
	rb_buf		rest = RB_BUF_INIT;
	const char *p = listing;

	memset(plan, 0, sizeof(*plan));
	rb_buf_append_str(&schemas, "");
	rb_buf_append_str(&extensions, "");
	rb_buf_append_str(&rest, "");
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		size_t		len = eol ? (size_t) (eol - p) : strlen(p);
		toc_line	t;

		if (toc_line_parse(p, len, &t))
		{
			if (is_own_entry(&t, ext))
				plan->own_entries++;
			else if (desc_is(&t, "EVENT TRIGGER"))
				plan->event_triggers++;
			else if (comment_on(&t, "EVENT TRIGGER"))
				;				/* goes with its event trigger */
			else if (comment_on(&t, "EXTENSION"))
				plan->extension_comments++;
			else if (desc_is(&t, "SCHEMA"))
				append_line(&schemas, &plan->n_schemas, p, len);
			else if (desc_is(&t, "EXTENSION"))
				append_line(&extensions, &plan->n_extensions, p, len);
			else
				append_line(&rest, &plan->n_rest, p, len);
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	plan->schemas = schemas.data;
	plan->extensions = extensions.data;
	plan->rest = rest.data;
}

void
rb_verify_toc_plan_free(rb_verify_toc_plan *plan)
{
	free(plan->schemas);
	free(plan->extensions);
	free(plan->rest);
	memset(plan, 0, sizeof(*plan));
}

/*
 * One identifier as pg_dump's fmtId writes it: "..." with "" for a quote, or a
 * bare lower-case word.  *p advances past it; NULL when there is none.
 */
static char *
parse_ident(const char **p)
{
	const char *s = *p;
	rb_buf		b = RB_BUF_INIT;

	rb_buf_append_str(&b, "");
	if (*s == '"')
	{
		for (s++;; s++)
		{
			if (*s == '\0')
			{
				rb_buf_free(&b);
				return NULL;
			}
			if (*s == '"')
			{
				if (s[1] != '"')
					break;
				s++;
			}
			rb_buf_append_char(&b, *s);
		}
		s++;
	}
	else
	{
		while ((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '$')
			rb_buf_append_char(&b, *s++);
	}
	if (s == *p || b.len == 0)
	{
		rb_buf_free(&b);
		return NULL;
	}
	*p = s;
	return b.data;
}

/*
 * "<prefix><ident><middle><ident>;" at the start of p (middle NULL: one name);
 * *end = the end of its line.  A quoted identifier may hold newlines.
 */
static bool
parse_statement(const char *p, const char *prefix, const char *middle, char **first, char **second,
				const char **end)
{
	const char *q = p + strlen(prefix);

	*first = NULL;
	*second = NULL;
	if ((*first = parse_ident(&q)) == NULL)
		return false;
	if (middle != NULL)
	{
		if (strncmp(q, middle, strlen(middle)) != 0)
			return false;
		q += strlen(middle);
		if ((*second = parse_ident(&q)) == NULL)
			return false;
	}
	*end = q + 1;
	return *q == ';' && (q[1] == '\n' || q[1] == '\0');
}

char *
rb_verify_server_sql(const char *dump_sql, const char *owner, int *schemas, int *extensions,
					 rb_error *err)
{
	static const char create_schema[] = "CREATE SCHEMA ";
	static const char create_extension[] = "CREATE EXTENSION ";
	static const char if_not_exists[] = "CREATE EXTENSION IF NOT EXISTS ";
	rb_buf		out = RB_BUF_INIT;
	char	   *qowner = rb_pg_quote_ident(owner);
	const char *p = dump_sql;

	*schemas = 0;
	*extensions = 0;
	rb_buf_append_str(&out, "");
	while (*p)
	{
		const char *eol = strchr(p, '\n');
		bool		is_schema = strncmp(p, create_schema, sizeof(create_schema) - 1) == 0;
		bool		is_extension = strncmp(p, create_extension, sizeof(create_extension) - 1) == 0;

		if (is_schema || is_extension)
		{
			char	   *a = NULL;
			char	   *b = NULL;
			const char *stmt_end = NULL;
			bool		ok = is_schema ?
				parse_statement(p, create_schema, NULL, &a, &b, &stmt_end) :
				(strncmp(p, if_not_exists, sizeof(if_not_exists) - 1) == 0 &&
				 parse_statement(p, if_not_exists, " WITH SCHEMA ", &a, &b, &stmt_end));

			/*
			 * Go on after the statement, not after its first line: a quoted name
			 * may hold a newline followed by text of a statement's shape.
			 */
			if (ok)
				eol = *stmt_end == '\n' ? stmt_end : NULL;

			if (ok)
			{
				char	   *qa = rb_pg_quote_ident(a);

				if (is_schema)
				{
					rb_buf_appendf(&out, "CREATE SCHEMA IF NOT EXISTS %s AUTHORIZATION %s;\n", qa, qowner);
					(*schemas)++;
				}
				else
				{
					char	   *qb = rb_pg_quote_ident(b);

					rb_buf_appendf(&out, "CREATE EXTENSION IF NOT EXISTS %s WITH SCHEMA %s;\n", qa, qb);
					(*extensions)++;
					free(qb);
				}
				free(qa);
			}
			free(a);
			free(b);
			if (!ok)
			{
				int			len = eol ? (int) (eol - p) : (int) strlen(p);

				rb_buf_free(&out);
				free(qowner);
				rb_error_set(err, RB_ERR_INTEGRITY,
							 "unexpected statement in the archive's schema and extension entries: %.*s",
							 len > 200 ? 200 : len, p);
				return NULL;
			}
		}
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	free(qowner);
	return out.data;
}
