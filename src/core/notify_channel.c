/*
 * notify_channel.c — sending an event by e-mail or webhook from the settings as
 * text, and the notify_on filter (see notify_channel.h).
 */
#include "notify_channel.h"

#include <string.h>

#include "notify_http.h"
#include "notify_smtp.h"
#include "rb_buf.h"

const char *
rb_notify_channel_name(rb_notify_channel ch)
{
	switch (ch)
	{
		case RB_CHANNEL_EMAIL: return "email";
		case RB_CHANNEL_WEBHOOK: return "webhook";
		case RB_CHANNEL_HEARTBEAT: return "heartbeat";
	}
	return "unknown";
}

int
rb_notify_channel_parse(const char *name, rb_notify_channel *out, rb_error *err)
{
	for (int ch = RB_CHANNEL_EMAIL; ch <= RB_CHANNEL_HEARTBEAT; ch++)
	{
		if (name != NULL && strcmp(name, rb_notify_channel_name((rb_notify_channel) ch)) == 0)
		{
			*out = (rb_notify_channel) ch;
			return 0;
		}
	}
	return rb_error_set(err, RB_ERR_INVALID,
						"unknown notification channel \"%s\": use email, webhook or heartbeat",
						name ? name : "");
}

int
rb_notify_on_parse(const char *text, rb_notify_on *out, rb_error *err)
{
	if (text == NULL || text[0] == '\0' || strcmp(text, "failure") == 0)
		*out = RB_NOTIFY_ON_FAILURE;
	else if (strcmp(text, "always") == 0)
		*out = RB_NOTIFY_ON_ALWAYS;
	else if (strcmp(text, "never") == 0)
		*out = RB_NOTIFY_ON_NEVER;
	else
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid notify_on value \"%s\": use failure, always or never", text);
	return 0;
}

bool
rb_notify_wanted(rb_notify_on on, rb_notify_kind kind)
{
	if (kind == RB_NOTIFY_TEST)
		return true;
	switch (on)
	{
		case RB_NOTIFY_ON_NEVER:
			return false;
		case RB_NOTIFY_ON_ALWAYS:
			return true;
		case RB_NOTIFY_ON_FAILURE:
			return rb_notify_kind_is_failure(kind) || kind == RB_NOTIFY_RPO_RECOVERED ||
				kind == RB_NOTIFY_WAL_ARCHIVE_RECOVERED;
	}
	return false;
}

static bool
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

bool
rb_notify_configured(const rb_notify_settings *s, rb_notify_channel ch)
{
	switch (ch)
	{
		case RB_CHANNEL_EMAIL: return set(s->smtp_url);
		case RB_CHANNEL_WEBHOOK: return set(s->webhook_url);
		case RB_CHANNEL_HEARTBEAT: return false;
	}
	return false;
}

static void
delivery_of(const rb_notify_settings *s, const char *ca_file, rb_notify_delivery *d)
{
	d->timeout_ms = s->timeout_ms;
	d->retry = s->retry;
	d->ca_file = ca_file;
}

/* The e-mail options from the settings; rcpt is filled (free it) on success. */
static int
mail_options(const rb_notify_settings *s, rb_smtp_options *o, rb_address_list *rcpt,
			 rb_error *err)
{
	memset(o, 0, sizeof(*o));
	rcpt->addr = NULL;
	rcpt->n = 0;
	if (!set(s->smtp_url))
		return rb_error_set(err, RB_ERR_INVALID, "e-mail is not configured (smtp_url is empty)");
	if (rb_smtp_tls_parse(s->smtp_tls, &o->tls, err) != 0)
		return -1;
	if (!set(s->mail_from))
		return rb_error_set(err, RB_ERR_INVALID, "mail_from is empty");
	if (rb_address_list_parse(s->mail_to, rcpt, err) != 0)
	{
		rb_error_prefix(err, "mail_to: ");
		return -1;
	}
	o->url = s->smtp_url;
	o->mail_from = s->mail_from;
	o->rcpt = (const char *const *) rcpt->addr;
	o->nrcpt = rcpt->n;
	return 0;
}

/* json (also NULL or "") or slack; -1 with RB_ERR_INVALID naming the setting. */
static int
webhook_slack(const rb_notify_settings *s, bool *slack, rb_error *err)
{
	*slack = false;
	if (!set(s->webhook_format) || strcmp(s->webhook_format, "json") == 0)
		return 0;
	if (strcmp(s->webhook_format, "slack") == 0)
	{
		*slack = true;
		return 0;
	}
	return rb_error_set(err, RB_ERR_INVALID, "invalid webhook_format \"%s\": use json or slack",
						s->webhook_format);
}

int
rb_notify_check(const rb_notify_settings *s, rb_notify_channel ch, rb_error *err)
{
	int			rc = 0;

	if (ch == RB_CHANNEL_EMAIL)
	{
		rb_smtp_options o;
		rb_address_list rcpt;
		rb_smtp_credentials placeholder = {"", ""};

		if (mail_options(s, &o, &rcpt, err) != 0)
			return -1;
		/* the credentials' presence matters to the check (plain text only to loopback) */
		if (set(s->smtp_credentials_file))
			o.credentials = &placeholder;
		rc = rb_smtp_check(&o, err);
		rb_address_list_free(&rcpt);
		return rc;
	}
	if (ch == RB_CHANNEL_WEBHOOK)
	{
		bool		slack;

		if (!set(s->webhook_url))
			return rb_error_set(err, RB_ERR_INVALID, "webhook_url is empty");
		if (webhook_slack(s, &slack, err) != 0)
			return -1;
		return rb_http_url_check(s->webhook_url, "webhook", err);
	}
	return 0;
}

int
rb_notify_send_email(const rb_notify_settings *s, const rb_notify_event *ev,
					 const rb_hooks *hooks, rb_error *err)
{
	rb_smtp_options o;
	rb_address_list rcpt;
	rb_smtp_credentials cred;
	rb_mail_envelope env;
	rb_notify_delivery d;
	rb_buf		msg = RB_BUF_INIT;
	int			rc = -1;

	memset(&cred, 0, sizeof(cred));
	if (mail_options(s, &o, &rcpt, err) != 0)
		return -1;
	if (rb_smtp_check(&o, err) != 0)
		goto done;
	if (set(s->smtp_credentials_file))
	{
		if (rb_smtp_credentials_load(s->smtp_credentials_file, &cred, err) != 0)
			goto done;
		o.credentials = &cred;
	}
	env.from = s->mail_from;
	env.to = o.rcpt;
	env.nto = o.nrcpt;
	env.date = -1;
	env.message_id = NULL;
	if (rb_notify_render_mail(ev, &env, &msg, err) != 0)
		goto done;
	delivery_of(s, s->smtp_ca_file, &d);
	rc = rb_smtp_send(&o, &d, msg.data, msg.len, hooks, err);

done:
	rb_smtp_credentials_clear(&cred);
	rb_address_list_free(&rcpt);
	rb_buf_free(&msg);
	return rc;
}

int
rb_notify_send_webhook(const rb_notify_settings *s, const rb_notify_event *ev,
					   const rb_hooks *hooks, rb_error *err)
{
	rb_buf		body = RB_BUF_INIT;
	rb_buf		secret = RB_BUF_INIT;
	rb_notify_delivery d;
	bool		slack;
	int			rc = -1;

	if (!set(s->webhook_url))
		return rb_error_set(err, RB_ERR_INVALID, "webhook is not configured (webhook_url is empty)");
	if (webhook_slack(s, &slack, err) != 0)
		goto done;
	if (slack)
		rb_notify_render_slack(ev, &body);
	else
		rb_notify_render_json(ev, &body);
	if (set(s->webhook_secret_file) &&
		rb_webhook_secret_load(s->webhook_secret_file, &secret, err) != 0)
		goto done;
	delivery_of(s, NULL, &d);
	rc = rb_webhook_post(s->webhook_url, body.data, body.len, secret.data, secret.len, &d,
						 hooks, err);

done:
	rb_buf_free_secure(&secret);
	rb_buf_free(&body);
	return rc;
}
