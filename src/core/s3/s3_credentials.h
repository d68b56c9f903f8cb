/*
 * s3_credentials.h — AWS credentials (access key, secret, optional session token)
 * and how they are found, the way the AWS CLI and SDKs find them.
 *
 * Lookup order of rb_aws_credentials_load():
 *   1. an explicit shared-credentials file (credentials_file non-empty): the profile's
 *      section must exist there and hold aws_access_key_id and aws_secret_access_key
 *      (aws_session_token optional); no fallback when it does not;
 *   2. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
 *      (skipped when a profile is named explicitly, as the AWS SDKs do);
 *   3. $AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/credentials.
 * The profile is the argument, else $AWS_PROFILE, else "default".  Sections are
 * written [name] (a [profile name] section, config-file syntax, is accepted when no
 * [name] exists).  Lines starting with # or ; are comments; keys and values are
 * trimmed.
 *
 * Secrets never appear in error messages or log lines: errors name the file, the
 * profile and the missing key only.  Clear a struct that held credentials with
 * rb_aws_credentials_clear() (it zeroes the memory in a way the compiler keeps).
 */
#ifndef RB_AWS_CREDENTIALS_H
#define RB_AWS_CREDENTIALS_H

#include "rb_error.h"

typedef struct rb_aws_credentials
{
	char		access_key_id[128];
	char		secret_access_key[256];
	char		session_token[4096];	/* "" when none */
	/* where they came from, for log lines: e.g. `credentials file "/p" profile "x"`,
	 * `environment`; never a secret */
	char		source[512];
} rb_aws_credentials;

/*
 * Finds credentials as described above.  credentials_file: NULL or "" = not given.
 * profile: NULL or "" = $AWS_PROFILE or "default".  hooks may be NULL (nothing is
 * logged today).  A credentials file is refused unless it is owned by the effective
 * user (the server's user in the server) and gives no access to group or others
 * (mode 0600 or stricter).  Returns 0 and fills *out, or -1 with err: RB_ERR_AUTH
 * when no credentials are found, a profile or key is missing, or a file's owner or
 * mode is refused; RB_ERR_IO when a file exists but cannot be read; RB_ERR_INVALID
 * when a value is too long.
 */
int			rb_aws_credentials_load(const char *credentials_file, const char *profile,
									rb_aws_credentials *out, const rb_hooks *hooks,
									rb_error *err);

/*
 * Fills *out from explicit values (session_token NULL or "" = none); source may be
 * NULL ("explicit").  Returns -1 with RB_ERR_INVALID when a value is empty (key id,
 * secret) or too long.
 */
int			rb_aws_credentials_set(rb_aws_credentials *out, const char *access_key_id,
								   const char *secret_access_key, const char *session_token,
								   const char *source, rb_error *err);

/* Zeroes the whole struct (secret and token included). */
void		rb_aws_credentials_clear(rb_aws_credentials *cred);

#endif							/* RB_AWS_CREDENTIALS_H */
