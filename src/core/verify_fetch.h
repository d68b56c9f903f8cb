/*
 * verify_fetch.h — the one streaming read of a stored backup object, for the
 * verifier and for every ripple-backup command that downloads one: the bytes
 * come from the destination once, every byte is hashed (SHA-256) and counted,
 * and when asked they are decrypted (an encrypted backup, with a key of the
 * ring) and decompressed on the way into an output descriptor (the archive
 * pg_restore reads), to a consumer of the caller's (a pg_restore reading its
 * stdin) and/or through the archive parser (per-table row counts of the archive
 * itself):
 *   stored bytes → SHA-256 → decryptor → decompressor → archive parser / out_fd / consumer.
 * Only authenticated plaintext leaves the decryptor.  Memory stays bounded whatever the size;
 * the cancel hook is polled at every chunk; the checksum is compared in
 * constant time.
 *
 * The object is judged, not only read: the size and the SHA-256 against the
 * expected ones, and whether it decompresses and parses.  A stream that does not
 * decompress is read to its end all the same (the checksum explains a damaged
 * object best); the caller words the verdict for its audience.
 */
#ifndef VERIFY_FETCH_H
#define VERIFY_FETCH_H

#include <stdbool.h>
#include <stdint.h>

#include "dest.h"
#include "encrypt_key.h"
#include "pgdump_archive.h"
#include "rb_error.h"

typedef struct rb_fetch_options
{
	uint64_t	expected_size;
	const char *expected_sha256;	/* hex */
	const char *compression;	/* the metadata's ("zstd", "gzip", "none"); NULL = "none";
								 * "none" with out_fd: the decrypted stored stream itself */
	const char *encryption;		/* the metadata's (RB_ENCRYPT_ALGORITHM_NAME); NULL or
								 * "none" = not encrypted */
	const rb_keyring *keyring;	/* keys to decrypt with; NULL = none (an encrypted
								 * object then fails to decrypt, naming its key id) */
	int			out_fd;			/* the decompressed archive is written here; -1 = nowhere */
	const char *out_name;		/* out_fd's file name, for messages */
	/* the decompressed archive is handed here too (after out_fd); NULL = not */
	int			(*out_fn) (void *arg, const void *data, size_t len, rb_error *err);
	void	   *out_arg;
	rb_archive_parser *parser;	/* the decompressed archive is fed here; NULL = not */
	const char *activity;		/* for the cancel message ("%s was canceled"); NULL = "download" */
	void		(*progress) (void *arg, uint64_t stored_bytes);	/* after each chunk; may be NULL */
	void	   *progress_arg;
} rb_fetch_options;

typedef struct rb_fetch_result
{
	uint64_t	stored_bytes;	/* bytes read from the destination */
	uint64_t	archive_bytes;	/* after decompression (0 when not decompressed) */
	char		sha256[65];		/* of the stored bytes */
	bool		size_ok;		/* stored_bytes == expected_size */
	bool		sha256_ok;		/* sha256 == expected_sha256 */
	bool		decrypt_failed; /* encrypted, asked for, and it did not decrypt */
	rb_error	decrypt_err;	/* why (RB_ERR_AUTH: no key of the ring matches;
								 * RB_ERR_INTEGRITY: it does not authenticate) */
	char		key_id[RB_KEY_ID_HEX_SIZE]; /* the key id its header names ("" = not read) */
	bool		decompressed;	/* asked for, and the stream decrypted and decompressed
								 * to its end */
	rb_error	decompress_err; /* why not (RB_ERR_INTEGRITY), when asked for */
	bool		parsed;			/* a parser was given, and the archive parsed to its end */
	rb_error	parse_err;		/* why not, when the stream decompressed */
	double		seconds;
} rb_fetch_result;

/*
 * Reads the object at key.  Returns 0 when it was read to its end, whatever the
 * verdicts in res; -1 with err when it could not be: RB_ERR_NOT_FOUND (no such
 * object), RB_ERR_CANCELLED, RB_ERR_IO (writing out_fd), RB_ERR_INVALID (an
 * encryption this code does not know), network errors.  A stream that does not
 * decrypt sets decrypt_failed (and decompressed false, decompress_err the same
 * error) and is read to its end all the same.
 */
int			rb_verify_fetch(rb_destination *dest, const char *key, const rb_fetch_options *opt,
							rb_fetch_result *res, const rb_hooks *hooks, rb_error *err);

#endif							/* VERIFY_FETCH_H */
