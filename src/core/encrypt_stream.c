/*
 * encrypt_stream.c — the streaming encryptor and decryptor of backup objects (see
 * encrypt_stream.h; the byte format is docs/encryption-format.md) on libsodium's
 * crypto_secretstream_xchacha20poly1305.
 *
 * The encryptor keeps one chunk of plaintext back: a full chunk is sealed with tag
 * MESSAGE only once more input arrives, so that finish can seal whatever it holds
 * (0 to chunk size bytes) with tag FINAL.  The decryptor collects one sealed chunk
 * (chunk size + 17 bytes) at a time, opens it, and only then passes its plaintext on;
 * the stream's last, shorter chunk is opened at finish.  Both hold at most one chunk
 * of input and one of output; both wipe their state when freed.
 */
#include "encrypt_stream.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_crypto.h"

#define SS_HEADER_LEN	crypto_secretstream_xchacha20poly1305_HEADERBYTES	/* 24 */
#define SS_ABYTES		crypto_secretstream_xchacha20poly1305_ABYTES	/* 17 */
#define TAG_MESSAGE		crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define TAG_FINAL		crypto_secretstream_xchacha20poly1305_TAG_FINAL

#define HDR_VERSION		1
#define HDR_ALGORITHM	1		/* crypto_secretstream_xchacha20poly1305 */
#define OFF_VERSION		8
#define OFF_ALGORITHM	9
#define OFF_RESERVED	10
#define OFF_CHUNK		12
#define OFF_KEY_ID		16
#define OFF_SS_HEADER	24

_Static_assert(SS_HEADER_LEN == 24, "secretstream header is 24 bytes");
_Static_assert(SS_ABYTES == RB_ENCRYPT_OVERHEAD, "secretstream overhead is 17 bytes");
_Static_assert(OFF_SS_HEADER + SS_HEADER_LEN == RB_ENCRYPT_HEADER_LEN, "header layout");
_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == RB_KEY_LEN, "key size");

struct rb_encryptor
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[RB_ENCRYPT_HEADER_LEN];
	size_t		chunk;			/* plaintext bytes per chunk */
	unsigned char *in;			/* plaintext not yet sealed (chunk bytes) */
	size_t		in_len;
	unsigned char *ct;			/* one sealed chunk (chunk + 17 bytes) */
	uint64_t	nchunks;		/* chunks sealed so far */
	uint64_t	bytes_out;
	bool		finished;
	bool		failed;
	rb_write_fn out;
	void	   *out_arg;
};

typedef enum dec_state
{
	DEC_HEADER,					/* reading the 48-byte header */
	DEC_CHUNKS,					/* reading sealed chunks */
	DEC_DONE,					/* the FINAL chunk authenticated */
	DEC_FAILED
} dec_state;

struct rb_decryptor
{
	crypto_secretstream_xchacha20poly1305_state st;
	const rb_keyring *ring;
	rb_write_fn out;
	void	   *out_arg;
	dec_state	state;
	unsigned char header[RB_ENCRYPT_HEADER_LEN];
	size_t		hlen;
	size_t		chunk;			/* plaintext bytes per chunk, from the header */
	unsigned char *cbuf;		/* one sealed chunk being collected (chunk + 17 bytes) */
	size_t		clen;
	unsigned char *pbuf;		/* its plaintext (chunk bytes) */
	uint64_t	nchunks;		/* chunks authenticated so far */
	unsigned long long end;		/* byte offset where the FINAL chunk ends, once read */
	char		key_id_hex[RB_KEY_ID_HEX_SIZE];
	rb_error	failure;		/* repeated by every call after a failure */
};

bool
rb_encrypt_detect(const void *data, size_t len)
{
	return data != NULL && len >= strlen(RB_ENCRYPT_MAGIC) &&
		memcmp(data, RB_ENCRYPT_MAGIC, strlen(RB_ENCRYPT_MAGIC)) == 0;
}

static uint32_t
get_be32(const unsigned char *p)
{
	return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void
put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char) (v >> 24);
	p[1] = (unsigned char) (v >> 16);
	p[2] = (unsigned char) (v >> 8);
	p[3] = (unsigned char) v;
}

/*
 * Checks a complete header: magic, version, algorithm, reserved bits, chunk size.
 * RB_ERR_INTEGRITY when it is not a header of a version this code reads.
 */
static int
parse_header(const unsigned char *h, size_t *chunk, rb_error *err)
{
	uint32_t	cs;

	if (!rb_encrypt_detect(h, RB_ENCRYPT_HEADER_LEN))
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"not an encrypted ripple_backup object: it does not start with \"%s\"",
							RB_ENCRYPT_MAGIC);
	if (h[OFF_VERSION] != HDR_VERSION)
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"encrypted object has format version %u, which this version of ripple_backup "
							"cannot read (it reads version %d)", h[OFF_VERSION], HDR_VERSION);
	if (h[OFF_ALGORITHM] != HDR_ALGORITHM)
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"encrypted object names encryption algorithm %u, which format version %d does "
							"not have (it has only 1, xchacha20poly1305 secretstream)",
							h[OFF_ALGORITHM], HDR_VERSION);
	if (h[OFF_RESERVED] != 0 || h[OFF_RESERVED + 1] != 0)
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"encrypted object's header has nonzero reserved bits (0x%02x%02x): "
							"not a format version %d object", h[OFF_RESERVED], h[OFF_RESERVED + 1],
							HDR_VERSION);
	cs = get_be32(h + OFF_CHUNK);
	if (cs < RB_ENCRYPT_CHUNK_MIN || cs > RB_ENCRYPT_CHUNK_MAX)
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"encrypted object's header gives a chunk size of %u bytes, outside the "
							"%d to %d that format version %d allows", cs, RB_ENCRYPT_CHUNK_MIN,
							RB_ENCRYPT_CHUNK_MAX, HDR_VERSION);
	*chunk = cs;
	return 0;
}

int
rb_encrypt_header_key_id(const void *data, size_t len, unsigned char id[RB_KEY_ID_LEN],
						 rb_error *err)
{
	size_t		chunk;

	if (data == NULL || len < RB_ENCRYPT_HEADER_LEN)
	{
		if (!rb_encrypt_detect(data, len))
			return rb_error_set(err, RB_ERR_INTEGRITY,
								"not an encrypted ripple_backup object: it does not start with \"%s\"",
								RB_ENCRYPT_MAGIC);
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"encrypted object is truncated: %zu bytes, shorter than its %d-byte header",
							len, RB_ENCRYPT_HEADER_LEN);
	}
	if (parse_header(data, &chunk, err) != 0)
		return -1;
	memcpy(id, (const unsigned char *) data + OFF_KEY_ID, RB_KEY_ID_LEN);
	return 0;
}

/* --- the encryptor ------------------------------------------------------------ */

rb_encryptor *
rb_encryptor_new_chunked(const rb_key *key, size_t chunk, rb_write_fn out, void *out_arg,
						 rb_error *err)
{
	rb_encryptor *e;

	if (rb_encrypt_init(err) != 0)
		return NULL;
	if (chunk < RB_ENCRYPT_CHUNK_MIN || chunk > RB_ENCRYPT_CHUNK_MAX)
	{
		rb_error_set(err, RB_ERR_INVALID, "invalid encryption chunk size %zu", chunk);
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e != NULL)
	{
		e->in = malloc(chunk);
		e->ct = malloc(chunk + SS_ABYTES);
	}
	if (e == NULL || e->in == NULL || e->ct == NULL)
	{
		rb_encryptor_free(e);
		rb_error_set(err, RB_ERR_NOMEM, "out of memory for the encryptor");
		return NULL;
	}
	e->chunk = chunk;
	e->out = out;
	e->out_arg = out_arg;

	memcpy(e->header, RB_ENCRYPT_MAGIC, strlen(RB_ENCRYPT_MAGIC));
	e->header[OFF_VERSION] = HDR_VERSION;
	e->header[OFF_ALGORITHM] = HDR_ALGORITHM;
	e->header[OFF_RESERVED] = 0;
	e->header[OFF_RESERVED + 1] = 0;
	put_be32(e->header + OFF_CHUNK, (uint32_t) chunk);
	memcpy(e->header + OFF_KEY_ID, key->id, RB_KEY_ID_LEN);
	/* fills the random secretstream header in place */
	if (crypto_secretstream_xchacha20poly1305_init_push(&e->st, e->header + OFF_SS_HEADER,
														key->bytes) != 0)
	{
		rb_encryptor_free(e);
		rb_error_set(err, RB_ERR_INTERNAL, "could not start the encryption stream");
		return NULL;
	}
	return e;
}

rb_encryptor *
rb_encryptor_new(const rb_key *key, rb_write_fn out, void *out_arg, rb_error *err)
{
	return rb_encryptor_new_chunked(key, RB_ENCRYPT_CHUNK, out, out_arg, err);
}

static int
enc_emit(rb_encryptor *e, const void *data, size_t len, rb_error *err)
{
	if (e->out(e->out_arg, data, len, err) != 0)
	{
		e->failed = true;
		return -1;
	}
	e->bytes_out += len;
	return 0;
}

/* Seals len bytes of plaintext (len == chunk unless tag is FINAL) and passes them on. */
static int
enc_seal(rb_encryptor *e, const unsigned char *plain, size_t len, unsigned char tag,
		 rb_error *err)
{
	unsigned long long clen = 0;
	const unsigned char *ad = NULL;
	size_t		adlen = 0;

	if (e->nchunks == 0)
	{
		/* the header goes out with the first chunk, which authenticates it */
		if (enc_emit(e, e->header, RB_ENCRYPT_HEADER_LEN, err) != 0)
			return -1;
		ad = e->header;
		adlen = RB_ENCRYPT_HEADER_LEN;
	}
	if (crypto_secretstream_xchacha20poly1305_push(&e->st, e->ct, &clen, plain, len,
												   ad, adlen, tag) != 0)
	{
		e->failed = true;
		return rb_error_set(err, RB_ERR_INTERNAL, "could not encrypt chunk %llu",
							(unsigned long long) e->nchunks + 1);
	}
	e->nchunks++;
	return enc_emit(e, e->ct, (size_t) clen, err);
}

int
rb_encryptor_write(rb_encryptor *e, const void *data, size_t len, rb_error *err)
{
	const unsigned char *p = data;

	if (e->failed || e->finished)
		return rb_error_set(err, RB_ERR_INTERNAL, "write to an encryptor that is %s",
							e->failed ? "failed" : "finished");
	while (len > 0)
	{
		size_t		take;

		if (e->in_len == e->chunk)
		{
			/* more input follows, so the held chunk is not the last */
			if (enc_seal(e, e->in, e->chunk, TAG_MESSAGE, err) != 0)
				return -1;
			e->in_len = 0;
		}
		if (e->in_len == 0 && len > e->chunk)
		{
			/* a full chunk with more after it: seal it straight from the caller's buffer */
			if (enc_seal(e, p, e->chunk, TAG_MESSAGE, err) != 0)
				return -1;
			p += e->chunk;
			len -= e->chunk;
			continue;
		}
		take = e->chunk - e->in_len;
		if (take > len)
			take = len;
		memcpy(e->in + e->in_len, p, take);
		e->in_len += take;
		p += take;
		len -= take;
	}
	return 0;
}

int
rb_encryptor_finish(rb_encryptor *e, rb_error *err)
{
	if (e->failed || e->finished)
		return rb_error_set(err, RB_ERR_INTERNAL, "finish of an encryptor that is %s",
							e->failed ? "failed" : "finished");
	if (enc_seal(e, e->in, e->in_len, TAG_FINAL, err) != 0)
		return -1;
	e->in_len = 0;
	e->finished = true;
	return 0;
}

uint64_t
rb_encryptor_bytes_out(const rb_encryptor *e)
{
	return e->bytes_out;
}

void
rb_encryptor_free(rb_encryptor *e)
{
	if (e == NULL)
		return;
	if (e->in != NULL)
	{
		sodium_memzero(e->in, e->chunk);
		free(e->in);
	}
	free(e->ct);				/* ciphertext: nothing secret */
	sodium_memzero(e, sizeof(*e));
	free(e);
}

/* --- the decryptor ------------------------------------------------------------ */

rb_decryptor *
rb_decryptor_new(const rb_keyring *ring, rb_write_fn out, void *out_arg, rb_error *err)
{
	rb_decryptor *d;

	if (rb_encrypt_init(err) != 0)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory for the decryptor");
		return NULL;
	}
	d->ring = ring;
	d->out = out;
	d->out_arg = out_arg;
	d->state = DEC_HEADER;
	return d;
}

/* Records a failure (err already filled): every later call repeats it. */
static int
dec_failed(rb_decryptor *d, rb_error *err)
{
	d->state = DEC_FAILED;
	if (err != NULL)
		d->failure = *err;
	else
		rb_error_set(&d->failure, RB_ERR_INTERNAL, "decryption failed");
	return -1;
}

static int
dec_fail(rb_decryptor *d, rb_error *err, rb_error_code code, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));

static int
dec_fail(rb_decryptor *d, rb_error *err, rb_error_code code, const char *fmt,...)
{
	va_list		ap;

	d->state = DEC_FAILED;
	d->failure.code = code;
	va_start(ap, fmt);
	vsnprintf(d->failure.msg, sizeof(d->failure.msg), fmt, ap);
	va_end(ap);
	if (err != NULL)
		*err = d->failure;
	return -1;
}

/* Byte offset in the object of the chunk with this 0-based index. */
static unsigned long long
chunk_offset(const rb_decryptor *d, uint64_t index)
{
	return RB_ENCRYPT_HEADER_LEN + (unsigned long long) index * (d->chunk + SS_ABYTES);
}

/* The header is complete: check it, find its key, start the stream. */
static int
dec_start(rb_decryptor *d, rb_error *err)
{
	const rb_key *key;
	unsigned char id[RB_KEY_ID_LEN];

	if (parse_header(d->header, &d->chunk, err) != 0)
		return dec_failed(d, err);
	memcpy(id, d->header + OFF_KEY_ID, RB_KEY_ID_LEN);
	rb_hex_encode(id, RB_KEY_ID_LEN, d->key_id_hex);
	key = d->ring != NULL ? rb_keyring_find(d->ring, id) : NULL;
	if (key == NULL)
		return dec_fail(d, err, RB_ERR_AUTH,
						"encrypted with key %s, which none of the configured keys matches",
						d->key_id_hex);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&d->st, d->header + OFF_SS_HEADER,
														key->bytes) != 0)
		return dec_fail(d, err, RB_ERR_INTEGRITY,
						"encrypted object's stream header is invalid");
	d->cbuf = malloc(d->chunk + SS_ABYTES);
	d->pbuf = malloc(d->chunk);
	if (d->cbuf == NULL || d->pbuf == NULL)
		return dec_fail(d, err, RB_ERR_NOMEM, "out of memory for a %zu-byte chunk", d->chunk);
	d->state = DEC_CHUNKS;
	return 0;
}

static int
data_after_final(rb_decryptor *d, rb_error *err)
{
	return dec_fail(d, err, RB_ERR_INTEGRITY,
					"encrypted object has data after its final chunk (chunk %llu, which ends at byte "
					"offset %llu)", (unsigned long long) d->nchunks, d->end);
}

/*
 * The tag a sealed chunk starting with byte c0 would carry, unauthenticated: the first
 * byte of a chunk is its tag XOR the first byte of ChaCha20 block 1 of the current
 * stream state (libsodium's secretstream construction).  Used only to decide whether
 * a failed chunk is worth the search below; the search itself authenticates.
 */
static unsigned char
dec_peek_tag(const rb_decryptor *d, unsigned char c0)
{
	unsigned char b = c0;

	crypto_stream_chacha20_ietf_xor_ic(&b, &b, 1, d->st.nonce, 1U, d->st.k);
	return b;
}

/*
 * After c (len bytes) failed to open as one chunk: does a FINAL chunk end inside it,
 * so that the rest is data appended after the object?  A chunk carries no length, so
 * each shorter length is tried (a failed pull leaves the stream state as it was);
 * that costs about n * n / 2 bytes of Poly1305 for the n lengths tried, so it is done
 * only when the chunk's first byte decrypts to the FINAL tag (always for a real final
 * chunk, 1 in 256 for a corrupt one), and only for lengths up to a sealed chunk of the
 * size the encryptor writes: about 1.7 s at worst.  Unbounded, a header declaring the
 * largest chunk size a reader accepts (4 MiB) would make one corrupt chunk cost hours;
 * beyond the bound the piece fails as a corrupt chunk.
 */
static bool
dec_final_inside(rb_decryptor *d, const unsigned char *c, size_t len,
				 const unsigned char *ad, size_t adlen, size_t *flen)
{
	size_t		limit = len < RB_ENCRYPT_CHUNK + SS_ABYTES ? len : RB_ENCRYPT_CHUNK + SS_ABYTES;

	if (len <= SS_ABYTES || dec_peek_tag(d, c[0]) != TAG_FINAL)
		return false;
	for (size_t l = SS_ABYTES; l < limit; l++)
	{
		unsigned long long mlen = 0;
		unsigned char tag = 0;

		if (crypto_secretstream_xchacha20poly1305_pull(&d->st, d->pbuf, &mlen, &tag, c, l,
													   ad, adlen) == 0)
		{
			sodium_memzero(d->pbuf, (size_t) mlen);
			if (tag == TAG_FINAL)
			{
				*flen = l;
				return true;
			}
			return false;		/* a short chunk that is not FINAL: nothing to report */
		}
	}
	return false;
}

/*
 * Opens one sealed chunk of len bytes (chunk + 17, or fewer for the stream's last
 * chunk, then at_end) and passes its plaintext on once it authenticated.
 */
static int
dec_open(rb_decryptor *d, const unsigned char *c, size_t len, bool at_end, rb_error *err)
{
	unsigned long long mlen = 0;
	unsigned char tag = 0;
	const unsigned char *ad = NULL;
	size_t		adlen = 0;
	unsigned long long n = (unsigned long long) d->nchunks + 1;	/* numbered from 1 */

	if (d->nchunks == 0)
	{
		ad = d->header;
		adlen = RB_ENCRYPT_HEADER_LEN;
	}
	if (crypto_secretstream_xchacha20poly1305_pull(&d->st, d->pbuf, &mlen, &tag, c, len,
												   ad, adlen) != 0)
	{
		size_t		flen;

		if (dec_final_inside(d, c, len, ad, adlen, &flen))
		{
			d->end = chunk_offset(d, d->nchunks) + flen;
			d->nchunks++;
			return data_after_final(d, err);
		}
		if (at_end && len < d->chunk + SS_ABYTES)
			return dec_fail(d, err, RB_ERR_INTEGRITY,
							"chunk %llu (at byte offset %llu, the last %zu bytes) failed authentication: "
							"the object is truncated or corrupt",
							n, chunk_offset(d, d->nchunks), len);
		if (d->nchunks == 0)
			return dec_fail(d, err, RB_ERR_INTEGRITY,
							"chunk 1 (at byte offset %d) failed authentication: the object is corrupt, "
							"its header was altered or belongs to another object, or key %s is not "
							"the key it was encrypted with",
							RB_ENCRYPT_HEADER_LEN, d->key_id_hex);
		return dec_fail(d, err, RB_ERR_INTEGRITY,
						"chunk %llu (at byte offset %llu) failed authentication: the object is "
						"corrupt, or its chunks were reordered, duplicated or removed",
						n, chunk_offset(d, d->nchunks));
	}
	if (tag != TAG_MESSAGE && tag != TAG_FINAL)
		return dec_fail(d, err, RB_ERR_INTEGRITY,
						"chunk %llu (at byte offset %llu) has tag %u, which format version %d does not use",
						n, chunk_offset(d, d->nchunks), tag, HDR_VERSION);
	if (tag == TAG_MESSAGE && len != d->chunk + SS_ABYTES)
		return dec_fail(d, err, RB_ERR_INTEGRITY,
						"encrypted object is truncated: chunk %llu (at byte offset %llu) is shorter "
						"than the chunk size and not the final chunk",
						n, chunk_offset(d, d->nchunks));
	if (tag == TAG_FINAL)
		d->end = chunk_offset(d, d->nchunks) + len;
	d->nchunks++;
	if (mlen > 0 && d->out(d->out_arg, d->pbuf, (size_t) mlen, err) != 0)
		return dec_failed(d, err);
	if (tag == TAG_FINAL)
		d->state = DEC_DONE;
	return 0;
}

int
rb_decryptor_write(rb_decryptor *d, const void *data, size_t len, rb_error *err)
{
	const unsigned char *p = data;

	if (d->state == DEC_FAILED)
	{
		if (err != NULL)
			*err = d->failure;
		return -1;
	}
	while (len > 0)
	{
		switch (d->state)
		{
			case DEC_HEADER:
				{
					size_t		take = RB_ENCRYPT_HEADER_LEN - d->hlen;
					size_t		magic = strlen(RB_ENCRYPT_MAGIC);

					if (take > len)
						take = len;
					memcpy(d->header + d->hlen, p, take);
					d->hlen += take;
					p += take;
					len -= take;
					/* plaintext (a zstd frame, say) is refused at its first bytes */
					if (memcmp(d->header, RB_ENCRYPT_MAGIC, d->hlen < magic ? d->hlen : magic) != 0)
						return dec_fail(d, err, RB_ERR_INTEGRITY,
										"not an encrypted ripple_backup object: it does not start with \"%s\"",
										RB_ENCRYPT_MAGIC);
					if (d->hlen == RB_ENCRYPT_HEADER_LEN && dec_start(d, err) != 0)
						return -1;
					break;
				}
			case DEC_CHUNKS:
				{
					size_t		full = d->chunk + SS_ABYTES;
					size_t		take;

					if (d->clen == 0 && len >= full)
					{
						/* a whole sealed chunk in the caller's buffer: open it there */
						if (dec_open(d, p, full, false, err) != 0)
							return -1;
						p += full;
						len -= full;
						break;
					}
					take = full - d->clen;
					if (take > len)
						take = len;
					memcpy(d->cbuf + d->clen, p, take);
					d->clen += take;
					p += take;
					len -= take;
					if (d->clen == full)
					{
						if (dec_open(d, d->cbuf, full, false, err) != 0)
							return -1;
						d->clen = 0;
					}
					break;
				}
			case DEC_DONE:
				return data_after_final(d, err);
			case DEC_FAILED:
				if (err != NULL)
					*err = d->failure;
				return -1;
		}
	}
	return 0;
}

int
rb_decryptor_finish(rb_decryptor *d, rb_error *err)
{
	switch (d->state)
	{
		case DEC_FAILED:
			if (err != NULL)
				*err = d->failure;
			return -1;
		case DEC_DONE:
			return 0;
		case DEC_HEADER:
			if (d->hlen == 0)
				return dec_fail(d, err, RB_ERR_INTEGRITY,
								"encrypted object is truncated: it is empty, without even its %d-byte header",
								RB_ENCRYPT_HEADER_LEN);
			return dec_fail(d, err, RB_ERR_INTEGRITY,
							"encrypted object is truncated: %zu bytes, shorter than its %d-byte header",
							d->hlen, RB_ENCRYPT_HEADER_LEN);
		case DEC_CHUNKS:
			break;
	}
	if (d->clen == 0)
	{
		if (d->nchunks == 0)
			return dec_fail(d, err, RB_ERR_INTEGRITY,
							"encrypted object is truncated: it ends after its header, without a chunk");
		return dec_fail(d, err, RB_ERR_INTEGRITY,
						"encrypted object is truncated: it ends after chunk %llu (at byte offset %llu, "
						"a chunk boundary) without its final chunk",
						(unsigned long long) d->nchunks, chunk_offset(d, d->nchunks));
	}
	if (d->clen < SS_ABYTES)
		return dec_fail(d, err, RB_ERR_INTEGRITY,
						"encrypted object is truncated: the %zu bytes after chunk %llu are too few "
						"for a chunk (at least %d)", d->clen, (unsigned long long) d->nchunks,
						SS_ABYTES);
	if (dec_open(d, d->cbuf, d->clen, true, err) != 0)
		return -1;
	if (d->state != DEC_DONE)
		return dec_fail(d, err, RB_ERR_INTEGRITY, "encrypted object is truncated");
	return 0;
}

const char *
rb_decryptor_key_id_hex(const rb_decryptor *d)
{
	return d->key_id_hex;
}

void
rb_decryptor_free(rb_decryptor *d)
{
	if (d == NULL)
		return;
	if (d->pbuf != NULL)
	{
		sodium_memzero(d->pbuf, d->chunk);
		free(d->pbuf);
	}
	free(d->cbuf);
	sodium_memzero(d, sizeof(*d));
	free(d);
}
