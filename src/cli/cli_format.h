/*
 * cli_format.h — small text formatters for ripple-backup's output: durations ("1 m 02.3 s"), metadata timestamps for humans
 * ("2026-11-26 04:00:00").  Byte sizes are rb_format_bytes's (src/core, as
 * pg_size_pretty: "1946 kB"), JSON strings rb_json_append_string's.
 */
#ifndef CLI_FORMAT_H
#define CLI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "rb_buf.h"
#include "rb_format.h"

/* "0.4 s", "12.3 s", "2 min 03 s", "1 h 02 min" */
void		cli_format_duration(double seconds, char *buf, size_t len);
/*
 * A label for a table cell, on one line: a newline, tab and carriage return are
 * shown as \n, \t, \r, a backslash as \\, other control bytes as \x01; then,
 * when it is longer than max_chars characters, it is cut on a character
 * boundary and ends with an ellipsis ("…").  The JSON output keeps the label
 * exact.  max_chars 0 = never cut.  Appended to out.
 */
#define CLI_LABEL_MAX_CHARS 40
void		cli_format_label(const char *label, size_t max_chars, rb_buf *out);

/* "2026-11-26T04:00:00Z" -> "2026-11-26 04:00:00"; other text copied. */
void		cli_format_time(const char *iso, char *buf, size_t len);

#endif							/* CLI_FORMAT_H */
