/*
 * notify_mail.c — plain text and MIME for e-mail: cleaning values, wrapping on
 * UTF-8 boundaries, RFC 2047 words, quoted-printable, RFC 5322 dates and headers
 * (see notify_mail.h).
 */
#include "notify_mail.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "rb_crypto.h"

#define MAIL_WIDTH		78		/* header line width (RFC 5322's advice) */
#define QP_WIDTH		76		/* RFC 2045's limit for quoted-printable lines */
#define B_CHUNK_BYTES	39		/* raw bytes per encoded-word: 52 base64 characters,
								 * 64 with =?UTF-8?B??=, under RFC 2047's 75 */

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 when invalid. */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t		len;
	unsigned char lo = 0x80,
				hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
	{
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	}
	return len;
}

void
rb_text_clean(rb_buf *out, const char *s, rb_text_mode mode)
{
	const unsigned char *p = (const unsigned char *) (s ? s : "");
	size_t		n = strlen((const char *) p);

	while (n > 0)
	{
		size_t		len = utf8_seq_len(p, n);

		if (len == 0)
		{
			rb_buf_append_str(out, "\xEF\xBF\xBD");
			p++;
			n--;
			continue;
		}
		if (len == 1 && (*p < 0x20 || *p == 0x7F))
		{
			if (mode == RB_TEXT_LINES && *p == '\n')
				rb_buf_append_char(out, '\n');
			else if (!(mode == RB_TEXT_LINES && *p == '\r'))
				rb_buf_append_char(out, ' ');
		}
		else
			rb_buf_append(out, p, len);
		p += len;
		n -= len;
	}
	if (out->data == NULL)
		rb_buf_append_str(out, "");
}

static void
append_spaces(rb_buf *out, int n)
{
	for (int i = 0; i < n; i++)
		rb_buf_append_char(out, ' ');
}

/* Bytes of the UTF-8 character at p (1 for an invalid byte, never past the NUL). */
static size_t
char_len(const unsigned char *p)
{
	size_t		n = 1;

	while (n < 4 && (p[n] & 0xC0) == 0x80)
		n++;
	return n;
}

void
rb_text_wrap(rb_buf *out, const char *text, int width, int first_used, int indent)
{
	const unsigned char *p = (const unsigned char *) (text ? text : "");
	int			col = first_used;
	int			line_start = first_used;	/* col where this line's text began */

	if (indent >= width)
		indent = 0;
	if (width < 1)
		width = 1;
	while (*p)
	{
		const unsigned char *w;
		int			wcols = 0;

		if (*p == '\n')
		{
			rb_buf_append_char(out, '\n');
			append_spaces(out, indent);
			col = line_start = indent;
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\r')
		{
			p++;
			continue;
		}
		/* one word: up to a space or a line end */
		for (w = p; *w && *w != ' ' && *w != '\n' && *w != '\r'; w += char_len(w))
			wcols++;
		if (col > line_start && col + 1 + wcols > width)
		{
			rb_buf_append_char(out, '\n');
			append_spaces(out, indent);
			col = line_start = indent;
		}
		if (col > line_start)
		{
			rb_buf_append_char(out, ' ');
			col++;
		}
		/*
		 * A word longer than a line (a URL, a path, a key) stays whole on a line of
		 * its own, so it can still be copied or clicked; only one past
		 * RB_TEXT_MAX_WORD bytes is cut, at code-point boundaries.
		 */
		if ((size_t) (w - p) <= RB_TEXT_MAX_WORD)
		{
			rb_buf_append(out, p, (size_t) (w - p));
			col += wcols;
			p = w;
			continue;
		}
		while (p < w)
		{
			size_t		n = char_len(p);

			if (col >= width && col > line_start)
			{
				rb_buf_append_char(out, '\n');
				append_spaces(out, indent);
				col = line_start = indent;
			}
			rb_buf_append(out, p, n);
			p += n;
			col++;
		}
	}
	rb_buf_append_char(out, '\n');
}

void
rb_mime_encode_header_words(rb_buf *out, const char *value)
{
	const unsigned char *p = (const unsigned char *) value;
	size_t		n = strlen(value);
	int			first = 1;

	while (n > 0)
	{
		size_t		take = 0;
		char		b64[RB_BASE64_SIZE(B_CHUNK_BYTES + 4)];

		/* whole characters only: a word must not end inside a UTF-8 sequence */
		while (take < n)
		{
			size_t		c = char_len(p + take);

			if (take + c > n)
				c = n - take;
			if (take + c > B_CHUNK_BYTES && take > 0)
				break;
			take += c;
		}
		rb_base64_encode(p, take, b64);
		if (!first)
			rb_buf_append_str(out, "\r\n ");
		rb_buf_appendf(out, "=?UTF-8?B?%s?=", b64);
		first = 0;
		p += take;
		n -= take;
	}
}

void
rb_mime_quoted_printable(rb_buf *out, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + len;

	while (p < end)
	{
		const unsigned char *eol = memchr(p, '\n', (size_t) (end - p));
		const unsigned char *stop = eol ? eol : end;
		int			col = 0;

		/* a CR before the LF is part of the line end, not of the line */
		if (stop > p && stop[-1] == '\r')
			stop--;
		for (const unsigned char *c = p; c < stop; c++)
		{
			char		tok[4];
			int			last = (c + 1 == stop);

			if (*c == '=' || *c >= 0x7F || (*c < 0x20 && *c != '\t') ||
				(last && (*c == ' ' || *c == '\t')))
				snprintf(tok, sizeof(tok), "=%02X", *c);
			else
			{
				tok[0] = (char) *c;
				tok[1] = '\0';
			}
			/* keep room for the soft break "=" within 76 columns */
			if (col + (int) strlen(tok) > QP_WIDTH - 1 && !(last && col + (int) strlen(tok) <= QP_WIDTH))
			{
				rb_buf_append_str(out, "=\r\n");
				col = 0;
			}
			rb_buf_append_str(out, tok);
			col += (int) strlen(tok);
		}
		rb_buf_append_str(out, "\r\n");
		p = eol ? eol + 1 : end;
	}
}

void
rb_mail_date(int64_t t, char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t		tt = (time_t) t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
			 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

bool
rb_text_is_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p >= 0x80)
			return false;
	}
	return true;
}

void
rb_mail_append_header(rb_buf *out, const char *name, const char *value, bool encode)
{
	size_t		col = strlen(name) + 2;
	const char *p = value;

	rb_buf_appendf(out, "%s: ", name);
	if (encode && !rb_text_is_ascii(value))
	{
		rb_mime_encode_header_words(out, value);
		rb_buf_append_str(out, "\r\n");
		return;
	}
	while (*p)
	{
		size_t		rest = strlen(p);
		const char *brk = NULL;

		if (col + rest <= MAIL_WIDTH)
		{
			rb_buf_append_str(out, p);
			break;
		}
		/*
		 * The last space that keeps the line within the width, else the next one;
		 * only a space after a non-space, so no line is whitespace alone.
		 */
		for (const char *s = p + 1; s < p + rest && (size_t) (s - p) + col <= MAIL_WIDTH; s++)
		{
			if (*s == ' ' && s[-1] != ' ')
				brk = s;
		}
		for (const char *s = p + 1; brk == NULL && *s; s++)
		{
			if (*s == ' ' && s[-1] != ' ')
				brk = s;
		}
		if (brk == NULL)
		{
			rb_buf_append_str(out, p);
			break;
		}
		rb_buf_append(out, p, (size_t) (brk - p));
		rb_buf_append_str(out, "\r\n");
		p = brk;				/* the space starts the continuation line */
		col = 0;
	}
	rb_buf_append_str(out, "\r\n");
}
