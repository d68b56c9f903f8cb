/*
 * rb_format.c — see rb_format.h.  The steps are those of PostgreSQL's
 * pg_size_pretty(bigint) (src/backend/utils/adt/dbsize.c): the count is shifted
 * right unit by unit, keeping one bit more for the half rounding of the last.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>

#include "rb_format.h"

typedef struct size_unit
{
	const char *name;
	uint64_t	limit;			/* the next unit once the count reaches this */
	bool		round;			/* half-rounded (the kept bit) */
	int			unitbits;		/* log2 of the unit */
} size_unit;

static const size_unit units[] = {
	{"bytes", 10 * 1024, false, 0},
	{"kB", 20 * 1024 - 1, true, 10},
	{"MB", 20 * 1024 - 1, true, 20},
	{"GB", 20 * 1024 - 1, true, 30},
	{"TB", 20 * 1024 - 1, true, 40},
	{"PB", 20 * 1024 - 1, true, 50},
	{NULL, 0, false, 0}
};

void
rb_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	uint64_t	size = bytes;

	for (const size_unit *u = units; u->name != NULL; u++)
	{
		int			bits;

		if (u[1].name == NULL || size < u->limit)
		{
			if (u->round)
				size = (size + 1) / 2;
			snprintf(buf, len, "%" PRIu64 " %s", size, u->name);
			return;
		}
		bits = u[1].unitbits - u->unitbits - (u[1].round ? 1 : 0) + (u->round ? 1 : 0);
		size >>= bits;
	}
}
