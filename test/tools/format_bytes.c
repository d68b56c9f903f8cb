/*
 * format_bytes.c — prints rb_format_bytes of each argument, one a line, for the
 * TAP test that compares the server's and the CLI's sizes with pg_size_pretty.
 *   format_bytes N...
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "rb_format.h"

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
	{
		char		buf[RB_FORMAT_BYTES_LEN];
		char	   *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(argv[i], &end, 10);
		if (errno != 0 || *end != '\0' || argv[i][0] == '\0')
		{
			fprintf(stderr, "format_bytes: invalid count \"%s\"\n", argv[i]);
			return 2;
		}
		rb_format_bytes((uint64_t) v, buf, sizeof(buf));
		printf("%s\n", buf);
	}
	return 0;
}
