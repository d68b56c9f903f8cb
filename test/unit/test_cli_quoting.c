/*
 * test_cli_quoting.c — unit tests of the text ripple-backup shows to people
 * (src/cli/cli_format.c, linked from build/libripple_cli.a): sizes (src/core's
 * rb_format_bytes; TAP test 095 compares it with pg_size_pretty), labels in
 * tables, durations, times, and its JSON
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

	rb_format_bytes(0, b, sizeof(b));
	assert_string_equal(b, "0 bytes");
	rb_format_bytes(10239, b, sizeof(b));
	assert_string_equal(b, "10239 bytes");
	rb_format_bytes(10240, b, sizeof(b));
	assert_string_equal(b, "10 kB");
	rb_format_bytes(1867024, b, sizeof(b));
	assert_string_equal(b, "1823 kB");
	rb_format_bytes(UINT64_C(5000000000000), b, sizeof(b));
	assert_string_equal(b, "4657 GB");
	rb_format_bytes(UINT64_MAX, b, sizeof(b));
	assert_string_equal(b, "16384 PB");
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

/* labels in table cells: one line, escaped, cut with an ellipsis */
static void
test_label(void **state)
{
	rb_buf		b = RB_BUF_INIT;

	cli_format_label("a\nb\tc\rd\x01" "e\\f\x7f", 0, &b);
	assert_string_equal(rb_buf_str(&b), "a\\nb\\tc\\rd\\x01e\\\\f\\x7f");
	rb_buf_reset(&b);
	cli_format_label(NULL, 10, &b);
	assert_string_equal(rb_buf_str(&b), "");
	rb_buf_reset(&b);
	cli_format_label("0123456789", 10, &b);
	assert_string_equal(rb_buf_str(&b), "0123456789");
	rb_buf_reset(&b);
	cli_format_label("0123456789x", 10, &b);
	assert_string_equal(rb_buf_str(&b), "012345678\xe2\x80\xa6");
	/* cut on a character boundary: 11 two-byte characters */
	rb_buf_reset(&b);
	cli_format_label("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10, &b);
	assert_string_equal(rb_buf_str(&b),
						"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	/* an escape counts as the characters it shows, and is never cut in half */
	rb_buf_reset(&b);
	cli_format_label("\n\n\n\n\n\n", 10, &b);
	assert_string_equal(rb_buf_str(&b), "\\n\\n\\n\\n\xe2\x80\xa6");
	rb_buf_free(&b);
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
		cmocka_unit_test(test_label),
		cmocka_unit_test(test_json_string),
	};

	return cmocka_run_group_tests_name("cli_quoting", tests, NULL, NULL);
}
