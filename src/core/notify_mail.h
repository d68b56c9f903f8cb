/*
 * notify_mail.h — plain text and MIME for e-mail, as the notification renderings
 * (notify_event.c) need them: values cleaned of control characters and invalid
 * UTF-8, text wrapped at a width on UTF-8 boundaries, RFC 2047 encoded-words for a
 * header that is not ASCII, quoted-printable (RFC 2045) for a body that is not,
 * RFC 5322 dates, and header lines folded at spaces.
 */
#ifndef RB_MAIL_TEXT_H
#define RB_MAIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_buf.h"

typedef enum rb_text_mode
{
	RB_TEXT_ONE_LINE,			/* every control character (CR, LF, TAB...) -> space */
	RB_TEXT_LINES				/* LF kept, CR dropped, other controls -> space */
} rb_text_mode;

/*
 * Appends s (NULL = "") with invalid UTF-8 replaced by U+FFFD and control
 * characters handled as mode says.  What makes a value safe in a header: after
 * RB_TEXT_ONE_LINE it holds no CR or LF.
 */
void		rb_text_clean(rb_buf *out, const char *s, rb_text_mode mode);

/* Whether s holds only 7-bit bytes. */
bool		rb_text_is_ascii(const char *s);

/* The longest word rb_text_wrap never cuts (RFC 5322 allows lines of 998 octets). */
#define RB_TEXT_MAX_WORD 900

/*
 * Appends text wrapped at width columns (one column per UTF-8 code point): breaks at
 * the last space that fits.  A word wider than a line gets a line of its own, whole;
 * only a word longer than RB_TEXT_MAX_WORD bytes is cut, inside, at a code-point
 * boundary.  The first
 * line has first_used columns taken already (a label); every further line starts
 * with indent spaces.  Existing newlines are kept (and indented); CR is dropped.
 * Lines end with LF.
 */
void		rb_text_wrap(rb_buf *out, const char *text, int width, int first_used, int indent);

/* RFC 2047 B encoding of an unstructured header value, folded (CRLF SP) between words. */
void		rb_mime_encode_header_words(rb_buf *out, const char *value);

/*
 * Quoted-printable (RFC 2045) of text whose lines end with LF: output lines end with
 * CRLF, none longer than 76 characters (soft breaks "="), "=" and bytes >= 0x7F and
 * whitespace before a line end encoded.
 */
void		rb_mime_quoted_printable(rb_buf *out, const char *text, size_t len);

/* RFC 5322 date-time in UTC: "Thu, 03 Dec 2026 08:43:52 +0000". */
void		rb_mail_date(int64_t t, char out[40]);

/*
 * Appends "Name: value" and CRLF; value must be cleaned (RB_TEXT_ONE_LINE).  An
 * ASCII value longer than 78 columns is folded at spaces (never leaving a line of
 * whitespace alone); any other value is written as RFC 2047 words when encode is
 * set, else as it is.
 */
void		rb_mail_append_header(rb_buf *out, const char *name, const char *value, bool encode);

#endif							/* RB_MAIL_TEXT_H */
