/*
 * test_s3_client.c — unit tests of the S3 client's setup and of the paths that
 * stop a request before it reaches the network (src/core/s3_client.c,
 * s3_http.c): option checks and defaults, a caller-owned circuit breaker with its
 * lock callbacks and injected clock (open = fail fast with RB_ERR_CIRCUIT_OPEN,
 * counted as rejected), cancellation before the first attempt, and bad keys.
 * Conditional writes run against a scripted local server (fake_s3.h): the
 * If-None-Match: * header is sent and signed, a 412 is RB_ERR_EXISTS, a 412 to a
 * retry whose object is our own (same ETag) succeeds, a plain PUT sends no
 * condition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aws_credentials.h"
#include "breaker.h"
#include "fake_s3.h"
#include "retry.h"
#include "s3_client.h"

static rb_aws_credentials cred;

static int
setup(void **state)
{
	rb_error	err;

	rb_error_clear(&err);
	return rb_aws_credentials_set(&cred, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
								  NULL, NULL, &err);
}

static void
base_options(rb_s3_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->endpoint = "http://127.0.0.1:9";	/* never contacted here */
	opt->bucket = "bucket";
	opt->credentials = &cred;
}

static void
test_defaults(void **state)
{
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;

	base_options(&opt);
	opt.endpoint = NULL;
	opt.region = "ap-southeast-2";
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	assert_string_equal(rb_s3_client_endpoint(c), "https://s3.ap-southeast-2.amazonaws.com");
	assert_string_equal(rb_s3_client_bucket(c), "bucket");
	rb_s3_client_free(c);
	rb_s3_client_free(NULL);
}

static void
test_option_checks(void **state)
{
	rb_s3_options opt;
	rb_error	err;
	rb_retry_policy bad = rb_retry_policy_default();
	rb_aws_credentials empty;

	rb_error_clear(&err);
	base_options(&opt);
	opt.part_size = 1024 * 1024;
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, "S3 part size 1048576 is smaller than the minimum of 5 MiB");
	opt.allow_small_parts = true;	/* tests only */
	rb_s3_client_free(rb_s3_client_new(&opt, NULL, &err));
	opt.part_size = 100;
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	opt.part_size = RB_S3_MAX_PART_SIZE + 1;
	assert_null(rb_s3_client_new(&opt, NULL, &err));

	base_options(&opt);
	opt.parts_in_flight = RB_S3_MAX_IN_FLIGHT + 1;
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	assert_non_null(strstr(err.msg, "parts in flight"));
	opt.parts_in_flight = -1;
	assert_null(rb_s3_client_new(&opt, NULL, &err));

	base_options(&opt);
	bad.max_attempts = 0;
	opt.retry = &bad;
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	assert_int_equal(err.code, RB_ERR_INVALID);

	base_options(&opt);
	opt.bucket = NULL;
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	assert_string_equal(err.msg, "S3 bucket name is empty");

	base_options(&opt);
	memset(&empty, 0, sizeof(empty));
	opt.credentials = &empty;
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	assert_int_equal(err.code, RB_ERR_AUTH);
	opt.credentials = NULL;
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	assert_null(rb_s3_client_new(NULL, NULL, &err));

	base_options(&opt);
	opt.endpoint = "s3.example.com";
	assert_null(rb_s3_client_new(&opt, NULL, &err));
	assert_non_null(strstr(err.msg, "scheme must be http or https"));
}

/* --- a caller-owned breaker ---------------------------------------------------- */

typedef struct breaker_env
{
	int			locks;
	int			unlocks;
	int64_t		now;
} breaker_env;

static void
b_lock(void *arg)
{
	breaker_env *e = arg;

	assert_int_equal(e->locks, e->unlocks);	/* never nested */
	e->locks++;
}

static void
b_unlock(void *arg)
{
	((breaker_env *) arg)->unlocks++;
}

static int64_t
b_clock(void *arg)
{
	return ((breaker_env *) arg)->now;
}

static void
test_open_breaker_fails_fast(void **state)
{
	rb_s3_options opt;
	rb_error	err;
	rb_breaker	b;
	breaker_env env = {0, 0, 1000000};
	rb_s3_client *c;
	rb_s3_object_info info;

	rb_breaker_init(&b, 2, 30000);
	rb_breaker_record_failure(&b, env.now - 10);
	rb_breaker_record_failure(&b, env.now - 5);
	assert_int_equal(b.state, RB_BREAKER_OPEN);

	base_options(&opt);
	opt.breaker = &b;
	opt.breaker_lock = b_lock;
	opt.breaker_unlock = b_unlock;
	opt.breaker_lock_arg = &env;
	opt.clock = b_clock;
	opt.clock_arg = &env;
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);

	assert_int_equal(rb_s3_put_object(c, "db/x", "abc", 3, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_CIRCUIT_OPEN);
	assert_string_equal(err.msg,
						"PUT s3://bucket/db/x: circuit breaker open for http://127.0.0.1:9 after 2 consecutive failures; failing fast (next trial in 30.0 s)");
	assert_int_equal(b.rejected, 1);
	assert_true(env.locks >= 1);
	assert_int_equal(env.locks, env.unlocks);

	/* the injected clock decides: 20 s later it is still open, 10 s left */
	env.now += 20000;
	assert_int_equal(rb_s3_head_object(c, "db/x", &info, &err), -1);
	assert_int_equal(err.code, RB_ERR_CIRCUIT_OPEN);
	assert_non_null(strstr(err.msg, "next trial in 10.0 s"));
	assert_int_equal(b.rejected, 2);
	assert_int_equal(env.locks, env.unlocks);

	rb_s3_client_free(c);
	/* the caller's breaker outlives the client, untouched by free */
	assert_int_equal(b.state, RB_BREAKER_OPEN);
}

static bool
always_cancel(void *arg)
{
	(*(int *) arg)++;
	return true;
}

static void
test_cancel_before_first_attempt(void **state)
{
	rb_s3_options opt;
	rb_error	err;
	int			polls = 0;
	rb_hooks	hooks = {NULL, always_cancel, &polls, NULL};
	rb_s3_client *c;

	base_options(&opt);
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, &hooks, &err);
	assert_non_null(c);
	assert_int_equal(rb_s3_delete_object(c, "k", &err), -1);
	assert_int_equal(err.code, RB_ERR_CANCELLED);
	assert_string_equal(err.msg, "DELETE s3://bucket/k: cancelled");
	assert_true(polls >= 1);
	rb_s3_client_free(c);
}

static void
test_bad_keys(void **state)
{
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;
	const char *keys[] = {"ok", ""};

	base_options(&opt);
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	assert_int_equal(rb_s3_put_object(c, "", "x", 1, NULL, &err), -1);
	assert_string_equal(err.msg, "PUT s3://bucket: S3 object key is empty");
	assert_int_equal(rb_s3_get_object(c, "a\tb", -1, -1, NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_int_equal(rb_s3_get_object(c, "k", 10, 5, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "range end 5 is before its start 10"));
	assert_int_equal(rb_s3_delete_objects(c, keys, 2, NULL, NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	rb_s3_client_free(c);
}

/* --- conditional writes (If-None-Match: *) against a scripted server ---------------- */

static rb_retry_policy quick_retry;

static rb_s3_client *
fake_client(fake_s3 *f)
{
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;

	base_options(&opt);
	opt.endpoint = f->endpoint;
	opt.uri_style = RB_S3_URI_PATH;
	quick_retry = rb_retry_policy_default();
	quick_retry.max_attempts = 3;
	quick_retry.base_delay_s = 0.01;
	quick_retry.max_delay_s = 0.02;
	opt.retry = &quick_retry;
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	return c;
}

static void
test_put_if_absent_refused(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = fake_client(f);
	rb_error	err;

	fake_s3_answer(f, 412, NULL, FAKE_PRECONDITION_FAILED);
	rb_error_clear(&err);
	assert_int_equal(rb_s3_put_object_if_absent(c, "db/k.json", "{}", 2, "application/json", &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_int_equal(err.http_status, 412);
	assert_string_equal(err.remote_code, "PreconditionFailed");
	assert_string_equal(err.msg, "PUT s3://bucket/db/k.json: an object already exists at this key "
						"(412 PreconditionFailed): another writer stored it first; nothing was overwritten");
	assert_int_equal(f->nreq, 1);	/* a refusal is final: no retry */
	assert_string_equal(f->req[0].line, "PUT /bucket/db/k.json HTTP/1.1");
	assert_true(f->req[0].if_none_match);
	assert_true(f->req[0].inm_signed);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

static void
test_put_if_absent_stored(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = fake_client(f);
	rb_error	err;

	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	rb_error_clear(&err);
	assert_int_equal(rb_s3_put_object_if_absent(c, "k", "abc", 3, NULL, &err), 0);
	assert_true(f->req[0].if_none_match);
	/* a plain PUT replaces: no condition */
	assert_int_equal(rb_s3_put_object(c, "k", "abc", 3, NULL, &err), 0);
	assert_int_equal(f->nreq, 2);
	assert_false(f->req[1].if_none_match);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

static void
test_put_if_absent_retry_finds_own_object(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_client *c = fake_client(f);
	rb_error	err;
	char		md5[33];

	rb_error_clear(&err);
	assert_int_equal(rb_md5_hex("abc", 3, md5, &err), 0);

	/* the first attempt's answer is lost (500), the retry is refused: the object is ours */
	fake_s3_answer(f, 500, NULL, "<Error><Code>InternalError</Code><Message>x</Message></Error>");
	fake_s3_answer(f, 412, NULL, FAKE_PRECONDITION_FAILED);
	fake_s3_answer_head(f, 200, md5, 3);
	assert_int_equal(rb_s3_put_object_if_absent(c, "k", "abc", 3, NULL, &err), 0);
	assert_int_equal(f->nreq, 3);
	assert_string_equal(f->req[2].line, "HEAD /bucket/k HTTP/1.1");

	/* the same, but the object there is another one */
	fake_s3_answer(f, 500, NULL, "<Error><Code>InternalError</Code><Message>x</Message></Error>");
	fake_s3_answer(f, 412, NULL, FAKE_PRECONDITION_FAILED);
	fake_s3_answer_head(f, 200, "0123456789abcdef0123456789abcdef", 3);
	assert_int_equal(rb_s3_put_object_if_absent(c, "k", "abc", 3, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_int_equal(f->nreq, 6);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_option_checks),
		cmocka_unit_test(test_open_breaker_fails_fast),
		cmocka_unit_test(test_cancel_before_first_attempt),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_put_if_absent_refused),
		cmocka_unit_test(test_put_if_absent_stored),
		cmocka_unit_test(test_put_if_absent_retry_finds_own_object),
	};

	return cmocka_run_group_tests_name("s3_client", tests, setup, NULL);
}
