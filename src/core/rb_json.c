/*
 * rb_json.c — JSON string escaping and a strict recursive-descent parser (see rb_json.h).
 */
#include "rb_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"

#define MAX_DEPTH 64

void
rb_json_append_string(rb_buf *out, const char *s)
{
	if (s == NULL)
	{
		rb_buf_append_str(out, "null");
		return;
	}
	rb_buf_append_char(out, '"');
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '"': rb_buf_append_str(out, "\\\""); break;
			case '\\': rb_buf_append_str(out, "\\\\"); break;
			case '\n': rb_buf_append_str(out, "\\n"); break;
			case '\r': rb_buf_append_str(out, "\\r"); break;
			case '\t': rb_buf_append_str(out, "\\t"); break;
			case '\b': rb_buf_append_str(out, "\\b"); break;
			case '\f': rb_buf_append_str(out, "\\f"); break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					rb_buf_appendf(out, "\\u%04x", *p);
				else
					rb_buf_append_char(out, (char) *p);
		}
	}
	rb_buf_append_char(out, '"');
}

/* --- parser ----------------------------------------------------------------- */

typedef struct parser
{
	const char *s;
	size_t		len;
	size_t		pos;
	rb_error   *err;
	int			failed;
} parser;

static rb_json *
perr(parser *p, const char *what)
{
	if (!p->failed)
		rb_error_set(p->err, RB_ERR_INTEGRITY, "invalid JSON at offset %zu: %s", p->pos, what);
	p->failed = 1;
	return NULL;
}

static void
skip_ws(parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
							   p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static rb_json *
new_value(rb_json_type t)
{
	rb_json    *v = rb_calloc(1, sizeof(rb_json));

	v->type = t;
	return v;
}

static int
hex4(parser *p, unsigned *out)
{
	unsigned	v = 0;

	if (p->pos + 4 > p->len)
		return -1;
	for (int i = 0; i < 4; i++)
	{
		char		c = p->s[p->pos + i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned) (c - 'A' + 10);
		else
			return -1;
	}
	p->pos += 4;
	*out = v;
	return 0;
}

static void
put_utf8(rb_buf *b, unsigned cp)
{
	if (cp < 0x80)
		rb_buf_append_char(b, (char) cp);
	else if (cp < 0x800)
	{
		rb_buf_append_char(b, (char) (0xc0 | (cp >> 6)));
		rb_buf_append_char(b, (char) (0x80 | (cp & 0x3f)));
	}
	else if (cp < 0x10000)
	{
		rb_buf_append_char(b, (char) (0xe0 | (cp >> 12)));
		rb_buf_append_char(b, (char) (0x80 | ((cp >> 6) & 0x3f)));
		rb_buf_append_char(b, (char) (0x80 | (cp & 0x3f)));
	}
	else
	{
		rb_buf_append_char(b, (char) (0xf0 | (cp >> 18)));
		rb_buf_append_char(b, (char) (0x80 | ((cp >> 12) & 0x3f)));
		rb_buf_append_char(b, (char) (0x80 | ((cp >> 6) & 0x3f)));
		rb_buf_append_char(b, (char) (0x80 | (cp & 0x3f)));
	}
}

/* Parses a string at p->pos (on the quote) into a malloc'd buffer. */
static char *
parse_string(parser *p, size_t *lenp)
{
	rb_buf		b = RB_BUF_INIT;

	p->pos++;					/* opening quote */
	rb_buf_append(&b, "", 0);	/* allocated and NUL-terminated even when empty */
	for (;;)
	{
		unsigned char c;

		if (p->pos >= p->len)
		{
			rb_buf_free(&b);
			perr(p, "unterminated string");
			return NULL;
		}
		c = (unsigned char) p->s[p->pos++];
		if (c == '"')
			break;
		if (c < 0x20)
		{
			p->pos--;
			rb_buf_free(&b);
			perr(p, "control character in string");
			return NULL;
		}
		if (c != '\\')
		{
			rb_buf_append_char(&b, (char) c);
			continue;
		}
		if (p->pos >= p->len)
			continue;			/* reported as unterminated */
		c = (unsigned char) p->s[p->pos++];
		switch (c)
		{
			case '"': rb_buf_append_char(&b, '"'); break;
			case '\\': rb_buf_append_char(&b, '\\'); break;
			case '/': rb_buf_append_char(&b, '/'); break;
			case 'b': rb_buf_append_char(&b, '\b'); break;
			case 'f': rb_buf_append_char(&b, '\f'); break;
			case 'n': rb_buf_append_char(&b, '\n'); break;
			case 'r': rb_buf_append_char(&b, '\r'); break;
			case 't': rb_buf_append_char(&b, '\t'); break;
			case 'u':
				{
					unsigned	cp,
								lo;

					if (hex4(p, &cp) < 0)
						goto bad_escape;
					if (cp >= 0xd800 && cp < 0xdc00)
					{
						if (p->pos + 2 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
							goto bad_escape;
						p->pos += 2;
						if (hex4(p, &lo) < 0 || lo < 0xdc00 || lo >= 0xe000)
							goto bad_escape;
						cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					}
					else if (cp >= 0xdc00 && cp < 0xe000)
						goto bad_escape;
					put_utf8(&b, cp);
					break;
				}
			default:
				goto bad_escape;
		}
	}
	*lenp = b.len;
	return b.data;
bad_escape:
	rb_buf_free(&b);
	perr(p, "invalid escape in string");
	return NULL;
}

static rb_json *parse_value(parser *p, int depth);

static rb_json *
parse_container(parser *p, int depth, bool is_object)
{
	rb_json    *v = new_value(is_object ? RB_JSON_OBJECT : RB_JSON_ARRAY);
	rb_json   **tail = &v->child;
	char		close = is_object ? '}' : ']';

	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == close)
	{
		p->pos++;
		return v;
	}
	for (;;)
	{
		char	   *key = NULL;
		size_t		klen;
		rb_json    *item;

		skip_ws(p);
		if (is_object)
		{
			if (p->pos >= p->len || p->s[p->pos] != '"')
				goto fail_expect;
			key = parse_string(p, &klen);
			if (key == NULL)
				goto fail;
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
			{
				free(key);
				perr(p, "expected ':'");
				goto fail;
			}
			p->pos++;
		}
		item = parse_value(p, depth + 1);
		if (item == NULL)
		{
			free(key);
			goto fail;
		}
		item->key = key;
		*tail = item;
		tail = &item->next;
		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',')
		{
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == close)
		{
			p->pos++;
			return v;
		}
		perr(p, is_object ? "expected ',' or '}'" : "expected ',' or ']'");
		goto fail;
	}
fail_expect:
	perr(p, "expected a member name");
fail:
	rb_json_free(v);
	return NULL;
}

static rb_json *
parse_value(parser *p, int depth)
{
	char		c;

	if (depth > MAX_DEPTH)
		return perr(p, "nested too deeply");
	skip_ws(p);
	if (p->pos >= p->len)
		return perr(p, "unexpected end of input");
	c = p->s[p->pos];
	if (c == '{' || c == '[')
		return parse_container(p, depth, c == '{');
	if (c == '"')
	{
		size_t		n;
		char	   *s = parse_string(p, &n);
		rb_json    *v;

		if (s == NULL)
			return NULL;
		v = new_value(RB_JSON_STRING);
		v->text = s;
		v->len = n;
		return v;
	}
	if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "null", 4) == 0)
	{
		p->pos += 4;
		return new_value(RB_JSON_NULL);
	}
	if (p->len - p->pos >= 4 && memcmp(p->s + p->pos, "true", 4) == 0)
	{
		rb_json    *v = new_value(RB_JSON_BOOL);

		p->pos += 4;
		v->boolean = true;
		return v;
	}
	if (p->len - p->pos >= 5 && memcmp(p->s + p->pos, "false", 5) == 0)
	{
		p->pos += 5;
		return new_value(RB_JSON_BOOL);
	}
	if (c == '-' || (c >= '0' && c <= '9'))
	{
		size_t		start = p->pos;
		rb_json    *v;

		if (p->s[p->pos] == '-')
			p->pos++;
		if (p->pos >= p->len || !(p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
			return perr(p, "invalid number");
		if (p->s[p->pos] == '0')
			p->pos++;
		else
			while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
				p->pos++;
		if (p->pos < p->len && p->s[p->pos] == '.')
		{
			p->pos++;
			if (p->pos >= p->len || !(p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
				return perr(p, "invalid number");
			while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
				p->pos++;
		}
		if (p->pos < p->len && (p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
		{
			p->pos++;
			if (p->pos < p->len && (p->s[p->pos] == '+' || p->s[p->pos] == '-'))
				p->pos++;
			if (p->pos >= p->len || !(p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
				return perr(p, "invalid number");
			while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
				p->pos++;
		}
		v = new_value(RB_JSON_NUMBER);
		v->len = p->pos - start;
		v->text = rb_malloc(v->len + 1);
		memcpy(v->text, p->s + start, v->len);
		v->text[v->len] = '\0';
		return v;
	}
	return perr(p, "unexpected character");
}

rb_json *
rb_json_parse(const char *text, size_t len, rb_error *err)
{
	parser		p = {text, len, 0, err, 0};
	rb_json    *v = parse_value(&p, 0);

	if (v == NULL)
		return NULL;
	skip_ws(&p);
	if (p.pos != p.len)
	{
		rb_json_free(v);
		return perr(&p, "trailing characters after the document");
	}
	return v;
}

void
rb_json_free(rb_json *v)
{
	while (v != NULL)
	{
		rb_json    *next = v->next;

		rb_json_free(v->child);
		free(v->text);
		free(v->key);
		free(v);
		v = next;
	}
}

const rb_json *
rb_json_get(const rb_json *obj, const char *key)
{
	if (obj == NULL || obj->type != RB_JSON_OBJECT)
		return NULL;
	for (const rb_json *m = obj->child; m; m = m->next)
		if (strcmp(m->key, key) == 0)
			return m;
	return NULL;
}

int
rb_json_get_int64(const rb_json *obj, const char *key, int64_t *out)
{
	const rb_json *v = rb_json_get(obj, key);
	char	   *end;
	long long	n;

	if (v == NULL || v->type != RB_JSON_NUMBER)
		return -1;
	errno = 0;
	n = strtoll(v->text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

int
rb_json_get_uint64(const rb_json *obj, const char *key, uint64_t *out)
{
	const rb_json *v = rb_json_get(obj, key);
	char	   *end;
	unsigned long long n;

	/* a string of digits is accepted too (identifiers beyond 2^53) */
	if (v == NULL || (v->type != RB_JSON_NUMBER && v->type != RB_JSON_STRING) ||
		v->len == 0 || v->text[0] == '-')
		return -1;
	errno = 0;
	n = strtoull(v->text, &end, 10);
	if (errno != 0 || *end != '\0' || !(v->text[0] >= '0' && v->text[0] <= '9'))
		return -1;
	*out = n;
	return 0;
}

int
rb_json_get_double(const rb_json *obj, const char *key, double *out)
{
	const rb_json *v = rb_json_get(obj, key);

	if (v == NULL || v->type != RB_JSON_NUMBER)
		return -1;
	*out = strtod(v->text, NULL);
	return 0;
}

const char *
rb_json_get_string(const rb_json *obj, const char *key)
{
	const rb_json *v = rb_json_get(obj, key);

	return v != NULL && v->type == RB_JSON_STRING ? v->text : NULL;
}
