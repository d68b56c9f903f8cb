/*
 * cli_format.c — sizes, durations and times for output (see cli_format.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_format.h"
#include "rb_format.h"

void
cli_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	rb_format_bytes(bytes, buf, len);
}

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

void
cli_format_time(const char *iso, char *buf, size_t len)
{
	size_t		n = iso ? strlen(iso) : 0;

	if (n == 20 && iso[10] == 'T' && iso[19] == 'Z')
		snprintf(buf, len, "%.10s %.8s", iso, iso + 11);
	else
		snprintf(buf, len, "%s", iso ? iso : "");
}
