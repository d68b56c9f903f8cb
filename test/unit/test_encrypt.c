/*
 * test_encrypt.c — unit tests of backup encryption (src/core/encrypt_key.c and
 * src/core/encrypt_stream.c): key ids against independently computed HMACs, key text
 * parsing and every refusal of a key file, key generation and the key ring; round
 * trips across chunk boundaries and in random-sized writes; every tamper case (a
 * flipped bit anywhere, truncation at and between chunk boundaries, reordered,
 * duplicated and removed chunks, another object's header, the wrong key, an unknown
 * key id, data after the final chunk), each with its own error, and never a byte of
 * unauthenticated plaintext passed on; headers this version does not read; and
 * streams built directly with libsodium from the documented format.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <valgrind/valgrind.h>
#include <cmocka.h>
#include <sodium.h>

#include "encrypt_key.h"
#include "encrypt_stream.h"
#include "rb_buf.h"
#include "rb_crypto.h"

#define C RB_ENCRYPT_CHUNK
#define SEALED(chunk) ((chunk) + RB_ENCRYPT_OVERHEAD)

/* key 00 01 02 ... 1f */
static const char KEY_A_HEX[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
static const char KEY_A_B64[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/*
 * The key ids, computed independently of this code:
 *   printf 'ripple_backup key id v1' | openssl dgst -sha256 -mac HMAC \
 *     -macopt hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
 *   = a1a5075473acbf9a37301ab4d642975b2e3f9948c9794db0e3de535d602bd81a
 *   (the same with hexkey:ffff...ff, 32 bytes of ff)
 *   = c0a3ff9ceb9a1e9666beead1afeff208abedab8d176b5b65b347b84a5a39c700
 * The id is the first 8 bytes.
 */
static const char KEY_A_ID[] = "a1a5075473acbf9a";
static const char KEY_FF_ID[] = "c0a3ff9ceb9a1e96";

/* --- helpers ------------------------------------------------------------------ */

static int
buf_write(void *arg, const void *data, size_t len, rb_error *err)
{
	(void) err;
	rb_buf_append((rb_buf *) arg, data, len);
	return 0;
}

static unsigned char *
random_bytes(size_t len)
{
	unsigned char *p = malloc(len ? len : 1);

	assert_non_null(p);
	randombytes_buf(p, len);
	return p;
}

static void
key_from_hex(rb_key *key, const char *hex)
{
	rb_error	err = {0};

	assert_int_equal(rb_key_parse(hex, strlen(hex), key, &err), 0);
}

/* Encrypts len bytes of plain in writes of at most step bytes (0: one write). */
static void
encrypt_to(const rb_key *key, size_t chunk, const unsigned char *plain, size_t len,
		   size_t step, rb_buf *ct)
{
	rb_error	err = {0};
	rb_encryptor *e = rb_encryptor_new_chunked(key, chunk, buf_write, ct, &err);

	assert_non_null(e);
	if (step == 0)
		step = len ? len : 1;
	for (size_t off = 0; off < len; off += step)
		assert_int_equal(rb_encryptor_write(e, plain + off, len - off < step ? len - off : step, &err), 0);
	assert_int_equal(rb_encryptor_finish(e, &err), 0);
	assert_int_equal(rb_encryptor_bytes_out(e), ct->len);
	rb_encryptor_free(e);
}

/*
 * Decrypts ct in writes of at most step bytes (0: one write); returns the rc of the
 * first failing call (or of finish), the plaintext passed on in out.
 */
static int
decrypt_with(const rb_keyring *ring, const void *ct, size_t len, size_t step, rb_buf *out,
			 rb_error *err)
{
	const unsigned char *p = ct;
	rb_decryptor *d = rb_decryptor_new(ring, buf_write, out, err);
	int			rc = 0;

	assert_non_null(d);
	if (step == 0)
		step = len ? len : 1;
	for (size_t off = 0; off < len && rc == 0; off += step)
		rc = rb_decryptor_write(d, p + off, len - off < step ? len - off : step, err);
	if (rc == 0)
		rc = rb_decryptor_finish(d, err);
	if (rc != 0)
	{
		/* every later call repeats the failure */
		rb_error	again = {0};

		assert_int_equal(rb_decryptor_write(d, "x", 1, &again), -1);
		assert_int_equal(again.code, err->code);
		assert_string_equal(again.msg, err->msg);
		assert_int_equal(rb_decryptor_finish(d, &again), -1);
		assert_string_equal(again.msg, err->msg);
	}
	rb_decryptor_free(d);
	return rc;
}

/*
 * Decrypts a tampered object that must fail with code and a message containing want,
 * whole and in odd-sized writes; what was passed on must be whole authenticated
 * chunks of plain (a prefix, a multiple of the chunk size, or all of it when only
 * the end of the object is wrong).
 */
static void
expect_fail(const rb_keyring *ring, const rb_buf *ct, const unsigned char *plain,
			size_t plain_len, size_t chunk, rb_error_code code, const char *want)
{
	static const size_t steps[] = {0, 1000, 77};

	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
	{
		rb_buf		out = RB_BUF_INIT;
		rb_error	err = {0};

		assert_int_equal(decrypt_with(ring, ct->data, ct->len, steps[i], &out, &err), -1);
		if (err.code != code || strstr(err.msg, want) == NULL)
			fail_msg("step %zu: got %s \"%s\", wanted %s \"...%s...\"", steps[i],
					 rb_error_code_name(err.code), err.msg, rb_error_code_name(code), want);
		assert_true(out.len <= plain_len);
		assert_true(out.len % chunk == 0 || out.len == plain_len);
		if (out.len > 0)
			assert_memory_equal(out.data, plain, out.len);
		rb_buf_free(&out);
	}
}

static void
ring_of(rb_keyring *ring, const rb_key *key)
{
	rb_error	err = {0};

	rb_keyring_init(ring);
	assert_int_equal(rb_keyring_add(ring, key, &err), 0);
}

/* --- key ids, parsing, generation, the ring -------------------------------------- */

static void
test_key_id_known(void **state)
{
	rb_key		k;
	rb_key		k2;
	rb_error	err = {0};
	char		ffhex[65];

	(void) state;
	key_from_hex(&k, KEY_A_HEX);
	assert_string_equal(k.id_hex, KEY_A_ID);
	for (int i = 0; i < RB_KEY_LEN; i++)
		assert_int_equal(k.bytes[i], i);
	/* the same key in base64, in upper-case hex, with a newline: the same id */
	assert_int_equal(rb_key_parse(KEY_A_B64, strlen(KEY_A_B64), &k2, &err), 0);
	assert_memory_equal(k2.bytes, k.bytes, RB_KEY_LEN);
	assert_string_equal(k2.id_hex, KEY_A_ID);
	{
		char		upper[80];

		snprintf(upper, sizeof(upper), "%s\n", KEY_A_HEX);
		for (char *c = upper; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c -= 'a' - 'A';
		assert_int_equal(rb_key_parse(upper, strlen(upper), &k2, &err), 0);
		assert_string_equal(k2.id_hex, KEY_A_ID);
	}
	memset(ffhex, 'f', 64);
	ffhex[64] = '\0';
	key_from_hex(&k2, ffhex);
	assert_string_equal(k2.id_hex, KEY_FF_ID);
	assert_memory_equal(k2.id, "\xc0\xa3\xff\x9c\xeb\x9a\x1e\x96", RB_KEY_ID_LEN);
	/* compute_id recomputes from the bytes */
	memset(k2.id_hex, 0, sizeof(k2.id_hex));
	assert_int_equal(rb_key_compute_id(&k2, &err), 0);
	assert_string_equal(k2.id_hex, KEY_FF_ID);
	rb_key_wipe(&k2);
	for (size_t i = 0; i < sizeof(k2); i++)
		assert_int_equal(((unsigned char *) &k2)[i], 0);
}

/* A key text that must be refused with a message containing want. */
static void
refuse_text(const char *text, size_t len, const char *want)
{
	rb_key		k;
	rb_error	err = {0};

	memset(&k, 0x5a, sizeof(k));
	if (rb_key_parse(text, len, &k, &err) != -1)
		fail_msg("key text of %zu bytes was accepted, wanted \"%s\"", len, want);
	assert_int_equal(err.code, RB_ERR_INVALID);
	if (strstr(err.msg, want) == NULL)
		fail_msg("got \"%s\", wanted \"...%s...\"", err.msg, want);
	/* the message never shows the key text; a refused key leaves nothing behind */
	assert_null(strstr(err.msg, "0102030405"));
	assert_null(strstr(err.msg, "AAECAwQF"));
	for (size_t i = 0; i < sizeof(k); i++)
		assert_int_equal(((unsigned char *) &k)[i], 0);
}

static void
test_key_parse_refusals(void **state)
{
	char		t[256];

	(void) state;
	refuse_text("", 0, "key is empty");
	refuse_text("\n", 1, "key is empty");
	/* 63 and 65 hex digits */
	snprintf(t, sizeof(t), "%.63s\n", KEY_A_HEX);
	refuse_text(t, strlen(t), "is too short: 63 hex digits, where a 256-bit key has 64");
	snprintf(t, sizeof(t), "%s0\n", KEY_A_HEX);
	refuse_text(t, strlen(t), "is too long: 65 hex digits, where a 256-bit key has 64");
	snprintf(t, sizeof(t), "%s%s", KEY_A_HEX, KEY_A_HEX);
	refuse_text(t, strlen(t), "is too long: 128 hex digits");
	/* CRLF, trailing garbage, two newlines, spaces */
	snprintf(t, sizeof(t), "%s\r\n", KEY_A_HEX);
	refuse_text(t, strlen(t), "ends with a carriage return (a Windows line ending)");
	snprintf(t, sizeof(t), "%s\r\n", KEY_A_B64);
	refuse_text(t, strlen(t), "ends with a carriage return");
	snprintf(t, sizeof(t), "%s # my key\n", KEY_A_HEX);
	refuse_text(t, strlen(t), "has text after the key (at byte offset 64)");
	snprintf(t, sizeof(t), "%sxyz", KEY_A_HEX);
	refuse_text(t, strlen(t), "has text after the key (at byte offset 64)");
	snprintf(t, sizeof(t), "%s\n\n", KEY_A_HEX);
	refuse_text(t, strlen(t), "has text after the key (at byte offset 64)");
	snprintf(t, sizeof(t), "%s\nmore\n", KEY_A_B64);
	refuse_text(t, strlen(t), "has text after the key (at byte offset 44)");
	snprintf(t, sizeof(t), " %s\n", KEY_A_HEX);
	refuse_text(t, strlen(t), "unexpected character at byte offset 0");
	refuse_text("0001 0203\n", 10, "unexpected character at byte offset 4");
	/* a NUL inside */
	memcpy(t, KEY_A_HEX, 64);
	t[10] = '\0';
	refuse_text(t, 64, "unexpected character at byte offset 10");
	/* bad base64: a character outside the alphabet, wrong padding, trailing bits */
	snprintf(t, sizeof(t), "%s", KEY_A_B64);
	t[5] = '!';
	refuse_text(t, strlen(t), "unexpected character at byte offset 5");
	snprintf(t, sizeof(t), "%s", KEY_A_B64);
	t[43] = 'A';				/* no padding: 44 characters that decode to 33 bytes */
	refuse_text(t, strlen(t), "its base64 decodes to 33 bytes, not 32");
	snprintf(t, sizeof(t), "%s", KEY_A_B64);
	t[42] = '=';				/* "==": 31 bytes */
	refuse_text(t, strlen(t), "is not");
	snprintf(t, sizeof(t), "%s", KEY_A_B64);
	t[42] = 'h';				/* trailing bits that are not zero */
	refuse_text(t, strlen(t), "is not valid base64");
	refuse_text(KEY_A_B64, 43, "is too short: 43 base64 characters");
	snprintf(t, sizeof(t), "AB%s", KEY_A_B64);
	refuse_text(t, strlen(t), "is too long: 46 base64 characters");
	snprintf(t, sizeof(t), "A%s", KEY_A_B64);
	refuse_text(t, strlen(t), "is too long: 45 base64 characters");
}

static char tmpdir[64];

static void
write_file(const char *name, const char *text, mode_t mode, char *path, size_t pathsize)
{
	FILE	   *f;

	snprintf(path, pathsize, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
load_refused(const char *path, const char *want)
{
	rb_key		k;
	rb_error	err = {0};

	if (rb_key_load_file(path, &k, &err) != -1)
		fail_msg("%s was accepted, wanted \"%s\"", path, want);
	assert_int_equal(err.code, RB_ERR_INVALID);
	if (strstr(err.msg, want) == NULL)
		fail_msg("got \"%s\", wanted \"...%s...\"", err.msg, want);
	/* names the file */
	assert_non_null(strstr(err.msg, path));
	assert_null(strstr(err.msg, "0102030405"));
}

static void
test_key_files(void **state)
{
	char		good[256],
				path[256],
				link[256],
				text[128];
	rb_key		k;
	rb_error	err = {0};
	static const mode_t refused_modes[] = {0644, 0640, 0604, 0620, 0602, 0610, 0601, 0660, 0666};

	(void) state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_encrypt.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	snprintf(text, sizeof(text), "%s\n", KEY_A_HEX);
	write_file("good", text, 0600, good, sizeof(good));
	assert_int_equal(rb_key_load_file(good, &k, &err), 0);
	assert_string_equal(k.id_hex, KEY_A_ID);
	write_file("ro", KEY_A_B64, 0400, path, sizeof(path));
	assert_int_equal(rb_key_load_file(path, &k, &err), 0);
	assert_string_equal(k.id_hex, KEY_A_ID);

	for (size_t i = 0; i < sizeof(refused_modes) / sizeof(refused_modes[0]); i++)
	{
		char		want[64];

		write_file("open", text, refused_modes[i], path, sizeof(path));
		snprintf(want, sizeof(want), "has mode %04o: group and others must have no access",
				 (unsigned) refused_modes[i]);
		load_refused(path, want);
		unlink(path);
	}

	/* missing, a directory, a FIFO */
	snprintf(path, sizeof(path), "%s/missing", tmpdir);
	load_refused(path, "does not exist");
	snprintf(path, sizeof(path), "%s/dir", tmpdir);
	assert_int_equal(mkdir(path, 0700), 0);
	load_refused(path, "is a directory, not a regular file");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	load_refused(path, "is a special file, not a regular file");
	unlink(path);

	/* a symbolic link is followed: the checks apply to the file it names */
	snprintf(link, sizeof(link), "%s/link", tmpdir);
	assert_int_equal(symlink(good, link), 0);
	assert_int_equal(rb_key_load_file(link, &k, &err), 0);
	assert_string_equal(k.id_hex, KEY_A_ID);
	unlink(link);
	write_file("open", text, 0644, path, sizeof(path));
	assert_int_equal(symlink(path, link), 0);
	load_refused(link, "has mode 0644");
	unlink(link);
	unlink(path);
	assert_int_equal(symlink("/nonexistent/key", link), 0);
	load_refused(link, "does not exist");
	unlink(link);

	/* empty, too long, and the text refusals name the file */
	write_file("empty", "", 0600, path, sizeof(path));
	load_refused(path, "is empty");
	unlink(path);
	{
		char		big[3000];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		write_file("big", big, 0600, path, sizeof(path));
		load_refused(path, "is too long (2999 bytes)");
		unlink(path);
	}
	snprintf(text, sizeof(text), "%.63s\n", KEY_A_HEX);
	write_file("short", text, 0600, path, sizeof(path));
	load_refused(path, "is too short: 63 hex digits");
	unlink(path);
	snprintf(text, sizeof(text), "%s\r\n", KEY_A_HEX);
	write_file("crlf", text, 0600, path, sizeof(path));
	load_refused(path, "ends with a carriage return");
	unlink(path);
	write_file("junk", "not a key at all\n", 0600, path, sizeof(path));
	load_refused(path, "is not valid");
	unlink(path);

	/*
	 * unreadable (mode 0000 passes the mode check); root reads anything, so this case
	 * needs the unprivileged user the test harness runs as
	 */
	write_file("noread", KEY_A_HEX, 0000, path, sizeof(path));
	if (geteuid() != 0)
		load_refused(path, "is not readable");
	unlink(path);
	load_refused("", "the key file path is empty");

	/* the ring loads files; a duplicate is ignored */
	{
		rb_keyring ring;

		rb_keyring_init(&ring);
		assert_int_equal(rb_keyring_add_file(&ring, good, &err), 0);
		assert_int_equal(rb_keyring_add_file(&ring, good, &err), 0);
		assert_int_equal(ring.nkeys, 1);
		snprintf(path, sizeof(path), "%s/missing", tmpdir);
		assert_int_equal(rb_keyring_add_file(&ring, path, &err), -1);
		assert_int_equal(ring.nkeys, 1);
		rb_keyring_wipe(&ring);
	}
	unlink(good);
	snprintf(path, sizeof(path), "%s/ro", tmpdir);
	unlink(path);
	assert_int_equal(rmdir(tmpdir), 0);
}

static void
test_key_generate_and_ring(void **state)
{
	rb_key		a,
				b,
				c;
	char		ta[2 * RB_KEY_LEN + 2],
				tb[2 * RB_KEY_LEN + 2];
	rb_error	err = {0};
	rb_keyring	ring;

	(void) state;
	assert_int_equal(rb_key_generate(&a, ta, &err), 0);
	assert_int_equal(rb_key_generate(&b, tb, &err), 0);
	assert_int_equal(strlen(ta), 65);
	assert_int_equal(ta[64], '\n');
	for (int i = 0; i < 64; i++)
		assert_true((ta[i] >= '0' && ta[i] <= '9') || (ta[i] >= 'a' && ta[i] <= 'f'));
	assert_string_not_equal(ta, tb);
	assert_string_not_equal(a.id_hex, b.id_hex);
	/* the text parses back to the same key and id */
	assert_int_equal(rb_key_parse(ta, strlen(ta), &c, &err), 0);
	assert_memory_equal(c.bytes, a.bytes, RB_KEY_LEN);
	assert_string_equal(c.id_hex, a.id_hex);

	rb_keyring_init(&ring);
	assert_null(rb_keyring_find(&ring, a.id));
	assert_int_equal(rb_keyring_add(&ring, &a, &err), 0);
	assert_int_equal(rb_keyring_add(&ring, &b, &err), 0);
	assert_int_equal(rb_keyring_add(&ring, &c, &err), 0);	/* same id as a */
	assert_int_equal(ring.nkeys, 2);
	assert_memory_equal(rb_keyring_find(&ring, b.id)->bytes, b.bytes, RB_KEY_LEN);
	assert_memory_equal(rb_keyring_find(&ring, a.id)->bytes, a.bytes, RB_KEY_LEN);
	while (ring.nkeys < RB_KEYRING_MAX)
	{
		assert_int_equal(rb_key_generate(&c, ta, &err), 0);
		assert_int_equal(rb_keyring_add(&ring, &c, &err), 0);
	}
	assert_int_equal(rb_key_generate(&c, ta, &err), 0);
	assert_int_equal(rb_keyring_add(&ring, &c, &err), -1);
	assert_string_equal(err.msg, "too many encryption keys: at most 16 can be configured");
	rb_keyring_wipe(&ring);
	assert_int_equal(ring.nkeys, 0);
	for (size_t i = 0; i < sizeof(ring); i++)
		assert_int_equal(((unsigned char *) &ring)[i], 0);
	rb_key_wipe(&a);
	rb_key_wipe(&b);
	rb_key_wipe(&c);
}

/* --- round trips ------------------------------------------------------------------ */

static size_t
expected_size(size_t len, size_t chunk)
{
	size_t		nchunks = len == 0 ? 1 : (len + chunk - 1) / chunk;

	return RB_ENCRYPT_HEADER_LEN + nchunks * RB_ENCRYPT_OVERHEAD + len;
}

static void
test_roundtrip_sizes(void **state)
{
	static const size_t sizes[] = {0, 1, C - 1, C, C + 1, 3 * C};
	static const size_t steps[] = {0, 1, 4096, C + 3};
	rb_key		k;
	rb_keyring	ring;

	(void) state;
	key_from_hex(&k, KEY_A_HEX);
	ring_of(&ring, &k);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		unsigned char *plain = random_bytes(sizes[i]);
		rb_buf		ct = RB_BUF_INIT;
		unsigned char id[RB_KEY_ID_LEN];
		rb_error	err = {0};

		encrypt_to(&k, C, plain, sizes[i], 0, &ct);
		assert_int_equal(ct.len, expected_size(sizes[i], C));
		assert_true(rb_encrypt_detect(ct.data, ct.len));
		assert_memory_equal(ct.data, "RIPBKENC\x01\x01\x00\x00\x00\x01\x00\x00", 16);
		assert_int_equal(rb_encrypt_header_key_id(ct.data, ct.len, id, &err), 0);
		assert_memory_equal(id, k.id, RB_KEY_ID_LEN);
		/* the plaintext does not appear in the ciphertext */
		if (sizes[i] >= 64)
			assert_null(memmem(ct.data, ct.len, plain, 32));
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++)
		{
			rb_buf		out = RB_BUF_INIT;

			if (steps[s] == 1 && sizes[i] > C + 1)
				continue;		/* byte by byte is slow under valgrind; C + 1 covers it */
			assert_int_equal(decrypt_with(&ring, ct.data, ct.len, steps[s], &out, &err), 0);
			assert_int_equal(out.len, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(out.data, plain, sizes[i]);
			rb_buf_free(&out);
		}
		/* encrypting in other write sizes gives the same layout */
		{
			rb_buf		ct2 = RB_BUF_INIT;
			rb_buf		out = RB_BUF_INIT;

			encrypt_to(&k, C, plain, sizes[i], 1000, &ct2);
			assert_int_equal(ct2.len, ct.len);
			/* a fresh random stream header each time */
			assert_memory_not_equal(ct2.data + 24, ct.data + 24, 24);
			assert_int_equal(decrypt_with(&ring, ct2.data, ct2.len, 0, &out, &err), 0);
			assert_int_equal(out.len, sizes[i]);
			rb_buf_free(&out);
			rb_buf_free(&ct2);
		}
		rb_buf_free(&ct);
		free(plain);
	}
	rb_keyring_wipe(&ring);
}

/* Feeds len bytes to fn in random-sized writes (1 .. max bytes). */
static void
random_writes(int (*fn) (void *, const void *, size_t, rb_error *), void *obj,
			  const unsigned char *data, size_t len, size_t max)
{
	rb_error	err = {0};
	size_t		off = 0;

	while (off < len)
	{
		size_t		n = 1 + randombytes_uniform((uint32_t) max);

		if (n > len - off)
			n = len - off;
		assert_int_equal(fn(obj, data + off, n, &err), 0);
		off += n;
	}
}

static int
enc_write_fn(void *e, const void *data, size_t len, rb_error *err)
{
	return rb_encryptor_write(e, data, len, err);
}

static int
dec_write_fn(void *d, const void *data, size_t len, rb_error *err)
{
	return rb_decryptor_write(d, data, len, err);
}

static void
test_roundtrip_large_random_writes(void **state)
{
	size_t		len = 5 * C + 12345 + randombytes_uniform(3 * C);
	unsigned char *plain = random_bytes(len);
	rb_key		k;
	rb_keyring	ring;
	rb_buf		ct = RB_BUF_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};
	rb_encryptor *e;
	rb_decryptor *d;

	(void) state;
	assert_int_equal(rb_key_generate(&k, (char[66]) {0}, &err), 0);
	ring_of(&ring, &k);
	e = rb_encryptor_new(&k, buf_write, &ct, &err);
	random_writes(enc_write_fn, e, plain, len, 3 * C);
	assert_int_equal(rb_encryptor_finish(e, &err), 0);
	/* finish is once; writes after it are refused */
	assert_int_equal(rb_encryptor_finish(e, &err), -1);
	assert_int_equal(rb_encryptor_write(e, "x", 1, &err), -1);
	rb_encryptor_free(e);
	assert_int_equal(ct.len, expected_size(len, C));

	d = rb_decryptor_new(&ring, buf_write, &out, &err);
	assert_string_equal(rb_decryptor_key_id_hex(d), "");
	random_writes(dec_write_fn, d, (unsigned char *) ct.data, ct.len, 2 * C);
	assert_string_equal(rb_decryptor_key_id_hex(d), k.id_hex);
	assert_int_equal(rb_decryptor_finish(d, &err), 0);
	rb_decryptor_free(d);
	assert_int_equal(out.len, len);
	assert_memory_equal(out.data, plain, len);
	rb_buf_free(&out);
	rb_buf_free(&ct);
	free(plain);
	rb_keyring_wipe(&ring);
	rb_key_wipe(&k);
}

/* The old keys of a ring decrypt what they encrypted; each object names its key. */
static void
test_ring_rotation(void **state)
{
	rb_key		oldk,
				newk;
	rb_keyring	ring;
	rb_buf		c1 = RB_BUF_INIT,
				c2 = RB_BUF_INIT;
	rb_error	err = {0};
	const unsigned char plain[] = "rotate me";

	(void) state;
	assert_int_equal(rb_key_generate(&oldk, (char[66]) {0}, &err), 0);
	assert_int_equal(rb_key_generate(&newk, (char[66]) {0}, &err), 0);
	encrypt_to(&oldk, C, plain, sizeof(plain), 0, &c1);
	encrypt_to(&newk, C, plain, sizeof(plain), 0, &c2);
	rb_keyring_init(&ring);
	assert_int_equal(rb_keyring_add(&ring, &newk, &err), 0);
	assert_int_equal(rb_keyring_add(&ring, &oldk, &err), 0);
	for (int i = 0; i < 2; i++)
	{
		rb_buf		out = RB_BUF_INIT;
		rb_buf	   *c = i ? &c2 : &c1;

		assert_int_equal(decrypt_with(&ring, c->data, c->len, 0, &out, &err), 0);
		assert_memory_equal(out.data, plain, sizeof(plain));
		rb_buf_free(&out);
	}
	/* a ring without the old key names the missing key's id */
	ring_of(&ring, &newk);
	{
		rb_buf		out = RB_BUF_INIT;
		char		want[128];

		assert_int_equal(decrypt_with(&ring, c1.data, c1.len, 0, &out, &err), -1);
		assert_int_equal(err.code, RB_ERR_AUTH);
		snprintf(want, sizeof(want),
				 "encrypted with key %s, which none of the configured keys matches", oldk.id_hex);
		assert_string_equal(err.msg, want);
		assert_int_equal(out.len, 0);
		rb_buf_free(&out);
	}
	rb_buf_free(&c1);
	rb_buf_free(&c2);
	rb_keyring_wipe(&ring);
}

/* --- tampering -------------------------------------------------------------------- */

/* The plaintext, key, ring and ciphertext of one tamper scenario. */
typedef struct fixture
{
	size_t		chunk;
	size_t		len;
	unsigned char *plain;
	rb_key		key;
	rb_keyring	ring;
	rb_buf		ct;
} fixture;

static void
fixture_make(fixture *f, size_t chunk, size_t len)
{
	rb_error	err = {0};

	memset(f, 0, sizeof(*f));
	f->chunk = chunk;
	f->len = len;
	f->plain = random_bytes(len);
	assert_int_equal(rb_key_generate(&f->key, (char[66]) {0}, &err), 0);
	ring_of(&f->ring, &f->key);
	encrypt_to(&f->key, chunk, f->plain, len, 0, &f->ct);
}

static void
fixture_free(fixture *f)
{
	free(f->plain);
	rb_buf_free(&f->ct);
	rb_keyring_wipe(&f->ring);
	rb_key_wipe(&f->key);
}

/* A copy of f's ciphertext cut to len bytes. */
static void
copy_prefix(const fixture *f, size_t len, rb_buf *b)
{
	rb_buf_reset(b);
	rb_buf_append(b, f->ct.data, len);
}

static size_t
off_chunk(const fixture *f, size_t index)
{
	return RB_ENCRYPT_HEADER_LEN + index * SEALED(f->chunk);
}

/* What a flipped bit at byte offset off must be reported as. */
static void
flip_expect(const fixture *f, size_t off, rb_error_code *code, const char **want)
{
	*code = RB_ERR_INTEGRITY;
	if (off < 8)
		*want = "not an encrypted ripple_backup object: it does not start with \"RIPBKENC\"";
	else if (off == 8)
		*want = "format version";
	else if (off == 9)
		*want = "encryption algorithm";
	else if (off < 12)
		*want = "nonzero reserved bits";
	else if (off < 16)
		*want = "failed authentication";	/* another chunk size, or out of range */
	else if (off < 24)
	{
		*code = RB_ERR_AUTH;
		*want = "which none of the configured keys matches";
	}
	else if (off < off_chunk(f, 1))
		*want = "chunk 1 (at byte offset 48) failed authentication";
	else
		*want = "failed authentication";
}

static void
flip_one(const fixture *f, size_t off, int bit)
{
	rb_buf		b = RB_BUF_INIT;
	rb_error_code code;
	const char *want;

	copy_prefix(f, f->ct.len, &b);
	b.data[off] ^= (char) (1 << bit);
	flip_expect(f, off, &code, &want);
	/* a changed chunk size may fall outside what version 1 allows */
	if (off >= 12 && off < 16)
	{
		rb_buf		out = RB_BUF_INIT;
		rb_error	err = {0};

		assert_int_equal(decrypt_with(&f->ring, b.data, b.len, 0, &out, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		if (strstr(err.msg, "chunk size of") == NULL && strstr(err.msg, "failed authentication") == NULL &&
			strstr(err.msg, "truncated") == NULL)
			fail_msg("flip at %zu: \"%s\"", off, err.msg);
		assert_int_equal(out.len, 0);
		rb_buf_free(&out);
	}
	else
		expect_fail(&f->ring, &b, f->plain, f->len, f->chunk, code, want);
	rb_buf_free(&b);
}

/* Every bit of a small object (chunk 64: 5 chunks, the last short). */
static void
test_flip_every_bit_small(void **state)
{
	fixture		f;

	(void) state;
	fixture_make(&f, 64, 4 * 64 + 30);
	for (size_t off = 0; off < f.ct.len; off++)
		for (int bit = 0; bit < 8; bit++)
			flip_one(&f, off, bit);
	fixture_free(&f);
	/* and one whose last chunk is full */
	fixture_make(&f, 64, 3 * 64);
	for (size_t off = RB_ENCRYPT_HEADER_LEN; off < f.ct.len; off++)
		flip_one(&f, off, (int) (off % 8));
	fixture_free(&f);
}

/* Many positions in a 64 KiB-chunk object: the header, each chunk's start, middle, tag. */
static void
test_flip_positions_full_chunks(void **state)
{
	fixture		f;

	(void) state;
	fixture_make(&f, C, 3 * C + 1000);
	for (size_t off = 0; off < RB_ENCRYPT_HEADER_LEN; off++)
		flip_one(&f, off, (int) (off % 8));
	for (size_t i = 0; i < 4; i++)
	{
		size_t		start = off_chunk(&f, i);
		size_t		end = i < 3 ? start + SEALED(C) : f.ct.len;

		flip_one(&f, start, 0);	/* the encrypted tag byte */
		flip_one(&f, start + 1, 7);
		flip_one(&f, (start + end) / 2, 3);
		flip_one(&f, end - 16, 1);	/* the first byte of its MAC */
		flip_one(&f, end - 1, 5);	/* the last byte of its MAC */
	}
	fixture_free(&f);
}

static void
test_truncation(void **state)
{
	fixture		f;
	rb_buf		b = RB_BUF_INIT;

	(void) state;
	fixture_make(&f, C, 3 * C + 1000);
	/* inside the header */
	for (size_t cut = 0; cut < RB_ENCRYPT_HEADER_LEN; cut += 7)
	{
		copy_prefix(&f, cut, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY,
					cut == 0 ? "encrypted object is truncated: it is empty" : "shorter than its 48-byte header");
	}
	/* exactly after the header and at every chunk boundary: no FINAL chunk */
	copy_prefix(&f, RB_ENCRYPT_HEADER_LEN, &b);
	expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY,
				"it ends after its header, without a chunk");
	for (size_t i = 1; i <= 3; i++)
	{
		char		want[160];

		copy_prefix(&f, off_chunk(&f, i), &b);
		snprintf(want, sizeof(want),
				 "encrypted object is truncated: it ends after chunk %zu (at byte offset %zu, "
				 "a chunk boundary) without its final chunk", i, off_chunk(&f, i));
		expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY, want);
	}
	/* in the middle of each chunk, a few bytes past a boundary, one byte short of the end */
	for (size_t i = 0; i < 4; i++)
	{
		copy_prefix(&f, off_chunk(&f, i) + (i < 3 ? SEALED(C) / 2 : 500), &b);
		expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY,
					"failed authentication: the object is truncated or corrupt");
		copy_prefix(&f, off_chunk(&f, i) + 5, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY,
					"are too few for a chunk (at least 17)");
	}
	copy_prefix(&f, f.ct.len - 1, &b);
	expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY,
				"chunk 4 (at byte offset 196707, the last 1016 bytes) failed authentication: "
				"the object is truncated or corrupt");
	rb_buf_free(&b);
	fixture_free(&f);

	/* a small-chunk object cut at every length */
	fixture_make(&f, 64, 5 * 64 + 9);
	for (size_t cut = 0; cut < f.ct.len; cut++)
	{
		rb_buf		out = RB_BUF_INIT;
		rb_error	err = {0};

		copy_prefix(&f, cut, &b);
		assert_int_equal(decrypt_with(&f.ring, b.data, b.len, 0, &out, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		assert_true(strstr(err.msg, "truncated") != NULL);
		assert_true(out.len % 64 == 0 && out.len < f.len);
		rb_buf_free(&out);
	}
	rb_buf_free(&b);
	fixture_free(&f);
}

/* Rebuilds an object from f's header and the chunks listed (indexes, -1 ends). */
static void
rebuild(const fixture *f, const int *order, rb_buf *b)
{
	size_t		nchunks = (f->ct.len - RB_ENCRYPT_HEADER_LEN + SEALED(f->chunk) - 1) / SEALED(f->chunk);

	rb_buf_reset(b);
	rb_buf_append(b, f->ct.data, RB_ENCRYPT_HEADER_LEN);
	for (const int *i = order; *i >= 0; i++)
	{
		size_t		start = off_chunk(f, (size_t) *i);
		size_t		len = (size_t) *i + 1 < nchunks ? SEALED(f->chunk) : f->ct.len - start;

		rb_buf_append(b, f->ct.data + start, len);
	}
}

static void
test_reorder_duplicate_remove(void **state)
{
	static const size_t chunks[] = {C, 100};

	(void) state;
	for (size_t c = 0; c < 2; c++)
	{
		fixture		f;
		rb_buf		b = RB_BUF_INIT;
		static const int identity[] = {0, 1, 2, 3, -1};
		static const int swap12[] = {1, 0, 2, 3, -1};
		static const int swap23[] = {0, 2, 1, 3, -1};
		static const int dup2[] = {0, 1, 1, 2, 3, -1};
		static const int drop2[] = {0, 2, 3, -1};
		static const int final_early[] = {0, 3, -1};
		static const int dup_final[] = {0, 1, 2, 3, 3, -1};
		static const int final_first[] = {3, -1};

		fixture_make(&f, chunks[c], 3 * chunks[c] + 40);
		rebuild(&f, identity, &b);
		assert_int_equal(b.len, f.ct.len);
		{
			rb_buf		out = RB_BUF_INIT;
			rb_error	err = {0};

			assert_int_equal(decrypt_with(&f.ring, b.data, b.len, 0, &out, &err), 0);
			rb_buf_free(&out);
		}
		rebuild(&f, swap12, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"chunk 1 (at byte offset 48) failed authentication");
		rebuild(&f, swap23, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"chunk 2 (at byte offset");
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"failed authentication: the object is corrupt, or its chunks were reordered, "
					"duplicated or removed");
		rebuild(&f, dup2, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"chunk 3 (at byte offset");
		rebuild(&f, drop2, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"chunk 2 (at byte offset");
		rebuild(&f, final_early, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"chunk 2 (at byte offset");
		rebuild(&f, final_first, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"chunk 1 (at byte offset 48");
		/* the final chunk twice: the copy is data after the object's end */
		rebuild(&f, dup_final, &b);
		expect_fail(&f.ring, &b, f.plain, f.len, f.chunk, RB_ERR_INTEGRITY,
					"has data after its final chunk (chunk 4, which ends at byte offset");
		rb_buf_free(&b);
		fixture_free(&f);
	}
}

static void
test_other_header_wrong_key_unknown_id(void **state)
{
	fixture		f,
				g;
	rb_buf		b = RB_BUF_INIT;
	rb_key		forged;
	rb_keyring	ring;
	rb_error	err = {0};

	(void) state;
	fixture_make(&f, 1024, 5000);
	fixture_make(&g, 1024, 5000);

	/* g's header on f's chunks, both under f's key */
	{
		rb_buf		h = RB_BUF_INIT;

		encrypt_to(&f.key, 1024, g.plain, g.len, 0, &h);
		rb_buf_append(&b, h.data, RB_ENCRYPT_HEADER_LEN);
		rb_buf_append(&b, f.ct.data + RB_ENCRYPT_HEADER_LEN, f.ct.len - RB_ENCRYPT_HEADER_LEN);
		expect_fail(&f.ring, &b, f.plain, f.len, 1024, RB_ERR_INTEGRITY,
					"chunk 1 (at byte offset 48) failed authentication: the object is corrupt, its "
					"header was altered or belongs to another object, or key");
		rb_buf_free(&h);
	}

	/* the wrong key under a forged id: g's key bytes claiming f's id */
	forged = g.key;
	memcpy(forged.id, f.key.id, RB_KEY_ID_LEN);
	memcpy(forged.id_hex, f.key.id_hex, RB_KEY_ID_HEX_SIZE);
	ring_of(&ring, &forged);
	expect_fail(&ring, &f.ct, f.plain, f.len, 1024, RB_ERR_INTEGRITY,
				"chunk 1 (at byte offset 48) failed authentication");

	/* a key id that no key matches: RB_ERR_AUTH naming the id, nothing passed on */
	{
		char		want[128];

		snprintf(want, sizeof(want),
				 "encrypted with key %s, which none of the configured keys matches", f.key.id_hex);
		expect_fail(&g.ring, &f.ct, f.plain, f.len, 1024, RB_ERR_AUTH, want);
		rb_keyring_init(&ring);
		expect_fail(&ring, &f.ct, f.plain, f.len, 1024, RB_ERR_AUTH, want);
		expect_fail(NULL, &f.ct, f.plain, f.len, 1024, RB_ERR_AUTH, want);
	}
	rb_key_wipe(&forged);
	rb_keyring_wipe(&ring);
	rb_buf_free(&b);
	(void) err;
	fixture_free(&f);
	fixture_free(&g);
}

static void
test_trailing_data(void **state)
{
	static const size_t lens[] = {3 * C, 3 * C + 1000, 0, 10};

	(void) state;
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++)
	{
		fixture		f;
		rb_buf		b = RB_BUF_INIT;
		char		want[160];
		static const size_t extra[] = {1, 16, 17, 100, 2 * SEALED(C) + 5};

		fixture_make(&f, C, lens[i]);
		snprintf(want, sizeof(want),
				 "encrypted object has data after its final chunk (chunk %zu, which ends at byte "
				 "offset %zu)", lens[i] <= C ? (size_t) 1 : (lens[i] + C - 1) / C, f.ct.len);
		for (size_t x = 0; x < sizeof(extra) / sizeof(extra[0]); x++)
		{
			unsigned char *junk = random_bytes(extra[x]);

			copy_prefix(&f, f.ct.len, &b);
			rb_buf_append(&b, junk, extra[x]);
			expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY, want);
			free(junk);
		}
		/* two objects back to back */
		copy_prefix(&f, f.ct.len, &b);
		rb_buf_append(&b, f.ct.data, f.ct.len);
		expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY, want);
		rb_buf_free(&b);
		fixture_free(&f);
	}
}

/*
 * A corrupt final chunk of an object whose header declares the largest chunk size a
 * reader accepts: the search for a FINAL chunk inside a failed piece costs n * n / 2
 * bytes of Poly1305 for n lengths, hours for a 4 MiB piece, so it is bounded; the
 * piece fails as a corrupt chunk well within the alarm's minute.  Appended data after a
 * short final chunk of such an object is still named as such.  The corrupt case is left out
 * under valgrind, where the bounded search alone takes over a minute; the ASan build
 * runs it.
 */
static void
test_large_chunk_failure_is_bounded(void **state)
{
	const size_t big = RB_ENCRYPT_CHUNK_MAX;
	fixture		f;
	rb_buf		b = RB_BUF_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};
	unsigned char *junk = random_bytes(big);

	(void) state;
	/* the corrupt chunk must still peek as FINAL: its first byte is left alone */
	if (!RUNNING_ON_VALGRIND)
	{
		fixture_make(&f, big, big - 100);
		copy_prefix(&f, f.ct.len, &b);
		b.data[RB_ENCRYPT_HEADER_LEN + big / 2] ^= 0x10;
		alarm(60);
		assert_int_equal(decrypt_with(&f.ring, b.data, b.len, 0, &out, &err), -1);
		alarm(0);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		assert_non_null(strstr(err.msg, "chunk 1 (at byte offset 48, the last "));
		assert_non_null(strstr(err.msg, "failed authentication: the object is truncated or corrupt"));
		assert_int_equal(out.len, 0);
		fixture_free(&f);
		rb_buf_reset(&out);
	}
	/* a short final chunk and 4 MiB of junk after it */
	fixture_make(&f, big, 1000);
	copy_prefix(&f, f.ct.len, &b);
	rb_buf_append(&b, junk, big);
	assert_int_equal(decrypt_with(&f.ring, b.data, b.len, 0, &out, &err), -1);
	assert_string_equal(err.msg, "encrypted object has data after its final chunk (chunk 1, which "
						"ends at byte offset 1065)");
	free(junk);
	rb_buf_free(&b);
	rb_buf_free(&out);
	fixture_free(&f);
}

/* --- headers this version does not read, and the format built by hand ------------- */

static void
test_bad_headers(void **state)
{
	fixture		f;
	rb_buf		b = RB_BUF_INIT;
	unsigned char id[RB_KEY_ID_LEN];
	rb_error	err = {0};

	(void) state;
	fixture_make(&f, C, 100);

#define SET_AND_EXPECT(off, val, want) do { \
		copy_prefix(&f, f.ct.len, &b); \
		b.data[(off)] = (char) (val); \
		expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY, (want)); \
		assert_int_equal(rb_encrypt_header_key_id(b.data, b.len, id, &err), -1); \
		assert_non_null(strstr(err.msg, (want))); \
	} while (0)

	SET_AND_EXPECT(8, 2, "encrypted object has format version 2, which this version of ripple_backup cannot read (it reads version 1)");
	SET_AND_EXPECT(8, 0, "format version 0");
	SET_AND_EXPECT(9, 2, "names encryption algorithm 2, which format version 1 does not have");
	SET_AND_EXPECT(10, 0x80, "nonzero reserved bits (0x8000)");
	SET_AND_EXPECT(11, 1, "nonzero reserved bits (0x0001)");
	SET_AND_EXPECT(12, 0xff, "gives a chunk size of 4278255616 bytes, outside the 64 to 4194304");
	SET_AND_EXPECT(13, 0x41, "gives a chunk size of 4259840 bytes");
	copy_prefix(&f, f.ct.len, &b);
	memcpy(b.data + 12, "\x00\x00\x00\x00", 4);
	expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY, "gives a chunk size of 0 bytes");
	memcpy(b.data + 12, "\x00\x00\x00\x3f", 4);
	expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY, "gives a chunk size of 63 bytes");
	memcpy(b.data + 12, "\x00\x40\x00\x01", 4);
	expect_fail(&f.ring, &b, f.plain, f.len, C, RB_ERR_INTEGRITY, "gives a chunk size of 4194305 bytes");
	/* a zstd frame and a plain pg_dump archive are refused at their first bytes */
	{
		rb_buf		out = RB_BUF_INIT;

		assert_int_equal(decrypt_with(&f.ring, "\x28\xb5\x2f\xfd\x00\x00", 6, 1, &out, &err), -1);
		assert_string_equal(err.msg, "not an encrypted ripple_backup object: it does not start with \"RIPBKENC\"");
		assert_int_equal(decrypt_with(&f.ring, "PGDMP", 5, 0, &out, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		rb_buf_free(&out);
	}
	assert_false(rb_encrypt_detect("PGDMP", 5));
	assert_false(rb_encrypt_detect("RIPBKEN", 7));
	assert_true(rb_encrypt_detect("RIPBKENC", 8));
	assert_int_equal(rb_encrypt_header_key_id(f.ct.data, 47, id, &err), -1);
	assert_string_equal(err.msg, "encrypted object is truncated: 47 bytes, shorter than its 48-byte header");
	assert_int_equal(rb_encrypt_header_key_id("PGDMP", 5, id, &err), -1);
	assert_non_null(strstr(err.msg, "does not start with"));
	assert_null(rb_encryptor_new_chunked(&f.key, 63, buf_write, &b, &err));
	assert_int_equal(err.code, RB_ERR_INVALID);
	rb_buf_free(&b);
	fixture_free(&f);
}

/*
 * Builds an object with libsodium directly, from the documented format (not through
 * the encryptor): full chunks, then the given FINAL chunk, with a choice of tags.
 */
static void
hand_built(const rb_key *key, uint32_t chunk, const unsigned char *plain, size_t nfull,
		   size_t last, unsigned char middle_tag, unsigned char last_tag, rb_buf *b)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[RB_ENCRYPT_HEADER_LEN] = "RIPBKENC\x01\x01\x00\x00";
	unsigned char *c = malloc(chunk + RB_ENCRYPT_OVERHEAD);

	header[12] = (unsigned char) (chunk >> 24);
	header[13] = (unsigned char) (chunk >> 16);
	header[14] = (unsigned char) (chunk >> 8);
	header[15] = (unsigned char) chunk;
	memcpy(header + 16, key->id, 8);
	crypto_secretstream_xchacha20poly1305_init_push(&st, header + 24, key->bytes);
	rb_buf_reset(b);
	rb_buf_append(b, header, sizeof(header));
	for (size_t i = 0; i <= nfull; i++)
	{
		unsigned long long clen;
		bool		lastc = i == nfull;

		crypto_secretstream_xchacha20poly1305_push(&st, c, &clen, plain + i * chunk,
												   lastc ? last : chunk,
												   i == 0 ? header : NULL, i == 0 ? sizeof(header) : 0,
												   lastc ? last_tag : middle_tag);
		rb_buf_append(b, c, (size_t) clen);
	}
	free(c);
}

static void
test_hand_built_streams(void **state)
{
	rb_key		k;
	rb_keyring	ring;
	rb_buf		b = RB_BUF_INIT;
	rb_buf		out = RB_BUF_INIT;
	rb_error	err = {0};
	unsigned char *plain = random_bytes(3 * C);

	(void) state;
	key_from_hex(&k, KEY_A_HEX);
	ring_of(&ring, &k);
	/* two full chunks and an empty FINAL one: valid (another writer may do this) */
	hand_built(&k, C, plain, 2, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
			   crypto_secretstream_xchacha20poly1305_TAG_FINAL, &b);
	assert_int_equal(decrypt_with(&ring, b.data, b.len, 0, &out, &err), 0);
	assert_int_equal(out.len, 2 * C);
	assert_memory_equal(out.data, plain, 2 * C);
	rb_buf_reset(&out);
	/* a chunk size other than 64 KiB, within the range */
	hand_built(&k, 4096, plain, 3, 7, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
			   crypto_secretstream_xchacha20poly1305_TAG_FINAL, &b);
	assert_int_equal(decrypt_with(&ring, b.data, b.len, 999, &out, &err), 0);
	assert_int_equal(out.len, 3 * 4096 + 7);
	assert_memory_equal(out.data, plain, out.len);
	rb_buf_reset(&out);
	/* a short chunk tagged MESSAGE at the end: not final, so truncated */
	hand_built(&k, C, plain, 1, 10, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE,
			   crypto_secretstream_xchacha20poly1305_TAG_MESSAGE, &b);
	assert_int_equal(decrypt_with(&ring, b.data, b.len, 0, &out, &err), -1);
	assert_string_equal(err.msg, "encrypted object is truncated: chunk 2 (at byte offset 65601) is shorter than the chunk size and not the final chunk");
	assert_int_equal(out.len, C);
	rb_buf_reset(&out);
	/* tags the format does not use (PUSH, REKEY) */
	hand_built(&k, C, plain, 1, 10, crypto_secretstream_xchacha20poly1305_TAG_PUSH,
			   crypto_secretstream_xchacha20poly1305_TAG_FINAL, &b);
	assert_int_equal(decrypt_with(&ring, b.data, b.len, 0, &out, &err), -1);
	assert_string_equal(err.msg, "chunk 1 (at byte offset 48) has tag 1, which format version 1 does not use");
	assert_int_equal(out.len, 0);
	hand_built(&k, C, plain, 0, 10, 0, crypto_secretstream_xchacha20poly1305_TAG_REKEY, &b);
	assert_int_equal(decrypt_with(&ring, b.data, b.len, 0, &out, &err), -1);
	assert_non_null(strstr(err.msg, "has tag 2"));
	/* a FINAL chunk in the middle: what follows is data after the object */
	hand_built(&k, C, plain, 2, 10, crypto_secretstream_xchacha20poly1305_TAG_FINAL,
			   crypto_secretstream_xchacha20poly1305_TAG_FINAL, &b);
	assert_int_equal(decrypt_with(&ring, b.data, b.len, 0, &out, &err), -1);
	assert_string_equal(err.msg, "encrypted object has data after its final chunk (chunk 1, which ends at byte offset 65601)");
	rb_buf_free(&b);
	rb_buf_free(&out);
	free(plain);
	rb_keyring_wipe(&ring);
}

/* A failing downstream stops both directions with its own error. */
static int
refuse_write(void *arg, const void *data, size_t len, rb_error *err)
{
	int		   *left = arg;

	(void) data;
	(void) len;
	if ((*left)-- > 0)
		return 0;
	return rb_error_set(err, RB_ERR_IO, "sink refused");
}

static void
test_downstream_error(void **state)
{
	rb_key		k;
	rb_keyring	ring;
	rb_error	err = {0};
	unsigned char *plain = random_bytes(3 * C);
	rb_buf		ct = RB_BUF_INIT;
	int			left = 1;		/* the header goes through, the first chunk does not */
	rb_encryptor *e;
	rb_decryptor *d;

	(void) state;
	key_from_hex(&k, KEY_A_HEX);
	ring_of(&ring, &k);
	e = rb_encryptor_new(&k, refuse_write, &left, &err);
	assert_int_equal(rb_encryptor_write(e, plain, 3 * C, &err), -1);
	assert_string_equal(err.msg, "sink refused");
	assert_int_equal(rb_encryptor_finish(e, &err), -1);
	rb_encryptor_free(e);

	encrypt_to(&k, C, plain, 3 * C, 0, &ct);
	left = 1;
	d = rb_decryptor_new(&ring, refuse_write, &left, &err);
	assert_int_equal(rb_decryptor_write(d, ct.data, ct.len, &err), -1);
	assert_string_equal(err.msg, "sink refused");
	assert_int_equal(err.code, RB_ERR_IO);
	assert_int_equal(rb_decryptor_finish(d, &err), -1);
	assert_string_equal(err.msg, "sink refused");
	rb_decryptor_free(d);
	rb_decryptor_free(NULL);
	rb_encryptor_free(NULL);
	rb_buf_free(&ct);
	free(plain);
	rb_keyring_wipe(&ring);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_id_known),
		cmocka_unit_test(test_key_parse_refusals),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_key_generate_and_ring),
		cmocka_unit_test(test_roundtrip_sizes),
		cmocka_unit_test(test_roundtrip_large_random_writes),
		cmocka_unit_test(test_ring_rotation),
		cmocka_unit_test(test_flip_every_bit_small),
		cmocka_unit_test(test_flip_positions_full_chunks),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_reorder_duplicate_remove),
		cmocka_unit_test(test_other_header_wrong_key_unknown_id),
		cmocka_unit_test(test_trailing_data),
		cmocka_unit_test(test_large_chunk_failure_is_bounded),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_hand_built_streams),
		cmocka_unit_test(test_downstream_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
