/*
 * notify_settings.h — the settings of notifications and recovery objectives
 * (ripple_backup.smtp_*, mail_*, notify_on, webhook_*, heartbeat_url,
 * notify_timeout, rpo_target, rto_target) and their translation into the core
 * library's rb_notify_settings (src/core/notify_channel.h).
 *
 * No setting holds a password or webhook secret: those are read from the files
 * smtp_credentials_file and webhook_secret_file name.  The webhook and heartbeat
 * URLs may carry a token in their path (Slack, healthchecks.io): they can come
 * from owner-only files (webhook_url_file, heartbeat_url_file) instead of a
 * setting value; the URL settings are superuser-only; and no log line, error or
 * catalog row ever shows more of a URL than scheme://host:port.
 */
#ifndef RB_NOTIFY_SETTINGS_H
#define RB_NOTIFY_SETTINGS_H

#include "notify_channel.h"

extern int	rb_guc_rpo_target_s;
extern int	rb_guc_rto_target_s;

/* Defines the settings above and the others of this header (from rb_guc_define). */
extern void rb_notify_define_gucs(void);

/*
 * Fills s from the current settings (strings borrowed from the GUC variables) with
 * the product's retry policy in *policy; the timeout is notify_timeout.
 */
extern void rb_notify_settings_get(rb_notify_settings *s, rb_retry_policy *policy);

/*
 * Whether a webhook / global heartbeat URL is set (in the setting or as a file),
 * without reading the file.
 */
extern bool rb_notify_webhook_set(void);
extern bool rb_notify_heartbeat_set(void);

/*
 * The webhook / global heartbeat URL: read from webhook_url_file /
 * heartbeat_url_file when set (an owner-only file, like the SMTP credentials;
 * trailing spaces and line ends dropped), else the setting.  palloc'd; "" when
 * none is set; NULL with err when the file cannot be used.
 */
extern char *rb_notify_webhook_url(rb_error *err);
extern char *rb_notify_heartbeat_url(rb_error *err);

/* ripple_backup.notify_on, parsed */
extern rb_notify_on rb_notify_on_setting(void);

/* ripple_backup.notify_timeout in milliseconds */
extern int	rb_notify_timeout_setting_ms(void);

#endif							/* RB_NOTIFY_SETTINGS_H */
