/*
 * notify_channel.h — one call per channel, from the settings as text: what the
 * server (and a DBA's check) needs to send an event by e-mail or webhook without
 * assembling the renderings, files and transports itself.
 *
 * The settings are the values of the ripple_backup.* parameters (smtp_url,
 * smtp_tls, smtp_ca_file, smtp_credentials_file, mail_from, mail_to,
 * webhook_url, webhook_secret_file, webhook_format); an empty URL means the
 * channel is off.  Secrets are read from their files at each send, so a changed
 * file takes effect without a restart, and cleared after use.  The heartbeat has
 * no settings of its own beyond its URL (which a job may override): call
 * rb_heartbeat_send() (notify_http.h) directly.
 *
 * notify_on decides which events go out: never (none), failure (failures, and the
 * recoveries that end an RPO breach or a WAL archiving failure, so an alert
 * always gets its all-clear) or always.  A notify.test event is always sent: it is asked for explicitly.
 */
#ifndef RB_NOTIFY_CHANNEL_H
#define RB_NOTIFY_CHANNEL_H

#include <stdbool.h>

#include "notify_event.h"
#include "notify_transport.h"
#include "rb_error.h"

typedef enum rb_notify_channel
{
	RB_CHANNEL_EMAIL,
	RB_CHANNEL_WEBHOOK,
	RB_CHANNEL_HEARTBEAT
} rb_notify_channel;

/* "email", "webhook", "heartbeat" (the channel column of a delivery record); and back. */
const char *rb_notify_channel_name(rb_notify_channel ch);
int			rb_notify_channel_parse(const char *name, rb_notify_channel *out, rb_error *err);

typedef enum rb_notify_on
{
	RB_NOTIFY_ON_FAILURE,
	RB_NOTIFY_ON_ALWAYS,
	RB_NOTIFY_ON_NEVER
} rb_notify_on;

/* "failure" (also NULL or ""), "always", "never"; -1 with RB_ERR_INVALID otherwise. */
int			rb_notify_on_parse(const char *text, rb_notify_on *out, rb_error *err);
/* Whether an event of this kind is sent under notify_on (see the header comment). */
bool		rb_notify_wanted(rb_notify_on on, rb_notify_kind kind);

typedef struct rb_notify_settings
{
	const char *smtp_url;		/* "" or NULL = no e-mail */
	const char *smtp_tls;		/* starttls (default) | none */
	const char *smtp_ca_file;
	const char *smtp_credentials_file;	/* "" or NULL = no SMTP AUTH */
	const char *mail_from;
	const char *mail_to;		/* comma-separated addresses */
	const char *webhook_url;	/* "" or NULL = no webhook */
	const char *webhook_secret_file;	/* "" or NULL = unsigned */
	const char *webhook_format;	/* json (default) | slack */
	int			timeout_ms;		/* one attempt; 0 = 10 s */
	const rb_retry_policy *retry;	/* NULL = 3 attempts (rb_notify_retry_policy) */
} rb_notify_settings;

/* Whether the channel has a URL (the heartbeat: never, it is per job). */
bool		rb_notify_configured(const rb_notify_settings *s, rb_notify_channel ch);

/*
 * Checks the settings of a channel without sending or reading a file: TLS mode,
 * URL, sender and recipients (e-mail); URL and format (webhook).  For a check when
 * a setting changes.  -1 with RB_ERR_INVALID naming the setting.
 */
int			rb_notify_check(const rb_notify_settings *s, rb_notify_channel ch, rb_error *err);

/*
 * Renders the event as an e-mail and sends it to every address of mail_to.
 * -1 with err (the setting, the file or the transfer that failed) otherwise;
 * RB_ERR_INVALID when e-mail is not configured.
 */
int			rb_notify_send_email(const rb_notify_settings *s, const rb_notify_event *ev,
								 const rb_hooks *hooks, rb_error *err);

/* Renders the event in webhook_format and POSTs it, signed when a secret file is set. */
int			rb_notify_send_webhook(const rb_notify_settings *s, const rb_notify_event *ev,
								   const rb_hooks *hooks, rb_error *err);

#endif							/* RB_NOTIFY_CHANNEL_H */
