/*
 * rb_crypto.h — the hashing src/core needs, on OpenSSL 3's EVP interface (no
 * deprecated low-level SHA256_* / MD5_* / HMAC_* calls):
 *   - SHA-256 one-shot and incremental (payload hashes for SigV4, backup checksums);
 *   - HMAC-SHA256 (SigV4 key derivation and signature);
 *   - MD5 one-shot and incremental, raw, base64 (Content-MD5) and hex (ETag check);
 *   - hex and base64 encoding, constant-time comparison.
 * Functions that can fail (OpenSSL refusing an algorithm, e.g. MD5 under a FIPS
 * provider, or out of memory) return 0 / -1 and fill err (which may be NULL).
 */
#ifndef RB_CRYPTO_H
#define RB_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "rb_error.h"

#define RB_SHA256_LEN		32
#define RB_SHA256_HEX_SIZE	65		/* 64 hex digits + NUL */
#define RB_MD5_LEN			16
#define RB_MD5_HEX_SIZE		33		/* 32 hex digits + NUL */
#define RB_MD5_BASE64_SIZE	25		/* 24 characters + NUL */
#define RB_DIGEST_MAX_LEN	32

/* Size of the buffer rb_base64_encode() needs for n input bytes (with the NUL). */
#define RB_BASE64_SIZE(n)	((((size_t) (n) + 2) / 3) * 4 + 1)

/* Lowercase hex SHA-256 of the empty string (an empty body's x-amz-content-sha256). */
#define RB_SHA256_EMPTY_HEX "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* --- incremental digests ----------------------------------------------------- */

typedef enum rb_digest_alg
{
	RB_DIGEST_SHA256,
	RB_DIGEST_MD5
} rb_digest_alg;

/* Opaque incremental digest (an EVP_MD_CTX inside). */
typedef struct rb_digest rb_digest;

/* Returns a new context ready for updates, or NULL with err filled. */
rb_digest  *rb_digest_new(rb_digest_alg alg, rb_error *err);
int			rb_digest_update(rb_digest *d, const void *data, size_t len, rb_error *err);
/*
 * Writes the digest (rb_digest_len() bytes) to out and resets the context so it can
 * hash a new message (e.g. the next multipart part).
 */
int			rb_digest_final(rb_digest *d, unsigned char *out, rb_error *err);
/* Same, as lowercase hex into out (2 * rb_digest_len() + 1 bytes). */
int			rb_digest_final_hex(rb_digest *d, char *out, rb_error *err);
/* Starts over without finishing. */
int			rb_digest_reset(rb_digest *d, rb_error *err);
/* Bytes hashed since the context was created or last reset/finished. */
unsigned long long rb_digest_bytes(const rb_digest *d);
size_t		rb_digest_len(rb_digest_alg alg);
void		rb_digest_free(rb_digest *d);	/* NULL is fine */

/* --- one-shot --------------------------------------------------------------- */

int			rb_sha256(const void *data, size_t len, unsigned char out[RB_SHA256_LEN],
					  rb_error *err);
int			rb_sha256_hex(const void *data, size_t len, char out[RB_SHA256_HEX_SIZE],
						  rb_error *err);
int			rb_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
						   unsigned char out[RB_SHA256_LEN], rb_error *err);
int			rb_md5(const void *data, size_t len, unsigned char out[RB_MD5_LEN],
				   rb_error *err);
/* base64 of the raw MD5: the value of a Content-MD5 header */
int			rb_md5_base64(const void *data, size_t len, char out[RB_MD5_BASE64_SIZE],
						  rb_error *err);
/* lowercase hex of the MD5: what S3 returns as a single-part ETag (inside quotes) */
int			rb_md5_hex(const void *data, size_t len, char out[RB_MD5_HEX_SIZE],
					   rb_error *err);

/* --- encodings and comparison ------------------------------------------------ */

/* Lowercase hex of len bytes into out (2 * len + 1 bytes, NUL-terminated). */
void		rb_hex_encode(const unsigned char *in, size_t len, char *out);
/* Value of one hex digit (either case), or -1. */
int			rb_hex_digit(char c);
/* Exactly 2 * len hex digits (either case) into len bytes; false when hex is not that. */
bool		rb_hex_decode(const char *hex, unsigned char *out, size_t len);
/* Standard base64 with padding into out (RB_BASE64_SIZE(len) bytes); returns strlen. */
size_t		rb_base64_encode(const unsigned char *in, size_t len, char *out);
/* Compares len bytes in time that does not depend on where they differ. */
bool		rb_ct_equal(const void *a, const void *b, size_t len);
/* Constant-time string equality (time depends only on the lengths). */
bool		rb_ct_streq(const char *a, const char *b);

#endif							/* RB_CRYPTO_H */
