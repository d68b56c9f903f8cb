/*
 * test_wal_fetch.c — unit tests of src/core's wal_fetch.c against a file://
 * destination filled by wal_archive.c: a file restored byte for byte (plain and
 * encrypted, with and without the key), a name that is not archived
 * (RB_ERR_NOT_FOUND, no file), a name that is not a WAL file, the incarnation
 * search (all by default, named ones in order, the same file under two
 * incarnations: the same content is fine, different content RB_ERR_EXISTS),
 * an object changed after it was archived (RB_ERR_INTEGRITY, nothing left at
 * the path, no temporary file), and the incarnations listed.  Also the pure
 * helpers of restore-pitr (cli_pitr.h): target times, WAL positions, quoting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_pitr.h"
#include "dest.h"
#include "encrypt_key.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "wal_archive.h"
#include "wal_fetch.h"
#include "wal_range.h"

static char root[256];
static char url[300];
static char walfile[300];
static char outdir[300];

#define SYSID 7441293000111222333ULL
#define SEG "000000010000000000000003"
#define INC_A "5f0c2a9e7b1d4c36"
#define INC_B "a000000000000001"

static void
write_file(const char *path, size_t n, unsigned seed)
{
	FILE	   *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
	{
		seed = seed * 1103515245u + 12345u;
		fputc((i % 7) ? 0 : (int) (seed >> 24), f);
	}
	fclose(f);
}

static void
sha_file(const char *path, char out[65])
{
	rb_buf		b = RB_BUF_INIT;
	FILE	   *f = fopen(path, "rb");
	char		buf[4096];
	size_t		n;
	rb_error	err;

	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		rb_buf_append(&b, buf, n);
	fclose(f);
	assert_int_equal(rb_sha256_hex(b.data ? b.data : "", b.len, out, &err), 0);
	rb_buf_free(&b);
}

static int
count_entries(const char *dir)
{
	DIR		   *d = opendir(dir);
	struct dirent *e;
	int			n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/rb_wal_fetch_test_XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(url, sizeof(url), "file://%s/dest", root);
	snprintf(walfile, sizeof(walfile), "%s/%s", root, SEG);
	snprintf(outdir, sizeof(outdir), "%s/out", root);
	if (mkdir(outdir, 0700) != 0)
		return -1;
	{
		char		d[300];

		snprintf(d, sizeof(d), "%s/dest", root);
		if (mkdir(d, 0700) != 0)
			return -1;
	}
	write_file(walfile, 1024 * 1024 + 17, 7);
	return 0;
}

static int
teardown(void **state)
{
	char		cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static rb_destination *
open_dest(void)
{
	rb_error	err;
	rb_destination *d = rb_destination_open(url, NULL, NULL, &err);

	assert_non_null(d);
	return d;
}

static void
archive(rb_destination *d, const char *inc, const char *name, const char *path, const rb_key *key)
{
	rb_wal_archive_params p;
	rb_wal_archive_result r;
	rb_error	err;

	memset(&p, 0, sizeof(p));
	p.dest = d;
	p.system_identifier = SYSID;
	p.incarnation = inc;
	p.file_name = name;
	p.path = path;
	p.encryption_key = key;
	p.compression_level = -1;
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
}

static int
fetch(rb_destination *d, const char *name, const char *const *incs, int ninc,
	  const rb_keyring *ring, rb_wal_fetch_result *res, rb_error *err)
{
	rb_wal_fetch_params p;
	char		path[400];

	snprintf(path, sizeof(path), "%s/RECOVERYXLOG", outdir);
	memset(&p, 0, sizeof(p));
	p.dest = d;
	p.system_identifier = SYSID;
	p.incarnations = incs;
	p.n_incarnations = ninc;
	p.file_name = name;
	p.path = path;
	p.keyring = ring;
	rb_error_clear(err);
	return rb_wal_fetch_file(&p, res, NULL, err);
}

static void
test_fetch(void **state)
{
	rb_destination *d = open_dest();
	rb_wal_fetch_result res;
	rb_error	err;
	char		want[65],
				got[65],
				path[400];
	const char *only_b[] = {INC_B};
	const char *both[] = {INC_B, INC_A};
	char	  **incs;
	int			n;

	snprintf(path, sizeof(path), "%s/RECOVERYXLOG", outdir);
	sha_file(walfile, want);

	/* nothing archived yet */
	assert_int_equal(fetch(d, SEG, NULL, 0, NULL, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, "no incarnation has archived WAL"));
	assert_int_equal(count_entries(outdir), 0);

	archive(d, INC_A, SEG, walfile, NULL);
	assert_int_equal(fetch(d, SEG, NULL, 0, NULL, &res, &err), 0);
	sha_file(path, got);
	assert_string_equal(got, want);
	assert_string_equal(res.original_sha256, want);
	assert_string_equal(res.incarnation, INC_A);
	assert_int_equal(res.timeline, 1);
	assert_int_equal(res.original_bytes, 1024 * 1024 + 17);
	unlink(path);

	/* a name that is not archived; one that is not a WAL file */
	assert_int_equal(fetch(d, "000000010000000000000004", NULL, 0, NULL, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_non_null(strstr(err.msg, "incarnations searched: " INC_A));
	assert_int_equal(fetch(d, "../../etc/passwd", NULL, 0, NULL, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_int_equal(count_entries(outdir), 0);

	/* named incarnations: only those, in order */
	assert_int_equal(fetch(d, SEG, only_b, 1, NULL, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_int_equal(fetch(d, SEG, both, 2, NULL, &res, &err), 0);
	assert_string_equal(res.incarnation, INC_A);
	unlink(path);

	/* the same file under a second incarnation: fine; other content: refused */
	archive(d, INC_B, SEG, walfile, NULL);
	assert_int_equal(fetch(d, SEG, NULL, 0, NULL, &res, &err), 0);
	unlink(path);
	{
		char		other[300];

		snprintf(other, sizeof(other), "%s/other", root);
		write_file(other, 4096, 99);
		archive(d, INC_B, "000000020000000000000005", other, NULL);
		archive(d, INC_A, "000000020000000000000005", walfile, NULL);
	}
	assert_int_equal(fetch(d, "000000020000000000000005", NULL, 0, NULL, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_non_null(strstr(err.msg, INC_A));
	assert_non_null(strstr(err.msg, INC_B));
	assert_int_equal(count_entries(outdir), 0);
	assert_int_equal(fetch(d, "000000020000000000000005", both, 2, NULL, &res, &err), 0);
	assert_string_equal(res.incarnation, INC_B);
	unlink(path);

	assert_int_equal(rb_wal_list_incarnations(d, SYSID, &incs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(incs[0], INC_A);
	assert_string_equal(incs[1], INC_B);
	rb_wal_incarnations_free(incs, n);

	/* an object changed after it was archived */
	{
		char	   *key = rb_wal_object_key(SYSID, INC_A, 1, SEG);
		char		obj[600];
		FILE	   *f;

		snprintf(obj, sizeof(obj), "%s/dest/%s", root, key);
		free(key);
		f = fopen(obj, "r+b");
		assert_non_null(f);
		fseek(f, 100, SEEK_SET);
		fputc(0x5a, f);
		fclose(f);
	}
	assert_int_equal(fetch(d, SEG, both + 1, 1, NULL, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	assert_non_null(strstr(err.msg, "does not match its metadata"));
	assert_int_equal(count_entries(outdir), 0);
	rb_destination_close(d);
}

static void
test_encrypted(void **state)
{
	rb_destination *d = open_dest();
	rb_wal_fetch_result res;
	rb_error	err;
	rb_key		key;
	rb_keyring	ring,
				empty;
	char		hex[2 * RB_KEY_LEN + 2],
				want[65],
				got[65],
				path[400];
	const char	seg[] = "000000010000000000000009";

	snprintf(path, sizeof(path), "%s/RECOVERYXLOG", outdir);
	assert_int_equal(rb_encrypt_init(&err), 0);
	assert_int_equal(rb_key_generate(&key, hex, &err), 0);
	archive(d, INC_A, seg, walfile, &key);
	rb_keyring_init(&ring);
	rb_keyring_init(&empty);
	assert_int_equal(rb_keyring_add(&ring, &key, &err), 0);

	assert_int_equal(fetch(d, seg, NULL, 0, NULL, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	assert_non_null(strstr(err.msg, key.id_hex));
	assert_int_equal(fetch(d, seg, NULL, 0, &empty, &res, &err), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	assert_int_equal(count_entries(outdir), 0);
	assert_int_equal(fetch(d, seg, NULL, 0, &ring, &res, &err), 0);
	sha_file(walfile, want);
	sha_file(path, got);
	assert_string_equal(got, want);
	unlink(path);
	rb_keyring_wipe(&ring);
	rb_key_wipe(&key);
	rb_destination_close(d);
}

static void
test_pitr_helpers(void **state)
{
	int64_t		us;
	char		norm[64];
	uint64_t	lsn;
	rb_error	err;
	rb_buf		b = RB_BUF_INIT;

	assert_int_equal(cli_pitr_parse_time("2026-12-03 07:14:12+00", &us, norm, sizeof(norm), &err), 0);
	assert_true(us == INT64_C(1796282052) * 1000000);
	assert_string_equal(norm, "2026-12-03 07:14:12.000000+00");
	assert_int_equal(cli_pitr_parse_time("2026-12-03T08:14:12.5+01:00", &us, norm, sizeof(norm), &err), 0);
	assert_string_equal(norm, "2026-12-03 07:14:12.500000+00");
	assert_int_equal(cli_pitr_parse_time("2026-12-03 02:14:12.123456789 -0500", &us, norm, sizeof(norm), &err), 0);
	assert_string_equal(norm, "2026-12-03 07:14:12.123456+00");
	assert_int_equal(cli_pitr_parse_time("2026-12-03 07:14:12Z", &us, norm, sizeof(norm), &err), 0);
	assert_int_equal(cli_pitr_parse_time("2026-12-03 07:14:12 UTC", &us, norm, sizeof(norm), &err), 0);
	assert_string_equal(norm, "2026-12-03 07:14:12.000000+00");
	assert_int_equal(cli_pitr_parse_time("2026-12-03 07:14:12", &us, norm, sizeof(norm), &err), -1);
	assert_non_null(strstr(err.msg, "no time zone"));
	assert_int_equal(cli_pitr_parse_time("yesterday", &us, norm, sizeof(norm), &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_int_equal(cli_pitr_parse_time("2026-13-03 07:14:12+00", &us, norm, sizeof(norm), &err), -1);

	assert_true(rb_lsn_parse("0/3007950", &lsn));
	assert_true(lsn == 0x3007950);
	assert_true(rb_lsn_parse("1A/FF", &lsn));
	assert_true(lsn == ((UINT64_C(0x1A) << 32) | 0xFF));
	assert_false(rb_lsn_parse("0/", &lsn));
	assert_false(rb_lsn_parse("/5", &lsn));
	assert_false(rb_lsn_parse("0x1/5", &lsn));
	assert_false(rb_lsn_parse("123456789/0", &lsn));

	cli_shell_quote(&b, "/usr/bin/ripple-backup");
	assert_string_equal(rb_buf_str(&b), "/usr/bin/ripple-backup");
	rb_buf_reset(&b);
	cli_shell_quote(&b, "/it's here/x");
	assert_string_equal(rb_buf_str(&b), "'/it'\\''s here/x'");
	rb_buf_reset(&b);
	cli_shell_quote(&b, "a;b$(c)");
	assert_string_equal(rb_buf_str(&b), "'a;b$(c)'");
	rb_buf_reset(&b);
	cli_conf_quote(&b, "x 'y' \\z");
	assert_string_equal(rb_buf_str(&b), "'x ''y'' \\\\z'");
	rb_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypted, setup, teardown),
		cmocka_unit_test(test_pitr_helpers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
