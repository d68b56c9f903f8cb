/*
 * rb_format.h — a byte count for people: "512 B", "41.2 MB" (decimal units),
 * shared by the server's log lines and the CLI's tables.
 */
#ifndef RB_FORMAT_H
#define RB_FORMAT_H

#include <stddef.h>
#include <stdint.h>

void		rb_format_bytes(uint64_t bytes, char *buf, size_t len);

#endif							/* RB_FORMAT_H */
