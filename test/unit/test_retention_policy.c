/*
 * test_retention_policy.c — unit tests of the retention decision
 * (src/core/retention_policy.c): a table of cases (ages, verification states,
 * pins, GFS buckets, failing streaks, several databases) with the expected
 * keep/delete and reason of every backup; the duration syntax; the backup key
 * parser and the orphan finder (src/core/retention_keys.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "retention_keys.h"
#include "retention_policy.h"

#define DAY 86400
#define T0 ((int64_t) 1795867200)	/* 2026-11-28 12:00:00 UTC, a Saturday of 2026-W48 */

typedef struct tb
{
	int64_t		id;
	const char *series;
	int64_t		taken_at;
	char		state;			/* 's' succeeded, 'v' succeeded and verified, 'f' failed */
	bool		pinned;
	const char *want;			/* "keep: reason" or "delete: reason" */
} tb;

typedef struct tcase
{
	const char *name;
	rb_retention_policy policy;
	tb			b[16];
	size_t		n;
	size_t		want_deleted;
} tcase;

#define P(ret, mk) {(ret), (mk), 0, 0, 0}

static const tcase cases[] = {
	{"ages against 30 days, min_keep 3", P(30 * DAY, 3), {
			{1, "app", T0 - 50 * DAY, 's', false, "delete: older than retention"},
			{2, "app", T0 - 40 * DAY, 's', false, "delete: older than retention"},
			{3, "app", T0 - 31 * DAY, 's', false, "delete: older than retention"},
			{4, "app", T0 - 20 * DAY, 's', false, "keep: within retention"},
			{5, "app", T0 - 10 * DAY, 's', false, "keep: within retention"},
			{6, "app", T0, 's', false, "keep: newest succeeded"}}, 6, 3},
	{"exactly the retention is still within it", P(30 * DAY, 1), {
			{1, "app", T0 - 30 * DAY, 's', false, "keep: within retention"},
			{2, "app", T0 - 30 * DAY - 1, 's', false, "delete: older than retention"},
			{3, "app", T0, 's', false, "keep: newest succeeded"}}, 3, 1},
	{"min_keep keeps old backups", P(DAY, 3), {
			{1, "app", T0 - 4 * DAY, 's', false, "delete: older than retention"},
			{2, "app", T0 - 3 * DAY, 's', false, "keep: min_keep"},
			{3, "app", T0 - 2 * DAY, 's', false, "keep: min_keep"},
			{4, "app", T0, 's', false, "keep: newest succeeded"}}, 4, 1},
	{"min_keep 0 still keeps the newest good one", P(DAY, 0), {
			{1, "app", T0 - 9 * DAY, 's', false, "delete: older than retention"},
			{2, "app", T0 - 5 * DAY, 's', false, "keep: newest succeeded"}}, 2, 1},
	{"newest verified, and what is newer, are kept", P(30 * DAY, 1), {
			{1, "app", T0 - 41 * DAY, 'v', false, "delete: older than retention"},
			{2, "app", T0 - 40 * DAY, 's', false, "delete: older than retention"},
			{3, "app", T0 - DAY, 'v', false, "keep: newest verified"},
			{4, "app", T0, 's', false, "keep: newer than newest good"}}, 4, 2},
	{"an old verified backup: ages count from it, newer ones all kept", P(30 * DAY, 1), {
			{1, "app", T0 - 80 * DAY, 's', false, "delete: older than retention"},
			{2, "app", T0 - 45 * DAY, 'v', false, "keep: newest verified"},
			{3, "app", T0 - 20 * DAY, 's', false, "keep: newer than newest good"},
			{4, "app", T0 - 10 * DAY, 's', false, "keep: newer than newest good"},
			{5, "app", T0, 's', false, "keep: newer than newest good"}}, 5, 1},
	{"failing streak: age counts from the newest good backup", P(30 * DAY, 1), {
			{1, "app", T0 - 80 * DAY, 's', false, "delete: older than retention"},
			{2, "app", T0 - 42 * DAY, 's', false, "keep: within retention"},
			{3, "app", T0 - 41 * DAY, 's', false, "keep: within retention"},
			{4, "app", T0 - 40 * DAY, 's', false, "keep: newest succeeded"},
			{5, "app", T0 - 30 * DAY, 'f', false, "keep: not succeeded"},
			{6, "app", T0 - 10 * DAY, 'f', false, "keep: not succeeded"},
			{7, "app", T0, 'f', false, "keep: not succeeded"}}, 7, 1},
	{"nothing succeeded: nothing to delete", P(DAY, 0), {
			{1, "app", T0 - 80 * DAY, 'f', false, "keep: not succeeded"},
			{2, "app", T0, 'f', false, "keep: not succeeded"}}, 2, 0},
	{"pinned survives any age", P(30 * DAY, 1), {
			{1, "app", T0 - 400 * DAY, 's', true, "keep: pinned"},
			{2, "app", T0 - 200 * DAY, 's', false, "delete: older than retention"},
			{3, "app", T0 - 100 * DAY, 's', true, "keep: pinned"},
			{4, "app", T0, 's', false, "keep: newest succeeded"}}, 4, 1},
	{"a pinned newest backup is still the newest good", P(DAY, 1), {
			{1, "app", T0 - 2 * DAY, 's', false, "delete: older than retention"},
			{2, "app", T0, 's', true, "keep: pinned"}}, 2, 1},
	{"GFS: daily 2, weekly 2, monthly 2", {3600, 1, 2, 2, 2}, {
			{1, "app", T0 - 79 * DAY, 's', false, "delete: older than retention"},	/* 2026-09-10 */
			{2, "app", T0 - 44 * DAY, 's', false, "keep: gfs monthly 2026-10"},	/* 2026-10-15 */
			{3, "app", T0 - 8 * DAY, 's', false, "keep: gfs weekly 2026-W47"},	/* 2026-11-20 */
			{4, "app", T0 - 2 * DAY, 's', false, "delete: older than retention"},	/* 2026-11-26 */
			{5, "app", T0 - DAY, 's', false, "keep: gfs daily 2026-11-27"},
			{6, "app", T0 - 6 * 3600, 's', false, "delete: older than retention"},	/* same day as 7 */
			{7, "app", T0, 's', false, "keep: newest succeeded"}}, 7, 3},
	{"the worked example of docs/configuration.md", {DAY, 1, 2, 2, 2}, {
			{1, "app", T0 - 79 * DAY, 'v', false, "delete: older than retention"},	/* 2026-09-10 */
			{2, "app", T0 - 44 * DAY, 'v', false, "keep: gfs monthly 2026-10"},	/* 2026-10-15 */
			{3, "app", T0 - 8 * DAY, 'v', false, "keep: gfs weekly 2026-W47"},	/* 2026-11-20 */
			{4, "app", T0 - 2 * DAY, 'v', false, "delete: older than retention"},	/* 2026-11-26 */
			{5, "app", T0 - DAY, 'v', false, "keep: within retention"},	/* 2026-11-27 */
			{6, "app", T0 - 6 * 3600, 'v', false, "keep: within retention"},
			{7, "app", T0, 'v', false, "keep: newest verified"}}, 7, 2},
	{"GFS counts days that have backups, not calendar days", {3600, 0, 3, 0, 0}, {
			{1, "app", T0 - 30 * DAY, 's', false, "delete: older than retention"},
			{2, "app", T0 - 20 * DAY, 's', false, "keep: gfs daily 2026-11-08"},
			{3, "app", T0 - 10 * DAY, 's', false, "keep: gfs daily 2026-11-18"},
			{4, "app", T0, 's', false, "keep: newest succeeded"}}, 4, 1},
	{"GFS weekly of ISO weeks across a year", {3600, 0, 0, 2, 0}, {
			{1, "app", 1767139200, 's', false, "keep: gfs weekly 2026-W01"},	/* 2025-12-31 */
			{2, "app", 1767571200, 's', false, "keep: newest succeeded"}}, 2, 0},	/* 2026-01-05 */
	{"several databases are decided apart", P(30 * DAY, 1), {
			{1, "app", T0 - 40 * DAY, 's', false, "keep: newer than newest good"},
			{2, "crm", T0 - 41 * DAY, 's', false, "keep: within retention"},
			{3, "crm", T0 - 40 * DAY, 's', false, "keep: newest succeeded"},
			{4, "app", T0, 's', false, "keep: newer than newest good"},
			{5, "crm", T0 - 200 * DAY, 's', false, "delete: older than retention"},
			{6, "app", T0 - 100 * DAY, 'v', false, "keep: newest verified"},
			{7, "web", T0 - 300 * DAY, 's', false, "keep: newest succeeded"}}, 7, 1},
	{"ties on the second: the higher id is newer", P(DAY, 1), {
			{1, "app", T0, 's', false, "keep: within retention"},
			{2, "app", T0, 's', false, "keep: newest succeeded"}}, 2, 0},
};

static void
test_table(void **state)
{
	(void) state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++)
	{
		const tcase *tc = &cases[c];
		rb_retention_item items[16];
		size_t		ndel;

		memset(items, 0, sizeof(items));
		for (size_t i = 0; i < tc->n; i++)
		{
			items[i].backup_id = tc->b[i].id;
			items[i].series = tc->b[i].series;
			items[i].taken_at = tc->b[i].taken_at;
			items[i].succeeded = tc->b[i].state != 'f';
			items[i].verified = tc->b[i].state == 'v';
			items[i].pinned = tc->b[i].pinned;
			items[i].size_bytes = 100;
		}
		ndel = rb_retention_decide(items, tc->n, &tc->policy);
		for (size_t i = 0; i < tc->n; i++)
		{
			char		got[128];

			snprintf(got, sizeof(got), "%s: %s", items[i].delete ? "delete" : "keep", items[i].reason);
			if (strcmp(got, tc->b[i].want) != 0)
				fail_msg("case \"%s\", backup %lld: got \"%s\", want \"%s\"", tc->name,
						 (long long) tc->b[i].id, got, tc->b[i].want);
		}
		if (ndel != tc->want_deleted)
			fail_msg("case \"%s\": %zu deleted, want %zu", tc->name, ndel, tc->want_deleted);
	}
}

static void
test_policy_check(void **state)
{
	rb_retention_policy p = {30 * DAY, 3, 0, 0, 0};
	rb_error	err;

	(void) state;
	assert_int_equal(rb_retention_policy_check(&p, &err), 0);
	p.retention_s = 0;
	assert_int_equal(rb_retention_policy_check(&p, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	p.retention_s = 1;
	p.keep_weekly = -1;
	assert_int_equal(rb_retention_policy_check(&p, &err), -1);
}

static void
test_duration(void **state)
{
	static const struct
	{
		const char *text;
		int64_t		want;			/* -1 = invalid */
	}			d[] = {
		{"30 days", 30 * DAY}, {"30d", 30 * DAY}, {"12 hours", 12 * 3600}, {"90 s", 90},
		{"90", 90}, {"1 week 2 days", 9 * DAY}, {"1 day, 12 hours", DAY + 12 * 3600},
		{"2 min", 120}, {"1 mon", 30 * DAY}, {"1 year", 365 * DAY}, {" 5 Seconds ", 5},
		{"", -1}, {"days", -1}, {"30 fortnights", -1}, {"-3 days", -1}, {"3.5 days", -1},
		{"99999999999999999999 s", -1}, {"106751991167301 days", -1},
	};

	(void) state;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++)
	{
		int64_t		v = -7;
		rb_error	err;
		int			rc;

		rb_error_clear(&err);
		rc = rb_duration_parse(d[i].text, &v, &err);
		if (d[i].want < 0)
		{
			if (rc != -1 || err.code != RB_ERR_INVALID || strstr(err.msg, "duration") == NULL)
				fail_msg("\"%s\" should be refused (rc %d, v %lld)", d[i].text, rc, (long long) v);
		}
		else if (rc != 0 || v != d[i].want)
			fail_msg("\"%s\": rc %d, got %lld, want %lld (%s)", d[i].text, rc, (long long) v,
					 (long long) d[i].want, err.msg);
	}
	{
		char		buf[32];

		rb_duration_format(30 * DAY, buf, sizeof(buf));
		assert_string_equal(buf, "30 days");
		rb_duration_format(3600, buf, sizeof(buf));
		assert_string_equal(buf, "1 hour");
		rb_duration_format(90, buf, sizeof(buf));
		assert_string_equal(buf, "90 s");
	}
}

static void
test_key_parse(void **state)
{
	int64_t		t = 0,
				id = 0;

	(void) state;
	assert_true(rb_backup_key_parse("7312/5f0c2a9e7b1d4c36/app/20261128T120000Z-42.dump.zst", &t, &id));
	assert_true(t == T0);
	assert_true(id == 42);
	assert_true(rb_backup_key_parse("7312/x/app/20261128T120000Z-42.dump.zst.metadata.json", &t, &id));
	assert_true(rb_backup_key_parse("20261128T120000Z-7.dump", NULL, NULL));
	assert_false(rb_backup_key_parse("7312/x/app/notes.txt", &t, &id));
	assert_false(rb_backup_key_parse("7312/x/wal/000000010000000000000001", &t, &id));
	assert_false(rb_backup_key_parse("7312/x/app/20261128T120000Z-.dump", &t, &id));
	assert_false(rb_backup_key_parse("7312/x/app/20261328T120000Z-1.dump", &t, &id));
	assert_int_equal(rb_backup_key_base_len("a/20261128T120000Z-1.dump.zst.metadata.json"),
					 strlen("a/20261128T120000Z-1.dump.zst"));
	assert_int_equal(rb_backup_key_base_len("a/20261128T120000Z-1.dump.zst.pinned"),
					 strlen("a/20261128T120000Z-1.dump.zst"));
}

static void
test_orphans(void **state)
{
	const int64_t now = T0;
	rb_object_info o[] = {
		{"s/i/app/20261120T000000Z-1.dump.zst", 10, T0 - 8 * DAY},	/* backup: has metadata */
		{"s/i/app/20261120T000000Z-1.dump.zst.metadata.json", 1, T0 - 8 * DAY},
		{"s/i/app/20261120T000000Z-1.dump.zst.pinned", 0, T0 - 8 * DAY},
		{"s/i/app/20261121T000000Z-2.dump.zst", 10, T0 - 7 * DAY},	/* orphan */
		{"s/i/app/20261121T000000Z-3.dump.zst.pinned", 0, T0 - 7 * DAY},	/* orphan marker */
		{"s/i/app/20261128T110000Z-4.dump.zst", 10, T0 - 3600},	/* young: may finish */
		{"s/i/app/20261122T000000Z-5.dump.zst.metadata.json", 1, T0 - 6 * DAY},	/* no dump: left */
		{"s/i/app/notes.txt", 1, T0 - 90 * DAY},	/* not a backup object */
		{"s/i/app/20261101T000000Z-6.dump.zst", 10, 0},	/* age unknown */
	};
	bool		orphan[9];
	const bool	want[9] = {false, false, false, true, true, false, false, false, false};

	(void) state;
	assert_int_equal(rb_retention_find_orphans(o, 9, now, DAY, orphan), 2);
	for (int i = 0; i < 9; i++)
		if (orphan[i] != want[i])
			fail_msg("%s: orphan %d, want %d", o[i].key, orphan[i], want[i]);
	/* a shorter minimum age takes the young one too */
	assert_int_equal(rb_retention_find_orphans(o, 9, now, 60, orphan), 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_policy_check),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_key_parse),
		cmocka_unit_test(test_orphans),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
