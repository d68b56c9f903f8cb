/*
 * test_cli_resolve.c — unit tests of which backup ripple-backup picks
 * (src/cli/cli_resolve.c, from build/libripple_cli.a): "latest" with and without --db, ids
 * shared by several systems, keys given as metadata keys or URLs, newest-first
 * order, the wording of the not-found errors, and "latest" / "latest-verified"
 * against the verification records.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cli_resolve.h"

#define URL "s3://b/p"

static const cli_backup_ref refs[] = {
	{"1/app/20261124T040000Z-3.dump.zst", 3, 1, "app", "2026-11-24T04:00:00Z", NULL, CLI_VERIFY_UNKNOWN},
	{"1/app/20261126T040000Z-7.dump.zst", 7, 1, "app", "2026-11-26T04:00:00Z", NULL, CLI_VERIFY_UNKNOWN},
	{"1/shop/20261125T040000Z-5.dump.zst", 5, 1, "shop", "2026-11-25T04:00:00Z", NULL, CLI_VERIFY_UNKNOWN},
	{"2/app/20261126T050000Z-3.dump.zst", 3, 2, "app", "2026-11-26T05:00:00Z", NULL, CLI_VERIFY_UNKNOWN},
};
#define NREFS (sizeof(refs) / sizeof(refs[0]))

static long
resolve(const char *text, const char *db, const uint64_t *sys, rb_error *err)
{
	cli_selector sel;
	cli_filter	f = {db, sys != NULL, sys ? *sys : 0};
	long		r;

	rb_error_clear(err);
	if (cli_selector_parse(text, URL, &sel, err) != 0)
		return -2;
	r = cli_resolve(refs, NREFS, &sel, &f, URL, err);
	cli_selector_free(&sel);
	return r;
}

static void
test_latest(void **state)
{
	rb_error	err;
	uint64_t	one = 1;

	/* two databases: "latest" alone is ambiguous */
	assert_int_equal(resolve("latest", NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_non_null(strstr(err.msg, "several databases"));
	assert_non_null(strstr(cli_resolve_hint(&err), "--db"));

	/* newest backup of app is on system 2 */
	assert_int_equal(resolve("latest", "app", NULL, &err), 3);
	assert_int_equal(resolve("latest", "app", &one, &err), 1);
	assert_int_equal(resolve("latest", "shop", NULL, &err), 2);

	assert_int_equal(resolve("latest", "x", NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_string_equal(err.msg, "no backup of database \"x\" in s3://b/p");
}

static void
test_by_id(void **state)
{
	rb_error	err;
	uint64_t	two = 2;

	assert_int_equal(resolve("7", NULL, NULL, &err), 1);
	assert_int_equal(resolve("5", "shop", NULL, &err), 2);

	/* id 3 exists on systems 1 and 2 */
	assert_int_equal(resolve("3", NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_non_null(strstr(err.msg, "ambiguous"));
	assert_non_null(strstr(cli_resolve_hint(&err), "--system-id"));
	assert_int_equal(resolve("3", NULL, &two, &err), 3);

	assert_int_equal(resolve("99", NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_string_equal(err.msg, "no backup with id 99 in s3://b/p");
	assert_int_equal(resolve("5", "app", NULL, &err), -1);
	assert_string_equal(err.msg, "no backup with id 5 of database \"app\" in s3://b/p");
}

static void
test_by_id_two_incarnations(void **state)
{
	/* a promoted standby and its old primary: one system, the same id, two incarnations */
	static const cli_backup_ref twins[] = {
		{"9/aaaaaaaaaaaaaaaa/app/20261126T040000Z-7.dump.zst", 7, 9, "app", "2026-11-26T04:00:00Z", "aaaaaaaaaaaaaaaa", CLI_VERIFY_UNKNOWN},
		{"9/bbbbbbbbbbbbbbbb/app/20261126T040000Z-7.dump.zst", 7, 9, "app", "2026-11-26T04:00:00Z", "bbbbbbbbbbbbbbbb", CLI_VERIFY_UNKNOWN},
		{"9/bbbbbbbbbbbbbbbb/app/20261127T040000Z-8.dump.zst", 8, 9, "app", "2026-11-27T04:00:00Z", "bbbbbbbbbbbbbbbb", CLI_VERIFY_UNKNOWN},
		{"9/-/app/20261101T040000Z-8.dump.zst", 8, 9, "app", "2026-11-01T04:00:00Z", NULL, CLI_VERIFY_UNKNOWN},
	};
	cli_selector sel;
	rb_error	err;

	rb_error_clear(&err);
	assert_int_equal(cli_selector_parse("7", URL, &sel, &err), 0);
	assert_int_equal(cli_resolve(twins, 2, &sel, NULL, URL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, "backup id 7 is ambiguous: it exists for several systems or server incarnations in s3://b/p");
	assert_non_null(strstr(cli_resolve_hint(&err), "KEY"));
	/* an id on one incarnation only is not ambiguous */
	assert_int_equal(cli_selector_parse("8", URL, &sel, &err), 0);
	assert_int_equal(cli_resolve(twins, 3, &sel, NULL, URL, &err), 2);
	/* one written before incarnations were recorded is another one */
	assert_int_equal(cli_resolve(twins, 4, &sel, NULL, URL, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
}

static void
test_by_key(void **state)
{
	rb_error	err;

	assert_int_equal(resolve("1/shop/20261125T040000Z-5.dump.zst", NULL, NULL, &err), 2);
	assert_int_equal(resolve("1/shop/20261125T040000Z-5.dump.zst.metadata.json", NULL, NULL, &err), 2);
	assert_int_equal(resolve("s3://b/p/2/app/20261126T050000Z-3.dump.zst", NULL, NULL, &err), 3);
	assert_int_equal(resolve("/1/app/20261124T040000Z-3.dump.zst", NULL, NULL, &err), 0);

	assert_int_equal(resolve("1/app/nothing.dump.zst", NULL, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);

	/* a URL outside the destination is refused */
	assert_int_equal(resolve("s3://other/p/1/app/x.dump.zst", NULL, NULL, &err), -2);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_int_equal(resolve("", NULL, NULL, &err), -2);
	assert_int_equal(resolve(".metadata.json", NULL, NULL, &err), -2);
}

static void
test_selector_kinds(void **state)
{
	cli_selector sel;
	rb_error	err;

	assert_int_equal(cli_selector_parse("latest", URL, &sel, &err), 0);
	assert_int_equal(sel.kind, CLI_SELECT_LATEST);
	assert_int_equal(cli_selector_parse("0042", URL, &sel, &err), 0);
	assert_int_equal(sel.kind, CLI_SELECT_ID);
	assert_int_equal(sel.id, 42);
	assert_int_equal(cli_selector_parse("99999999999999999999", URL, &sel, &err), 0);
	assert_int_equal(sel.kind, CLI_SELECT_KEY);	/* too big for an id: a key */
	cli_selector_free(&sel);
	assert_int_equal(cli_selector_parse("12a", URL, &sel, &err), 0);
	assert_int_equal(sel.kind, CLI_SELECT_KEY);
	assert_string_equal(sel.key, "12a");
	cli_selector_free(&sel);
}

static void
test_newest_first(void **state)
{
	cli_backup_ref sorted[NREFS];

	memcpy(sorted, refs, sizeof(refs));
	qsort(sorted, NREFS, sizeof(cli_backup_ref), cli_backup_ref_cmp_newest);
	assert_string_equal(sorted[0].timestamp, "2026-11-26T05:00:00Z");
	assert_string_equal(sorted[1].timestamp, "2026-11-26T04:00:00Z");
	assert_string_equal(sorted[2].timestamp, "2026-11-25T04:00:00Z");
	assert_string_equal(sorted[3].timestamp, "2026-11-24T04:00:00Z");

	/* same second: the higher id first */
	{
		cli_backup_ref a = {"k1", 10, 1, "d", "2026-01-01T00:00:00Z", NULL, CLI_VERIFY_UNKNOWN};
		cli_backup_ref b = {"k2", 11, 1, "d", "2026-01-01T00:00:00Z", NULL, CLI_VERIFY_UNKNOWN};

		assert_true(cli_backup_ref_cmp_newest(&b, &a) < 0);
		assert_true(cli_backup_ref_cmp_newest(&a, &b) > 0);
	}
}

static void
test_empty(void **state)
{
	cli_selector sel = {CLI_SELECT_LATEST, 0, NULL};
	cli_filter	none = {NULL, false, 0};
	cli_filter	sys = {NULL, true, 77};
	rb_error	err;

	assert_int_equal(cli_resolve(NULL, 0, &sel, &none, URL, &err), -1);
	assert_string_equal(err.msg, "no backups in s3://b/p");
	assert_int_equal(cli_resolve(NULL, 0, &sel, &sys, URL, &err), -1);
	assert_string_equal(err.msg, "no backup of system 77 in s3://b/p");
}

static void
test_parse_u64(void **state)
{
	uint64_t	v;

	assert_true(cli_parse_u64("7312345678901234567", &v));
	assert_true(v == UINT64_C(7312345678901234567));
	assert_false(cli_parse_u64("-1", &v));
	assert_false(cli_parse_u64("", &v));
	assert_false(cli_parse_u64("1x", &v));
	assert_false(cli_parse_u64("18446744073709551616", &v));
}

/* "latest" skips a backup known bad; "latest-verified" takes only verified ones */
static void
test_latest_verified(void **state)
{
	static const cli_backup_ref v[] = {
		{"1/app/20261124T040000Z-3.dump.zst", 3, 1, "app", "2026-11-24T04:00:00Z", NULL, CLI_VERIFY_VERIFIED},
		{"1/app/20261125T040000Z-5.dump.zst", 5, 1, "app", "2026-11-25T04:00:00Z", NULL, CLI_VERIFY_UNKNOWN},
		{"1/app/20261126T040000Z-7.dump.zst", 7, 1, "app", "2026-11-26T04:00:00Z", NULL, CLI_VERIFY_FAILED},
		{"1/shop/20261126T040000Z-8.dump.zst", 8, 1, "shop", "2026-11-26T04:00:00Z", NULL, CLI_VERIFY_FAILED},
	};
	cli_filter	app = {"app", false, 0};
	cli_filter	shop = {"shop", false, 0};
	cli_selector sel;
	rb_error	err;

	rb_error_clear(&err);
	assert_int_equal(cli_selector_parse("latest", URL, &sel, &err), 0);
	assert_int_equal(sel.kind, CLI_SELECT_LATEST);
	/* the newest (7) failed verification: latest is the newest not known bad (5) */
	assert_int_equal(cli_resolve(v, 4, &sel, &app, URL, &err), 1);
	/* every backup of shop failed */
	assert_int_equal(cli_resolve(v, 4, &sel, &shop, URL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_string_equal(err.msg, "every backup of database \"shop\" in s3://b/p failed verification");
	/* a failed backup does not count for the "several databases" question either */
	assert_int_equal(cli_resolve(v, 4, &sel, NULL, URL, &err), 1);

	rb_error_clear(&err);
	assert_int_equal(cli_selector_parse("latest-verified", URL, &sel, &err), 0);
	assert_int_equal(sel.kind, CLI_SELECT_LATEST_VERIFIED);
	assert_int_equal(cli_resolve(v, 4, &sel, &app, URL, &err), 0);
	assert_int_equal(cli_resolve(v, 4, &sel, &shop, URL, &err), -1);
	assert_string_equal(err.msg, "no verified backup of database \"shop\" in s3://b/p");

	/* an id names its backup whatever its verification */
	sel.kind = CLI_SELECT_ID;
	sel.id = 7;
	assert_int_equal(cli_resolve(v, 4, &sel, &app, URL, &err), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latest),
		cmocka_unit_test(test_latest_verified),
		cmocka_unit_test(test_by_id),
		cmocka_unit_test(test_by_id_two_incarnations),
		cmocka_unit_test(test_by_key),
		cmocka_unit_test(test_selector_kinds),
		cmocka_unit_test(test_newest_first),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_parse_u64),
	};

	return cmocka_run_group_tests_name("cli_resolve", tests, NULL, NULL);
}
