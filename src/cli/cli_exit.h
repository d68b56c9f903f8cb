/*
 * cli_exit.h — the exit codes of ripple-backup (documented in docs/cli.md and in
 * --help) and the mapping from a src/core error code to one of them.
 */
#ifndef CLI_EXIT_H
#define CLI_EXIT_H

#include "rb_error.h"

#define CLI_EXIT_OK			0	/* success */
#define CLI_EXIT_ERROR		1	/* any other failure: network, I/O, pg_restore, psql */
#define CLI_EXIT_USAGE		2	/* bad command line, option or configuration */
#define CLI_EXIT_NOT_FOUND	3	/* no such backup, metadata or destination */
#define CLI_EXIT_VERIFY		4	/* verification failed: size, checksum, archive, row counts */

/*
 * wal-fetch (restore_command): 1 = the file is not archived, which recovery
 * takes for the end of the archive; every other failure exits with
 * CLI_EXIT_WAL_FATAL + the code above (201 error, 202 usage, 203 not found,
 * 204 verification), above 125, which PostgreSQL treats as fatal to recovery
 * instead of as the end of the archive.
 */
#define CLI_EXIT_WAL_NOT_ARCHIVED	1
#define CLI_EXIT_WAL_FATAL		200

/* Exit code for a failure that src/core reported with this code. */
static inline int
cli_exit_for_error(rb_error_code code)
{
	switch (code)
	{
		case RB_ERR_NOT_FOUND:
			return CLI_EXIT_NOT_FOUND;
		case RB_ERR_INTEGRITY:
			return CLI_EXIT_VERIFY;
		case RB_ERR_INVALID:
			return CLI_EXIT_USAGE;
		default:
			return CLI_EXIT_ERROR;
	}
}

#endif							/* CLI_EXIT_H */
