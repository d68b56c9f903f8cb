/*
 * rb_buf.c — growable byte buffer (see rb_buf.h).
 */
#include "rb_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"

void
rb_buf_init(rb_buf *buf)
{
	buf->data = NULL;
	buf->len = 0;
	buf->cap = 0;
}

void
rb_buf_reserve(rb_buf *buf, size_t extra)
{
	size_t		need = buf->len + extra + 1;
	size_t		cap;
	char	   *p;

	if (need <= buf->cap)
		return;
	cap = buf->cap ? buf->cap : 64;
	while (cap < need)
		cap *= 2;
	p = rb_realloc(buf->data, cap);
	buf->data = p;
	buf->cap = cap;
}

void
rb_buf_append(rb_buf *buf, const void *data, size_t len)
{
	rb_buf_reserve(buf, len);
	if (len > 0)
		memcpy(buf->data + buf->len, data, len);
	buf->len += len;
	buf->data[buf->len] = '\0';
}

void
rb_buf_append_str(rb_buf *buf, const char *str)
{
	rb_buf_append(buf, str, strlen(str));
}

void
rb_buf_append_char(rb_buf *buf, char c)
{
	rb_buf_append(buf, &c, 1);
}

void
rb_buf_vappendf(rb_buf *buf, const char *fmt, va_list ap)
{
	va_list		ap2;
	int			n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	rb_buf_reserve(buf, (size_t) n);
	vsnprintf(buf->data + buf->len, (size_t) n + 1, fmt, ap);
	buf->len += (size_t) n;
}

void
rb_buf_appendf(rb_buf *buf, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	rb_buf_vappendf(buf, fmt, ap);
	va_end(ap);
}

void
rb_buf_reset(rb_buf *buf)
{
	buf->len = 0;
	if (buf->data)
		buf->data[0] = '\0';
}

void
rb_buf_free(rb_buf *buf)
{
	free(buf->data);
	rb_buf_init(buf);
}

void
rb_buf_free_secure(rb_buf *buf)
{
	if (buf->data)
	{
		volatile char *p = buf->data;
		size_t		i;

		for (i = 0; i < buf->cap; i++)
			p[i] = 0;
	}
	rb_buf_free(buf);
}

const char *
rb_buf_str(const rb_buf *buf)
{
	return buf->data ? buf->data : "";
}
