/*
 * guc.h — the ripple_backup.* settings (GUC variables) and their definition.
 *
 * Every setting lives under the reserved prefix "ripple_backup".  None holds a
 * secret: S3 credentials come from the file named by s3_credentials_file or from
 * the server's AWS_* environment.
 */
#ifndef RB_GUC_H
#define RB_GUC_H

#include <stdbool.h>

/* Values of ripple_backup.compression */
typedef enum RbCompression
{
	RB_COMPRESSION_ZSTD,
	RB_COMPRESSION_GZIP,
	RB_COMPRESSION_NONE
} RbCompression;

/* Values of ripple_backup.s3_uri_style */
typedef enum RbUriStyle
{
	RB_URI_STYLE_AUTO,			/* virtual for AWS, path for any other endpoint */
	RB_URI_STYLE_PATH,
	RB_URI_STYLE_VIRTUAL
} RbUriStyle;

/* Upper bound of ripple_backup.max_workers: the number of runner slots in shared memory */
#define RB_MAX_RUNNERS 32

extern char *rb_guc_database;
extern char *rb_guc_destination;
extern char *rb_guc_s3_endpoint;
extern char *rb_guc_s3_region;
extern int	rb_guc_s3_uri_style;
extern char *rb_guc_s3_credentials_file;
extern char *rb_guc_s3_ca_file;
extern bool rb_guc_s3_verify_tls;
extern int	rb_guc_s3_part_size_mb;
extern int	rb_guc_s3_request_timeout_s;
extern int	rb_guc_backup_timeout_s;
extern int	rb_guc_max_workers;
extern int	rb_guc_compression;
extern int	rb_guc_compression_level;
extern int	rb_guc_backup_nice;

/* Defines every ripple_backup.* setting and reserves the prefix (from _PG_init). */
extern void rb_guc_define(void);

/* "zstd", "gzip" or "none" */
extern const char *rb_compression_name(int compression);

/*
 * Whether ripple_backup.compression_level suits ripple_backup.compression (as
 * the compressor checks it: zstd 1-19, gzip 1-9, 0 the default, none any): 0,
 * or -1 with err saying which settings disagree.  The level's check hook tests a
 * new level against the compression in effect, and every backup tests both
 * again when it starts (a reload that changes both may apply them in either
 * order; see docs/configuration.md).
 */
struct rb_error;
extern int	rb_guc_check_compression(int compression, int level, struct rb_error *err);

/* Returns NULL when url is an acceptable destination, else a detail sentence. */
extern const char *rb_destination_problem(const char *url);

/*
 * Fills the destination options (ripple_backup.s3_*) from the current settings:
 * one place for the runner and the verifier, so both reach storage the same way.
 */
struct rb_destination_options;
extern void rb_guc_destination_options(struct rb_destination_options *opt);

#endif							/* RB_GUC_H */
