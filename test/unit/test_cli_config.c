/*
 * test_cli_config.c — unit tests of ripple-backup's settings (src/cli/cli_config.c,
 * linked from build/libripple_cli.a): precedence flag > environment > config file > AWS_* defaults, the
 * config file syntax (quotes, comments, the ripple_backup. prefix), refusal of
 * unknown settings, bad values and secrets, the choice of the config file, and
 * the key file lists (a repeated flag appends; env and file give lists).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli_config.h"

/* a fake environment: NAME=value pairs */
static const char *const *fake_env;

static const char *
fake_getenv(const char *name)
{
	size_t		n = strlen(name);

	for (const char *const *e = fake_env; e && *e; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}

static void
test_precedence(void **state)
{
	static const char *const env[] = {
		"RIPPLE_BACKUP_DESTINATION=s3://env/p",
		"RIPPLE_BACKUP_S3_REGION=eu-west-1",
		"AWS_REGION=ap-south-1",
		"AWS_ENDPOINT_URL=http://aws-endpoint:9000",
		NULL
	};
	cli_settings flags, envl, file, out;
	rb_error	err;

	fake_env = env;
	cli_settings_init(&flags);
	cli_settings_init(&envl);
	cli_settings_init(&file);
	assert_int_equal(cli_settings_set(&flags, "destination", "file:///flag", &err), 0);
	assert_int_equal(cli_settings_from_env(&envl, fake_getenv, &err), 0);
	assert_int_equal(cli_settings_parse_config(&file,
											   "destination = 's3://file/p'\n"
											   "s3_region = us-east-2\n"
											   "s3_profile = fileprofile\n"
											   "s3_verify_tls = off\n", "f.conf", &err), 0);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	assert_string_equal(out.destination, "file:///flag");	/* flag wins */
	assert_string_equal(out.s3_region, "eu-west-1");	/* env beats file and AWS_REGION */
	assert_string_equal(out.s3_profile, "fileprofile");	/* file when nothing else */
	assert_int_equal(out.s3_verify_tls, 0);
	assert_string_equal(out.s3_endpoint, "http://aws-endpoint:9000");	/* AWS_* default */
	assert_null(out.s3_ca_file);
	cli_settings_free(&out);

	/* without the flag, the environment wins over the file */
	cli_settings_free(&flags);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	assert_string_equal(out.destination, "s3://env/p");
	cli_settings_free(&out);

	/* without flag and env, the file; region from the file beats AWS_REGION */
	cli_settings_free(&envl);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	assert_string_equal(out.destination, "s3://file/p");
	assert_string_equal(out.s3_region, "us-east-2");
	cli_settings_free(&out);

	/* nothing at all: AWS_REGION */
	cli_settings_free(&file);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	assert_null(out.destination);
	assert_string_equal(out.s3_region, "ap-south-1");
	assert_int_equal(out.s3_verify_tls, -1);
	cli_settings_free(&out);
}

static int
collect_path(void *arg, const char *path)
{
	char	   *out = arg;

	strcat(out, "[");
	strcat(out, path);
	strcat(out, "]");
	return strcmp(path, "stop") == 0 ? 7 : 0;
}

static void
test_key_files(void **state)
{
	static const char *const env[] = {"RIPPLE_BACKUP_ENCRYPTION_KEY_FILE=/env/a.key, /env/b.key", NULL};
	cli_settings flags, envl, file, out;
	rb_error	err;
	char		seen[256];

	fake_env = env;
	cli_settings_init(&flags);
	cli_settings_init(&envl);
	cli_settings_init(&file);
	assert_int_equal(cli_settings_from_env(&envl, fake_getenv, &err), 0);
	assert_int_equal(cli_settings_parse_config(&file,
											   "encryption_key_file = '/file/k'\n"
											   "ripple_backup.decryption_key_files = '/old/1,/old/2'\n",
											   "f.conf", &err), 0);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	assert_string_equal(out.encryption_key_file, "/env/a.key, /env/b.key");	/* env beats file */
	assert_string_equal(out.decryption_key_files, "/old/1,/old/2");
	cli_settings_free(&out);

	/* a repeated flag appends, and beats the environment */
	assert_int_equal(cli_settings_append(&flags, "encryption_key_file", "k1", &err), 0);
	assert_int_equal(cli_settings_append(&flags, "encryption_key_file", "k2,k3", &err), 0);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	assert_string_equal(out.encryption_key_file, "k1,k2,k3");
	seen[0] = '\0';
	assert_int_equal(cli_key_files_each(out.encryption_key_file, collect_path, seen), 0);
	assert_string_equal(seen, "[k1][k2][k3]");
	cli_settings_free(&out);

	/* blanks trimmed, empty names skipped, the first non-zero return stops */
	seen[0] = '\0';
	assert_int_equal(cli_key_files_each(" a , ,b,", collect_path, seen), 0);
	assert_string_equal(seen, "[a][b]");
	seen[0] = '\0';
	assert_int_equal(cli_key_files_each("a,stop,c", collect_path, seen), 7);
	assert_string_equal(seen, "[a][stop]");
	seen[0] = '\0';
	assert_int_equal(cli_key_files_each(NULL, collect_path, seen), 0);
	assert_string_equal(seen, "");

	cli_settings_free(&flags);
	cli_settings_free(&envl);
	cli_settings_free(&file);
}

static void
test_verify_tls_flag_beats_env(void **state)
{
	static const char *const env[] = {"RIPPLE_BACKUP_S3_VERIFY_TLS=on", NULL};
	cli_settings flags, envl, file, out;
	rb_destination_options opt;
	rb_error	err;

	fake_env = env;
	cli_settings_init(&flags);
	cli_settings_init(&envl);
	cli_settings_init(&file);
	assert_int_equal(cli_settings_from_env(&envl, fake_getenv, &err), 0);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	cli_settings_to_options(&out, &opt);
	assert_false(opt.s3_tls_no_verify);
	cli_settings_free(&out);

	assert_int_equal(cli_settings_set(&flags, "s3_verify_tls", "off", &err), 0);
	cli_settings_merge(&out, &flags, &envl, &file, fake_getenv);
	cli_settings_to_options(&out, &opt);
	assert_true(opt.s3_tls_no_verify);
	cli_settings_free(&out);
	cli_settings_free(&flags);
	cli_settings_free(&envl);
}

static void
test_config_syntax(void **state)
{
	cli_settings s;
	rb_error	err;

	cli_settings_init(&s);
	assert_int_equal(cli_settings_parse_config(&s,
											   "# a comment\n"
											   "\n"
											   "  ripple_backup.destination = 's3://b/it''s'   # trailing comment\n"
											   "s3_endpoint=http://127.0.0.1:9000#c\n"
											   "s3_uri_style = path\n"
											   "s3_credentials_file = '/etc/x creds'\n", "t.conf", &err), 0);
	assert_string_equal(s.destination, "s3://b/it's");
	assert_string_equal(s.s3_endpoint, "http://127.0.0.1:9000");
	assert_string_equal(s.s3_uri_style, "path");
	assert_string_equal(s.s3_credentials_file, "/etc/x creds");
	cli_settings_free(&s);
}

static void
test_config_errors(void **state)
{
	cli_settings s;
	rb_error	err;

	cli_settings_init(&s);
	assert_int_equal(cli_settings_parse_config(&s, "destination\n", "a.conf", &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_non_null(strstr(err.msg, "\"a.conf\" line 1"));

	assert_int_equal(cli_settings_parse_config(&s, "\n\nbogus = 1\n", "b.conf", &err), -1);
	assert_non_null(strstr(err.msg, "line 3"));
	assert_non_null(strstr(err.msg, "unrecognized setting \"bogus\""));

	assert_int_equal(cli_settings_parse_config(&s, "destination = 'open\n", "c.conf", &err), -1);
	assert_non_null(strstr(err.msg, "unterminated"));

	assert_int_equal(cli_settings_parse_config(&s, "s3_verify_tls = maybe\n", "d.conf", &err), -1);
	assert_non_null(strstr(err.msg, "not a boolean"));

	assert_int_equal(cli_settings_parse_config(&s, "s3_uri_style = sideways\n", "e.conf", &err), -1);

	/* a secret is refused, and the message does not repeat its value */
	assert_int_equal(cli_settings_parse_config(&s, "aws_secret_access_key = TOPSECRET\n", "f.conf", &err), -1);
	assert_non_null(strstr(err.msg, "secrets are never settings"));
	assert_null(strstr(err.msg, "TOPSECRET"));
	cli_settings_free(&s);
}

static void
test_env_error_names_variable(void **state)
{
	static const char *const env[] = {"RIPPLE_BACKUP_S3_VERIFY_TLS=perhaps", NULL};
	cli_settings s;
	rb_error	err;

	fake_env = env;
	cli_settings_init(&s);
	assert_int_equal(cli_settings_from_env(&s, fake_getenv, &err), -1);
	assert_non_null(strstr(err.msg, "RIPPLE_BACKUP_S3_VERIFY_TLS"));
	cli_settings_free(&s);
}

static const char *existing_path;

static bool
fake_exists(const char *path)
{
	return existing_path != NULL && strcmp(path, existing_path) == 0;
}

static void
test_config_path(void **state)
{
	static const char *const env_home[] = {"HOME=/home/op", NULL};
	static const char *const env_var[] = {"HOME=/home/op", "RIPPLE_BACKUP_CONFIG=/srv/rb.conf", NULL};
	bool		required;
	char	   *p;

	fake_env = env_home;
	existing_path = NULL;
	p = cli_config_path("/explicit.conf", fake_getenv, fake_exists, &required);
	assert_string_equal(p, "/explicit.conf");
	assert_true(required);
	free(p);

	existing_path = "/home/op/.config/ripple-backup.conf";
	p = cli_config_path(NULL, fake_getenv, fake_exists, &required);
	assert_string_equal(p, "/home/op/.config/ripple-backup.conf");
	assert_false(required);
	free(p);

	existing_path = "/etc/ripple-backup.conf";
	p = cli_config_path(NULL, fake_getenv, fake_exists, &required);
	assert_string_equal(p, "/etc/ripple-backup.conf");
	free(p);

	existing_path = NULL;
	assert_null(cli_config_path(NULL, fake_getenv, fake_exists, &required));

	fake_env = env_var;
	p = cli_config_path(NULL, fake_getenv, fake_exists, &required);
	assert_string_equal(p, "/srv/rb.conf");
	assert_true(required);
	free(p);
}

static void
test_parse_bool(void **state)
{
	assert_int_equal(cli_parse_bool("on"), 1);
	assert_int_equal(cli_parse_bool("TRUE"), 1);
	assert_int_equal(cli_parse_bool("0"), 0);
	assert_int_equal(cli_parse_bool("Off"), 0);
	assert_int_equal(cli_parse_bool(""), -1);
	assert_int_equal(cli_parse_bool("2"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_verify_tls_flag_beats_env),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_config_syntax),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_env_error_names_variable),
		cmocka_unit_test(test_config_path),
		cmocka_unit_test(test_parse_bool),
	};

	return cmocka_run_group_tests_name("cli_config", tests, NULL, NULL);
}
