/*
 * s3_sse_settings.h — the settings of S3 server-side encryption
 * (ripple_backup.s3_sse, ripple_backup.s3_sse_kms_key_id) and their place in the
 * destination options, so every object the server writes (dumps, metadata,
 * verification markers) is sent with them.  Neither holds a secret: a KMS key id
 * names a key, the key itself never leaves KMS.
 */
#ifndef RB_S3_SSE_SETTINGS_H
#define RB_S3_SSE_SETTINGS_H

struct rb_destination_options;

/* Defines the two settings (from rb_guc_define). */
extern void rb_s3_sse_define_gucs(void);

/* Sets opt->s3_sse and opt->s3_sse_kms_key_id from the current settings. */
extern void rb_s3_sse_destination_options(struct rb_destination_options *opt);

#endif							/* RB_S3_SSE_SETTINGS_H */
