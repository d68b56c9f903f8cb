/*
 * rb_format.h — a byte count for people, in pg_size_pretty's convention so that
 * the server's log, the CLI and SQL (pg_size_pretty) agree: 1024-based units
 * "bytes", "kB", "MB", "GB", "TB", "PB", an integer rounded half away from zero,
 * and a unit chosen once the count reaches 10240 of the smaller one
 * ("10239 bytes", "10 kB", "20479 kB", "20 MB").  The one formatter of sizes for
 * the server's log lines and the CLI's output.
 */
#ifndef RB_FORMAT_H
#define RB_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define RB_FORMAT_BYTES_LEN 32	/* enough for any uint64_t */

void		rb_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif							/* RB_FORMAT_H */
