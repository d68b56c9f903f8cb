/*
 * test_s3_client.c — unit tests of the S3 client's setup and of the paths that
 * stop a request before it reaches the network (src/core/s3/s3_client.c,
 * s3_http.c): option checks and defaults, a caller-owned circuit breaker with its
 * lock callbacks and injected clock (open = fail fast with RB_ERR_CIRCUIT_OPEN,
 * counted as rejected), cancellation before the first attempt, and bad keys.
 * The breaker counts failed requests, not attempts, and names the last real error
 * when it fails fast; a half-open breaker makes a request wait for the trial.  A
 * stalled endpoint (a listener that never answers) fails a request at its
 * deadline, a download still receiving bytes is not cut by it, and the
 * operation's deadline bounds every request after it.
 * Conditional writes run against a scripted local server (fake_s3.h): the
 * If-None-Match: * header is sent and signed, a 412 is RB_ERR_EXISTS, a 412 to a
 * retry whose object is our own (same ETag) succeeds, a plain PUT sends no
 * condition.  A request past the engine's fixed bounds fails as a bug instead of
 * aborting the process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <time.h>

#include "s3/s3_credentials.h"
#include "s3/s3_breaker.h"
#include "fake_s3.h"
#include "s3/s3_retry.h"
#include "s3/s3_client.h"
#include "s3/s3_internal.h"

static rb_aws_credentials cred;

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* Points opt at a caller-owned breaker with its lock callbacks and clock on arg. */
static void
use_breaker(rb_s3_options *opt, rb_breaker *b, void (*lock) (void *), void (*unlock) (void *),
			rb_s3_clock_fn clock, void *arg)
{
	opt->breaker = b;
	opt->breaker_lock = lock;
	opt->breaker_unlock = unlock;
	opt->breaker_lock_arg = arg;
	opt->clock = clock;
	opt->clock_arg = arg;
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
	use_breaker(&opt, &b, b_lock, b_unlock, b_clock, &env);
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

/*
 * The breaker counts failed requests, not failed attempts: a request that fails
 * three attempts records one failure, so a breaker of 2 opens only after two such
 * requests, and the fast failure of the third names the last real error.
 */
static void
test_breaker_counts_requests_not_attempts(void **state)
{
	fake_s3    *f = fake_s3_start();	/* no script: every answer is 500 InternalError */
	rb_s3_options opt;
	rb_retry_policy quick = rb_retry_policy_default();
	rb_error	err;
	rb_breaker	b;
	breaker_env env = {0, 0, 5000000};
	rb_s3_client *c;
	char		want[512];

	rb_breaker_init(&b, 2, 30000);
	base_options(&opt);
	opt.endpoint = f->endpoint;
	opt.uri_style = RB_S3_URI_PATH;
	quick.max_attempts = 3;
	quick.base_delay_s = 0.01;
	quick.max_delay_s = 0.02;
	opt.retry = &quick;
	use_breaker(&opt, &b, b_lock, b_unlock, b_clock, &env);
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);

	assert_int_equal(rb_s3_put_object(c, "k", "abc", 3, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_REMOTE);
	assert_non_null(strstr(err.msg, "no scripted answer (gave up after 3 attempts)"));
	assert_int_equal(f->nreq, 3);	/* every attempt of its schedule went out */
	assert_int_equal(b.consecutive_failures, 1);
	assert_int_equal(b.state, RB_BREAKER_CLOSED);

	assert_int_equal(rb_s3_put_object(c, "k", "abc", 3, NULL, &err), -1);
	assert_int_equal(f->nreq, 6);
	assert_int_equal(b.state, RB_BREAKER_OPEN);

	assert_int_equal(rb_s3_put_object(c, "k", "abc", 3, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_CIRCUIT_OPEN);
	assert_int_equal(f->nreq, 6);	/* failed fast */
	snprintf(want, sizeof(want),
			 "PUT s3://bucket/k: 500 InternalError: no scripted answer (the last error of %s; circuit breaker open after 2 consecutive failures, failing fast: next trial in 30.0 s)",
			 f->endpoint);
	assert_string_equal(err.msg, want);
	assert_int_equal(env.locks, env.unlocks);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

/* Another process runs the half-open trial; it succeeds at the lock call number n. */
typedef struct trial_env
{
	breaker_env base;
	rb_breaker *b;
	int			succeed_at;
} trial_env;

static void
t_lock(void *arg)
{
	trial_env  *t = arg;

	b_lock(&t->base);
	if (t->base.locks == t->succeed_at)
		rb_breaker_record_success(t->b, t->base.now);
}

static void
t_unlock(void *arg)
{
	b_unlock(&((trial_env *) arg)->base);
}

static int64_t
t_clock(void *arg)
{
	return ((trial_env *) arg)->base.now;
}

/*
 * A half-open breaker whose trial is running elsewhere: a request waits for the
 * trial's outcome instead of failing fast, and goes when the trial succeeds.
 */
static void
test_half_open_waits_for_the_trial(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_s3_options opt;
	rb_error	err;
	rb_breaker	b;
	trial_env	t = {{0, 0, 7000000}, &b, 4};
	rb_s3_client *c;

	rb_breaker_init(&b, 1, 30000);
	rb_breaker_record_failure(&b, t.base.now - 40000);
	assert_true(rb_breaker_allow(&b, t.base.now - 1000));	/* the other process's trial */
	assert_int_equal(b.state, RB_BREAKER_HALF_OPEN);

	fake_s3_answer(f, 200, FAKE_ETAG_MD5, NULL);
	base_options(&opt);
	opt.endpoint = f->endpoint;
	opt.uri_style = RB_S3_URI_PATH;
	use_breaker(&opt, &b, t_lock, t_unlock, t_clock, &t);
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	if (rb_s3_put_object(c, "k", "abc", 3, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(f->nreq, 1);
	assert_true(t.base.locks >= 4);	/* it looked again until the trial was over */
	assert_int_equal(b.state, RB_BREAKER_CLOSED);
	assert_int_equal(b.rejected, 0);
	rb_s3_client_free(c);
	fake_s3_stop(f);
}

/* A listener that completes TCP handshakes and never reads or answers. */
static int
stalled_listener(char *endpoint, size_t len)
{
	struct sockaddr_in sa;
	socklen_t	sl = sizeof(sa);
	int			fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 16), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &sa, &sl), 0);
	snprintf(endpoint, len, "http://127.0.0.1:%d", ntohs(sa.sin_port));
	return fd;
}

/*
 * A stalled endpoint: each attempt ends at the low-speed timeout (1 s), and the
 * request as a whole at its deadline (2.5 s), not after 6 attempts; the error
 * says it timed out.  The deadline's failure counts once for the breaker.
 */
static void
test_request_deadline_on_stalled_endpoint(void **state)
{
	char		endpoint[64];
	int			fd = stalled_listener(endpoint, sizeof(endpoint));
	rb_s3_options opt;
	rb_retry_policy quick = rb_retry_policy_default();
	rb_error	err;
	rb_s3_client *c;
	rb_s3_object_info info;
	int64_t		t0;
	int64_t		took;

	base_options(&opt);
	opt.endpoint = endpoint;
	opt.uri_style = RB_S3_URI_PATH;
	opt.low_speed_time_s = 1;
	opt.request_timeout_ms = 2500;
	quick.base_delay_s = 0.1;
	opt.retry = &quick;
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	t0 = mono_ms();
	assert_int_equal(rb_s3_head_object(c, "k", &info, &err), -1);
	took = mono_ms() - t0;
	assert_int_equal(err.code, RB_ERR_NETWORK);
	if (strstr(err.msg, "HEAD s3://bucket/k: timed out: no success within the request deadline of 2.5 s (") == NULL ||
		strstr(err.msg, "last error: timed out: ") == NULL)
		fail_msg("%s", err.msg);
	assert_true(took >= 2400 && took < 4000);
	rb_s3_client_free(c);

	/* the operation's deadline (a whole backup) bounds every request after it */
	opt.request_timeout_ms = -1;	/* no request deadline */
	opt.operation_timeout_ms = 1500;
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	t0 = mono_ms();
	assert_int_equal(rb_s3_head_object(c, "k", &info, &err), -1);
	took = mono_ms() - t0;
	if (strstr(err.msg, "HEAD s3://bucket/k: timed out: no success within the overall deadline of 1.5 s (") == NULL)
		fail_msg("%s", err.msg);
	assert_true(took >= 1400 && took < 3000);
	assert_int_equal(rb_s3_head_object(c, "k", &info, &err), -1);
	assert_string_equal(err.msg, "HEAD s3://bucket/k: timed out: the overall deadline of 1.5 s had passed; no attempt was made");
	rb_s3_client_free(c);
	close(fd);
}

/* Answers one GET with a 200 and 10 body bytes, one every 250 ms. */
static void *
slow_body_server(void *arg)
{
	int			fd = *(int *) arg;
	int			c = accept(fd, NULL, NULL);
	char		buf[4096];
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: \"e\"\r\nConnection: close\r\n\r\n";

	if (c < 0)
		return NULL;
	if (read(c, buf, sizeof(buf)) > 0 && write(c, head, strlen(head)) > 0)
	{
		for (int i = 0; i < 10; i++)
		{
			struct timespec ts = {0, 250 * 1000 * 1000};

			nanosleep(&ts, NULL);
			if (write(c, "0123456789" + i, 1) != 1)
				break;
		}
	}
	close(c);
	return NULL;
}

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_buf_append(arg, data, len);
	return 0;
}

/* A download still delivering bytes is not cut by the request deadline. */
static void
test_request_deadline_spares_a_moving_download(void **state)
{
	char		endpoint[64];
	int			fd = stalled_listener(endpoint, sizeof(endpoint));
	pthread_t	th;
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;
	rb_buf		got = RB_BUF_INIT;

	pthread_create(&th, NULL, slow_body_server, &fd);
	base_options(&opt);
	opt.endpoint = endpoint;
	opt.uri_style = RB_S3_URI_PATH;
	opt.request_timeout_ms = 1000;	/* the body takes 2.5 s */
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	if (rb_s3_get_object(c, "k", -1, -1, collect, &got, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(got.len, 10);
	assert_memory_equal(got.data, "0123456789", 10);
	rb_buf_free(&got);
	rb_s3_client_free(c);
	pthread_join(th, NULL);
	close(fd);
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
	rb_hooks	hooks = {NULL, always_cancel, &polls, NULL, NULL};
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

/* A request past the engine's fixed bounds fails as a bug (RB_ERR_INTERNAL), never aborts. */
static void
test_broken_bounds_fail_the_request(void **state)
{
	rb_s3_options opt;
	rb_error	err;
	rb_s3_client *c;
	rb_s3_xfer	x;

	base_options(&opt);
	rb_error_clear(&err);
	c = rb_s3_client_new(&opt, NULL, &err);
	assert_non_null(c);
	rb_s3_xfer_init(&x, c, "GET", NULL, "");
	for (int i = 0; i <= RB_S3_MAX_QUERY; i++)
		rb_s3_xfer_add_query(&x, "q", "v");
	assert_int_equal(x.nquery, RB_S3_MAX_QUERY);
	rb_s3_engine_submit(c, &x);
	assert_int_equal(x.state, RB_XFER_DONE);
	assert_false(x.ok);
	assert_int_equal(x.err.code, RB_ERR_INTERNAL);
	assert_non_null(strstr(x.err.msg, "too many query parameters in one S3 request"));
	rb_s3_xfer_cleanup(&x);
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
		cmocka_unit_test(test_breaker_counts_requests_not_attempts),
		cmocka_unit_test(test_half_open_waits_for_the_trial),
		cmocka_unit_test(test_request_deadline_on_stalled_endpoint),
		cmocka_unit_test(test_request_deadline_spares_a_moving_download),
		cmocka_unit_test(test_cancel_before_first_attempt),
		cmocka_unit_test(test_bad_keys),
		cmocka_unit_test(test_broken_bounds_fail_the_request),
		cmocka_unit_test(test_put_if_absent_refused),
		cmocka_unit_test(test_put_if_absent_stored),
		cmocka_unit_test(test_put_if_absent_retry_finds_own_object),
	};

	return cmocka_run_group_tests_name("s3_client", tests, setup, NULL);
}
