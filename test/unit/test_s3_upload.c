/*
 * test_s3_upload.c — unit tests of the streaming upload's logic that needs no
 * network (src/core/s3/s3_upload.c): the part size chosen from the database's
 * size (twice it fits in 10,000 equal parts, whole MiB, at least the minimum,
 * at most 5 GiB), and memory accounting: bytes written below one part stay in
 * one buffer of the part size, and an upload that never reached the server is
 * released by abort without I/O.  Uploads that must not replace an object run
 * against a scripted local server (fake_s3.h): the PutObject or the
 * CompleteMultipartUpload carries a signed If-None-Match: *, a 412 fails the
 * upload with RB_ERR_EXISTS and a multipart upload is then aborted; parts in
 * flight through failed attempts are not cut short by the circuit breaker;
 * every part but the last has the same size for streams of several sizes, and a
 * stream that outgrows 10,000 parts fails before a 10,001st part, naming the
 * setting to raise.
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

/* The part size for several database sizes: twice the size fits in 10,000 equal parts. */
static void
test_part_size_choose(void **state)
{
	const uint64_t sizes[] = {1, MiB, 1024 * MiB, 78 * 1024 * MiB, 80000 * MiB, 80000 * MiB + 1,
	200 * 1024 * MiB, TiB, 10 * TiB, 25 * TiB};

	/* unknown size: the minimum (0 = the default) */
	assert_int_equal(rb_s3_part_size_choose(0, 0), RB_S3_DEFAULT_PART_SIZE);
	assert_int_equal(rb_s3_part_size_choose(0, 5 * MiB), 5 * MiB);
	assert_int_equal(rb_s3_part_size_choose(0, 1024), 1024);
	/* small databases: the minimum, whatever it is */
	assert_int_equal(rb_s3_part_size_choose(1024 * MiB, 0), 16 * MiB);
	assert_int_equal(rb_s3_part_size_choose(1024 * MiB, 64 * MiB), 64 * MiB);
	/* 10,000 × 16 MiB / 2 is the last size for 16 MiB parts; a byte more is 17 MiB */
	assert_int_equal(rb_s3_part_size_choose(80000 * MiB, 0), 16 * MiB);
	assert_int_equal(rb_s3_part_size_choose(80000 * MiB + 1, 0), 17 * MiB);
	/* 1 TiB: 2 TiB / 10,000 = 209.7 MiB, rounded up to a whole MiB */
	assert_int_equal(rb_s3_part_size_choose(TiB, 0), 210 * MiB);
	assert_int_equal(rb_s3_part_size_choose(10 * TiB, 0), 2098 * MiB);
	/* beyond what 10,000 parts of 5 GiB hold: S3's largest part */
	assert_int_equal(rb_s3_part_size_choose(25 * TiB, 0), RB_S3_MAX_PART_SIZE);
	assert_int_equal(rb_s3_part_size_choose(UINT64_MAX, 0), RB_S3_MAX_PART_SIZE);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
	{
		size_t		p = rb_s3_part_size_choose(sizes[i], 0);

		assert_true(p >= RB_S3_DEFAULT_PART_SIZE);
		assert_true(p <= RB_S3_MAX_PART_SIZE);
		assert_int_equal(p % MiB, 0);
		if (p < RB_S3_MAX_PART_SIZE)
			assert_true((uint64_t) p * RB_S3_MAX_PARTS >= sizes[i] * RB_S3_PART_SIZE_SAFETY);
		if (p > RB_S3_DEFAULT_PART_SIZE && p < RB_S3_MAX_PART_SIZE)	/* and no larger than needed */
			assert_true((uint64_t) (p - MiB) * RB_S3_MAX_PARTS < sizes[i] * RB_S3_PART_SIZE_SAFETY);
	}
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

/* Part number of a "PUT /b/k?partNumber=N&uploadId=..." request line; 0 if none. */
static int
part_number(const char *line)
{
	const char *p = strstr(line, "partNumber=");

	return strncmp(line, "PUT ", 4) == 0 && p ? atoi(p + strlen("partNumber=")) : 0;
}

/*
 * Streams of several sizes, written in odd-sized pieces with parts of 1024 bytes:
 * every part but the last is exactly 1024 bytes, the last holds the rest (1 to
 * 1024 bytes), and the parts add up to the stream.
 */
static void
test_equal_non_final_parts(void **state)
{
	const size_t part = 1024;
	const size_t streams[] = {1024, 1025, 2047, 5 * 1024, 5 * 1024 + 1, 7777, 20 * 1024 + 1};

	for (size_t t = 0; t < sizeof(streams) / sizeof(streams[0]); t++)
	{
		fake_s3    *f = fake_s3_start();
		rb_s3_client *c = make_client_at(f->endpoint, part, 2);
		size_t		len = streams[t];
		size_t		nparts = (len + part - 1) / part;
		unsigned char *data = malloc(len);
		rb_s3_upload *w;
		rb_s3_upload_result res;
		rb_error	err;
		size_t		sum = 0;
		int			seen = 0;

		for (size_t i = 0; i < len; i++)
			data[i] = (unsigned char) (i * 7 + t);
		fake_s3_answer(f, 200, NULL,
					   "<InitiateMultipartUploadResult><UploadId>EQ</UploadId></InitiateMultipartUploadResult>");
		for (size_t i = 0; i < nparts; i++)
			fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
		fake_s3_answer(f, 200, NULL,
					   "<CompleteMultipartUploadResult><ETag>\"x-1\"</ETag></CompleteMultipartUploadResult>");
		rb_error_clear(&err);
		w = rb_s3_upload_begin(c, "k", NULL, &err);
		assert_non_null(w);
		for (size_t off = 0; off < len; off += 333)
			assert_int_equal(rb_s3_upload_write(w, data + off, len - off < 333 ? len - off : 333, &err), 0);
		if (rb_s3_upload_finish(w, &res, &err) != 0)
			fail_msg("stream of %zu bytes: %s", len, err.msg);
		assert_true(res.multipart);
		assert_int_equal(res.parts, (int) nparts);
		assert_int_equal(res.size, len);
		assert_int_equal(f->nreq, (int) nparts + 2);
		for (int i = 0; i < f->nreq; i++)
		{
			int			n = part_number(f->req[i].line);

			if (n == 0)
				continue;
			seen++;
			sum += f->req[i].body_len;
			if ((size_t) n < nparts)
				assert_int_equal(f->req[i].body_len, part);
			else
			{
				assert_int_equal(n, (int) nparts);
				assert_true(f->req[i].body_len >= 1 && f->req[i].body_len <= part);
				assert_int_equal(f->req[i].body_len, len - (nparts - 1) * part);
			}
		}
		assert_int_equal(seen, (int) nparts);
		assert_int_equal(sum, len);
		free(data);
		rb_s3_client_free(c);
		fake_s3_stop(f);
	}
}

/*
 * A stream of 1,002 parts (past the 1,000 after which parts used to double):
 * every part keeps the size, so the part buffers stay at (in flight + 1) × the
 * part size, the memory the documentation promises.
 */
static void
test_long_stream_keeps_part_size(void **state)
{
	const size_t part = 1024;
	const size_t len = 1001 * part + 1;
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = make_client_at(f->endpoint, part, 2);
	unsigned char data[1000];
	rb_s3_upload *w;
	rb_s3_upload_result res;
	rb_error	err;
	size_t		done = 0;

	memset(data, 'l', sizeof(data));
	f->repeat_last = true;
	fake_s3_answer(f, 200, NULL,
				   "<InitiateMultipartUploadResult><UploadId>LONG</UploadId></InitiateMultipartUploadResult>");
	fake_s3_answer(f, 200, FAKE_ETAG_MD5,
				   "<CompleteMultipartUploadResult><ETag>\"x-1002\"</ETag></CompleteMultipartUploadResult>");
	rb_error_clear(&err);
	w = rb_s3_upload_begin(c, "k", NULL, &err);
	assert_non_null(w);
	while (done < len)
	{
		size_t		n = len - done < sizeof(data) ? len - done : sizeof(data);

		assert_int_equal(rb_s3_upload_write(w, data, n, &err), 0);
		done += n;
	}
	assert_int_equal(rb_s3_upload_buffer_peak(w), 3 * part);
	if (rb_s3_upload_finish(w, &res, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(res.parts, 1002);
	assert_int_equal(res.size, len);
	assert_int_equal(f->ntotal, 1002 + 2);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

/*
 * A stream one byte larger than the part limit (20 parts here, through the
 * client's test-only max_parts, instead of S3's 10,000): the write that would
 * begin part 21 fails, naming the setting and a size that fits; no part 21 is
 * sent, every part sent has the same size, and the upload is aborted.
 */
static void
test_stream_outgrows_parts(void **state)
{
	const size_t part = 1024;
	const int	max_parts = 20;
	fake_s3    *f = fake_s3_start();
	rb_aws_credentials cred;
	rb_s3_options opt;
	rb_retry_policy quick = rb_retry_policy_default();
	rb_s3_client *c;
	unsigned char data[4096];
	uint64_t	written = 0;
	uint64_t	limit = (uint64_t) max_parts * part;
	rb_s3_upload *w;
	rb_error	err;
	int			parts = 0;

	memset(data, 'r', sizeof(data));
	fake_s3_answer(f, 200, NULL,
				   "<InitiateMultipartUploadResult><UploadId>BIG</UploadId></InitiateMultipartUploadResult>");
	for (int i = 0; i < max_parts; i++)
		fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	fake_s3_answer(f, 204, NULL, NULL);	/* the abort */
	rb_error_clear(&err);
	assert_int_equal(rb_aws_credentials_set(&cred, "AKIDEXAMPLE", "secret", NULL, NULL, &err), 0);
	memset(&opt, 0, sizeof(opt));
	quick.base_delay_s = 0.01;
	quick.max_delay_s = 0.02;
	opt.retry = &quick;
	opt.endpoint = f->endpoint;
	opt.uri_style = RB_S3_URI_PATH;
	opt.bucket = "b";
	opt.credentials = &cred;
	opt.part_size = part;
	opt.allow_small_parts = true;
	opt.parts_in_flight = 1;
	opt.max_parts = max_parts;
	c = rb_s3_client_new(&opt, NULL, &err);
	rb_aws_credentials_clear(&cred);
	assert_non_null(c);

	w = rb_s3_upload_begin(c, "k", NULL, &err);
	assert_non_null(w);
	while (written < limit)
	{
		assert_int_equal(rb_s3_upload_write(w, data, sizeof(data), &err), 0);
		written += sizeof(data);
	}
	assert_int_equal(written, limit);
	assert_int_equal(rb_s3_upload_write(w, data, 1, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	if (strstr(err.msg, "PUT s3://b/k: the stream is larger than 20 parts of 1024 bytes (20480 bytes): ") == NULL ||
		strstr(err.msg, "every part but the last must have the same size") == NULL ||
		strstr(err.msg, "set ripple_backup.s3_part_size to at least 1MB and take the backup again") == NULL)
		fail_msg("unexpected error: %s", err.msg);
	rb_s3_upload_abort(w);
	/* create, at most 20 parts (the last may be cancelled by the abort), the abort */
	assert_true(f->nreq <= max_parts + 2);
	for (int i = 0; i < f->nreq; i++)
	{
		int			n = part_number(f->req[i].line);

		assert_true(n <= max_parts);
		if (n > 0)
		{
			parts++;
			assert_int_equal(f->req[i].body_len, part);
		}
	}
	assert_true(parts >= max_parts - 1);
	assert_string_equal(f->req[f->nreq - 1].line, "DELETE /b/k?uploadId=BIG HTTP/1.1");
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_part_size_choose),
		cmocka_unit_test(test_buffer_below_one_part),
		cmocka_unit_test(test_begin_refuses_bad_keys),
		cmocka_unit_test(test_single_put_if_absent_refused),
		cmocka_unit_test(test_multipart_complete_refused_is_aborted),
		cmocka_unit_test(test_multipart_retry_finds_own_object),
		cmocka_unit_test(test_parts_in_flight_ride_out_failures),
		cmocka_unit_test(test_equal_non_final_parts),
		cmocka_unit_test(test_long_stream_keeps_part_size),
		cmocka_unit_test(test_stream_outgrows_parts),
	};

	return cmocka_run_group_tests_name("s3_upload", tests, NULL, NULL);
}
