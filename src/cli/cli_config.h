/*
 * cli_config.h — where ripple-backup finds its destination, S3 and key settings.
 *
 * The names are the extension's settings without the "ripple_backup." prefix, in
 * three places, highest precedence first:
 *   1. flags:       --destination, --s3-endpoint, --s3-region, --s3-uri-style,
 *                   --s3-credentials-file, --s3-profile, --s3-ca-file, --s3-no-verify-tls,
 *                   --encryption-key-file (repeatable)
 *   2. environment: RIPPLE_BACKUP_DESTINATION, RIPPLE_BACKUP_S3_ENDPOINT, ...
 *                   (the setting's name in upper case after RIPPLE_BACKUP_)
 *   3. config file: --config FILE, else $RIPPLE_BACKUP_CONFIG, else
 *                   ~/.config/ripple-backup.conf, else /etc/ripple-backup.conf;
 *                   `name = value` lines (postgresql.conf syntax: # comments, optional
 *                   single quotes, an optional "ripple_backup." prefix).
 * When none of them names a region or an endpoint, AWS_REGION / AWS_DEFAULT_REGION
 * and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL are used.  Credentials are never a
 * setting: they come from s3_credentials_file or the AWS_* environment (src/core's
 * s3_credentials.h); a config file that tries to hold a secret is refused.
 * Encryption keys are never a setting either: encryption_key_file (and the
 * server's decryption_key_files, accepted so that its lines can be copied) name
 * key files, a comma-separated list of them; every key of every listed file is
 * tried, by key id, to decrypt a backup.
 *
 * Pure logic (the environment is read through a callback) so that the unit tests
 * can check the precedence.
 */
#ifndef CLI_CONFIG_H
#define CLI_CONFIG_H

#include <stdbool.h>

#include "dest.h"
#include "rb_error.h"

/* One layer of settings or the merged result.  Strings are malloc'd; NULL = unset. */
typedef struct cli_settings
{
	char	   *destination;
	char	   *s3_endpoint;
	char	   *s3_region;
	char	   *s3_uri_style;
	char	   *s3_credentials_file;
	char	   *s3_profile;
	char	   *s3_ca_file;
	int			s3_verify_tls;	/* -1 unset, 0 off, 1 on */
	char	   *encryption_key_file;	/* key files, comma-separated */
	char	   *decryption_key_files;	/* more key files, comma-separated */
} cli_settings;

/* Reads an environment variable; NULL when unset.  getenv fits. */
typedef const char *(*cli_getenv_fn) (const char *name);

void		cli_settings_init(cli_settings *s);
void		cli_settings_free(cli_settings *s);

/*
 * Sets one setting by its name ("s3_region", or "ripple_backup.s3_region"); value
 * is copied.  RB_ERR_INVALID for an unknown name, a bad boolean or uri style, or a
 * name that would hold a secret.
 */
int			cli_settings_set(cli_settings *s, const char *name, const char *value, rb_error *err);

/* Appends value to a list setting ("encryption_key_file"), as a repeated flag does. */
int			cli_settings_append(cli_settings *s, const char *name, const char *value, rb_error *err);

/*
 * Calls fn for each file of the comma-separated list (blanks around a name are
 * trimmed, empty names skipped); stops at the first non-zero return, which it
 * returns.
 */
int			cli_key_files_each(const char *list, int (*fn) (void *arg, const char *path),
							   void *arg);

/* Fills the settings named in RIPPLE_BACKUP_* variables. */
int			cli_settings_from_env(cli_settings *s, cli_getenv_fn env, rb_error *err);

/*
 * Parses a config file's text (path is for messages: `config file "p" line 3: ...`).
 * RB_ERR_INVALID on a syntax error or unknown setting.
 */
int			cli_settings_parse_config(cli_settings *s, const char *text, const char *path,
									  rb_error *err);

/* Reads and parses a config file.  RB_ERR_NOT_FOUND when it does not exist. */
int			cli_settings_read_config(cli_settings *s, const char *path, rb_error *err);

/*
 * The config file to read: explicit (--config) if given, else $RIPPLE_BACKUP_CONFIG,
 * else the first of $HOME/.config/ripple-backup.conf and /etc/ripple-backup.conf
 * that exists (exists() decides; NULL = access(F_OK)).  Returns malloc'd path, or
 * NULL when there is none.  *required says whether a missing file is an error.
 */
char	   *cli_config_path(const char *explicit_path, cli_getenv_fn env,
							bool (*exists) (const char *path), bool *required);

/*
 * Merges the layers: every field of out comes from flags, else env, else file, else
 * the AWS_* defaults for region and endpoint.  out is initialised by the call.
 */
void		cli_settings_merge(cli_settings *out, const cli_settings *flags,
							   const cli_settings *env, const cli_settings *file,
							   cli_getenv_fn getenv_fn);

/* Points opt at the settings (valid while s lives).  opt is zeroed first. */
void		cli_settings_to_options(const cli_settings *s, rb_destination_options *opt);

/* Parses on/off/true/false/yes/no/1/0 (case-insensitive); -1 when none of them. */
int			cli_parse_bool(const char *value);

#endif							/* CLI_CONFIG_H */
