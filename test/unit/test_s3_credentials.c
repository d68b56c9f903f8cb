/*
 * test_s3_credentials.c — unit tests of the AWS credentials lookup
 * (src/core/s3/s3_credentials.c): profiles in a credentials file, comments and
 * whitespace, [profile x] sections, the environment fallback, $AWS_PROFILE,
 * $AWS_SHARED_CREDENTIALS_FILE and ~/.aws/credentials, error texts that name the
 * file and profile but never a secret, and the refusal of a credentials file
 * that another user could read or that another user owns.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "s3/s3_credentials.h"

#define SECRET1 "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define SECRET2 "s3cr3t+with/slash=="

static char tmpdir[256];
static char credfile[512];

static const char cred_text[] =
	"# a comment\n"
	"; another comment\n"
	"[default]\n"
	"aws_access_key_id = AKIADEFAULT\n"
	"aws_secret_access_key = " SECRET1 "\n"
	"\n"
	"  [ backup ]  \r\n"
	"\taws_access_key_id=AKIABACKUP   \r\n"
	"aws_secret_access_key=  " SECRET2 "\r\n"
	"aws_session_token = FwoGZXIvYXdzEBYaD+/token==\r\n"
	"region = eu-west-1\n"
	"[profile legacy]\n"
	"aws_access_key_id = AKIALEGACY\n"
	"aws_secret_access_key = legacysecret\n"
	"[nokey]\n"
	"aws_access_key_id = AKIANOKEY\n"
	"[empty]\n";

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	   *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void
clear_env(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_SECURITY_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");
}

static int
setup(void **state)
{
	(void) state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/rb_cred_test.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(credfile, sizeof(credfile), "%s/credentials", tmpdir);
	write_file(credfile, cred_text, 0600);
	clear_env();
	setenv("HOME", tmpdir, 1);	/* no ~/.aws/credentials there yet */
	return 0;
}

static int
teardown(void **state)
{
	char		path[600];

	(void) state;
	unlink(credfile);
	snprintf(path, sizeof(path), "%s/.aws/credentials", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/.aws", tmpdir);
	rmdir(path);
	rmdir(tmpdir);
	return 0;
}

static void
assert_no_secret(const rb_error *err)
{
	assert_null(strstr(err->msg, SECRET1));
	assert_null(strstr(err->msg, SECRET2));
	assert_null(strstr(err->msg, "legacysecret"));
	assert_null(strstr(err->msg, "envsecret"));
}

static void
test_file_profiles(void **state)
{
	rb_aws_credentials c;
	rb_error	err;
	char		want[700];

	(void) state;
	clear_env();
	assert_int_equal(rb_aws_credentials_load(credfile, NULL, &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIADEFAULT");
	assert_string_equal(c.secret_access_key, SECRET1);
	assert_string_equal(c.session_token, "");
	snprintf(want, sizeof(want), "credentials file \"%s\" profile \"default\"", credfile);
	assert_string_equal(c.source, want);

	assert_int_equal(rb_aws_credentials_load(credfile, "backup", &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIABACKUP");
	assert_string_equal(c.secret_access_key, SECRET2);
	assert_string_equal(c.session_token, "FwoGZXIvYXdzEBYaD+/token==");

	/* [profile legacy] accepted for "legacy" */
	assert_int_equal(rb_aws_credentials_load(credfile, "legacy", &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIALEGACY");

	/* $AWS_PROFILE picks the profile when none is given */
	setenv("AWS_PROFILE", "backup", 1);
	assert_int_equal(rb_aws_credentials_load(credfile, "", &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIABACKUP");
	/* ...but an explicit one wins */
	assert_int_equal(rb_aws_credentials_load(credfile, "default", &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIADEFAULT");
	clear_env();

	rb_aws_credentials_clear(&c);
	assert_int_equal(c.secret_access_key[0], 0);
	assert_int_equal(c.access_key_id[0], 0);
}

static void
test_file_errors(void **state)
{
	rb_aws_credentials c;
	rb_error	err;
	char		want[700];
	char		missing[600];

	(void) state;
	clear_env();
	/* an explicit file wins over the environment, even when the profile is missing */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	memset(&err, 0, sizeof(err));
	assert_int_equal(rb_aws_credentials_load(credfile, "nosuch", &c, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	snprintf(want, sizeof(want), "profile \"nosuch\" not found in credentials file \"%s\"", credfile);
	assert_string_equal(err.msg, want);
	assert_no_secret(&err);
	assert_string_equal(c.access_key_id, "");
	clear_env();

	assert_int_equal(rb_aws_credentials_load(credfile, "nokey", &c, NULL, &err), -1);
	snprintf(want, sizeof(want),
			 "profile \"nokey\" in credentials file \"%s\" has no aws_secret_access_key", credfile);
	assert_string_equal(err.msg, want);
	assert_string_equal(c.access_key_id, "");	/* nothing half-filled */

	assert_int_equal(rb_aws_credentials_load(credfile, "empty", &c, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "has no aws_access_key_id"));

	snprintf(missing, sizeof(missing), "%s/does-not-exist", tmpdir);
	assert_int_equal(rb_aws_credentials_load(missing, NULL, &c, NULL, &err), -1);
	snprintf(want, sizeof(want),
			 "could not open credentials file \"%s\": No such file or directory", missing);
	assert_string_equal(err.msg, want);

	assert_int_equal(rb_aws_credentials_load(tmpdir, NULL, &c, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_IO);
	assert_non_null(strstr(err.msg, "is a directory"));

	assert_int_equal(rb_aws_credentials_load(credfile, "bad]name", &c, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
}

static void
test_too_long_value(void **state)
{
	char		path[600];
	char		text[600];
	rb_aws_credentials c;
	rb_error	err;

	(void) state;
	snprintf(path, sizeof(path), "%s/long", tmpdir);
	snprintf(text, sizeof(text), "[default]\naws_access_key_id=%0200d\naws_secret_access_key=x\n", 7);
	write_file(path, text, 0600);
	assert_int_equal(rb_aws_credentials_load(path, NULL, &c, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_non_null(strstr(err.msg, "aws_access_key_id is too long"));
	assert_non_null(strstr(err.msg, "profile \"default\""));
	unlink(path);
}

static void
test_environment(void **state)
{
	rb_aws_credentials c;
	rb_error	err;

	(void) state;
	clear_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	setenv("AWS_SESSION_TOKEN", "envtoken", 1);
	assert_int_equal(rb_aws_credentials_load(NULL, NULL, &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIAENV");
	assert_string_equal(c.secret_access_key, "envsecret");
	assert_string_equal(c.session_token, "envtoken");
	assert_string_equal(c.source, "environment");

	/* half of a pair is an error that names the variable, not the value */
	unsetenv("AWS_SECRET_ACCESS_KEY");
	assert_int_equal(rb_aws_credentials_load("", NULL, &c, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	assert_string_equal(err.msg,
						"environment variable AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
	clear_env();
}

static void
test_shared_file_fallback(void **state)
{
	rb_aws_credentials c;
	rb_error	err;
	char		dir[600];
	char		path[600];
	char		want[900];

	(void) state;
	clear_env();
	/* nothing anywhere */
	assert_int_equal(rb_aws_credentials_load(NULL, NULL, &c, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	snprintf(want, sizeof(want),
			 "no AWS credentials found: no credentials file given, AWS_ACCESS_KEY_ID is not set and \"%s/.aws/credentials\" does not exist",
			 tmpdir);
	assert_string_equal(err.msg, want);

	/* ~/.aws/credentials */
	snprintf(dir, sizeof(dir), "%s/.aws", tmpdir);
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/credentials", dir);
	write_file(path, "[default]\naws_access_key_id=AKIAHOME\naws_secret_access_key=homesecret\n"
			   "[other]\naws_access_key_id=AKIAOTHER\naws_secret_access_key=othersecret\n", 0600);
	assert_int_equal(rb_aws_credentials_load(NULL, NULL, &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIAHOME");

	/* the environment comes before the shared file... */
	setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
	assert_int_equal(rb_aws_credentials_load(NULL, NULL, &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIAENV");
	/* ...unless a profile is named */
	assert_int_equal(rb_aws_credentials_load(NULL, "other", &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIAOTHER");
	clear_env();

	/* $AWS_SHARED_CREDENTIALS_FILE replaces ~/.aws/credentials */
	setenv("AWS_SHARED_CREDENTIALS_FILE", credfile, 1);
	assert_int_equal(rb_aws_credentials_load(NULL, "backup", &c, NULL, &err), 0);
	assert_string_equal(c.access_key_id, "AKIABACKUP");
	assert_int_equal(rb_aws_credentials_load(NULL, "other", &c, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "profile \"other\" not found"));
	clear_env();
	rb_aws_credentials_clear(&c);
}

typedef struct log_capture
{
	int			nwarnings;
	char		last[1024];
} log_capture;

static void
capture_log(void *arg, rb_log_level level, const char *line)
{
	log_capture *lc = arg;

	if (level == RB_LOG_WARNING)
		lc->nwarnings++;
	snprintf(lc->last, sizeof(lc->last), "%s", line);
}

/*
 * A credentials file with any group or world access, or owned by another user,
 * is refused (the lookup fails with the file and its mode named, never a secret);
 * the same file at mode 0600 works.  The explicit file and the shared-file
 * fallback ($AWS_SHARED_CREDENTIALS_FILE) are checked alike.
 */
static void
test_permission_refused(void **state)
{
	log_capture lc = {0, ""};
	rb_hooks	hooks = {capture_log, NULL, &lc, NULL, NULL};
	rb_aws_credentials c;
	rb_error	err;
	char		want[700];
	static const mode_t refused[] = {0644, 0640, 0604, 0620, 0602, 0610};

	(void) state;
	clear_env();
	assert_int_equal(rb_aws_credentials_load(credfile, NULL, &c, &hooks, &err), 0);
	assert_int_equal(lc.nwarnings, 0);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
	{
		chmod(credfile, refused[i]);
		memset(&c, 0, sizeof(c));
		assert_int_equal(rb_aws_credentials_load(credfile, NULL, &c, &hooks, &err), -1);
		assert_int_equal(err.code, RB_ERR_AUTH);
		snprintf(want, sizeof(want),
				 "credentials file \"%s\" has group or world access (mode %04o); chmod 600 it",
				 credfile, (unsigned) refused[i]);
		assert_string_equal(err.msg, want);
		assert_no_secret(&err);
		assert_string_equal(c.secret_access_key, "");
	}
	/* the shared-file fallback is the same loader */
	setenv("AWS_SHARED_CREDENTIALS_FILE", credfile, 1);
	assert_int_equal(rb_aws_credentials_load(NULL, NULL, &c, &hooks, &err), -1);
	assert_non_null(strstr(err.msg, "has group or world access"));
	unsetenv("AWS_SHARED_CREDENTIALS_FILE");

	chmod(credfile, 0600);
	assert_int_equal(rb_aws_credentials_load(credfile, NULL, &c, &hooks, &err), 0);
	assert_string_equal(c.access_key_id, "AKIADEFAULT");
	chmod(credfile, 0400);
	assert_int_equal(rb_aws_credentials_load(credfile, NULL, &c, &hooks, &err), 0);
	chmod(credfile, 0600);
	rb_aws_credentials_clear(&c);
}

/*
 * A credentials file owned by another user is refused, even at mode 0600.  As
 * root the test makes one (chown to nobody); otherwise a root-owned file that
 * every user can read (/etc/passwd) stands in, refused for its owner first.
 */
static void
test_owner_refused(void **state)
{
	rb_aws_credentials c;
	rb_error	err;
	char		path[600];
	char		want[800];
	const char *file = path;

	(void) state;
	clear_env();
	if (geteuid() == 0)
	{
		snprintf(path, sizeof(path), "%s/foreign", tmpdir);
		write_file(path, cred_text, 0600);
		assert_int_equal(chown(path, 65534, 65534), 0);
	}
	else
		file = "/etc/passwd";
	assert_int_equal(rb_aws_credentials_load(file, NULL, &c, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	snprintf(want, sizeof(want),
			 "credentials file \"%s\" is owned by uid %u, not by the user this runs as (uid %u); chown it",
			 file, geteuid() == 0 ? 65534u : 0u, (unsigned) geteuid());
	assert_string_equal(err.msg, want);
	if (geteuid() == 0)
		unlink(path);
}

static void
test_set(void **state)
{
	rb_aws_credentials c;
	rb_error	err;
	char		big[300];

	(void) state;
	assert_int_equal(rb_aws_credentials_set(&c, "AKID", "secret", NULL, NULL, &err), 0);
	assert_string_equal(c.source, "explicit");
	assert_string_equal(c.session_token, "");
	assert_int_equal(rb_aws_credentials_set(&c, "", "secret", NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_int_equal(rb_aws_credentials_set(&c, "AKID", NULL, NULL, NULL, &err), -1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(rb_aws_credentials_set(&c, "AKID", big, NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "secret access key is too long"));
	assert_null(strstr(err.msg, "xxxx"));
	assert_string_equal(c.access_key_id, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_profiles),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_too_long_value),
		cmocka_unit_test(test_environment),
		cmocka_unit_test(test_shared_file_fallback),
		cmocka_unit_test(test_permission_refused),
		cmocka_unit_test(test_owner_refused),
		cmocka_unit_test(test_set),
	};

	return cmocka_run_group_tests_name("aws_credentials", tests, setup, teardown);
}
