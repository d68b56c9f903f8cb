/*
 * test_notify_channel.c — unit tests of sending by channel from the settings
 * (src/core/notify_channel.c): channel and notify_on names, which events each
 * notify_on value lets through, whether a channel is configured, the settings
 * checks (naming the setting), and sends that fail before or at the transfer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "notify_test_util.h"

#include "notify_channel.h"

static void
test_names(void **state)
{
	rb_notify_channel ch;
	rb_notify_on on;
	rb_error	err;

	(void) state;
	for (int i = RB_CHANNEL_EMAIL; i <= RB_CHANNEL_HEARTBEAT; i++)
	{
		assert_int_equal(rb_notify_channel_parse(rb_notify_channel_name((rb_notify_channel) i), &ch, &err), 0);
		assert_int_equal(ch, i);
	}
	assert_string_equal(rb_notify_channel_name(RB_CHANNEL_EMAIL), "email");
	assert_int_equal(rb_notify_channel_parse("pager", &ch, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);

	assert_int_equal(rb_notify_on_parse(NULL, &on, &err), 0);
	assert_int_equal(on, RB_NOTIFY_ON_FAILURE);
	assert_int_equal(rb_notify_on_parse("always", &on, &err), 0);
	assert_int_equal(on, RB_NOTIFY_ON_ALWAYS);
	assert_int_equal(rb_notify_on_parse("never", &on, &err), 0);
	assert_int_equal(on, RB_NOTIFY_ON_NEVER);
	assert_int_equal(rb_notify_on_parse("sometimes", &on, &err), -1);
	assert_non_null(strstr(err.msg, "use failure, always or never"));
}

static void
test_wanted(void **state)
{
	(void) state;
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_BACKUP_FAILED));
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_VERIFY_FAILED));
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_DRILL_FAILED));
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_RPO_BREACHED));
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_RPO_RECOVERED));
	assert_false(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_BACKUP_SUCCEEDED));
	assert_false(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_DRILL_SUCCEEDED));
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_ALWAYS, RB_NOTIFY_BACKUP_SUCCEEDED));
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_ALWAYS, RB_NOTIFY_DRILL_SUCCEEDED));
	assert_false(rb_notify_wanted(RB_NOTIFY_ON_NEVER, RB_NOTIFY_BACKUP_FAILED));
	/* a test message is asked for: it goes out whatever notify_on says */
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_NEVER, RB_NOTIFY_TEST));
	assert_true(rb_notify_wanted(RB_NOTIFY_ON_FAILURE, RB_NOTIFY_TEST));
}

static void
test_check(void **state)
{
	rb_notify_settings s;
	rb_error	err;

	(void) state;
	memset(&s, 0, sizeof(s));
	assert_false(rb_notify_configured(&s, RB_CHANNEL_EMAIL));
	assert_false(rb_notify_configured(&s, RB_CHANNEL_WEBHOOK));
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_EMAIL, &err), -1);
	assert_non_null(strstr(err.msg, "smtp_url is empty"));

	s.smtp_url = "smtp://mail.example.com:587";
	s.mail_from = "backup@example.com";
	s.mail_to = "dba@example.com, oncall@example.com";
	assert_true(rb_notify_configured(&s, RB_CHANNEL_EMAIL));
	assert_false(rb_notify_configured(&s, RB_CHANNEL_HEARTBEAT));
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_EMAIL, &err), 0);
	s.smtp_tls = "tls";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_EMAIL, &err), -1);
	assert_non_null(strstr(err.msg, "invalid SMTP TLS mode \"tls\""));
	s.smtp_tls = "none";
	s.smtp_credentials_file = "/etc/ripple/smtp";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_EMAIL, &err), -1);
	assert_non_null(strstr(err.msg, "refusing to send SMTP credentials in plain text"));
	s.smtp_tls = NULL;
	s.mail_to = "dba@example.com, nobody";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_EMAIL, &err), -1);
	assert_true(strncmp(err.msg, "mail_to: e-mail address 2 ", 26) == 0);
	s.mail_to = "dba@example.com";
	s.mail_from = "";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_EMAIL, &err), -1);
	assert_non_null(strstr(err.msg, "mail_from is empty"));

	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_WEBHOOK, &err), -1);
	assert_non_null(strstr(err.msg, "webhook_url is empty"));
	s.webhook_url = "https://hooks.slack.com/services/T0/B0/X";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_WEBHOOK, &err), 0);
	s.webhook_format = "slack";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_WEBHOOK, &err), 0);
	s.webhook_format = "xml";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_WEBHOOK, &err), -1);
	assert_non_null(strstr(err.msg, "invalid webhook_format \"xml\""));
	s.webhook_format = NULL;
	s.webhook_url = "ftp://example.com/x";
	assert_int_equal(rb_notify_check(&s, RB_CHANNEL_WEBHOOK, &err), -1);
	assert_non_null(strstr(err.msg, "invalid webhook URL scheme \"ftp\""));
}

static void
test_send_failures(void **state)
{
	rb_notify_settings s;
	rb_notify_event ev;
	rb_retry_policy p = rb_notify_retry_policy();
	rb_error	err;
	char		url[64];
	const char *secret;

	(void) state;
	memset(&s, 0, sizeof(s));
	rb_notify_event_init(&ev, RB_NOTIFY_BACKUP_FAILED);
	ev.dbname = "app";
	assert_int_equal(rb_notify_send_email(&s, &ev, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_non_null(strstr(err.msg, "e-mail is not configured"));
	assert_int_equal(rb_notify_send_webhook(&s, &ev, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "webhook is not configured"));

	/* a missing credentials file is named before anything is sent */
	s.smtp_url = "smtp://127.0.0.1:1";
	s.smtp_tls = "none";
	s.mail_from = "backup@example.com";
	s.mail_to = "dba@example.com";
	s.smtp_credentials_file = "/nonexistent/smtp";
	assert_int_equal(rb_notify_send_email(&s, &ev, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, "could not open SMTP credentials file \"/nonexistent/smtp\""));

	/* the webhook's secret file is read, then the transfer fails on a closed port */
	p.max_attempts = 1;
	s.retry = &p;
	s.timeout_ms = 1000;
	secret = write_file("secret", "k\n", 0600);
	s.webhook_secret_file = secret;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", closed_port());
	s.webhook_url = url;
	assert_int_equal(rb_notify_send_webhook(&s, &ev, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NETWORK);
	assert_non_null(strstr(err.msg, "could not connect: Connection refused"));
	secret = write_file("secret", "k\n", 0644);
	assert_int_equal(rb_notify_send_webhook(&s, &ev, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_wanted),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_send_failures),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
