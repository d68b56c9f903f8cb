/*
 * cli_fetch.h — downloads one backup's stored object and proves it against its
 * metadata, through src/core's one streaming read (verify_fetch.h): the size
 * (first from the destination's HEAD, before any byte is downloaded) and the
 * SHA-256 of the stored bytes must match; on the way the bytes of an encrypted
 * backup are decrypted (with the key of the ring whose id its metadata names;
 * a missing key is said before any byte is downloaded) and can be decompressed
 * into a file (what pg_restore reads) and/or read by the archive parser.  Draws the progress bar; words the verdict for the operator.  The
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
	const rb_keyring *keyring;	/* to decrypt an encrypted backup; NULL = no keys */
	bool		raw;			/* out_fd gets the decrypted stored stream, still
								 * compressed (ripple-backup decrypt) */
} cli_fetch_options;

/*
 * Returns 0 when the object is whole and matches its metadata (and decompresses
 * and parses, when asked), else -1 with err:
 *   RB_ERR_INTEGRITY  size mismatch, checksum mismatch, the stream does not
 *                     decrypt (authenticate) or decompress, the archive does
 *                     not parse
 *   RB_ERR_INVALID    encrypted with a key that no key file of the ring holds:
 *                     "backup 7 is encrypted with key 3fa2...; give
 *                     --encryption-key-file ..." (nothing downloaded)
 *   RB_ERR_NOT_FOUND  the object is missing though its metadata exists
 *   other             network, I/O, cancelled
 * res->seconds counts from the HEAD on.
 */
int			cli_fetch(rb_destination *d, const cli_backup *b, const cli_fetch_options *opt,
					  const rb_hooks *hooks, rb_fetch_result *res, rb_error *err);

/*
 * An encrypted backup to be read needs its key: 0 when b is not encrypted or the
 * ring holds its key, else -1 with RB_ERR_INVALID naming the key id ("backup 7
 * is encrypted with key 3fa2...; give --encryption-key-file ..."), so that the
 * operator knows which key file to find before anything is downloaded or created.
 */
int			cli_check_backup_key(const cli_backup *b, const rb_keyring *ring, rb_error *err);

/* Whether the ring holds the key of this id (16 hex digits, as the metadata names it). */
bool		cli_key_available(const rb_keyring *ring, const char *key_id_hex);

#endif							/* CLI_FETCH_H */
