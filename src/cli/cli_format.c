/*
 * cli_format.c — durations and times for output (see cli_format.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_format.h"

void
cli_format_duration(double seconds, char *buf, size_t len)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 60)
		snprintf(buf, len, "%.1f s", seconds);
	else if (seconds < 3600)
		snprintf(buf, len, "%d min %02d s", (int) seconds / 60, (int) seconds % 60);
	else
		snprintf(buf, len, "%d h %02d min", (int) seconds / 3600, ((int) seconds % 3600) / 60);
}

/*
 * The escaped form of the character at p (a byte, or a whole UTF-8 sequence) into
 * piece; returns the input bytes it takes and sets *w to the columns it shows.
 */
static size_t
label_piece(const unsigned char *p, char *piece, size_t len, size_t *w)
{
	size_t		n = 1;

	if (*p == '\n')
		snprintf(piece, len, "\\n");
	else if (*p == '\t')
		snprintf(piece, len, "\\t");
	else if (*p == '\r')
		snprintf(piece, len, "\\r");
	else if (*p == '\\')
		snprintf(piece, len, "\\\\");
	else if (*p < 0x20 || *p == 0x7f)
		snprintf(piece, len, "\\x%02x", *p);
	else
	{
		while (n < 4 && (p[n] & 0xC0) == 0x80)
			n++;
		memcpy(piece, p, n);
		piece[n] = '\0';
		*w = 1;
		return n;
	}
	*w = strlen(piece);
	return n;
}

void
cli_format_label(const char *label, size_t max_chars, rb_buf *out)
{
	const unsigned char *start = (const unsigned char *) (label ? label : "");
	const unsigned char *p;
	char		piece[8];
	size_t		w,
				total = 0;

	for (p = start; *p; p += label_piece(p, piece, sizeof(piece), &w))
	{
		(void) label_piece(p, piece, sizeof(piece), &w);
		total += w;
	}
	/* whole pieces only, so that an escape is never cut in half */
	total = (max_chars > 0 && total > max_chars) ? max_chars - 1 : (size_t) -1;
	for (p = start; *p;)
	{
		size_t		n = label_piece(p, piece, sizeof(piece), &w);

		if (w > total)
		{
			rb_buf_append_str(out, "\xe2\x80\xa6");
			return;
		}
		total -= w;
		rb_buf_append_str(out, piece);
		p += n;
	}
}

void
cli_format_time(const char *iso, char *buf, size_t len)
{
	size_t		n = iso ? strlen(iso) : 0;

	if (n == 20 && iso[10] == 'T' && iso[19] == 'Z')
		snprintf(buf, len, "%.10s %.8s", iso, iso + 11);
	else
		snprintf(buf, len, "%s", iso ? iso : "");
}
