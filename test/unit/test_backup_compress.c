/*
 * test_backup_compress.c — unit tests of the streaming compressors and decompressors:
 * round trips of every kind in every chunking (zstd with and without worker
 * threads), bounded output chunks, truncated and corrupt input, names and levels.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backup_compress.h"
#include "rb_buf.h"

typedef struct sink
{
	rb_buf		buf;
	size_t		max_chunk;
	int			fail_after;		/* >0: fail on that call */
	int			calls;
} sink;

static int
sink_write(void *arg, const void *data, size_t len, rb_error *err)
{
	sink	   *s = arg;

	s->calls++;
	if (s->fail_after > 0 && s->calls >= s->fail_after)
		return rb_error_set(err, RB_ERR_IO, "sink refused");
	if (len > s->max_chunk)
		s->max_chunk = len;
	rb_buf_append(&s->buf, data, len);
	return 0;
}

/* 1.5 MiB: half text-like (compressible), half pseudo-random */
static unsigned char *
make_input(size_t *len)
{
	size_t		n = 3 * 512 * 1024;
	unsigned char *p = malloc(n);
	uint32_t	x = 12345;

	for (size_t i = 0; i < n / 2; i++)
		p[i] = "1\tsome row text\t42\n"[i % 19];
	for (size_t i = n / 2; i < n; i++)
	{
		x = x * 1103515245 + 12345;
		p[i] = (unsigned char) (x >> 16);
	}
	*len = n;
	return p;
}

static void
roundtrip(rb_compress_kind kind, int level, int workers, size_t chunk)
{
	size_t		len;
	unsigned char *input = make_input(&len);
	sink		comp = {RB_BUF_INIT, 0, 0, 0};
	sink		plain = {RB_BUF_INIT, 0, 0, 0};
	rb_error	err = {0};
	rb_compressor *c = rb_compressor_new(kind, level, workers, sink_write, &comp, &err);
	rb_decompressor *d;

	assert_non_null(c);
	for (size_t off = 0; off < len; off += chunk)
		assert_int_equal(rb_compressor_write(c, input + off, off + chunk > len ? len - off : chunk, &err), 0);
	assert_int_equal(rb_compressor_finish(c, &err), 0);
	rb_compressor_free(c);
	if (kind != RB_COMPRESS_NONE)
		assert_true(comp.max_chunk <= 256 * 1024);
	if (kind != RB_COMPRESS_NONE)
	{
		assert_true(comp.buf.len < len);
		assert_int_equal(rb_compress_detect(comp.buf.data, comp.buf.len), kind);
	}
	else
		assert_int_equal(comp.buf.len, len);

	d = rb_decompressor_new(kind, sink_write, &plain, &err);
	assert_non_null(d);
	for (size_t off = 0; off < comp.buf.len; off += chunk)
		assert_int_equal(rb_decompressor_write(d, comp.buf.data + off,
											   off + chunk > comp.buf.len ? comp.buf.len - off : chunk, &err), 0);
	assert_int_equal(rb_decompressor_finish(d, &err), 0);
	rb_decompressor_free(d);
	assert_int_equal(plain.buf.len, len);
	assert_memory_equal(plain.buf.data, input, len);
	rb_buf_free(&comp.buf);
	rb_buf_free(&plain.buf);
	free(input);
}

static void
test_roundtrips(void **state)
{
	size_t		chunks[] = {1000, 65536, 4 * 1024 * 1024};

	for (size_t i = 0; i < 3; i++)
	{
		roundtrip(RB_COMPRESS_ZSTD, -1, 0, chunks[i]);
		roundtrip(RB_COMPRESS_GZIP, -1, 0, chunks[i]);
		roundtrip(RB_COMPRESS_NONE, -1, 0, chunks[i]);
	}
	roundtrip(RB_COMPRESS_ZSTD, 3, 2, 65536);
	roundtrip(RB_COMPRESS_ZSTD, 12, 0, 1 << 20);
	roundtrip(RB_COMPRESS_GZIP, 1, 0, 7);
}

static void
compress_all(rb_compress_kind kind, const char *text, rb_buf *out)
{
	sink		s = {RB_BUF_INIT, 0, 0, 0};
	rb_error	err = {0};
	rb_compressor *c = rb_compressor_new(kind, -1, 0, sink_write, &s, &err);

	assert_int_equal(rb_compressor_write(c, text, strlen(text), &err), 0);
	assert_int_equal(rb_compressor_finish(c, &err), 0);
	rb_compressor_free(c);
	*out = s.buf;
}

static void
test_truncated_and_corrupt(void **state)
{
	rb_compress_kind kinds[] = {RB_COMPRESS_ZSTD, RB_COMPRESS_GZIP};

	for (int k = 0; k < 2; k++)
	{
		rb_buf		z;
		sink		s = {RB_BUF_INIT, 0, 0, 0};
		rb_error	err = {0};
		rb_decompressor *d;

		compress_all(kinds[k], "hello, hello, hello, backup world\n", &z);
		/* truncated: everything but the last 3 bytes */
		d = rb_decompressor_new(kinds[k], sink_write, &s, &err);
		assert_int_equal(rb_decompressor_write(d, z.data, z.len - 3, &err), 0);
		assert_int_equal(rb_decompressor_finish(d, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		assert_non_null(strstr(err.msg, "truncated"));
		rb_decompressor_free(d);
		rb_buf_free(&s.buf);

		/* corrupt: flip bytes in the middle (gzip's CRC or zstd's checksum catches it) */
		z.data[z.len / 2] ^= 0x55;
		z.data[z.len - 5] ^= 0x55;
		d = rb_decompressor_new(kinds[k], sink_write, &s, &err);
		rb_error_clear(&err);
		if (rb_decompressor_write(d, z.data, z.len, &err) == 0)
			assert_int_equal(rb_decompressor_finish(d, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		rb_decompressor_free(d);
		rb_buf_free(&s.buf);
		rb_buf_free(&z);
	}
}

static void
test_downstream_error_stops(void **state)
{
	size_t		len;
	unsigned char *input = make_input(&len);
	sink		s = {RB_BUF_INIT, 0, 2, 0};
	rb_error	err = {0};
	rb_compressor *c = rb_compressor_new(RB_COMPRESS_ZSTD, 1, 0, sink_write, &s, &err);
	int			rc = 0;

	for (size_t off = 0; off < len && rc == 0; off += 65536)
		rc = rb_compressor_write(c, input + off, 65536, &err);
	if (rc == 0)
		rc = rb_compressor_finish(c, &err);
	assert_int_equal(rc, -1);
	assert_string_equal(err.msg, "sink refused");
	rb_compressor_free(c);
	rb_buf_free(&s.buf);
	free(input);
}

static void
test_names_and_levels(void **state)
{
	rb_compress_kind k;
	rb_error	err = {0};

	assert_int_equal(rb_compress_kind_parse("zstd", &k, &err), 0);
	assert_int_equal(k, RB_COMPRESS_ZSTD);
	assert_int_equal(rb_compress_kind_parse("gzip", &k, &err), 0);
	assert_int_equal(k, RB_COMPRESS_GZIP);
	assert_int_equal(rb_compress_kind_parse("none", &k, &err), 0);
	assert_int_equal(k, RB_COMPRESS_NONE);
	assert_int_equal(rb_compress_kind_parse("lz4", &k, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, "invalid compression \"lz4\": must be zstd, gzip or none");
	assert_string_equal(rb_compress_suffix(RB_COMPRESS_ZSTD), ".zst");
	assert_string_equal(rb_compress_suffix(RB_COMPRESS_GZIP), ".gz");
	assert_string_equal(rb_compress_suffix(RB_COMPRESS_NONE), "");
	assert_int_equal(rb_compress_default_level(RB_COMPRESS_ZSTD), 3);
	assert_int_equal(rb_compress_default_level(RB_COMPRESS_GZIP), 6);
	assert_int_equal(rb_compress_check_level(RB_COMPRESS_GZIP, 10, &err), -1);
	assert_string_equal(err.msg, "invalid compression level 10 for gzip: must be between 1 and 9");
	assert_null(rb_compressor_new(RB_COMPRESS_ZSTD, 40, 0, sink_write, NULL, &err));
	assert_int_equal(rb_compress_check_level(RB_COMPRESS_NONE, 5, &err), 0);
	assert_int_equal(rb_compress_detect("PGDMP", 5), RB_COMPRESS_NONE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrips),
		cmocka_unit_test(test_truncated_and_corrupt),
		cmocka_unit_test(test_downstream_error_stops),
		cmocka_unit_test(test_names_and_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
