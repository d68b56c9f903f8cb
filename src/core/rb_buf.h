/*
 * rb_buf.h — a growable byte buffer (always NUL-terminated) for building request
 * strings, XML and JSON documents and for collecting small response bodies.
 * Allocation failure goes to the host's handler (rb_alloc.h), which ends the
 * process: src/core treats memory exhaustion in these small buffers as fatal
 * rather than threading it everywhere.
 */
#ifndef RB_BUF_H
#define RB_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct rb_buf
{
	char	   *data;			/* NUL-terminated; NULL until the first append */
	size_t		len;
	size_t		cap;
} rb_buf;

#define RB_BUF_INIT {NULL, 0, 0}

void		rb_buf_init(rb_buf *buf);
void		rb_buf_reserve(rb_buf *buf, size_t extra);
void		rb_buf_append(rb_buf *buf, const void *data, size_t len);
void		rb_buf_append_str(rb_buf *buf, const char *str);
void		rb_buf_append_char(rb_buf *buf, char c);
void		rb_buf_appendf(rb_buf *buf, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
void		rb_buf_vappendf(rb_buf *buf, const char *fmt, va_list ap)
			__attribute__((format(printf, 2, 0)));
void		rb_buf_reset(rb_buf *buf);	/* len = 0, keeps the memory */
void		rb_buf_free(rb_buf *buf);	/* frees and re-initialises */
/* Overwrites the contents with zeros before freeing (for buffers that held a secret). */
void		rb_buf_free_secure(rb_buf *buf);
/* Returns the data (never NULL: "" when empty). */
const char *rb_buf_str(const rb_buf *buf);

#endif							/* RB_BUF_H */
