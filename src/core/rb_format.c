/*
 * rb_format.c — see rb_format.h.
 */
#include <inttypes.h>
#include <stdio.h>

#include "rb_format.h"

void
rb_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
	double		v = (double) bytes;
	int			u = -1;

	if (bytes < 1000)
	{
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return;
	}
	while (v >= 1000.0 && u < 4)
	{
		v /= 1000.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
}
