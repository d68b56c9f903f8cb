/*
 * test_s3_errors.c — unit tests of what an S3 error means (src/core/s3/s3_errors.c):
 * the rb_error built from an S3 error's code and message (class, status, remote
 * code, message with the server's control characters flattened, a code that fills
 * its field) and from a status alone, and the transient codes the retry policy
 * relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3_errors.h"
#include "s3/s3_retry.h"

static void
test_from_info(void **state)
{
	rb_s3_error_info info;
	rb_error	err;

	(void) state;
	memset(&info, 0, sizeof(info));
	strcpy(info.code, "AccessDenied");
	strcpy(info.message, "Access\tDenied\x7f");
	memset(&err, 0, sizeof(err));
	assert_int_equal(rb_s3_error_from_info(&err, 403, &info), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	assert_int_equal(err.http_status, 403);
	assert_string_equal(err.remote_code, "AccessDenied");
	assert_string_equal(err.msg, "403 AccessDenied: Access Denied ");
	assert_false(rb_retry_should_retry(&err));

	/* no message: the code alone */
	strcpy(info.code, "SlowDown");
	info.message[0] = '\0';
	assert_int_equal(rb_s3_error_from_info(&err, 503, &info), -1);
	assert_int_equal(err.code, RB_ERR_REMOTE);
	assert_string_equal(err.msg, "503 SlowDown");
	assert_true(rb_retry_should_retry(&err));

	/* a code that fills its field comes through whole */
	memset(info.code, 'X', sizeof(info.code) - 1);
	info.code[sizeof(info.code) - 1] = '\0';
	assert_int_equal(rb_s3_error_from_info(&err, 400, &info), -1);
	assert_int_equal(strlen(err.remote_code), sizeof(info.code) - 1);
	assert_int_equal(err.code, RB_ERR_REMOTE);

	/* no info, or no code in it: the status and its reason phrase */
	strcpy(err.remote_code, "stale");
	assert_int_equal(rb_s3_error_from_info(&err, 404, NULL), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_string_equal(err.msg, "404 Not Found");
	assert_string_equal(err.remote_code, "");
	info.code[0] = '\0';
	assert_int_equal(rb_s3_error_from_info(&err, 599, &info), -1);
	assert_string_equal(err.msg, "599 HTTP error");
	assert_int_equal(err.http_status, 599);

	/* a NULL err is allowed */
	assert_int_equal(rb_s3_error_from_info(NULL, 500, NULL), -1);
}

static void
test_transient_codes(void **state)
{
	static const char *const transient[] = {
		"SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
		"Throttling", "RequestLimitExceeded", "OperationAborted",
	};
	static const char *const permanent[] = {
		"AccessDenied", "NoSuchKey", "NoSuchBucket", "SignatureDoesNotMatch",
		"InvalidPart", "BadDigest", "InvalidArgument",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
		if (!rb_s3_code_is_transient(transient[i]))
			fail_msg("%s is not transient", transient[i]);
	for (size_t i = 0; i < sizeof(permanent) / sizeof(permanent[0]); i++)
		if (rb_s3_code_is_transient(permanent[i]))
			fail_msg("%s is transient", permanent[i]);
	assert_int_equal(rb_s3_error_class("RequestTimeTooSkewed", 403), RB_ERR_AUTH);
	assert_int_equal(rb_s3_error_class("XAmzContentSHA256Mismatch", 400), RB_ERR_INTEGRITY);
	assert_int_equal(rb_s3_error_class("SlowDown", 404), RB_ERR_NOT_FOUND);
	assert_int_equal(rb_s3_error_class("SlowDown", 503), RB_ERR_REMOTE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from_info),
		cmocka_unit_test(test_transient_codes),
	};

	return cmocka_run_group_tests_name("s3_errors", tests, NULL, NULL);
}
