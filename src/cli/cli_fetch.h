/*
 * cli_fetch.h — downloads one backup's stored object and proves it against its
 * metadata, through src/core's one streaming read (verify_fetch.h): the size
 * (first from the destination's HEAD, before any byte is downloaded) and the
 * SHA-256 of the stored bytes must match; on the way the bytes can be
 * decompressed into a file (what pg_restore reads) and/or read by the archive
 * parser.  Draws the progress bar; words the verdict for the operator.  The
 * caller owns the output file and removes it on failure.
 */
#ifndef CLI_FETCH_H
#define CLI_FETCH_H

#include "cli_catalog.h"
#include "dest.h"
#include "pgdump_archive.h"
#include "rb_error.h"
#include "verify_fetch.h"

typedef struct cli_fetch_options
{
	int			out_fd;			/* decompressed archive goes here; -1 = nowhere */
	const char *out_name;		/* for messages */
	/* decompressed archive is handed here too (see rb_fetch_options); NULL = no */
	int			(*out_fn) (void *arg, const void *data, size_t len, rb_error *err);
	void	   *out_arg;
	rb_archive_parser *parser;	/* decompressed archive is fed here; NULL = no */
	const char *progress_label; /* NULL = "download" */
} cli_fetch_options;

/*
 * Returns 0 when the object is whole and matches its metadata (and decompresses
 * and parses, when asked), else -1 with err:
 *   RB_ERR_INTEGRITY  size mismatch, checksum mismatch, the stream does not
 *                     decompress, the archive does not parse
 *   RB_ERR_NOT_FOUND  the object is missing though its metadata exists
 *   other             network, I/O, cancelled
 * res->seconds counts from the HEAD on.
 */
int			cli_fetch(rb_destination *d, const cli_backup *b, const cli_fetch_options *opt,
					  const rb_hooks *hooks, rb_fetch_result *res, rb_error *err);

#endif							/* CLI_FETCH_H */
