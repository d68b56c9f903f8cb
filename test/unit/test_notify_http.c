/*
 * test_notify_http.c — unit tests of the webhook and heartbeat pieces that need
 * no receiver (src/core/notify_http.c): the signature (RFC 4231 HMAC-SHA256
 * vectors), the secret file (trailing line end stripped, owner-only, empty
 * refused), heartbeat URLs (suffix before the query, trailing slash), URL checks,
 * and a refused connection that names only scheme, host and port.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "notify_test_util.h"

#include "notify_http.h"

static void
test_signature(void **state)
{
	char		sig[RB_WEBHOOK_SIGNATURE_SIZE];
	rb_error	err;
	const char *data = "what do ya want for nothing?";

	(void) state;
	/* RFC 4231 test case 2 */
	assert_int_equal(rb_webhook_signature("Jefe", 4, data, strlen(data), sig, &err), 0);
	assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* the body as given, not its string length: a NUL inside counts */
	assert_int_equal(rb_webhook_signature("key", 3, "a\0b", 3, sig, &err), 0);
	assert_int_equal(strlen(sig), 7 + 64);
	assert_string_not_equal(sig + 7, "");
}

static void
test_secret_file(void **state)
{
	rb_buf		s = RB_BUF_INIT;
	rb_error	err;
	const char *p;

	(void) state;
	p = write_file("secret", "s3cr3t value\r\n\n", 0600);
	assert_int_equal(rb_webhook_secret_load(p, &s, &err), 0);
	assert_string_equal(rb_buf_str(&s), "s3cr3t value");
	assert_int_equal(s.len, 12);
	rb_buf_free_secure(&s);

	p = write_file("open", "s3cr3t\n", 0604);
	assert_int_equal(rb_webhook_secret_load(p, &s, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	assert_non_null(strstr(err.msg, "webhook secret file"));
	assert_non_null(strstr(err.msg, "(mode 0604)"));
	assert_null(strstr(err.msg, "s3cr3t"));
	rb_buf_free_secure(&s);

	/* a FIFO in the file's place is refused at once, not waited on */
	{
		char		fifo[256];

		snprintf(fifo, sizeof(fifo), "%s/fifo", scratch_dir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		assert_int_equal(rb_webhook_secret_load(fifo, &s, &err), -1);
		assert_non_null(strstr(err.msg, "is not a regular file"));
		rb_buf_free_secure(&s);
	}

	p = write_file("empty", " \n", 0600);
	assert_int_equal(rb_webhook_secret_load(p, &s, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_non_null(strstr(err.msg, "is empty"));
	rb_buf_free_secure(&s);
}

static void
test_heartbeat_url(void **state)
{
	rb_buf		u = RB_BUF_INIT;
	rb_error	err;
	rb_heartbeat_signal sig;

	(void) state;
	assert_int_equal(rb_heartbeat_url("https://hc-ping.com/0c4e-uuid", RB_HEARTBEAT_START, &u, &err), 0);
	assert_string_equal(rb_buf_str(&u), "https://hc-ping.com/0c4e-uuid/start");
	rb_buf_reset(&u);
	assert_int_equal(rb_heartbeat_url("https://hc-ping.com/0c4e-uuid/", RB_HEARTBEAT_FAIL, &u, &err), 0);
	assert_string_equal(rb_buf_str(&u), "https://hc-ping.com/0c4e-uuid/fail");
	rb_buf_reset(&u);
	assert_int_equal(rb_heartbeat_url("http://127.0.0.1:8000/ping/x?rid=1", RB_HEARTBEAT_START, &u, &err), 0);
	assert_string_equal(rb_buf_str(&u), "http://127.0.0.1:8000/ping/x/start?rid=1");
	rb_buf_reset(&u);
	assert_int_equal(rb_heartbeat_url("https://hc-ping.com/0c4e-uuid", RB_HEARTBEAT_SUCCESS, &u, &err), 0);
	assert_string_equal(rb_buf_str(&u), "https://hc-ping.com/0c4e-uuid");
	rb_buf_reset(&u);
	assert_int_equal(rb_heartbeat_url("ftp://x/y", RB_HEARTBEAT_START, &u, &err), -1);
	assert_non_null(strstr(err.msg, "scheme \"ftp\""));
	assert_int_equal(rb_heartbeat_url("", RB_HEARTBEAT_START, &u, &err), -1);
	rb_buf_free(&u);

	assert_int_equal(rb_heartbeat_signal_parse("fail", &sig, &err), 0);
	assert_int_equal(sig, RB_HEARTBEAT_FAIL);
	assert_string_equal(rb_heartbeat_signal_name(RB_HEARTBEAT_START), "start");
	assert_int_equal(rb_heartbeat_signal_parse("stop", &sig, &err), -1);
}

static void
no_secret_in_log(void *arg, rb_log_level level, const char *line)
{
	(void) arg;
	(void) level;
	assert_null(strstr(line, "T000/B000"));
}

static void
test_post_refused(void **state)
{
	char		url[128];
	char		want[128];
	rb_retry_policy p = rb_notify_retry_policy();
	rb_notify_delivery d = {1000, &p, NULL};
	rb_hooks	hooks = {no_secret_in_log, NULL, NULL, NULL, NULL};
	rb_error	err;
	int			port = closed_port();

	(void) state;
	p.base_delay_s = 0.01;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/services/T000/B000/XXXX", port);
	assert_int_equal(rb_webhook_post(url, "{}", 2, "k", 1, &d, &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_NETWORK);
	snprintf(want, sizeof(want), "webhook to http://127.0.0.1:%d (attempt 3 of 3): could not connect: "
			 "Connection refused", port);
	assert_string_equal(err.msg, want);

	p.max_attempts = 1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ping/uuid", port);
	assert_int_equal(rb_heartbeat_send(url, RB_HEARTBEAT_FAIL, "boom", &d, &hooks, &err), -1);
	snprintf(want, sizeof(want), "heartbeat fail to http://127.0.0.1:%d: could not connect: "
			 "Connection refused", port);
	assert_string_equal(err.msg, want);

	assert_int_equal(rb_webhook_post("file:///etc/passwd", "{}", 2, NULL, 0, &d, &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	p.max_attempts = 0;
	assert_int_equal(rb_webhook_post(url, "{}", 2, NULL, 0, &d, &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_heartbeat_url),
		cmocka_unit_test(test_post_refused),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
