/*
 * encrypt_key.h — backup encryption keys: the key file format, the checks that refuse
 * a key file rather than weaken the backup, the key id, and a ring of keys to decrypt
 * with (the current key and the old ones kept after a rotation).
 *
 * A key file holds one 256-bit key, written as 64 hex digits (either case) or as
 * standard base64 of 32 bytes (44 characters with padding), optionally followed by a
 * newline; nothing else.  `ripple-backup keygen` writes one (64 lowercase hex digits
 * and a newline).  The file must be a regular file that neither the group nor others
 * can read or write (mode 0600 or 0400); anything else is refused with a clear error.
 *
 * The key id is the first 8 bytes of HMAC-SHA256(key, "ripple_backup key id v1"),
 * shown as 16 lowercase hex digits.  It names a key in metadata and messages without
 * revealing it.  Key bytes are wiped (sodium_memzero) when freed.
 */
#ifndef ENCRYPT_KEY_H
#define ENCRYPT_KEY_H

#include <stdbool.h>
#include <stddef.h>

#include "rb_error.h"

#define RB_KEY_LEN			32
#define RB_KEY_ID_LEN		8
#define RB_KEY_ID_HEX_SIZE	17		/* 16 hex digits + NUL */

typedef struct rb_key
{
	unsigned char bytes[RB_KEY_LEN];
	unsigned char id[RB_KEY_ID_LEN];
	char		id_hex[RB_KEY_ID_HEX_SIZE];
} rb_key;

/*
 * Initializes libsodium (thread-safe, idempotent; every function here and in
 * encrypt_stream.h calls it, so callers need not).  RB_ERR_INTERNAL when it fails.
 */
int			rb_encrypt_init(rb_error *err);

/*
 * Reads and checks the key file at path (absolute or relative to the caller's working
 * directory).  Fails with RB_ERR_INVALID (and a message that names the file and the
 * fault, never any key material) when the file is missing, unreadable, not a regular
 * file, readable or writable by group or others, empty, too short, too long, or not
 * valid hex/base64.
 */
int			rb_key_load_file(const char *path, rb_key *key, rb_error *err);

/* Parses the text of a key file (same rules as above, without the file checks). */
int			rb_key_parse(const char *text, size_t len, rb_key *key, rb_error *err);

/* Fills key->id and key->id_hex from key->bytes. */
int			rb_key_compute_id(rb_key *key, rb_error *err);

/* Fills a new random key (and its id); the text of a key file for it goes to out. */
int			rb_key_generate(rb_key *key, char out_hex[2 * RB_KEY_LEN + 2], rb_error *err);

/* Wipes the key bytes. */
void		rb_key_wipe(rb_key *key);

/*
 * A ring of keys to decrypt with: the current key first, then old ones.  Looked up by
 * key id.  Bounded (RB_KEYRING_MAX keys).
 */
#define RB_KEYRING_MAX 16

typedef struct rb_keyring
{
	int			nkeys;
	rb_key		keys[RB_KEYRING_MAX];
} rb_keyring;

void		rb_keyring_init(rb_keyring *ring);
/* Loads one more key file into the ring (a duplicate id is ignored). */
int			rb_keyring_add_file(rb_keyring *ring, const char *path, rb_error *err);
int			rb_keyring_add(rb_keyring *ring, const rb_key *key, rb_error *err);
/* The key with this id, or NULL. */
const rb_key *rb_keyring_find(const rb_keyring *ring, const unsigned char id[RB_KEY_ID_LEN]);
/* Wipes every key. */
void		rb_keyring_wipe(rb_keyring *ring);

#endif							/* ENCRYPT_KEY_H */
