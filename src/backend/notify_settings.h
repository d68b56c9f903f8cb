/*
 * notify_settings.h — the settings of notifications and recovery objectives
 * (ripple_backup.smtp_*, mail_*, notify_on, webhook_*, heartbeat_url,
 * notify_timeout, rpo_target, rto_target) and their translation into the core
 * library's rb_notify_settings (src/core/notify_channel.h).
 *
 * No setting holds a password or webhook secret: those are read from the files
 * smtp_credentials_file and webhook_secret_file name.  The webhook and heartbeat
 * URLs may carry a token in their path (Slack, healthchecks.io): they are
 * superuser-only settings, and no log line, error or catalog row ever shows more
 * of them than scheme://host:port.
 */
#ifndef RB_NOTIFY_SETTINGS_H
#define RB_NOTIFY_SETTINGS_H

#include "notify_channel.h"

extern char *rb_guc_heartbeat_url;
extern int	rb_guc_rpo_target_s;
extern int	rb_guc_rto_target_s;

/* Defines the settings above and the others of this header (from rb_guc_define). */
extern void rb_notify_define_gucs(void);

/*
 * Fills s from the current settings (strings borrowed from the GUC variables) with
 * the product's retry policy in *policy; the timeout is notify_timeout.
 */
extern void rb_notify_settings_get(rb_notify_settings *s, rb_retry_policy *policy);

/* ripple_backup.notify_on, parsed */
extern rb_notify_on rb_notify_on_setting(void);

/* ripple_backup.notify_timeout in milliseconds */
extern int	rb_notify_timeout_setting_ms(void);

#endif							/* RB_NOTIFY_SETTINGS_H */
