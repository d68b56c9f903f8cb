/*
 * test_notify_smtp.c — unit tests of the SMTP sender's checks and files
 * (src/core/notify_smtp.c, notify_transport.c) that need no server: the
 * credentials file (format, owner-only rule, no secret in any error), address
 * lists, the envelope sender, option checks (scheme, credentials in the URL, TLS
 * against the scheme, plain-text credentials only to loopback), a refused
 * connection retried with the policy's attempts, and cancellation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "notify_test_util.h"

#include "notify_smtp.h"

static void
test_credentials_file(void **state)
{
	rb_smtp_credentials c;
	rb_error	err;
	const char *p;

	(void) state;
	p = write_file("good", "# comment\n\n  user =  backup@example.com \npassword = pass word=x\n", 0600);
	assert_int_equal(rb_smtp_credentials_load(p, &c, &err), 0);
	assert_string_equal(c.user, "backup@example.com");
	assert_string_equal(c.password, "pass word=x");
	rb_smtp_credentials_clear(&c);
	assert_string_equal(c.password, "");

	p = write_file("crlf", "user=u\r\npassword=p\r\n", 0400);
	assert_int_equal(rb_smtp_credentials_load(p, &c, &err), 0);
	assert_string_equal(c.password, "p");

	p = write_file("open", "user = u\npassword = Sekr1t\n", 0644);
	assert_int_equal(rb_smtp_credentials_load(p, &c, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	assert_non_null(strstr(err.msg, "is accessible by other users (mode 0644); chmod 600 it"));
	assert_null(strstr(err.msg, "Sekr1t"));
	assert_string_equal(c.password, "");

	p = write_file("group", "user = u\npassword = Sekr1t\n", 0610);
	assert_int_equal(rb_smtp_credentials_load(p, &c, &err), -1);
	assert_non_null(strstr(err.msg, "(mode 0610)"));

	p = write_file("nopass", "user = u\n", 0600);
	assert_int_equal(rb_smtp_credentials_load(p, &c, &err), -1);
	assert_non_null(strstr(err.msg, "has no password line"));

	p = write_file("unknown", "user = u\npasswd = Sekr1t\n", 0600);
	assert_int_equal(rb_smtp_credentials_load(p, &c, &err), -1);
	assert_non_null(strstr(err.msg, "line 2: unknown key"));
	assert_null(strstr(err.msg, "Sekr1t"));

	p = write_file("noeq", "user u\npassword Sekr1t\n", 0600);
	assert_int_equal(rb_smtp_credentials_load(p, &c, &err), -1);
	assert_non_null(strstr(err.msg, "line 1: expected key = value"));
	assert_null(strstr(err.msg, "Sekr1t"));

	assert_int_equal(rb_smtp_credentials_load("/nonexistent/creds", &c, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_int_equal(rb_smtp_credentials_load(scratch_dir, &c, &err), -1);
	assert_non_null(strstr(err.msg, "is not a regular file"));
}

static void
test_address_list(void **state)
{
	rb_address_list l;
	rb_error	err;
	char		a[256];

	(void) state;
	assert_int_equal(rb_address_list_parse(" a@example.com,b@example.org ,  c@x.y", &l, &err), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.addr[0], "a@example.com");
	assert_string_equal(l.addr[1], "b@example.org");
	assert_string_equal(l.addr[2], "c@x.y");
	rb_address_list_free(&l);
	assert_int_equal(rb_address_list_parse("a@example.com", &l, &err), 0);
	assert_int_equal(l.n, 1);
	rb_address_list_free(&l);

	assert_int_equal(rb_address_list_parse("", &l, &err), -1);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(rb_address_list_parse("a@example.com,,b@x.y", &l, &err), -1);
	assert_non_null(strstr(err.msg, "address 2"));
	assert_int_equal(rb_address_list_parse("a@example.com\r\nRCPT TO:<x@y.z>", &l, &err), -1);
	assert_int_equal(rb_address_list_parse("not-an-address", &l, &err), -1);
	assert_int_equal(rb_address_list_parse("Name <a@b.c>", &l, &err), -1);
	assert_null(l.addr);

	assert_int_equal(rb_mail_envelope_address("ripple_backup <backup@example.com>", a, sizeof(a), &err), 0);
	assert_string_equal(a, "backup@example.com");
	assert_int_equal(rb_mail_envelope_address("  backup@example.com ", a, sizeof(a), &err), 0);
	assert_string_equal(a, "backup@example.com");
	assert_int_equal(rb_mail_envelope_address("nobody", a, sizeof(a), &err), -1);
	assert_int_equal(rb_mail_envelope_address("x@y.z>\r\nDATA", a, sizeof(a), &err), -1);
}

static void
test_tls_parse(void **state)
{
	rb_smtp_tls t;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_smtp_tls_parse(NULL, &t, &err), 0);
	assert_int_equal(t, RB_SMTP_TLS_STARTTLS);
	assert_int_equal(rb_smtp_tls_parse("starttls", &t, &err), 0);
	assert_int_equal(t, RB_SMTP_TLS_STARTTLS);
	assert_int_equal(rb_smtp_tls_parse("none", &t, &err), 0);
	assert_int_equal(t, RB_SMTP_TLS_NONE);
	assert_int_equal(rb_smtp_tls_parse("ssl", &t, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
}

static void
test_check(void **state)
{
	const char *rcpt[] = {"dba@example.com"};
	rb_smtp_credentials c = {"u", "Sekr1t"};
	rb_smtp_options o = {"smtp://mail.example.com:587", RB_SMTP_TLS_STARTTLS, &c,
	"backup@example.com", rcpt, 1};
	rb_error	err;

	(void) state;
	assert_int_equal(rb_smtp_check(&o, &err), 0);
	o.url = "smtps://mail.example.com";
	assert_int_equal(rb_smtp_check(&o, &err), 0);
	o.tls = RB_SMTP_TLS_NONE;
	assert_int_equal(rb_smtp_check(&o, &err), -1);
	assert_non_null(strstr(err.msg, "contradicts an smtps:// URL"));

	o.url = "smtp://mail.example.com:25";
	assert_int_equal(rb_smtp_check(&o, &err), -1);
	assert_non_null(strstr(err.msg, "refusing to send SMTP credentials in plain text"));
	o.url = "smtp://127.0.0.1:1025";
	assert_int_equal(rb_smtp_check(&o, &err), 0);
	o.url = "smtp://localhost:1025";
	assert_int_equal(rb_smtp_check(&o, &err), 0);
	o.credentials = NULL;
	o.url = "smtp://mail.example.com:25";
	assert_int_equal(rb_smtp_check(&o, &err), 0);

	o.tls = RB_SMTP_TLS_STARTTLS;
	o.url = "smtp://u:Sekr1t@mail.example.com";
	assert_int_equal(rb_smtp_check(&o, &err), -1);
	assert_non_null(strstr(err.msg, "must not contain a user name or password"));
	assert_null(strstr(err.msg, "Sekr1t"));
	o.url = "http://mail.example.com";
	assert_int_equal(rb_smtp_check(&o, &err), -1);
	assert_non_null(strstr(err.msg, "scheme \"http\""));
	o.url = "";
	assert_int_equal(rb_smtp_check(&o, &err), -1);
	o.url = "smtp://mail.example.com";
	o.mail_from = "nobody";
	assert_int_equal(rb_smtp_check(&o, &err), -1);
	o.mail_from = "backup@example.com";
	o.nrcpt = 0;
	assert_int_equal(rb_smtp_check(&o, &err), -1);
}

/* A port nothing listens on: bound, then closed. */
static int	warnings;

static void
count_log(void *arg, rb_log_level level, const char *line)
{
	(void) arg;
	if (level == RB_LOG_WARNING && strstr(line, "retrying in") != NULL)
		warnings++;
	assert_null(strstr(line, "Sekr1t"));
}

static bool
always_cancel(void *arg)
{
	(void) arg;
	return true;
}

static void
test_send_refused_and_cancelled(void **state)
{
	const char *rcpt[] = {"dba@example.com"};
	rb_smtp_credentials c = {"u", "Sekr1t"};
	char		url[64];
	rb_smtp_options o = {url, RB_SMTP_TLS_NONE, &c, "backup@example.com", rcpt, 1};
	rb_retry_policy p = rb_notify_retry_policy();
	rb_notify_delivery d = {2000, &p, NULL};
	rb_hooks	hooks = {count_log, NULL, NULL, NULL, NULL};
	const char *msg = "Subject: x\r\n\r\nbody\r\n";
	rb_error	err;

	(void) state;
	assert_int_equal(p.max_attempts, 3);
	p.base_delay_s = 0.01;
	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", closed_port());
	warnings = 0;
	assert_int_equal(rb_smtp_send(&o, &d, msg, strlen(msg), &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_NETWORK);
	assert_non_null(strstr(err.msg, "(attempt 3 of 3): could not connect to the SMTP server: Connection refused"));
	assert_null(strstr(err.msg, "Sekr1t"));
	assert_int_equal(warnings, 2);

	hooks.cancel = always_cancel;
	assert_int_equal(rb_smtp_send(&o, &d, msg, strlen(msg), &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_CANCELLED);
}

static void
test_url_for_log(void **state)
{
	char		s[128];

	(void) state;
	rb_notify_url_for_log("smtp://u:Sekr1t@mail.example.com:587/ehlo", s, sizeof(s));
	assert_string_equal(s, "smtp://mail.example.com:587");
	rb_notify_url_for_log("https://hooks.slack.com/services/T0/B0/XXXX?x=1", s, sizeof(s));
	assert_string_equal(s, "https://hooks.slack.com");
	rb_notify_url_for_log("::not a url", s, sizeof(s));
	assert_string_equal(s, "(invalid URL)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_credentials_file),
		cmocka_unit_test(test_address_list),
		cmocka_unit_test(test_tls_parse),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_send_refused_and_cancelled),
		cmocka_unit_test(test_url_for_log),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
