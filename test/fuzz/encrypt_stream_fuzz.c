/*
 * encrypt_stream_fuzz.c — libFuzzer harness of the decryptor's header and chunk parser
 * (src/core/encrypt_stream.c), under one fixed key (00 01 .. 1f).  The first input
 * byte picks the mode:
 *
 *   even: the rest is an object, fed to the decryptor whole, byte by byte and split at
 *         an input-derived point.  Invariants: no crash or sanitizer report, the same
 *         outcome (success or not, the error, the plaintext passed on) however the
 *         bytes are chunked, and rb_encrypt_header_key_id agreeing with the decryptor
 *         on whether the header is one this code reads.
 *   odd:  the rest is a plaintext, encrypted (64-byte chunks, so objects have many
 *         chunks) and then changed in one input-derived way: a flipped bit, a cut, an
 *         inserted or deleted byte, a chunk swapped, repeated or dropped, bytes
 *         appended.  Invariants: the unchanged object decrypts to the plaintext; a
 *         changed one always fails, and what was passed on before the failure is
 *         whole authenticated chunks of the plaintext.
 *
 * Seeds (test/fuzz/corpus_encrypt_stream): objects under the fixed key with 64-byte
 * and 64 KiB chunks, in mode 0, and plaintexts in mode 1.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encrypt_stream.h"

#define FUZZ_CHUNK 64

typedef struct sink
{
	unsigned char *data;
	size_t		len;
	size_t		cap;
} sink;

static int
sink_write(void *arg, const void *data, size_t len, rb_error *err)
{
	sink	   *s = arg;

	(void) err;
	if (s->len + len > s->cap)
	{
		size_t		cap = (s->len + len) * 2 + 64;
		unsigned char *p = realloc(s->data, cap);

		if (p == NULL)
			abort();
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	return 0;
}

typedef struct outcome
{
	int			rc;
	rb_error_code code;
	char		msg[RB_ERROR_MSG_LEN];
	sink		out;
} outcome;

static const rb_keyring *
fuzz_ring(void)
{
	static rb_keyring ring;
	static int	ready;

	if (!ready)
	{
		rb_key		key;
		rb_error	err = {0};

		for (int i = 0; i < RB_KEY_LEN; i++)
			key.bytes[i] = (unsigned char) i;
		if (rb_key_compute_id(&key, &err) != 0)
			abort();
		rb_keyring_init(&ring);
		if (rb_keyring_add(&ring, &key, &err) != 0)
			abort();
		rb_key_wipe(&key);
		ready = 1;
	}
	return &ring;
}

/* step 0: split at split; otherwise writes of step bytes */
static void
run(const uint8_t *data, size_t size, size_t split, size_t step, outcome *o)
{
	rb_error	err = {0};
	rb_decryptor *d;

	memset(o, 0, sizeof(*o));
	d = rb_decryptor_new(fuzz_ring(), sink_write, &o->out, &err);
	if (d == NULL)
		abort();
	if (step == 0)
	{
		o->rc = rb_decryptor_write(d, data, split, &err);
		if (o->rc == 0)
			o->rc = rb_decryptor_write(d, data + split, size - split, &err);
	}
	else
		for (size_t i = 0; i < size && o->rc == 0; i += step)
			o->rc = rb_decryptor_write(d, data + i, size - i < step ? size - i : step, &err);
	if (o->rc == 0)
		o->rc = rb_decryptor_finish(d, &err);
	if (o->rc != 0)
	{
		o->code = err.code;
		snprintf(o->msg, sizeof(o->msg), "%s", err.msg);
		if (o->msg[0] == '\0')
		{
			fprintf(stderr, "encrypt_stream_fuzz: a failure without a message\n");
			abort();
		}
	}
	rb_decryptor_free(d);
}

static void
same(const outcome *a, const outcome *b, const char *how)
{
	if (a->rc != b->rc || a->code != b->code || strcmp(a->msg, b->msg) != 0 ||
		a->out.len != b->out.len ||
		(a->out.len > 0 && memcmp(a->out.data, b->out.data, a->out.len) != 0))
	{
		fprintf(stderr, "encrypt_stream_fuzz: %s changed the outcome: %d \"%s\" (%zu bytes out) "
				"vs %d \"%s\" (%zu bytes out)\n", how, a->rc, a->msg, a->out.len, b->rc, b->msg,
				b->out.len);
		abort();
	}
}

static void
raw_mode(const uint8_t *data, size_t size)
{
	outcome		whole,
				split,
				bytes;
	size_t		at = size ? (data[0] * 257u + (size > 1 ? data[size - 1] : 0)) % (size + 1) : 0;
	unsigned char id[RB_KEY_ID_LEN];
	rb_error	err = {0};
	int			hdr;

	run(data, size, size, 0, &whole);
	run(data, size, at, 0, &split);
	same(&whole, &split, "a split");
	if (size <= 4096)
	{
		run(data, size, 0, 1, &bytes);
		same(&whole, &bytes, "byte-by-byte feeding");
		free(bytes.out.data);
	}
	/* a header the decryptor got past is one rb_encrypt_header_key_id reads */
	hdr = rb_encrypt_header_key_id(data, size, id, &err);
	if (whole.rc == 0 && hdr != 0)
	{
		fprintf(stderr, "encrypt_stream_fuzz: decrypted, but the header is refused: %s\n", err.msg);
		abort();
	}
	if (whole.rc == 0 && whole.out.len + RB_ENCRYPT_HEADER_LEN > size)
	{
		fprintf(stderr, "encrypt_stream_fuzz: more plaintext than ciphertext\n");
		abort();
	}
	free(whole.out.data);
	free(split.out.data);
}

static void
encrypt(const uint8_t *plain, size_t len, size_t step, sink *ct)
{
	rb_error	err = {0};
	rb_encryptor *e = rb_encryptor_new_chunked(&fuzz_ring()->keys[0], FUZZ_CHUNK, sink_write,
											   ct, &err);

	if (e == NULL)
		abort();
	for (size_t i = 0; i < len; i += step)
		if (rb_encryptor_write(e, plain + i, len - i < step ? len - i : step, &err) != 0)
			abort();
	if (rb_encryptor_finish(e, &err) != 0 || rb_encryptor_bytes_out(e) != ct->len)
		abort();
	rb_encryptor_free(e);
}

static void
tamper_mode(const uint8_t *data, size_t size)
{
	const size_t sealed = FUZZ_CHUNK + RB_ENCRYPT_OVERHEAD;
	uint8_t		op = size > 0 ? data[0] : 0;
	uint32_t	r = size > 4 ? ((uint32_t) data[1] << 16 | (uint32_t) data[2] << 8 | data[3]) : 0;
	const uint8_t *plain = size > 4 ? data + 4 : data;
	size_t		plen = size > 4 ? size - 4 : 0;
	sink		ct = {0};
	sink		m = {0};
	size_t		nchunks;
	outcome		o;

	encrypt(plain, plen, 1 + (r % 97), &ct);
	nchunks = (ct.len - RB_ENCRYPT_HEADER_LEN + sealed - 1) / sealed;
	sink_write(&m, ct.data, ct.len, NULL);
	switch (op % 8)
	{
		case 0:					/* unchanged */
			break;
		case 1:					/* one flipped bit */
			m.data[r % m.len] ^= (unsigned char) (1u << (op >> 5));
			break;
		case 2:					/* cut */
			m.len = r % m.len;
			break;
		case 3:					/* a byte inserted */
			{
				size_t		at = r % (m.len + 1);

				sink_write(&m, "", 1, NULL);
				memmove(m.data + at + 1, m.data + at, m.len - at - 1);
				m.data[at] = op;
				break;
			}
		case 4:					/* a byte deleted */
			{
				size_t		at = r % m.len;

				memmove(m.data + at, m.data + at + 1, m.len - at - 1);
				m.len--;
				break;
			}
		case 5:					/* two chunks swapped (when both are whole and differ) */
			if (nchunks >= 3)
			{
				size_t		a = r % (nchunks - 1),
							b = (r / 7) % (nchunks - 1);
				unsigned char tmp[FUZZ_CHUNK + RB_ENCRYPT_OVERHEAD];

				if (a == b)
					b = (a + 1) % (nchunks - 1);
				memcpy(tmp, m.data + RB_ENCRYPT_HEADER_LEN + a * sealed, sealed);
				memcpy(m.data + RB_ENCRYPT_HEADER_LEN + a * sealed,
					   m.data + RB_ENCRYPT_HEADER_LEN + b * sealed, sealed);
				memcpy(m.data + RB_ENCRYPT_HEADER_LEN + b * sealed, tmp, sealed);
			}
			else
				m.data[RB_ENCRYPT_HEADER_LEN] ^= 0x80;
			break;
		case 6:					/* a chunk repeated, or dropped */
			{
				size_t		a = r % nchunks;
				size_t		start = RB_ENCRYPT_HEADER_LEN + a * sealed;
				size_t		len = a + 1 < nchunks ? sealed : ct.len - start;

				m.len = start;
				if (op & 0x10)
				{
					sink_write(&m, ct.data + start, len, NULL);
					sink_write(&m, ct.data + start, ct.len - start, NULL);
				}
				else
					sink_write(&m, ct.data + start + len, ct.len - start - len, NULL);
				break;
			}
		case 7:					/* bytes appended */
			sink_write(&m, data, 1 + r % (size + 1) > size ? size : 1 + r % (size + 1), NULL);
			if (m.len == ct.len)
				sink_write(&m, "", 1, NULL);
			break;
	}

	run(m.data, m.len, m.len, 0, &o);
	if (m.len == ct.len && memcmp(m.data, ct.data, ct.len) == 0)
	{
		if (o.rc != 0 || o.out.len != plen || (plen > 0 && memcmp(o.out.data, plain, plen) != 0))
		{
			fprintf(stderr, "encrypt_stream_fuzz: the unchanged object did not decrypt: %s\n", o.msg);
			abort();
		}
	}
	else
	{
		if (o.rc == 0)
		{
			fprintf(stderr, "encrypt_stream_fuzz: a changed object (op %u) decrypted\n", op % 8);
			abort();
		}
		if (o.out.len > plen || (o.out.len % FUZZ_CHUNK != 0 && o.out.len != plen) ||
			(o.out.len > 0 && memcmp(o.out.data, plain, o.out.len) != 0))
		{
			fprintf(stderr, "encrypt_stream_fuzz: a changed object passed on %zu bytes that are "
					"not whole chunks of the plaintext\n", o.out.len);
			abort();
		}
	}
	free(o.out.data);
	free(ct.data);
	free(m.data);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		tamper_mode(data + 1, size - 1);
	else
		raw_mode(data + 1, size - 1);
	return 0;
}
