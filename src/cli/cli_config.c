/*
 * cli_config.c — settings of ripple-backup from flags, environment and config file,
 * merged by precedence (see cli_config.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli_config.h"
#include "rb_alloc.h"
#include "rb_buf.h"

#define CONFIG_MAX_SIZE (1024 * 1024)

typedef enum setting_kind
{
	SETTING_DESTINATION,
	SETTING_S3_ENDPOINT,
	SETTING_S3_REGION,
	SETTING_S3_URI_STYLE,
	SETTING_S3_CREDENTIALS_FILE,
	SETTING_S3_PROFILE,
	SETTING_S3_CA_FILE,
	SETTING_S3_VERIFY_TLS,
	SETTING_ENCRYPTION_KEY_FILE,
	SETTING_DECRYPTION_KEY_FILES
} setting_kind;

static const struct
{
	const char *name;
	const char *env;
	setting_kind kind;
}			settings_table[] = {
	{"destination", "RIPPLE_BACKUP_DESTINATION", SETTING_DESTINATION},
	{"s3_endpoint", "RIPPLE_BACKUP_S3_ENDPOINT", SETTING_S3_ENDPOINT},
	{"s3_region", "RIPPLE_BACKUP_S3_REGION", SETTING_S3_REGION},
	{"s3_uri_style", "RIPPLE_BACKUP_S3_URI_STYLE", SETTING_S3_URI_STYLE},
	{"s3_credentials_file", "RIPPLE_BACKUP_S3_CREDENTIALS_FILE", SETTING_S3_CREDENTIALS_FILE},
	{"s3_profile", "RIPPLE_BACKUP_S3_PROFILE", SETTING_S3_PROFILE},
	{"s3_ca_file", "RIPPLE_BACKUP_S3_CA_FILE", SETTING_S3_CA_FILE},
	{"s3_verify_tls", "RIPPLE_BACKUP_S3_VERIFY_TLS", SETTING_S3_VERIFY_TLS},
	{"encryption_key_file", "RIPPLE_BACKUP_ENCRYPTION_KEY_FILE", SETTING_ENCRYPTION_KEY_FILE},
	{"decryption_key_files", "RIPPLE_BACKUP_DECRYPTION_KEY_FILES", SETTING_DECRYPTION_KEY_FILES},
};

#define NSETTINGS (sizeof(settings_table) / sizeof(settings_table[0]))

void
cli_settings_init(cli_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->s3_verify_tls = -1;
}

void
cli_settings_free(cli_settings *s)
{
	free(s->destination);
	free(s->s3_endpoint);
	free(s->s3_region);
	free(s->s3_uri_style);
	free(s->s3_credentials_file);
	free(s->s3_profile);
	free(s->s3_ca_file);
	free(s->encryption_key_file);
	free(s->decryption_key_files);
	cli_settings_init(s);
}

int
cli_parse_bool(const char *value)
{
	static const char *const yes[] = {"on", "true", "yes", "1", "t", "y"};
	static const char *const no[] = {"off", "false", "no", "0", "f", "n"};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
	{
		if (strcasecmp(value, yes[i]) == 0)
			return 1;
		if (strcasecmp(value, no[i]) == 0)
			return 0;
	}
	return -1;
}

static char *trim(char *p);

static char **
string_field(cli_settings *s, setting_kind kind)
{
	switch (kind)
	{
		case SETTING_DESTINATION:
			return &s->destination;
		case SETTING_S3_ENDPOINT:
			return &s->s3_endpoint;
		case SETTING_S3_REGION:
			return &s->s3_region;
		case SETTING_S3_URI_STYLE:
			return &s->s3_uri_style;
		case SETTING_S3_CREDENTIALS_FILE:
			return &s->s3_credentials_file;
		case SETTING_S3_PROFILE:
			return &s->s3_profile;
		case SETTING_S3_CA_FILE:
			return &s->s3_ca_file;
		case SETTING_ENCRYPTION_KEY_FILE:
			return &s->encryption_key_file;
		case SETTING_DECRYPTION_KEY_FILES:
			return &s->decryption_key_files;
		case SETTING_S3_VERIFY_TLS:
			break;
	}
	return NULL;
}

static bool
looks_secret(const char *name)
{
	static const char *const secrets[] = {"secret", "password", "token", "access_key"};

	char		lower[128];
	size_t		n = 0;

	for (; name[n] && n < sizeof(lower) - 1; n++)
		lower[n] = (char) tolower((unsigned char) name[n]);
	lower[n] = '\0';
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		if (strstr(lower, secrets[i]) != NULL)
			return true;
	return false;
}

int
cli_settings_set(cli_settings *s, const char *name, const char *value, rb_error *err)
{
	const char *bare = name;

	if (strncmp(bare, "ripple_backup.", 14) == 0)
		bare += 14;
	for (size_t i = 0; i < NSETTINGS; i++)
	{
		char	  **field;

		if (strcmp(bare, settings_table[i].name) != 0)
			continue;
		if (settings_table[i].kind == SETTING_S3_VERIFY_TLS)
		{
			int			b = cli_parse_bool(value);

			if (b < 0)
				return rb_error_set(err, RB_ERR_INVALID,
									"invalid value for setting \"%s\": \"%s\" is not a boolean (on or off)",
									bare, value);
			s->s3_verify_tls = b;
			return 0;
		}
		if (settings_table[i].kind == SETTING_S3_URI_STYLE &&
			strcmp(value, "path") != 0 && strcmp(value, "virtual") != 0 &&
			strcmp(value, "auto") != 0)
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid value for setting \"s3_uri_style\": \"%s\" (path, virtual or auto)",
								value);
		field = string_field(s, settings_table[i].kind);
		free(*field);
		*field = rb_strdup(value);
		return 0;
	}
	if (looks_secret(bare))
		return rb_error_set(err, RB_ERR_INVALID,
							"setting \"%s\" is not allowed: secrets are never settings; "
							"use s3_credentials_file or the AWS_* environment", bare);
	return rb_error_set(err, RB_ERR_INVALID, "unrecognized setting \"%s\"", bare);
}

int
cli_settings_append(cli_settings *s, const char *name, const char *value, rb_error *err)
{
	char	  **field = strcmp(name, "encryption_key_file") == 0 ? &s->encryption_key_file :
		strcmp(name, "decryption_key_files") == 0 ? &s->decryption_key_files : NULL;
	rb_buf		b = RB_BUF_INIT;

	if (field == NULL)
		return rb_error_set(err, RB_ERR_INTERNAL, "setting \"%s\" is not a list", name);
	if (*field == NULL || (*field)[0] == '\0')
		return cli_settings_set(s, name, value, err);
	rb_buf_appendf(&b, "%s,%s", *field, value);
	free(*field);
	*field = b.data;
	return 0;
}

int
cli_key_files_each(const char *list, int (*fn) (void *arg, const char *path), void *arg)
{
	const char *p = list;

	while (p != NULL && *p != '\0')
	{
		const char *end = strchr(p, ',');
		size_t		len = end ? (size_t) (end - p) : strlen(p);
		char	   *name = rb_malloc(len + 1);
		char	   *t;
		int			rc = 0;

		memcpy(name, p, len);
		name[len] = '\0';
		t = trim(name);
		if (*t != '\0')
			rc = fn(arg, t);
		free(name);
		if (rc != 0)
			return rc;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

int
cli_settings_from_env(cli_settings *s, cli_getenv_fn env, rb_error *err)
{
	for (size_t i = 0; i < NSETTINGS; i++)
	{
		const char *v = env(settings_table[i].env);

		if (v == NULL || v[0] == '\0')
			continue;
		if (cli_settings_set(s, settings_table[i].name, v, err) != 0)
		{
			rb_error_prefix(err, "environment variable %s: ", settings_table[i].env);
			return -1;
		}
	}
	return 0;
}

static char *
trim(char *p)
{
	char	   *end;

	while (*p && isspace((unsigned char) *p))
		p++;
	end = p + strlen(p);
	while (end > p && isspace((unsigned char) end[-1]))
		*--end = '\0';
	return p;
}

/*
 * Parses one value: either 'quoted' ('' is a quote, text after the closing quote
 * may only be a comment) or bare (up to a #).  Writes the value into out.
 */
static int
parse_value(char *p, rb_buf *out, const char **problem)
{
	rb_buf_reset(out);
	if (*p == '\'')
	{
		p++;
		for (;;)
		{
			if (*p == '\0')
			{
				*problem = "unterminated quoted string";
				return -1;
			}
			if (*p == '\'')
			{
				if (p[1] == '\'')
				{
					rb_buf_append_char(out, '\'');
					p += 2;
					continue;
				}
				p++;
				break;
			}
			rb_buf_append_char(out, *p++);
		}
		p = trim(p);
		if (*p != '\0' && *p != '#')
		{
			*problem = "unexpected text after the quoted value";
			return -1;
		}
		return 0;
	}
	else
	{
		char	   *hash = strchr(p, '#');

		if (hash)
			*hash = '\0';
		rb_buf_append_str(out, trim(p));
		return 0;
	}
}

int
cli_settings_parse_config(cli_settings *s, const char *text, const char *path, rb_error *err)
{
	char	   *copy = rb_strdup(text);
	char	   *line = copy;
	int			lineno = 0;
	rb_buf		value = RB_BUF_INIT;
	int			rc = 0;

	while (line != NULL && rc == 0)
	{
		char	   *next = strchr(line, '\n');
		char	   *p,
				   *eq,
				   *name;
		const char *problem = NULL;

		if (next)
			*next++ = '\0';
		lineno++;
		p = trim(line);
		line = next;
		if (*p == '\0' || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (eq == NULL)
		{
			rc = rb_error_set(err, RB_ERR_INVALID,
							  "syntax error in config file \"%s\" line %d: expected name = value",
							  path, lineno);
			break;
		}
		*eq = '\0';
		name = trim(p);
		if (*name == '\0')
		{
			rc = rb_error_set(err, RB_ERR_INVALID,
							  "syntax error in config file \"%s\" line %d: missing setting name",
							  path, lineno);
			break;
		}
		if (parse_value(trim(eq + 1), &value, &problem) != 0)
		{
			rc = rb_error_set(err, RB_ERR_INVALID,
							  "syntax error in config file \"%s\" line %d: %s",
							  path, lineno, problem);
			break;
		}
		if (cli_settings_set(s, name, rb_buf_str(&value), err) != 0)
		{
			rb_error_prefix(err, "config file \"%s\" line %d: ", path, lineno);
			rc = -1;
		}
	}
	rb_buf_free(&value);
	free(copy);
	return rc;
}

int
cli_settings_read_config(cli_settings *s, const char *path, rb_error *err)
{
	FILE	   *f = fopen(path, "r");
	rb_buf		text = RB_BUF_INIT;
	char		chunk[4096];
	size_t		n;
	int			rc;

	if (f == NULL)
		return rb_error_set(err, errno == ENOENT ? RB_ERR_NOT_FOUND : RB_ERR_IO,
							"could not open config file \"%s\": %s", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
	{
		rb_buf_append(&text, chunk, n);
		if (text.len > CONFIG_MAX_SIZE)
		{
			fclose(f);
			rb_buf_free(&text);
			return rb_error_set(err, RB_ERR_INVALID, "config file \"%s\" is too large", path);
		}
	}
	if (ferror(f))
	{
		int			e = errno;

		fclose(f);
		rb_buf_free(&text);
		return rb_error_set(err, RB_ERR_IO, "could not read config file \"%s\": %s",
							path, strerror(e));
	}
	fclose(f);
	rc = cli_settings_parse_config(s, rb_buf_str(&text), path, err);
	rb_buf_free(&text);
	return rc;
}

static bool
default_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

char *
cli_config_path(const char *explicit_path, cli_getenv_fn env,
				bool (*exists) (const char *path), bool *required)
{
	const char *v;
	const char *home;
	rb_buf		p = RB_BUF_INIT;

	if (exists == NULL)
		exists = default_exists;
	*required = true;
	if (explicit_path != NULL && explicit_path[0] != '\0')
		return rb_strdup(explicit_path);
	v = env("RIPPLE_BACKUP_CONFIG");
	if (v != NULL && v[0] != '\0')
		return rb_strdup(v);
	*required = false;
	home = env("HOME");
	if (home != NULL && home[0] != '\0')
	{
		rb_buf_appendf(&p, "%s/.config/ripple-backup.conf", home);
		if (exists(rb_buf_str(&p)))
			return p.data;
		rb_buf_free(&p);
	}
	if (exists("/etc/ripple-backup.conf"))
		return rb_strdup("/etc/ripple-backup.conf");
	return NULL;
}

static char *
first_of(const char *a, const char *b, const char *c)
{
	if (a != NULL)
		return rb_strdup(a);
	if (b != NULL)
		return rb_strdup(b);
	return c ? rb_strdup(c) : NULL;
}

static const char *
env_nonempty(cli_getenv_fn env, const char *name)
{
	const char *v = env(name);

	return (v != NULL && v[0] != '\0') ? v : NULL;
}

void
cli_settings_merge(cli_settings *out, const cli_settings *flags, const cli_settings *env,
				   const cli_settings *file, cli_getenv_fn getenv_fn)
{
	cli_settings_init(out);
	out->destination = first_of(flags->destination, env->destination, file->destination);
	out->s3_endpoint = first_of(flags->s3_endpoint, env->s3_endpoint, file->s3_endpoint);
	out->s3_region = first_of(flags->s3_region, env->s3_region, file->s3_region);
	out->s3_uri_style = first_of(flags->s3_uri_style, env->s3_uri_style, file->s3_uri_style);
	out->s3_credentials_file = first_of(flags->s3_credentials_file, env->s3_credentials_file,
										file->s3_credentials_file);
	out->s3_profile = first_of(flags->s3_profile, env->s3_profile, file->s3_profile);
	out->s3_ca_file = first_of(flags->s3_ca_file, env->s3_ca_file, file->s3_ca_file);
	out->encryption_key_file = first_of(flags->encryption_key_file, env->encryption_key_file,
										file->encryption_key_file);
	out->decryption_key_files = first_of(flags->decryption_key_files, env->decryption_key_files,
										 file->decryption_key_files);
	out->s3_verify_tls = flags->s3_verify_tls >= 0 ? flags->s3_verify_tls :
		env->s3_verify_tls >= 0 ? env->s3_verify_tls : file->s3_verify_tls;

	if (out->s3_region == NULL)
	{
		const char *r = env_nonempty(getenv_fn, "AWS_REGION");

		if (r == NULL)
			r = env_nonempty(getenv_fn, "AWS_DEFAULT_REGION");
		out->s3_region = r ? rb_strdup(r) : NULL;
	}
	if (out->s3_endpoint == NULL)
	{
		const char *e = env_nonempty(getenv_fn, "AWS_ENDPOINT_URL_S3");

		if (e == NULL)
			e = env_nonempty(getenv_fn, "AWS_ENDPOINT_URL");
		out->s3_endpoint = e ? rb_strdup(e) : NULL;
	}
}

void
cli_settings_to_options(const cli_settings *s, rb_destination_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->s3_endpoint = s->s3_endpoint;
	opt->s3_region = s->s3_region;
	opt->s3_uri_style = (s->s3_uri_style && strcmp(s->s3_uri_style, "auto") == 0) ?
		NULL : s->s3_uri_style;
	opt->s3_credentials_file = s->s3_credentials_file;
	opt->s3_profile = s->s3_profile;
	opt->s3_ca_file = s->s3_ca_file;
	opt->s3_tls_no_verify = (s->s3_verify_tls == 0);
}
