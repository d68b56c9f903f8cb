/*
 * s3_credentials.c — finding AWS credentials in a shared-credentials file or the
 * environment, the way the AWS CLI does (see s3_credentials.h).
 */
#include "s3_credentials.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "rb_buf.h"

#define MAX_FILE_SIZE (1024 * 1024)

static bool
is_blank(const char *s)
{
	return s == NULL || s[0] == '\0';
}

/* Copies src into dst[size]; -1 with RB_ERR_INVALID (naming `what`) if it does not fit. */
static int
copy_value(char *dst, size_t size, const char *src, const char *what, rb_error *err)
{
	size_t		n = strlen(src);

	if (n >= size)
		return rb_error_set(err, RB_ERR_INVALID, "%s is too long (%zu bytes, at most %zu)",
							what, n, size - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

int
rb_aws_credentials_set(rb_aws_credentials *out, const char *access_key_id,
					   const char *secret_access_key, const char *session_token,
					   const char *source, rb_error *err)
{
	rb_aws_credentials_clear(out);
	if (is_blank(access_key_id))
		return rb_error_set(err, RB_ERR_INVALID, "AWS access key id is empty");
	if (is_blank(secret_access_key))
		return rb_error_set(err, RB_ERR_INVALID, "AWS secret access key is empty");
	if (copy_value(out->access_key_id, sizeof(out->access_key_id), access_key_id,
				   "AWS access key id", err) != 0 ||
		copy_value(out->secret_access_key, sizeof(out->secret_access_key),
				   secret_access_key, "AWS secret access key", err) != 0 ||
		copy_value(out->session_token, sizeof(out->session_token),
				   session_token ? session_token : "", "AWS session token", err) != 0 ||
		copy_value(out->source, sizeof(out->source), source ? source : "explicit",
				   "credentials source", err) != 0)
	{
		rb_aws_credentials_clear(out);
		return -1;
	}
	return 0;
}

void
rb_aws_credentials_clear(rb_aws_credentials *cred)
{
	if (cred != NULL)
		OPENSSL_cleanse(cred, sizeof(*cred));
}

static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\v' || *s == '\f')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' ||
					   end[-1] == '\v' || end[-1] == '\f' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* Reads the whole file into buf.  -1 with err when it cannot be opened or read. */
static int
read_file(const char *path, rb_buf *buf, rb_error *err)
{
	FILE	   *f = fopen(path, "r");
	struct stat st;
	char		chunk[4096];
	size_t		n;

	if (f == NULL)
	{
		int			e = errno;

		return rb_error_set(err, e == ENOENT ? RB_ERR_AUTH : RB_ERR_IO,
							"could not open credentials file \"%s\": %s", path, strerror(e));
	}
	if (fstat(fileno(f), &st) == 0)
	{
		if (S_ISDIR(st.st_mode))
		{
			fclose(f);
			return rb_error_set(err, RB_ERR_IO,
								"credentials file \"%s\" is a directory", path);
		}
		/*
		 * Refused, like libpq's .pgpass but strictly: a secret that another user
		 * could read, or that another user could replace, is no secret.
		 */
		if (st.st_uid != geteuid())
		{
			fclose(f);
			return rb_error_set(err, RB_ERR_AUTH,
								"credentials file \"%s\" is owned by uid %u, not by the user this runs as (uid %u); chown it",
								path, (unsigned) st.st_uid, (unsigned) geteuid());
		}
		if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		{
			fclose(f);
			return rb_error_set(err, RB_ERR_AUTH,
								"credentials file \"%s\" has group or world access (mode %04o); chmod 600 it",
								path, (unsigned) (st.st_mode & 07777));
		}
	}
	else
	{
		int			e = errno;

		fclose(f);
		return rb_error_set(err, RB_ERR_IO, "could not stat credentials file \"%s\": %s",
							path, strerror(e));
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		if (buf->len + n > MAX_FILE_SIZE)
		{
			fclose(f);
			OPENSSL_cleanse(chunk, sizeof(chunk));
			return rb_error_set(err, RB_ERR_IO, "credentials file \"%s\" is larger than %d bytes",
								path, MAX_FILE_SIZE);
		}
		rb_buf_append(buf, chunk, n);
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (ferror(f))
	{
		int			e = errno;

		fclose(f);
		return rb_error_set(err, RB_ERR_IO, "could not read credentials file \"%s\": %s",
							path, strerror(e));
	}
	fclose(f);
	return 0;
}

/*
 * Finds the section named `want` in the INI text (modified in place) and copies its
 * keys into out.  Returns 1 when the section exists, 0 when not, -1 on error.
 */
static int
parse_profile(char *text, const char *want, const char *path, rb_aws_credentials *out,
			  rb_error *err)
{
	bool		in_section = false;
	bool		found = false;
	char	   *line = text;

	while (line != NULL && *line != '\0')
	{
		char	   *next = strchr(line, '\n');
		char	   *s;

		if (next != NULL)
			*next++ = '\0';
		s = trim(line);
		line = next;

		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[')
		{
			char	   *close = strrchr(s, ']');

			if (close == NULL)
			{
				in_section = false;
				continue;
			}
			*close = '\0';
			in_section = (strcmp(trim(s + 1), want) == 0);
			if (in_section)
				found = true;
			continue;
		}
		if (!in_section)
			continue;
		{
			char	   *eq = strchr(s, '=');
			char	   *key;
			char	   *value;
			int			rc = 0;

			if (eq == NULL)
				continue;		/* not a key: ignore, as the CLI's parser tolerates */
			*eq = '\0';
			key = trim(s);
			value = trim(eq + 1);
			if (strcmp(key, "aws_access_key_id") == 0)
				rc = copy_value(out->access_key_id, sizeof(out->access_key_id), value,
								"aws_access_key_id", err);
			else if (strcmp(key, "aws_secret_access_key") == 0)
				rc = copy_value(out->secret_access_key, sizeof(out->secret_access_key),
								value, "aws_secret_access_key", err);
			else if (strcmp(key, "aws_session_token") == 0 ||
					 (strcmp(key, "aws_security_token") == 0 && out->session_token[0] == '\0'))
				rc = copy_value(out->session_token, sizeof(out->session_token), value,
								"aws_session_token", err);
			if (rc != 0)
			{
				rb_error_prefix(err, "profile \"%s\" in credentials file \"%s\": ", want, path);
				return -1;
			}
		}
	}
	return found ? 1 : 0;
}

/* Runs parse_profile on a private copy of the file text (it is modified in place). */
static int
parse_copy(const rb_buf *text, const char *want, const char *path,
		   rb_aws_credentials *out, rb_error *err)
{
	rb_buf		copy = RB_BUF_INIT;
	int			found;

	rb_buf_append(&copy, rb_buf_str(text), text->len);
	rb_buf_append_char(&copy, '\0');	/* data is never NULL after this */
	found = parse_profile(copy.data, want, path, out, err);
	rb_buf_free_secure(&copy);
	return found;
}

static int
load_file(const char *path, const char *profile, rb_aws_credentials *out, rb_error *err)
{
	rb_buf		text = RB_BUF_INIT;
	char		alt[300];
	int			found;

	if (read_file(path, &text, err) != 0)
	{
		rb_buf_free_secure(&text);
		return -1;
	}
	found = parse_copy(&text, profile, path, out, err);
	if (found == 0)
	{
		/* [profile x] is config-file syntax; accept it when [x] is absent */
		snprintf(alt, sizeof(alt), "profile %s", profile);
		found = parse_copy(&text, alt, path, out, err);
	}
	rb_buf_free_secure(&text);
	if (found < 0)
	{
		rb_aws_credentials_clear(out);
		return -1;
	}
	if (found == 0)
	{
		rb_aws_credentials_clear(out);
		return rb_error_set(err, RB_ERR_AUTH,
							"profile \"%s\" not found in credentials file \"%s\"", profile, path);
	}
	if (out->access_key_id[0] == '\0' || out->secret_access_key[0] == '\0')
	{
		const char *missing = out->access_key_id[0] == '\0' ?
			"aws_access_key_id" : "aws_secret_access_key";

		rb_aws_credentials_clear(out);
		return rb_error_set(err, RB_ERR_AUTH,
							"profile \"%s\" in credentials file \"%s\" has no %s",
							profile, path, missing);
	}
	snprintf(out->source, sizeof(out->source), "credentials file \"%s\" profile \"%s\"",
			 path, profile);
	return 0;
}

int
rb_aws_credentials_load(const char *credentials_file, const char *profile,
						rb_aws_credentials *out, const rb_hooks *hooks, rb_error *err)
{
	bool		profile_given = !is_blank(profile);
	const char *prof = profile;

	(void) hooks;				/* nothing to log: a doubtful file is refused, not warned about */
	char		path[4096];

	rb_aws_credentials_clear(out);
	if (!profile_given)
		prof = getenv("AWS_PROFILE");
	if (is_blank(prof))
		prof = "default";
	if (strlen(prof) > 256 || strpbrk(prof, "[]\n\r") != NULL)
		return rb_error_set(err, RB_ERR_INVALID, "invalid AWS profile name \"%.64s\"", prof);

	/* 1. an explicit file */
	if (!is_blank(credentials_file))
		return load_file(credentials_file, prof, out, err);

	/* 2. the environment, unless a profile was named */
	if (!profile_given)
	{
		const char *id = getenv("AWS_ACCESS_KEY_ID");
		const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
		const char *token = getenv("AWS_SESSION_TOKEN");

		if (!is_blank(id) || !is_blank(secret))
		{
			if (is_blank(id) || is_blank(secret))
				return rb_error_set(err, RB_ERR_AUTH,
									"environment variable %s is set but %s is not",
									is_blank(id) ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID",
									is_blank(id) ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY");
			if (is_blank(token))
				token = getenv("AWS_SECURITY_TOKEN");
			return rb_aws_credentials_set(out, id, secret, token, "environment", err);
		}
	}

	/* 3. the shared credentials file */
	{
		const char *shared = getenv("AWS_SHARED_CREDENTIALS_FILE");

		if (!is_blank(shared))
		{
			if (shared[0] == '~' && shared[1] == '/')
			{
				const char *home = getenv("HOME");

				if (is_blank(home))
				{
					struct passwd *pw = getpwuid(getuid());

					home = pw ? pw->pw_dir : "";
				}
				snprintf(path, sizeof(path), "%s%s", home, shared + 1);
			}
			else
				snprintf(path, sizeof(path), "%s", shared);
		}
		else
		{
			const char *home = getenv("HOME");

			if (is_blank(home))
			{
				struct passwd *pw = getpwuid(getuid());

				home = pw ? pw->pw_dir : NULL;
			}
			if (is_blank(home))
				return rb_error_set(err, RB_ERR_AUTH,
									"no AWS credentials found: no credentials file given, "
									"AWS_ACCESS_KEY_ID is not set and there is no home directory");
			snprintf(path, sizeof(path), "%s/.aws/credentials", home);
		}
		if (access(path, F_OK) != 0 && errno == ENOENT)
		{
			if (profile_given)
				return rb_error_set(err, RB_ERR_AUTH,
									"no AWS credentials found: profile \"%s\" was named but credentials file \"%s\" does not exist",
									prof, path);
			return rb_error_set(err, RB_ERR_AUTH,
								"no AWS credentials found: no credentials file given, AWS_ACCESS_KEY_ID is not set and \"%s\" does not exist",
								path);
		}
		return load_file(path, prof, out, err);
	}
}
