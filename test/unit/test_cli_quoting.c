/*
 * test_cli_quoting.c — unit tests of the text ripple-backup shows to people
 * (src/cli/cli_format.c, linked from build/libripple_cli.a): sizes, durations, times, and its JSON
 * strings, which are src/core's.  What it hands to psql and pg_restore is built
 * by src/core and tested there: quoting and conninfo in test_pg_client.c, the
 * comparison of per-table counts in test_verify.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rb_json.h"
#include "cli_format.h"

static void
test_format(void **state)
{
	char		b[32];

	cli_format_bytes(0, b, sizeof(b));
	assert_string_equal(b, "0 B");
	cli_format_bytes(999, b, sizeof(b));
	assert_string_equal(b, "999 B");
	cli_format_bytes(1867024, b, sizeof(b));
	assert_string_equal(b, "1.9 MB");
	cli_format_bytes(UINT64_C(5000000000000), b, sizeof(b));
	assert_string_equal(b, "5.0 TB");
	cli_format_duration(0.44, b, sizeof(b));
	assert_string_equal(b, "0.4 s");
	cli_format_duration(123, b, sizeof(b));
	assert_string_equal(b, "2 min 03 s");
	cli_format_duration(3725, b, sizeof(b));
	assert_string_equal(b, "1 h 02 min");
	cli_format_time("2026-11-26T04:00:00Z", b, sizeof(b));
	assert_string_equal(b, "2026-11-26 04:00:00");
	cli_format_time("odd", b, sizeof(b));
	assert_string_equal(b, "odd");
}

static void
test_json_string(void **state)
{
	rb_buf		b = RB_BUF_INIT;

	rb_json_append_string(&b, "a\"b\\c\nd\x01");
	assert_string_equal(rb_buf_str(&b), "\"a\\\"b\\\\c\\nd\\u0001\"");
	rb_buf_reset(&b);
	rb_json_append_string(&b, NULL);
	assert_string_equal(rb_buf_str(&b), "null");
	/* the CLI's JSON is src/core's: \b and \f as such, DEL as \u007f */
	rb_buf_reset(&b);
	rb_json_append_string(&b, "\b\f\x7f");
	assert_string_equal(rb_buf_str(&b), "\"\\b\\f\\u007f\"");
	rb_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_json_string),
	};

	return cmocka_run_group_tests_name("cli_quoting", tests, NULL, NULL);
}
