/*
 * cli_format.h — small text formatters for ripple-backup's output: byte sizes
 * ("1.9 MB"), durations ("1 m 02.3 s"), metadata timestamps for humans
 * ("2026-11-26 04:00:00").  JSON strings are rb_json_append_string's (src/core).
 */
#ifndef CLI_FORMAT_H
#define CLI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* "512 B", "1.9 kB", "12.3 MB", "4.0 GB" (powers of 1000, as df -H). */
void		cli_format_bytes(uint64_t bytes, char *buf, size_t len);
/* "0.4 s", "12.3 s", "2 min 03 s", "1 h 02 min" */
void		cli_format_duration(double seconds, char *buf, size_t len);
/* "2026-11-26T04:00:00Z" -> "2026-11-26 04:00:00"; other text copied. */
void		cli_format_time(const char *iso, char *buf, size_t len);

#endif							/* CLI_FORMAT_H */
