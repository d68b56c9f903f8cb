/*
 * rb_crypto.c — SHA-256, HMAC-SHA256, MD5, hex/base64 and constant-time comparison
 * on OpenSSL 3's EVP interface (see rb_crypto.h).
 */
#include "rb_crypto.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

struct rb_digest
{
	rb_digest_alg alg;
	EVP_MD_CTX *ctx;
	unsigned long long bytes;
};

static const char *
alg_name(rb_digest_alg alg)
{
	return alg == RB_DIGEST_MD5 ? "MD5" : "SHA-256";
}

static const EVP_MD *
alg_md(rb_digest_alg alg)
{
	return alg == RB_DIGEST_MD5 ? EVP_md5() : EVP_sha256();
}

/* Sets err from OpenSSL's error queue (and empties the queue). */
static int
crypto_fail(rb_error *err, const char *what, rb_digest_alg alg)
{
	unsigned long e = ERR_get_error();
	char		buf[256];

	if (e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	else
		strcpy(buf, "unknown error");
	ERR_clear_error();
	return rb_error_set(err, RB_ERR_INTERNAL, "could not %s %s digest: %s",
						what, alg_name(alg), buf);
}

size_t
rb_digest_len(rb_digest_alg alg)
{
	return alg == RB_DIGEST_MD5 ? RB_MD5_LEN : RB_SHA256_LEN;
}

rb_digest *
rb_digest_new(rb_digest_alg alg, rb_error *err)
{
	rb_digest  *d = calloc(1, sizeof(*d));

	if (d == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	d->alg = alg;
	d->ctx = EVP_MD_CTX_new();
	if (d->ctx == NULL)
	{
		free(d);
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		return NULL;
	}
	if (EVP_DigestInit_ex(d->ctx, alg_md(alg), NULL) != 1)
	{
		crypto_fail(err, "initialise", alg);
		EVP_MD_CTX_free(d->ctx);
		free(d);
		return NULL;
	}
	return d;
}

int
rb_digest_update(rb_digest *d, const void *data, size_t len, rb_error *err)
{
	if (len == 0)
		return 0;
	if (EVP_DigestUpdate(d->ctx, data, len) != 1)
		return crypto_fail(err, "update", d->alg);
	d->bytes += len;
	return 0;
}

int
rb_digest_reset(rb_digest *d, rb_error *err)
{
	d->bytes = 0;
	if (EVP_DigestInit_ex(d->ctx, alg_md(d->alg), NULL) != 1)
		return crypto_fail(err, "initialise", d->alg);
	return 0;
}

int
rb_digest_final(rb_digest *d, unsigned char *out, rb_error *err)
{
	unsigned int outlen = 0;

	if (EVP_DigestFinal_ex(d->ctx, out, &outlen) != 1 ||
		outlen != rb_digest_len(d->alg))
		return crypto_fail(err, "finish", d->alg);
	return rb_digest_reset(d, err);
}

int
rb_digest_final_hex(rb_digest *d, char *out, rb_error *err)
{
	unsigned char raw[RB_DIGEST_MAX_LEN];

	if (rb_digest_final(d, raw, err) != 0)
		return -1;
	rb_hex_encode(raw, rb_digest_len(d->alg), out);
	return 0;
}

unsigned long long
rb_digest_bytes(const rb_digest *d)
{
	return d->bytes;
}

void
rb_digest_free(rb_digest *d)
{
	if (d == NULL)
		return;
	EVP_MD_CTX_free(d->ctx);
	free(d);
}

static int
one_shot(rb_digest_alg alg, const void *data, size_t len, unsigned char *out,
		 rb_error *err)
{
	unsigned int outlen = 0;

	if (EVP_Digest(len ? data : "", len, out, &outlen, alg_md(alg), NULL) != 1 ||
		outlen != rb_digest_len(alg))
		return crypto_fail(err, "compute", alg);
	return 0;
}

int
rb_sha256(const void *data, size_t len, unsigned char out[RB_SHA256_LEN], rb_error *err)
{
	return one_shot(RB_DIGEST_SHA256, data, len, out, err);
}

int
rb_sha256_hex(const void *data, size_t len, char out[RB_SHA256_HEX_SIZE], rb_error *err)
{
	unsigned char raw[RB_SHA256_LEN];

	if (one_shot(RB_DIGEST_SHA256, data, len, raw, err) != 0)
		return -1;
	rb_hex_encode(raw, sizeof(raw), out);
	return 0;
}

int
rb_hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
			   unsigned char out[RB_SHA256_LEN], rb_error *err)
{
	unsigned int outlen = 0;

	/* HMAC() is the one-shot EVP-based interface, not deprecated in OpenSSL 3. */
	if (HMAC(EVP_sha256(), keylen ? key : "", (int) keylen,
			 len ? data : (const void *) "", len, out, &outlen) == NULL ||
		outlen != RB_SHA256_LEN)
		return crypto_fail(err, "compute HMAC", RB_DIGEST_SHA256);
	return 0;
}

int
rb_md5(const void *data, size_t len, unsigned char out[RB_MD5_LEN], rb_error *err)
{
	return one_shot(RB_DIGEST_MD5, data, len, out, err);
}

int
rb_md5_base64(const void *data, size_t len, char out[RB_MD5_BASE64_SIZE], rb_error *err)
{
	unsigned char raw[RB_MD5_LEN];

	if (one_shot(RB_DIGEST_MD5, data, len, raw, err) != 0)
		return -1;
	rb_base64_encode(raw, sizeof(raw), out);
	return 0;
}

int
rb_md5_hex(const void *data, size_t len, char out[RB_MD5_HEX_SIZE], rb_error *err)
{
	unsigned char raw[RB_MD5_LEN];

	if (one_shot(RB_DIGEST_MD5, data, len, raw, err) != 0)
		return -1;
	rb_hex_encode(raw, sizeof(raw), out);
	return 0;
}

void
rb_hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++)
	{
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * len] = '\0';
}

int
rb_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
rb_hex_decode(const char *hex, unsigned char *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++)
	{
		int			hi = rb_hex_digit(hex[2 * i]);
		int			lo = rb_hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char) (hi * 16 + lo);
	}
	return true;
}

size_t
rb_base64_encode(const unsigned char *in, size_t len, char *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t		o = 0;
	size_t		i = 0;

	for (; i + 2 < len; i += 3)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8) | in[i + 2];

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (len - i == 1)
	{
		uint32_t	v = (uint32_t) in[i] << 16;

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	}
	else if (len - i == 2)
	{
		uint32_t	v = ((uint32_t) in[i] << 16) | ((uint32_t) in[i + 1] << 8);

		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

bool
rb_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *pa = a;
	const volatile unsigned char *pb = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= pa[i] ^ pb[i];
	return diff == 0;
}

bool
rb_ct_streq(const char *a, const char *b)
{
	size_t		la = strlen(a);
	size_t		lb = strlen(b);

	if (la != lb)
		return false;
	return rb_ct_equal(a, b, la);
}
