/*
 * test_s3_upload.c — unit tests of the streaming upload's logic that needs no
 * network (src/core/s3/s3_upload.c): the part-size schedule (doubling every 1000
 * parts, capped at 5 GiB, so that 10,000 parts hold more than 1 TiB from a 5 MiB
 * or 16 MiB start), and memory accounting: bytes written below one part stay in
 * one buffer of the part size, and an upload that never reached the server is
 * released by abort without I/O.  Uploads that must not replace an object run
 * against a scripted local server (fake_s3.h): the PutObject or the
 * CompleteMultipartUpload carries a signed If-None-Match: *, a 412 fails the
 * upload with RB_ERR_EXISTS and a multipart upload is then aborted; parts in
 * flight through failed attempts are not cut short by the circuit breaker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3_credentials.h"
#include "fake_s3.h"
#include "s3/s3_client.h"
#include "s3/s3_upload.h"

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
make_client_at(const char *endpoint, size_t part_size, int in_flight)
{
	rb_aws_credentials cred;
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;
	rb_retry_policy quick = rb_retry_policy_default();

	rb_error_clear(&err);
	assert_int_equal(rb_aws_credentials_set(&cred, "AKIDEXAMPLE", "secret", NULL, NULL, &err), 0);
	memset(&opt, 0, sizeof(opt));
	quick.base_delay_s = 0.01;
	quick.max_delay_s = 0.02;
	opt.retry = &quick;
	opt.endpoint = endpoint;
	opt.uri_style = RB_S3_URI_PATH;
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

static rb_s3_client *
make_client(size_t part_size, int in_flight)
{
	return make_client_at("http://127.0.0.1:9", part_size, in_flight);	/* never contacted */
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

static void
test_single_put_if_absent_refused(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = make_client_at(f->endpoint, 64 * 1024, 2);
	rb_s3_upload *w;
	rb_error	err;

	fake_s3_answer(f, 412, NULL, FAKE_PRECONDITION_FAILED);
	rb_error_clear(&err);
	w = rb_s3_upload_begin_if_absent(c, "db/x.dump.zst", NULL, &err);
	assert_non_null(w);
	assert_int_equal(rb_s3_upload_write(w, "0123456789", 10, &err), 0);
	assert_int_equal(rb_s3_upload_finish(w, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "PUT s3://b/db/x.dump.zst: an object already exists at this key (412 PreconditionFailed)"));
	assert_int_equal(f->nreq, 1);
	assert_string_equal(f->req[0].line, "PUT /b/db/x.dump.zst HTTP/1.1");
	assert_true(f->req[0].if_none_match);
	assert_true(f->req[0].inm_signed);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

static void
test_multipart_complete_refused_is_aborted(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = make_client_at(f->endpoint, 1024, 1);
	rb_s3_upload *w;
	rb_error	err;
	unsigned char data[2500];
	int			complete = -1;
	int			aborted = -1;

	memset(data, 'y', sizeof(data));
	fake_s3_answer(f, 200, NULL,
				   "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key>"
				   "<UploadId>UP1</UploadId></InitiateMultipartUploadResult>");
	for (int i = 0; i < 3; i++)
		fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	fake_s3_answer(f, 412, NULL, FAKE_PRECONDITION_FAILED);
	fake_s3_answer(f, 204, NULL, NULL);
	rb_error_clear(&err);
	w = rb_s3_upload_begin_if_absent(c, "k", NULL, &err);
	assert_non_null(w);
	assert_int_equal(rb_s3_upload_write(w, data, sizeof(data), &err), 0);
	assert_int_equal(rb_s3_upload_finish(w, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_non_null(strstr(err.msg, "POST complete multipart upload of s3://b/k: an object already exists at this key"));
	assert_int_equal(f->nreq, 6);
	for (int i = 0; i < f->nreq; i++)
	{
		if (strcmp(f->req[i].line, "POST /b/k?uploadId=UP1 HTTP/1.1") == 0)
			complete = i;
		if (strcmp(f->req[i].line, "DELETE /b/k?uploadId=UP1 HTTP/1.1") == 0)
			aborted = i;
		/* only the completion is conditional: parts are not objects */
		assert_true(f->req[i].if_none_match == (i == complete));
	}
	assert_true(complete >= 0);
	assert_true(f->req[complete].inm_signed);
	assert_true(aborted > complete);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

/* The answer to the completion is lost, its retry refused: the object there is ours. */
static void
test_multipart_retry_finds_own_object(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = make_client_at(f->endpoint, 1024, 1);
	rb_s3_upload *w;
	rb_s3_upload_result res;
	rb_error	err;
	unsigned char data[2500];
	unsigned char md5s[3 * 16];
	unsigned char whole[16];
	char		hex[33];
	char		expect[64];
	const size_t sizes[] = {1024, 1024, 452};

	memset(data, 'z', sizeof(data));
	rb_error_clear(&err);
	for (int i = 0; i < 3; i++)
		assert_int_equal(rb_md5(data, sizes[i], md5s + 16 * i, &err), 0);
	assert_int_equal(rb_md5(md5s, sizeof(md5s), whole, &err), 0);
	rb_hex_encode(whole, 16, hex);
	snprintf(expect, sizeof(expect), "%s-3", hex);

	fake_s3_answer(f, 200, NULL,
				   "<InitiateMultipartUploadResult><UploadId>UP2</UploadId></InitiateMultipartUploadResult>");
	for (int i = 0; i < 3; i++)
		fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	fake_s3_answer(f, 503, NULL, "<Error><Code>SlowDown</Code><Message>x</Message></Error>");
	fake_s3_answer(f, 412, NULL, FAKE_PRECONDITION_FAILED);
	fake_s3_answer_head(f, 200, expect, 2500);
	w = rb_s3_upload_begin_if_absent(c, "k", NULL, &err);
	assert_non_null(w);
	assert_int_equal(rb_s3_upload_write(w, data, sizeof(data), &err), 0);
	if (rb_s3_upload_finish(w, &res, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(res.etag, expect);
	assert_int_equal(f->nreq, 7);
	assert_string_equal(f->req[6].line, "HEAD /b/k HTTP/1.1");
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

/*
 * Two parts in flight both meet two failed attempts (an outage of the server) with
 * a breaker that opens after 2 failures: the breaker counts failed requests, not
 * attempts, so it does not cut the parts' retries short and the upload succeeds.
 */
static void
test_parts_in_flight_ride_out_failures(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_aws_credentials cred;
	rb_s3_options opt;
	rb_retry_policy quick = rb_retry_policy_default();
	rb_s3_client *c;
	rb_s3_upload *w;
	rb_s3_upload_result res;
	rb_error	err;
	unsigned char data[2048];

	memset(data, 'q', sizeof(data));
	fake_s3_answer(f, 200, NULL,
				   "<InitiateMultipartUploadResult><UploadId>UP3</UploadId></InitiateMultipartUploadResult>");
	for (int i = 0; i < 4; i++)
		fake_s3_answer(f, 503, NULL, "<Error><Code>SlowDown</Code><Message>outage</Message></Error>");
	for (int i = 0; i < 2; i++)
		fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	fake_s3_answer(f, 200, NULL,
				   "<CompleteMultipartUploadResult><ETag>\"abc-2\"</ETag></CompleteMultipartUploadResult>");

	rb_error_clear(&err);
	assert_int_equal(rb_aws_credentials_set(&cred, "AKIDEXAMPLE", "secret", NULL, NULL, &err), 0);
	memset(&opt, 0, sizeof(opt));
	quick.base_delay_s = 0.05;
	quick.max_delay_s = 0.1;
	opt.retry = &quick;
	opt.endpoint = f->endpoint;
	opt.uri_style = RB_S3_URI_PATH;
	opt.bucket = "b";
	opt.credentials = &cred;
	opt.part_size = 1024;
	opt.allow_small_parts = true;
	opt.parts_in_flight = 2;
	opt.breaker_threshold = 2;
	c = rb_s3_client_new(&opt, NULL, &err);
	rb_aws_credentials_clear(&cred);
	assert_non_null(c);

	w = rb_s3_upload_begin(c, "k", NULL, &err);
	assert_non_null(w);
	assert_int_equal(rb_s3_upload_write(w, data, sizeof(data), &err), 0);
	if (rb_s3_upload_finish(w, &res, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(res.etag, "abc-2");
	assert_int_equal(f->nreq, 8);	/* create, 2 x (2 failed + 1 good) parts, complete */
	rb_s3_client_free(c);
	fake_s3_stop(f);
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
		cmocka_unit_test(test_single_put_if_absent_refused),
		cmocka_unit_test(test_multipart_complete_refused_is_aborted),
		cmocka_unit_test(test_multipart_retry_finds_own_object),
		cmocka_unit_test(test_parts_in_flight_ride_out_failures),
	};

	return cmocka_run_group_tests_name("s3_upload", tests, NULL, NULL);
}
