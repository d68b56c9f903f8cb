/*
 * cli_fetch.h — downloads one backup's stored object and proves it: the size and
 * the SHA-256 of the stored bytes must match the metadata.  On the way the bytes
 * can be decompressed into a file (what pg_restore reads) and/or observed by the
 * archive parser (per-table row counts of the archive itself).  Memory stays
 * bounded; the caller owns the output file and removes it on failure.
 */
#ifndef CLI_FETCH_H
#define CLI_FETCH_H

#include <stdint.h>

#include "cli_catalog.h"
#include "dest.h"
#include "pgdump_archive.h"
#include "rb_error.h"

typedef struct cli_fetch_options
{
	int			out_fd;			/* decompressed archive goes here; -1 = nowhere */
	const char *out_name;		/* for messages */
	rb_archive_parser *parser;	/* decompressed archive is fed here; NULL = no */
	const char *progress_label; /* NULL = "download" */
} cli_fetch_options;

typedef struct cli_fetch_result
{
	uint64_t	stored_bytes;	/* bytes downloaded */
	uint64_t	archive_bytes;	/* bytes after decompression (0 when not decompressed) */
	char		sha256[65];		/* of the stored bytes */
	double		seconds;
} cli_fetch_result;

/*
 * Returns 0 when the object is whole and matches its metadata (and decompresses
 * and parses, when asked), else -1 with err:
 *   RB_ERR_INTEGRITY  size mismatch, checksum mismatch, the stream does not
 *                     decompress, the archive does not parse
 *   RB_ERR_NOT_FOUND  the object is missing though its metadata exists
 *   other             network, I/O, cancelled
 */
int			cli_fetch(rb_destination *d, const cli_backup *b, const cli_fetch_options *opt,
					  const rb_hooks *hooks, cli_fetch_result *res, rb_error *err);

/* Writes all of len bytes to fd (retrying on EINTR and short writes); -1 + errno. */
int			cli_write_all(int fd, const void *data, size_t len);

#endif							/* CLI_FETCH_H */
