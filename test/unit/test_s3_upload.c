/*
 * test_s3_upload.c — unit tests of the streaming upload's logic that needs no
 * network (src/core/s3_upload.c): the part-size schedule (doubling every 1000
 * parts, capped at 5 GiB, so that 10,000 parts hold more than 1 TiB from a 5 MiB
 * or 16 MiB start), and memory accounting: bytes written below one part stay in
 * one buffer of the part size, and an upload that never reached the server is
 * released by abort without I/O.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aws_credentials.h"
#include "s3_client.h"
#include "s3_upload.h"

#define MiB ((size_t) 1024 * 1024)
#define TiB ((uint64_t) 1024 * 1024 * 1024 * 1024)

static uint64_t
total_of_parts(size_t base, int nparts)
{
	uint64_t	total = 0;

	for (int i = 1; i <= nparts; i++)
		total += rb_s3_part_size_for(base, i);
	return total;
}

static void
test_part_size_schedule(void **state)
{
	assert_int_equal(rb_s3_part_size_for(16 * MiB, 1), 16 * MiB);
	assert_int_equal(rb_s3_part_size_for(16 * MiB, 1000), 16 * MiB);
	assert_int_equal(rb_s3_part_size_for(16 * MiB, 1001), 32 * MiB);
	assert_int_equal(rb_s3_part_size_for(16 * MiB, 2001), 64 * MiB);
	assert_int_equal(rb_s3_part_size_for(5 * MiB, 10000), 5 * MiB << 9);
	/* part numbers below 1 are treated as the first part */
	assert_int_equal(rb_s3_part_size_for(5 * MiB, 0), 5 * MiB);
}

static void
test_part_size_is_monotonic_and_capped(void **state)
{
	size_t		bases[] = {1024, 5 * MiB, 16 * MiB, 100 * MiB, 1024 * MiB, RB_S3_MAX_PART_SIZE};

	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++)
	{
		size_t		prev = 0;

		for (int i = 1; i <= RB_S3_MAX_PARTS; i++)
		{
			size_t		s = rb_s3_part_size_for(bases[b], i);

			assert_true(s >= prev);
			assert_true(s <= RB_S3_MAX_PART_SIZE);
			prev = s;
		}
	}
	assert_int_equal(rb_s3_part_size_for(1024 * MiB, 9999), RB_S3_MAX_PART_SIZE);
}

static void
test_one_tib_fits_in_10000_parts(void **state)
{
	/* from the minimum part size and from the default */
	assert_true(total_of_parts(RB_S3_MIN_PART_SIZE, RB_S3_MAX_PARTS) >= TiB);
	assert_true(total_of_parts(RB_S3_DEFAULT_PART_SIZE, RB_S3_MAX_PARTS) >= TiB);
	/* and it takes more than the first 1000 parts: growth is really needed */
	assert_true(total_of_parts(RB_S3_DEFAULT_PART_SIZE, 1000) < TiB);
	/* with the default start, 1 TiB is reached by part 7000 at 16 MiB << 6 = 1 GiB */
	assert_true(total_of_parts(RB_S3_DEFAULT_PART_SIZE, 7000) >= TiB);
	assert_int_equal(rb_s3_part_size_for(RB_S3_DEFAULT_PART_SIZE, 7000), 1024 * MiB);
}

static rb_s3_client *
make_client(size_t part_size, int in_flight)
{
	rb_aws_credentials cred;
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;

	rb_error_clear(&err);
	assert_int_equal(rb_aws_credentials_set(&cred, "AKIDEXAMPLE", "secret", NULL, NULL, &err), 0);
	memset(&opt, 0, sizeof(opt));
	opt.endpoint = "http://127.0.0.1:9";	/* never contacted in these tests */
	opt.bucket = "b";
	opt.credentials = &cred;
	opt.part_size = part_size;
	opt.allow_small_parts = part_size < RB_S3_MIN_PART_SIZE;
	opt.parts_in_flight = in_flight;
	c = rb_s3_client_new(&opt, NULL, &err);
	rb_aws_credentials_clear(&cred);
	assert_non_null(c);
	return c;
}

static void
test_buffer_below_one_part(void **state)
{
	rb_s3_client *c = make_client(64 * 1024, 2);
	rb_s3_upload *w;
	rb_error	err;
	unsigned char data[1000];

	memset(data, 'x', sizeof(data));
	rb_error_clear(&err);
	w = rb_s3_upload_begin(c, "k", NULL, &err);
	assert_non_null(w);
	assert_int_equal(rb_s3_upload_buffer_peak(w), 0);
	for (int i = 0; i < 65; i++)	/* 65,000 bytes < 65,536: no part is full yet */
		assert_int_equal(rb_s3_upload_write(w, data, sizeof(data), &err), 0);
	assert_int_equal(rb_s3_upload_bytes(w), 65000);
	assert_int_equal(rb_s3_upload_buffer_peak(w), 64 * 1024);
	assert_int_equal(rb_s3_upload_pump(w, 0, &err), 0);	/* nothing in flight */
	rb_s3_upload_abort(w);
	rb_s3_upload_abort(NULL);
	rb_s3_client_free(c);
}

static void
test_begin_refuses_bad_keys(void **state)
{
	rb_s3_client *c = make_client(RB_S3_DEFAULT_PART_SIZE, 0);
	rb_error	err;

	rb_error_clear(&err);
	assert_null(rb_s3_upload_begin(c, "", NULL, &err));
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, "PUT s3://b: S3 object key is empty");
	rb_s3_client_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_size_schedule),
		cmocka_unit_test(test_part_size_is_monotonic_and_capped),
		cmocka_unit_test(test_one_tib_fits_in_10000_parts),
		cmocka_unit_test(test_buffer_below_one_part),
		cmocka_unit_test(test_begin_refuses_bad_keys),
	};

	return cmocka_run_group_tests_name("s3_upload", tests, NULL, NULL);
}
