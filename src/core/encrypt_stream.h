/*
 * encrypt_stream.h — authenticated streaming encryption of a backup object (after
 * compression) and its mirror, streaming decryption (verify, fetch, restore, decrypt).
 *
 * The construction is libsodium's crypto_secretstream_xchacha20poly1305 in fixed-size
 * chunks; the byte format is written down in docs/encryption-format.md, which is the
 * reference for anyone writing a decryptor without this code.  In short:
 *
 *   header (48 bytes):
 *     0  8  magic "RIPBKENC"
 *     8  1  format version (1)
 *     9  1  algorithm (1 = secretstream xchacha20poly1305)
 *    10  2  reserved, zero
 *    12  4  plaintext bytes per chunk, big-endian (RB_ENCRYPT_CHUNK)
 *    16  8  key id (see encrypt_key.h)
 *    24 24  secretstream header (random per object)
 *   chunks: every chunk but the last holds exactly "chunk size" plaintext bytes and is
 *     chunk size + 17 bytes long, tag MESSAGE; the last chunk holds 0..chunk size bytes,
 *     tag FINAL.  The first chunk authenticates the 48-byte header as additional data.
 *     Nothing follows the FINAL chunk.
 *
 * So a flipped bit, a truncation (also exactly at a chunk boundary: no FINAL chunk),
 * reordered or duplicated chunks, a header from another object and a wrong key are all
 * detected, each with its own error (RB_ERR_INTEGRITY; a key id that no key in the
 * ring matches is RB_ERR_AUTH with "encrypted with key <id>, which none of the
 * configured keys matches").  Memory is bounded: one chunk of input and one of output.
 */
#ifndef ENCRYPT_STREAM_H
#define ENCRYPT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup_compress.h"	/* rb_write_fn */
#include "encrypt_key.h"
#include "rb_error.h"

#define RB_ENCRYPT_MAGIC		"RIPBKENC"
#define RB_ENCRYPT_HEADER_LEN	48
#define RB_ENCRYPT_CHUNK		(64 * 1024)
#define RB_ENCRYPT_OVERHEAD		17	/* per chunk */
/*
 * The chunk sizes a reader accepts in a header (the encryptor writes RB_ENCRYPT_CHUNK;
 * smaller ones serve tests and the fuzzer).  Anything outside is not a version 1 object.
 */
#define RB_ENCRYPT_CHUNK_MIN	64
#define RB_ENCRYPT_CHUNK_MAX	(4 * 1024 * 1024)

/* The name recorded in metadata ("encryption": "xchacha20poly1305-secretstream-v1"). */
#define RB_ENCRYPT_ALGORITHM_NAME "xchacha20poly1305-secretstream-v1"

/* True when the first bytes of a stored object are an encryption header's magic. */
bool		rb_encrypt_detect(const void *data, size_t len);

/*
 * Reads the key id from the start of an object (at least RB_ENCRYPT_HEADER_LEN bytes);
 * RB_ERR_INTEGRITY when it is not a header of a version this code reads.
 */
int			rb_encrypt_header_key_id(const void *data, size_t len,
									 unsigned char id[RB_KEY_ID_LEN], rb_error *err);

typedef struct rb_encryptor rb_encryptor;

/* The key is copied; out receives the header and the chunks as they are produced. */
rb_encryptor *rb_encryptor_new(const rb_key *key, rb_write_fn out, void *out_arg,
							   rb_error *err);
/* The same with another chunk size (RB_ENCRYPT_CHUNK_MIN..MAX): for tests. */
rb_encryptor *rb_encryptor_new_chunked(const rb_key *key, size_t chunk, rb_write_fn out,
									   void *out_arg, rb_error *err);
int			rb_encryptor_write(rb_encryptor *e, const void *data, size_t len, rb_error *err);
/* Writes the FINAL chunk; call once, then free. */
int			rb_encryptor_finish(rb_encryptor *e, rb_error *err);
/* Bytes handed to out so far (header and chunks). */
uint64_t	rb_encryptor_bytes_out(const rb_encryptor *e);
void		rb_encryptor_free(rb_encryptor *e);	/* wipes its state; NULL is fine */

typedef struct rb_decryptor rb_decryptor;

/*
 * Decrypts with the key in ring whose id the header names (the ring is only read, and
 * must outlive the decryptor).  out receives plaintext as each chunk authenticates:
 * nothing unauthenticated is ever passed on.  The stream as a whole (no chunk missing
 * at its end, nothing after it) is known good only when finish succeeds.  After a
 * failure every call fails again with the same error.
 */
rb_decryptor *rb_decryptor_new(const rb_keyring *ring, rb_write_fn out, void *out_arg,
							   rb_error *err);
int			rb_decryptor_write(rb_decryptor *d, const void *data, size_t len, rb_error *err);
/* Fails with RB_ERR_INTEGRITY when the stream ended before its FINAL chunk. */
int			rb_decryptor_finish(rb_decryptor *d, rb_error *err);
/* The key id read from the header (valid once the header has been read). */
const char *rb_decryptor_key_id_hex(const rb_decryptor *d);
void		rb_decryptor_free(rb_decryptor *d);	/* NULL is fine */

#endif							/* ENCRYPT_STREAM_H */
