/*
 * s3_xml.c — a small, strict XML scanner for S3 responses, the field extraction
 * for each response this project reads, and the request bodies it writes (see
 * s3_xml.h; what an S3 error code means is in s3_errors.c).
 *
 * The scanner builds a tree of elements; each element keeps its local name (any
 * namespace prefix dropped) and its decoded character data.  Attributes are
 * checked for shape and skipped; comments and processing instructions are skipped;
 * CDATA is kept as text; DOCTYPE (and with it any entity definition) is refused.
 * Limits keep hostile input cheap: nesting depth, name length, element count.
 */
#include "s3_xml.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_crypto.h"

#define XML_MAX_DEPTH		32
#define XML_MAX_NAME		256
#define XML_MAX_ELEMENTS	1000000

typedef struct xnode
{
	char	   *name;
	rb_buf		text;
	struct xnode *parent;
	struct xnode *first_child;
	struct xnode *last_child;
	struct xnode *next;
} xnode;

typedef struct xparser
{
	const char *s;
	size_t		len;
	size_t		pos;
	size_t		nelements;
	rb_error   *err;
} xparser;

static void *
xmalloc(size_t n)
{
	void	   *p = calloc(1, n ? n : 1);

	if (p == NULL)
	{
		fprintf(stderr, "ripple_backup: out of memory (requested %zu bytes)\n", n);
		abort();
	}
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char	   *r = xmalloc(n + 1);

	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static void
xnode_free(xnode *n)
{
	while (n != NULL)
	{
		xnode	   *next = n->next;

		xnode_free(n->first_child);
		free(n->name);
		rb_buf_free(&n->text);
		free(n);
		n = next;
	}
}

static int
xfail(xparser *p, const char *what)
{
	/* position only: the body itself may be large or hostile */
	return rb_error_set(p->err, RB_ERR_REMOTE,
						"could not parse S3 response: %s at byte %zu", what, p->pos);
}

static bool
starts(const xparser *p, const char *lit)
{
	size_t		n = strlen(lit);

	return p->len - p->pos >= n && memcmp(p->s + p->pos, lit, n) == 0;
}

/* Moves past the next occurrence of lit; false when there is none. */
static bool
skip_past(xparser *p, const char *lit)
{
	size_t		n = strlen(lit);

	for (size_t i = p->pos; i + n <= p->len; i++)
	{
		if (memcmp(p->s + i, lit, n) == 0)
		{
			p->pos = i + n;
			return true;
		}
	}
	return false;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool
is_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == '_' || c == ':' || c == '.' || c == '-' || c >= 0x80;
}

static void
append_utf8(rb_buf *b, unsigned long cp)
{
	char		u[4];

	if (cp < 0x80)
		rb_buf_append_char(b, (char) cp);
	else if (cp < 0x800)
	{
		u[0] = (char) (0xC0 | (cp >> 6));
		u[1] = (char) (0x80 | (cp & 0x3F));
		rb_buf_append(b, u, 2);
	}
	else if (cp < 0x10000)
	{
		u[0] = (char) (0xE0 | (cp >> 12));
		u[1] = (char) (0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char) (0x80 | (cp & 0x3F));
		rb_buf_append(b, u, 3);
	}
	else
	{
		u[0] = (char) (0xF0 | (cp >> 18));
		u[1] = (char) (0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char) (0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char) (0x80 | (cp & 0x3F));
		rb_buf_append(b, u, 4);
	}
}

/*
 * Decodes the entity at p->pos (which is at '&') into out and moves past it.
 */
static int
decode_entity(xparser *p, rb_buf *out)
{
	size_t		start = p->pos + 1;
	size_t		end = start;
	size_t		n;
	const char *e = p->s + start;

	while (end < p->len && end - start <= 12 && p->s[end] != ';')
		end++;
	if (end >= p->len || p->s[end] != ';')
		return xfail(p, "unterminated entity reference");
	n = end - start;
	if (n == 3 && memcmp(e, "amp", 3) == 0)
		rb_buf_append_char(out, '&');
	else if (n == 2 && memcmp(e, "lt", 2) == 0)
		rb_buf_append_char(out, '<');
	else if (n == 2 && memcmp(e, "gt", 2) == 0)
		rb_buf_append_char(out, '>');
	else if (n == 4 && memcmp(e, "quot", 4) == 0)
		rb_buf_append_char(out, '"');
	else if (n == 4 && memcmp(e, "apos", 4) == 0)
		rb_buf_append_char(out, '\'');
	else if (n >= 2 && e[0] == '#')
	{
		bool		hex = (e[1] == 'x');
		size_t		i = hex ? 2 : 1;
		unsigned long cp = 0;

		if (i >= n)
			return xfail(p, "empty character reference");
		for (; i < n; i++)
		{
			char		c = e[i];
			int			d;

			if (c >= '0' && c <= '9')
				d = c - '0';
			else if (hex && c >= 'a' && c <= 'f')
				d = c - 'a' + 10;
			else if (hex && c >= 'A' && c <= 'F')
				d = c - 'A' + 10;
			else
				return xfail(p, "invalid character reference");
			cp = cp * (hex ? 16 : 10) + (unsigned long) d;
			if (cp > 0x10FFFF)
				return xfail(p, "character reference out of range");
		}
		if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF))
			return xfail(p, "invalid character reference");
		append_utf8(out, cp);
	}
	else
		return xfail(p, "unknown entity reference");
	p->pos = end + 1;
	return 0;
}

/* Character data up to the next '<' (or the end), decoded into out (may be NULL). */
static int
parse_text(xparser *p, rb_buf *out)
{
	while (p->pos < p->len && p->s[p->pos] != '<')
	{
		char		c = p->s[p->pos];

		if (c == '&')
		{
			rb_buf		scratch = RB_BUF_INIT;
			int			rc = decode_entity(p, out ? out : &scratch);

			if (out == NULL && rc == 0 && scratch.len > 0)
			{
				rb_buf_free(&scratch);
				return xfail(p, "text outside the root element");
			}
			rb_buf_free(&scratch);
			if (rc != 0)
				return -1;
			continue;
		}
		if (c == '\0')
			return xfail(p, "NUL byte");
		if (out == NULL)
		{
			if (!is_space(c))
				return xfail(p, "text outside the root element");
		}
		else if (c == '\r')
		{
			/* XML end-of-line handling: \r\n and lone \r become \n */
			rb_buf_append_char(out, '\n');
			if (p->pos + 1 < p->len && p->s[p->pos + 1] == '\n')
				p->pos++;
		}
		else
		{
			/* copy a run of ordinary bytes at once */
			size_t		run = p->pos;

			while (run < p->len && p->s[run] != '<' && p->s[run] != '&' &&
				   p->s[run] != '\r' && p->s[run] != '\0')
				run++;
			rb_buf_append(out, p->s + p->pos, run - p->pos);
			p->pos = run;
			continue;
		}
		p->pos++;
	}
	return 0;
}

/* Reads a name at p->pos; returns its length (0 = none) and leaves pos after it. */
static size_t
parse_name(xparser *p)
{
	size_t		start = p->pos;

	while (p->pos < p->len && is_name_char((unsigned char) p->s[p->pos]))
		p->pos++;
	return p->pos - start;
}

/* The local part of a qualified name (after the last ':'). */
static char *
local_name(const char *s, size_t n)
{
	const char *colon = NULL;

	for (size_t i = 0; i < n; i++)
		if (s[i] == ':')
			colon = s + i;
	if (colon != NULL)
	{
		n -= (size_t) (colon + 1 - s);
		s = colon + 1;
	}
	return xstrndup(s, n);
}

/*
 * Parses a start tag at p->pos (just after '<').  Returns the new node via *node and
 * sets *empty for <x/>.
 */
static int
parse_start_tag(xparser *p, xnode **node, bool *empty)
{
	size_t		start = p->pos;
	size_t		n = parse_name(p);

	*node = NULL;
	*empty = false;
	if (n == 0 || n > XML_MAX_NAME)
		return xfail(p, "invalid element name");
	/* attributes: name="value" or name='value', checked for shape only */
	for (;;)
	{
		bool		had_space = false;

		while (p->pos < p->len && is_space(p->s[p->pos]))
		{
			p->pos++;
			had_space = true;
		}
		if (p->pos >= p->len)
			return xfail(p, "unterminated start tag");
		if (p->s[p->pos] == '>')
		{
			p->pos++;
			break;
		}
		if (p->s[p->pos] == '/')
		{
			if (p->pos + 1 >= p->len || p->s[p->pos + 1] != '>')
				return xfail(p, "malformed empty-element tag");
			p->pos += 2;
			*empty = true;
			break;
		}
		if (!had_space || parse_name(p) == 0)
			return xfail(p, "malformed attribute");
		while (p->pos < p->len && is_space(p->s[p->pos]))
			p->pos++;
		if (p->pos >= p->len || p->s[p->pos] != '=')
			return xfail(p, "attribute without value");
		p->pos++;
		while (p->pos < p->len && is_space(p->s[p->pos]))
			p->pos++;
		if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\''))
			return xfail(p, "unquoted attribute value");
		{
			char		q = p->s[p->pos++];

			while (p->pos < p->len && p->s[p->pos] != q)
			{
				if (p->s[p->pos] == '<' || p->s[p->pos] == '\0')
					return xfail(p, "invalid character in attribute value");
				p->pos++;
			}
			if (p->pos >= p->len)
				return xfail(p, "unterminated attribute value");
			p->pos++;
		}
	}
	if (++p->nelements > XML_MAX_ELEMENTS)
		return xfail(p, "too many elements");
	*node = xmalloc(sizeof(xnode));
	(*node)->name = local_name(p->s + start, n);
	rb_buf_init(&(*node)->text);
	return 0;
}

/* Parses the whole document; *root is the root element, to free with xnode_free. */
static int
xml_parse(const char *s, size_t len, xnode **root, rb_error *err)
{
	xparser		p = {s, len, 0, 0, err};
	xnode	   *cur = NULL;
	int			depth = 0;

	*root = NULL;
	if (s == NULL || len == 0)
		return rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: empty body");
	if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
		p.pos = 3;
	while (p.pos < p.len)
	{
		if (p.s[p.pos] != '<')
		{
			if (parse_text(&p, cur ? &cur->text : NULL) != 0)
				goto fail;
			continue;
		}
		if (starts(&p, "<?"))
		{
			if (!skip_past(&p, "?>"))
			{
				xfail(&p, "unterminated processing instruction");
				goto fail;
			}
		}
		else if (starts(&p, "<!--"))
		{
			if (!skip_past(&p, "-->"))
			{
				xfail(&p, "unterminated comment");
				goto fail;
			}
		}
		else if (starts(&p, "<![CDATA["))
		{
			size_t		from = p.pos + 9;

			if (cur == NULL)
			{
				xfail(&p, "CDATA outside the root element");
				goto fail;
			}
			if (!skip_past(&p, "]]>"))
			{
				xfail(&p, "unterminated CDATA section");
				goto fail;
			}
			rb_buf_append(&cur->text, p.s + from, p.pos - 3 - from);
		}
		else if (starts(&p, "<!"))
		{
			xfail(&p, "DOCTYPE and declarations are not accepted");
			goto fail;
		}
		else if (starts(&p, "</"))
		{
			size_t		nstart;
			size_t		n;
			char	   *lname;
			bool		match;

			p.pos += 2;
			nstart = p.pos;
			n = parse_name(&p);
			while (p.pos < p.len && is_space(p.s[p.pos]))
				p.pos++;
			if (n == 0 || p.pos >= p.len || p.s[p.pos] != '>')
			{
				xfail(&p, "malformed end tag");
				goto fail;
			}
			p.pos++;
			if (cur == NULL)
			{
				xfail(&p, "end tag without start tag");
				goto fail;
			}
			lname = local_name(p.s + nstart, n);
			match = strcmp(lname, cur->name) == 0;
			free(lname);
			if (!match)
			{
				xfail(&p, "mismatched end tag");
				goto fail;
			}
			cur = cur->parent;
			depth--;
		}
		else
		{
			xnode	   *node;
			bool		empty;

			p.pos++;
			if (cur == NULL && *root != NULL)
			{
				xfail(&p, "more than one root element");
				goto fail;
			}
			if (depth >= XML_MAX_DEPTH)
			{
				xfail(&p, "elements nested too deeply");
				goto fail;
			}
			if (parse_start_tag(&p, &node, &empty) != 0)
				goto fail;
			node->parent = cur;
			if (cur == NULL)
				*root = node;
			else
			{
				if (cur->last_child)
					cur->last_child->next = node;
				else
					cur->first_child = node;
				cur->last_child = node;
			}
			if (!empty)
			{
				cur = node;
				depth++;
			}
		}
	}
	if (cur != NULL)
	{
		xfail(&p, "unexpected end of document");
		goto fail;
	}
	if (*root == NULL)
	{
		xfail(&p, "no root element");
		goto fail;
	}
	return 0;

fail:
	xnode_free(*root);
	*root = NULL;
	return -1;
}

/* --- tree queries ---------------------------------------------------------------- */

static xnode *
child(const xnode *n, const char *name)
{
	for (xnode *c = n->first_child; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

static xnode *
next_named(const xnode *n, const char *name)
{
	for (xnode *c = n->next; c != NULL; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

/* Text of the named child, or NULL when there is no such child. */
static const char *
child_text(const xnode *n, const char *name)
{
	xnode	   *c = child(n, name);

	return c ? rb_buf_str(&c->text) : NULL;
}

static char *
child_dup(const xnode *n, const char *name)
{
	const char *t = child_text(n, name);

	return t ? xstrdup(t) : NULL;
}

/* Copies src into dst[size], truncating at a UTF-8 character boundary. */
static void
copy_trunc(char *dst, size_t size, const char *src)
{
	size_t		n = strlen(src ? src : "");

	if (n >= size)
	{
		n = size - 1;
		while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *
trimmed(const char *s, size_t *n)
{
	while (*s && is_space(*s))
		s++;
	*n = strlen(s);
	while (*n > 0 && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

static bool
text_is(const char *t, const char *want)
{
	size_t		n;
	const char *s;

	if (t == NULL)
		return false;
	s = trimmed(t, &n);
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static int
parse_u64(const char *t, uint64_t *out)
{
	size_t		n;
	const char *s = trimmed(t, &n);
	uint64_t	v = 0;

	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t) (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
wrong_document(rb_error *err, const xnode *root, const char *want)
{
	return rb_error_set(err, RB_ERR_REMOTE,
						"could not parse S3 response: expected <%s>, got <%.64s>",
						want, root->name);
}

/* --- errors ---------------------------------------------------------------------- */

static void
error_info_from_node(const xnode *root, rb_s3_error_info *out)
{
	copy_trunc(out->code, sizeof(out->code), child_text(root, "Code"));
	copy_trunc(out->message, sizeof(out->message), child_text(root, "Message"));
	copy_trunc(out->request_id, sizeof(out->request_id), child_text(root, "RequestId"));
}

int
rb_s3_parse_error(const char *body, size_t len, rb_s3_error_info *out, rb_error *err)
{
	xnode	   *root;

	memset(out, 0, sizeof(*out));
	if (xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "Error") != 0)
	{
		wrong_document(err, root, "Error");
		xnode_free(root);
		return -1;
	}
	error_info_from_node(root, out);
	xnode_free(root);
	return 0;
}

int
rb_s3_error_from_response(rb_error *err, int http_status, const char *body, size_t len)
{
	rb_s3_error_info info;
	rb_error	ignored;

	if (body != NULL && len > 0 &&
		rb_s3_parse_error(body, len, &info, &ignored) == 0 && info.code[0] != '\0')
		return rb_s3_error_from_info(err, http_status, &info);
	return rb_s3_error_from_info(err, http_status, NULL);
}

/* --- ListObjectsV2 --------------------------------------------------------------- */

/* Decodes EncodingType=url values in place (%XX, and '+' as space). */
static void
url_decode_inplace(char *s)
{
	char	   *o = s;

	for (char *i = s; *i; i++)
	{
		if (*i == '%' && rb_hex_digit(i[1]) >= 0 && rb_hex_digit(i[2]) >= 0)
		{
			*o++ = (char) (rb_hex_digit(i[1]) * 16 + rb_hex_digit(i[2]));
			i += 2;
		}
		else if (*i == '+')
			*o++ = ' ';
		else
			*o++ = *i;
	}
	*o = '\0';
}

void
rb_s3_list_page_free(rb_s3_list_page *page)
{
	if (page == NULL)
		return;
	for (size_t i = 0; i < page->nobjects; i++)
	{
		free(page->objects[i].key);
		free(page->objects[i].etag);
		free(page->objects[i].last_modified);
	}
	free(page->objects);
	for (size_t i = 0; i < page->ncommon_prefixes; i++)
		free(page->common_prefixes[i]);
	free(page->common_prefixes);
	free(page->next_continuation_token);
	memset(page, 0, sizeof(*page));
	page->key_count = -1;
}

int
rb_s3_parse_list_objects_v2(const char *body, size_t len, rb_s3_list_page *out,
							rb_error *err)
{
	xnode	   *root;
	xnode	   *c;
	size_t		n = 0;
	bool		url_encoded;
	const char *t;

	memset(out, 0, sizeof(*out));
	out->key_count = -1;
	if (xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "ListBucketResult") != 0)
	{
		wrong_document(err, root, "ListBucketResult");
		xnode_free(root);
		return -1;
	}
	url_encoded = text_is(child_text(root, "EncodingType"), "url");

	for (c = child(root, "Contents"); c != NULL; c = next_named(c, "Contents"))
		n++;
	out->objects = n ? xmalloc(n * sizeof(rb_s3_object)) : NULL;
	for (c = child(root, "Contents"); c != NULL; c = next_named(c, "Contents"))
	{
		rb_s3_object *o = &out->objects[out->nobjects];

		t = child_text(c, "Key");
		if (t == NULL)
		{
			rb_error_set(err, RB_ERR_REMOTE,
						 "could not parse S3 response: <Contents> without <Key>");
			goto fail;
		}
		o->key = xstrdup(t);
		if (url_encoded)
			url_decode_inplace(o->key);
		o->etag = child_dup(c, "ETag");
		o->last_modified = child_dup(c, "LastModified");
		out->nobjects++;
		t = child_text(c, "Size");
		if (t != NULL && parse_u64(t, &o->size) != 0)
		{
			rb_error_set(err, RB_ERR_REMOTE,
						 "could not parse S3 response: invalid <Size> for key \"%.200s\"",
						 o->key);
			goto fail;
		}
	}

	n = 0;
	for (c = child(root, "CommonPrefixes"); c != NULL; c = next_named(c, "CommonPrefixes"))
		n++;
	out->common_prefixes = n ? xmalloc(n * sizeof(char *)) : NULL;
	for (c = child(root, "CommonPrefixes"); c != NULL; c = next_named(c, "CommonPrefixes"))
	{
		t = child_text(c, "Prefix");
		if (t == NULL)
			continue;
		out->common_prefixes[out->ncommon_prefixes] = xstrdup(t);
		if (url_encoded)
			url_decode_inplace(out->common_prefixes[out->ncommon_prefixes]);
		out->ncommon_prefixes++;
	}

	t = child_text(root, "IsTruncated");
	if (t != NULL && !text_is(t, "true") && !text_is(t, "false"))
	{
		rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: invalid <IsTruncated>");
		goto fail;
	}
	out->is_truncated = text_is(t, "true");
	t = child_text(root, "NextContinuationToken");
	if (t != NULL && t[0] != '\0')
		out->next_continuation_token = xstrdup(t);
	if (out->is_truncated && out->next_continuation_token == NULL)
	{
		rb_error_set(err, RB_ERR_REMOTE,
					 "could not parse S3 response: truncated listing without <NextContinuationToken>");
		goto fail;
	}
	t = child_text(root, "KeyCount");
	if (t != NULL)
	{
		uint64_t	kc;

		if (parse_u64(t, &kc) != 0 || kc > (uint64_t) 1 << 40)
		{
			rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: invalid <KeyCount>");
			goto fail;
		}
		out->key_count = (long) kc;
	}
	xnode_free(root);
	return 0;

fail:
	xnode_free(root);
	rb_s3_list_page_free(out);
	return -1;
}

/* --- multipart upload ------------------------------------------------------------- */

int
rb_s3_parse_initiate_multipart(const char *body, size_t len, char **upload_id,
							   rb_error *err)
{
	xnode	   *root;
	const char *t;

	*upload_id = NULL;
	if (xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "InitiateMultipartUploadResult") != 0)
	{
		wrong_document(err, root, "InitiateMultipartUploadResult");
		xnode_free(root);
		return -1;
	}
	t = child_text(root, "UploadId");
	if (t == NULL || t[0] == '\0')
	{
		xnode_free(root);
		return rb_error_set(err, RB_ERR_REMOTE,
							"could not parse S3 response: no <UploadId> in InitiateMultipartUploadResult");
	}
	*upload_id = xstrdup(t);
	xnode_free(root);
	return 0;
}

void
rb_s3_complete_result_free(rb_s3_complete_result *res)
{
	if (res == NULL)
		return;
	free(res->location);
	free(res->bucket);
	free(res->key);
	free(res->etag);
	memset(res, 0, sizeof(*res));
}

int
rb_s3_parse_complete_multipart(const char *body, size_t len, rb_s3_complete_result *out,
							   rb_error *err)
{
	xnode	   *root;
	const char *t;

	memset(out, 0, sizeof(*out));
	if (xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "Error") == 0)
	{
		rb_s3_error_info info;

		/* S3 sent 200 and then failed: an error like any other */
		error_info_from_node(root, &info);
		xnode_free(root);
		if (info.code[0] == '\0')
			copy_trunc(info.code, sizeof(info.code), "InternalError");
		return rb_s3_error_from_info(err, 200, &info);
	}
	if (strcmp(root->name, "CompleteMultipartUploadResult") != 0)
	{
		wrong_document(err, root, "CompleteMultipartUploadResult");
		xnode_free(root);
		return -1;
	}
	t = child_text(root, "ETag");
	if (t == NULL || t[0] == '\0')
	{
		xnode_free(root);
		return rb_error_set(err, RB_ERR_REMOTE,
							"could not parse S3 response: no <ETag> in CompleteMultipartUploadResult");
	}
	out->etag = xstrdup(t);
	out->location = child_dup(root, "Location");
	out->bucket = child_dup(root, "Bucket");
	out->key = child_dup(root, "Key");
	xnode_free(root);
	return 0;
}

/* --- DeleteObjects ---------------------------------------------------------------- */

void
rb_s3_delete_result_free(rb_s3_delete_result *res)
{
	if (res == NULL)
		return;
	for (size_t i = 0; i < res->ndeleted; i++)
		free(res->deleted[i]);
	free(res->deleted);
	for (size_t i = 0; i < res->nerrors; i++)
	{
		free(res->errors[i].key);
		free(res->errors[i].code);
		free(res->errors[i].message);
	}
	free(res->errors);
	memset(res, 0, sizeof(*res));
}

int
rb_s3_parse_delete_result(const char *body, size_t len, rb_s3_delete_result *out,
						  rb_error *err)
{
	xnode	   *root;
	xnode	   *c;
	size_t		nd = 0;
	size_t		ne = 0;

	memset(out, 0, sizeof(*out));
	if (xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "DeleteResult") != 0)
	{
		wrong_document(err, root, "DeleteResult");
		xnode_free(root);
		return -1;
	}
	for (c = root->first_child; c != NULL; c = c->next)
	{
		if (strcmp(c->name, "Deleted") == 0)
			nd++;
		else if (strcmp(c->name, "Error") == 0)
			ne++;
	}
	out->deleted = nd ? xmalloc(nd * sizeof(char *)) : NULL;
	out->errors = ne ? xmalloc(ne * sizeof(rb_s3_delete_error)) : NULL;
	for (c = root->first_child; c != NULL; c = c->next)
	{
		if (strcmp(c->name, "Deleted") == 0)
		{
			const char *k = child_text(c, "Key");

			if (k != NULL)
				out->deleted[out->ndeleted++] = xstrdup(k);
		}
		else if (strcmp(c->name, "Error") == 0)
		{
			rb_s3_delete_error *e = &out->errors[out->nerrors++];
			const char *code = child_text(c, "Code");

			e->key = xstrdup(child_text(c, "Key") ? child_text(c, "Key") : "");
			e->code = xstrdup(code && code[0] ? code : "InternalError");
			e->message = xstrdup(child_text(c, "Message") ? child_text(c, "Message") : "");
		}
	}
	xnode_free(root);
	return 0;
}

/* --- writing ---------------------------------------------------------------------- */

void
rb_xml_escape(const char *s, rb_buf *out)
{
	if (s == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '&':
				rb_buf_append_str(out, "&amp;");
				break;
			case '<':
				rb_buf_append_str(out, "&lt;");
				break;
			case '>':
				rb_buf_append_str(out, "&gt;");
				break;
			case '"':
				rb_buf_append_str(out, "&quot;");
				break;
			case '\'':
				rb_buf_append_str(out, "&apos;");
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					rb_buf_appendf(out, "&#%u;", (unsigned) *p);
				else
					rb_buf_append_char(out, (char) *p);
				break;
		}
	}
}

void
rb_s3_build_complete_body(const char *const *etags, size_t nparts, rb_buf *out)
{
	rb_buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					  "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < nparts; i++)
	{
		rb_buf_appendf(out, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
		rb_xml_escape(etags[i], out);
		rb_buf_append_str(out, "</ETag></Part>");
	}
	rb_buf_append_str(out, "</CompleteMultipartUpload>");
}

void
rb_s3_build_delete_body(const char *const *keys, size_t nkeys, bool quiet, rb_buf *out)
{
	rb_buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					  "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	if (quiet)
		rb_buf_append_str(out, "<Quiet>true</Quiet>");
	for (size_t i = 0; i < nkeys; i++)
	{
		rb_buf_append_str(out, "<Object><Key>");
		rb_xml_escape(keys[i], out);
		rb_buf_append_str(out, "</Key></Object>");
	}
	rb_buf_append_str(out, "</Delete>");
}
