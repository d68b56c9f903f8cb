/*
 * test_rb_crypto.c — unit tests of the hashing helpers (src/core/rb_crypto.c):
 * SHA-256 (FIPS 180 examples), MD5 (RFC 1321), HMAC-SHA256 (RFC 4231), base64
 * (RFC 4648), incremental digests equal to one-shot ones whatever the chunking,
 * reuse after final, Content-MD5 form, constant-time comparison.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rb_crypto.h"

static void
test_sha256(void **state)
{
	char		hex[RB_SHA256_HEX_SIZE];
	rb_error	err;

	(void) state;
	assert_int_equal(rb_sha256_hex("", 0, hex, &err), 0);
	assert_string_equal(hex, RB_SHA256_EMPTY_HEX);
	assert_int_equal(rb_sha256_hex(NULL, 0, hex, &err), 0);
	assert_string_equal(hex, RB_SHA256_EMPTY_HEX);
	assert_int_equal(rb_sha256_hex("abc", 3, hex, &err), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(rb_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56,
								   hex, &err), 0);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void
test_md5(void **state)
{
	char		hex[RB_MD5_HEX_SIZE];
	char		b64[RB_MD5_BASE64_SIZE];
	unsigned char raw[RB_MD5_LEN];
	rb_error	err;

	(void) state;
	assert_int_equal(rb_md5_hex("", 0, hex, &err), 0);
	assert_string_equal(hex, "d41d8cd98f00b204e9800998ecf8427e");
	assert_int_equal(rb_md5_hex("message digest", 14, hex, &err), 0);
	assert_string_equal(hex, "f96b697d7cb7938d525a2f31aaf161d0");
	/* Content-MD5 of the empty body, as S3 documents it */
	assert_int_equal(rb_md5_base64("", 0, b64, &err), 0);
	assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
	assert_int_equal(rb_md5("abc", 3, raw, &err), 0);
	assert_int_equal(raw[0], 0x90);
	assert_int_equal(raw[15], 0x72);
}

static void
test_hmac(void **state)
{
	unsigned char key[20];
	unsigned char mac[RB_SHA256_LEN];
	char		hex[RB_SHA256_HEX_SIZE];
	rb_error	err;

	(void) state;
	/* RFC 4231 test case 1 */
	memset(key, 0x0b, sizeof(key));
	assert_int_equal(rb_hmac_sha256(key, 20, "Hi There", 8, mac, &err), 0);
	rb_hex_encode(mac, sizeof(mac), hex);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	/* test case 2 */
	assert_int_equal(rb_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac, &err), 0);
	rb_hex_encode(mac, sizeof(mac), hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* an empty message is fine */
	assert_int_equal(rb_hmac_sha256("k", 1, NULL, 0, mac, &err), 0);
}

static void
test_base64(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
	"Zm9vYmFy"};
	char		buf[RB_BASE64_SIZE(6)];
	unsigned char bin[3] = {0xfb, 0xff, 0xfe};

	(void) state;
	for (int i = 0; i < 7; i++)
	{
		size_t		n = rb_base64_encode((const unsigned char *) in[i], strlen(in[i]), buf);

		assert_string_equal(buf, out[i]);
		assert_int_equal(n, strlen(out[i]));
	}
	rb_base64_encode(bin, 3, buf);
	assert_string_equal(buf, "+//+");
	assert_int_equal(RB_BASE64_SIZE(16), RB_MD5_BASE64_SIZE);
}

static void
test_incremental(void **state)
{
	size_t		n = 100000;
	unsigned char *data = malloc(n);
	char		want_sha[RB_SHA256_HEX_SIZE];
	char		want_md5[RB_MD5_HEX_SIZE];
	char		got[RB_SHA256_HEX_SIZE];
	rb_digest  *sha;
	rb_digest  *md5;
	rb_error	err;
	uint32_t	x = 1;

	(void) state;
	for (size_t i = 0; i < n; i++)
	{
		x = x * 1103515245 + 12345;
		data[i] = (unsigned char) (x >> 16);
	}
	assert_int_equal(rb_sha256_hex(data, n, want_sha, &err), 0);
	assert_int_equal(rb_md5_hex(data, n, want_md5, &err), 0);

	sha = rb_digest_new(RB_DIGEST_SHA256, &err);
	md5 = rb_digest_new(RB_DIGEST_MD5, &err);
	assert_non_null(sha);
	assert_non_null(md5);
	assert_int_equal(rb_digest_len(RB_DIGEST_SHA256), 32);
	assert_int_equal(rb_digest_len(RB_DIGEST_MD5), 16);
	/* several chunkings, reusing the contexts after each final */
	for (size_t chunk = 1; chunk <= n; chunk = chunk * 7 + 3)
	{
		for (size_t off = 0; off < n; off += chunk)
		{
			size_t		len = off + chunk > n ? n - off : chunk;

			assert_int_equal(rb_digest_update(sha, data + off, len, &err), 0);
			assert_int_equal(rb_digest_update(md5, data + off, len, &err), 0);
		}
		assert_true(rb_digest_bytes(sha) == n);
		assert_int_equal(rb_digest_final_hex(sha, got, &err), 0);
		assert_string_equal(got, want_sha);
		assert_int_equal(rb_digest_final_hex(md5, got, &err), 0);
		assert_string_equal(got, want_md5);
		assert_true(rb_digest_bytes(sha) == 0);
	}
	/* a fresh final is the empty message's digest; reset discards input */
	assert_int_equal(rb_digest_update(sha, "junk", 4, &err), 0);
	assert_int_equal(rb_digest_reset(sha, &err), 0);
	assert_int_equal(rb_digest_update(sha, NULL, 0, &err), 0);
	assert_int_equal(rb_digest_final_hex(sha, got, &err), 0);
	assert_string_equal(got, RB_SHA256_EMPTY_HEX);
	rb_digest_free(sha);
	rb_digest_free(md5);
	rb_digest_free(NULL);
	free(data);
}

static void
test_hex_and_compare(void **state)
{
	unsigned char in[] = {0x00, 0x0f, 0xa5, 0xff};
	char		out[9];

	(void) state;
	rb_hex_encode(in, 4, out);
	assert_string_equal(out, "000fa5ff");
	rb_hex_encode(in, 0, out);
	assert_string_equal(out, "");
	{
		unsigned char back[4];

		assert_true(rb_hex_decode("000fA5ff", back, 4));
		assert_memory_equal(back, in, 4);
		assert_false(rb_hex_decode("000fa5f", back, 4));	/* too short */
		assert_false(rb_hex_decode("000fa5fff", back, 4));	/* too long */
		assert_false(rb_hex_decode("000fa5fg", back, 4));	/* not hex */
		assert_true(rb_hex_decode("", back, 0));
	}
	assert_true(rb_ct_equal("abcd", "abcd", 4));
	assert_false(rb_ct_equal("abcd", "abce", 4));
	assert_false(rb_ct_equal("xbcd", "abcd", 4));
	assert_true(rb_ct_equal("a", "b", 0));
	assert_true(rb_ct_streq("", ""));
	assert_true(rb_ct_streq("9b2cf5", "9b2cf5"));
	assert_false(rb_ct_streq("9b2cf5", "9b2cf"));
	assert_false(rb_ct_streq("9b2cf5", "9B2CF5"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_md5),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_incremental),
		cmocka_unit_test(test_hex_and_compare),
	};

	return cmocka_run_group_tests_name("rb_crypto", tests, NULL, NULL);
}
