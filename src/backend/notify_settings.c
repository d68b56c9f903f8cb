/*
 * notify_settings.c — defines the notification and recovery-objective settings
 * (see notify_settings.h and docs/configuration.md) and hands them to the core
 * library.  Check hooks reject a malformed value at SET or reload time with a
 * message that never repeats a webhook or heartbeat URL (its path may be a token).
 */
#include "postgres.h"

#include <limits.h>
#include <string.h>

#include "utils/guc.h"

#include "notify_http.h"
#include "notify_settings.h"
#include "notify_smtp.h"
#include "rpo_check.h"

static char *rb_guc_smtp_url = NULL;
static int	rb_guc_smtp_tls = RB_SMTP_TLS_STARTTLS;
static char *rb_guc_smtp_ca_file = NULL;
static char *rb_guc_smtp_credentials_file = NULL;
static char *rb_guc_mail_from = NULL;
static char *rb_guc_mail_to = NULL;
static int	rb_guc_notify_on = RB_NOTIFY_ON_FAILURE;
static char *rb_guc_webhook_url = NULL;
static char *rb_guc_webhook_url_file = NULL;
static char *rb_guc_heartbeat_url_file = NULL;
static char *rb_guc_webhook_secret_file = NULL;
static int	rb_guc_webhook_format = 0;
static int	rb_guc_notify_timeout_s = 10;
static char *rb_guc_heartbeat_url = NULL;
int			rb_guc_rpo_target_s = 25 * 3600;
int			rb_guc_rto_target_s = 4 * 3600;

static const struct config_enum_entry smtp_tls_options[] = {
	{"starttls", RB_SMTP_TLS_STARTTLS, false},
	{"none", RB_SMTP_TLS_NONE, false},
	{NULL, 0, false}
};

static const struct config_enum_entry notify_on_options[] = {
	{"failure", RB_NOTIFY_ON_FAILURE, false},
	{"always", RB_NOTIFY_ON_ALWAYS, false},
	{"never", RB_NOTIFY_ON_NEVER, false},
	{NULL, 0, false}
};

static const struct config_enum_entry webhook_format_options[] = {
	{"json", 0, false},
	{"slack", 1, false},
	{NULL, 0, false}
};

static bool
check_smtp_url(char **newval, void **extra, GucSource source)
{
	const char *v = *newval;

	if (v == NULL || v[0] == '\0' || strncmp(v, "smtp://", 7) == 0 || strncmp(v, "smtps://", 8) == 0)
		return true;
	GUC_check_errmsg("invalid SMTP server URL");
	GUC_check_errdetail("The URL must be empty (no e-mail), smtp://host:port (STARTTLS) or smtps://host:port.");
	return false;
}

/* An http(s) URL or empty; the value itself is never quoted (its path may be a token). */
static bool
check_http_url(char **newval, const char *what)
{
	rb_error	err;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	rb_error_clear(&err);
	if (rb_http_url_check(*newval, what, &err) == 0)
		return true;
	GUC_check_errmsg("invalid %s URL", what);
	GUC_check_errdetail("%s", err.msg);
	GUC_check_errhint("Use http://host/path or https://host/path.");
	return false;
}

static bool
check_webhook_url(char **newval, void **extra, GucSource source)
{
	return check_http_url(newval, "webhook");
}

static bool
check_heartbeat_url(char **newval, void **extra, GucSource source)
{
	return check_http_url(newval, "heartbeat");
}

void
rb_notify_define_gucs(void)
{
	DefineCustomStringVariable("ripple_backup.smtp_url",
							   "SMTP server for e-mail notifications: smtp://host:587 (STARTTLS) or smtps://host:465; empty means no e-mail.",
							   NULL, &rb_guc_smtp_url, "",
							   PGC_SIGHUP, 0, check_smtp_url, NULL, NULL);
	DefineCustomEnumVariable("ripple_backup.smtp_tls",
							 "TLS for smtp:// servers: starttls (required; nothing is sent without it) or none (plain text, for a test server on this machine).",
							 NULL, &rb_guc_smtp_tls, RB_SMTP_TLS_STARTTLS, smtp_tls_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.smtp_ca_file",
							   "CA bundle that verifies the SMTP server's certificate; empty means the system's.",
							   NULL, &rb_guc_smtp_ca_file, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.smtp_credentials_file",
							   "File with the SMTP user and password (user = ..., password = ...), readable by the server's user only; empty means no authentication.",
							   NULL, &rb_guc_smtp_credentials_file, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.mail_from",
							   "From address of notification e-mails (an address, or Name <address>).",
							   NULL, &rb_guc_mail_from, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.mail_to",
							   "Comma-separated recipients of notification e-mails.",
							   NULL, &rb_guc_mail_to, "",
							   PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomEnumVariable("ripple_backup.notify_on",
							 "Which events are sent by e-mail and webhook: failure (failures and the end of an RPO breach), always, or never.",
							 NULL, &rb_guc_notify_on, RB_NOTIFY_ON_FAILURE, notify_on_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.webhook_url",
							   "URL that receives a POST for each notification; empty means no webhook.",
							   "Superuser-only: the path of a Slack or Mattermost URL is its secret. Logs and errors show only scheme://host:port.",
							   &rb_guc_webhook_url, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_webhook_url, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.webhook_url_file",
							   "File holding the webhook URL, readable by the server's user only; when set it is used instead of webhook_url.",
							   NULL, &rb_guc_webhook_url_file, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.heartbeat_url_file",
							   "File holding the heartbeat URL, readable by the server's user only; when set it is used instead of heartbeat_url.",
							   NULL, &rb_guc_heartbeat_url_file, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.webhook_secret_file",
							   "File holding the secret that signs webhook bodies (X-Ripple-Signature: sha256=HMAC); empty means unsigned.",
							   NULL, &rb_guc_webhook_secret_file, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
	DefineCustomEnumVariable("ripple_backup.webhook_format",
							 "Body of the webhook: json (the documented schema) or slack (Slack's and Mattermost's text field).",
							 NULL, &rb_guc_webhook_format, 0, webhook_format_options,
							 PGC_SIGHUP, 0, NULL, NULL, NULL);
	DefineCustomStringVariable("ripple_backup.heartbeat_url",
							   "Dead-man's-switch check URL (healthchecks.io protocol) pinged by scheduled backups; empty means none.",
							   "A job may have its own (ripple_backup_alter_job(..., heartbeat_url => ...)). Superuser-only: the path is the check's token.",
							   &rb_guc_heartbeat_url, "",
							   PGC_SIGHUP, GUC_SUPERUSER_ONLY, check_heartbeat_url, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.notify_timeout",
							"Longest one attempt to deliver a notification may take; 3 attempts are made.",
							NULL, &rb_guc_notify_timeout_s, 10, 1, 600,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.rpo_target",
							"Recovery point objective: the last successful backup of a database may be at most this old.",
							"Older, ripple_backup_health() says critical and rpo.breached is sent once.",
							&rb_guc_rpo_target_s, 25 * 3600, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	DefineCustomIntVariable("ripple_backup.rto_target",
							"Recovery time objective: a restore drill may take at most this long.",
							NULL, &rb_guc_rto_target_s, 4 * 3600, 1, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_S, NULL, NULL, NULL);
	rb_rpo_check_define_gucs();
}

bool
rb_notify_webhook_set(void)
{
	return rb_guc_webhook_url[0] != '\0' || rb_guc_webhook_url_file[0] != '\0';
}

bool
rb_notify_heartbeat_set(void)
{
	return rb_guc_heartbeat_url[0] != '\0' || rb_guc_heartbeat_url_file[0] != '\0';
}

/* The URL in file (what names it in errors), or the setting's value url. */
static char *
url_of(const char *url, const char *file, const char *what, rb_error *err)
{
	rb_buf		buf = RB_BUF_INIT;
	char		name[64];
	char	   *out;
	size_t		len;

	if (file[0] == '\0')
		return pstrdup(url);
	snprintf(name, sizeof(name), "%s URL file", what);
	if (rb_notify_read_secret_file(file, name, &buf, err) != 0)
		return NULL;
	len = buf.len;
	while (len > 0 && (buf.data[len - 1] == '\n' || buf.data[len - 1] == '\r' ||
					   buf.data[len - 1] == ' ' || buf.data[len - 1] == '\t'))
		len--;
	out = pnstrdup(buf.data ? buf.data : "", len);
	rb_buf_free_secure(&buf);
	if (rb_http_url_check(out, what, err) != 0)
	{
		rb_error_prefix(err, "%s: ", name);
		return NULL;
	}
	return out;
}

char *
rb_notify_webhook_url(rb_error *err)
{
	return url_of(rb_guc_webhook_url, rb_guc_webhook_url_file, "webhook", err);
}

char *
rb_notify_heartbeat_url(rb_error *err)
{
	return url_of(rb_guc_heartbeat_url, rb_guc_heartbeat_url_file, "heartbeat", err);
}

rb_notify_on
rb_notify_on_setting(void)
{
	return (rb_notify_on) rb_guc_notify_on;
}

int
rb_notify_timeout_setting_ms(void)
{
	return rb_guc_notify_timeout_s * 1000;
}

void
rb_notify_settings_get(rb_notify_settings *s, rb_retry_policy *policy)
{
	memset(s, 0, sizeof(*s));
	*policy = rb_notify_retry_policy();
	s->smtp_url = rb_guc_smtp_url;
	s->smtp_tls = rb_guc_smtp_tls == RB_SMTP_TLS_NONE ? "none" : "starttls";
	s->smtp_ca_file = rb_guc_smtp_ca_file[0] ? rb_guc_smtp_ca_file : NULL;
	s->smtp_credentials_file = rb_guc_smtp_credentials_file;
	s->mail_from = rb_guc_mail_from;
	s->mail_to = rb_guc_mail_to;
	s->webhook_url = rb_guc_webhook_url;
	s->webhook_secret_file = rb_guc_webhook_secret_file;
	s->webhook_format = rb_guc_webhook_format == 1 ? "slack" : "json";
	s->timeout_ms = rb_notify_timeout_setting_ms();
	s->retry = policy;
}
