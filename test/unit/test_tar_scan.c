/*
 * test_tar_scan.c — unit tests of the streaming tar scanner: a base backup's tar
 * fed in every chunking gives its members, backup_label fields and the manifest's
 * greatest End-LSN; long names (prefix, GNU 'L'); truncated, corrupt and trailing
 * data refused; what a usable base backup must contain.  The extractor
 * (tar_extract.h) through the scanner's sink: every chunking writes the same
 * files (0600) and directories (0700); "..", absolute names, links and a name
 * that appears twice are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "rb_buf.h"
#include "rb_file.h"
#include "tar_extract.h"
#include "tar_scan.h"

static void
add_header(rb_buf *b, const char *name, char type, size_t size, const char *prefix)
{
	unsigned char h[512];
	unsigned int sum = 0;

	memset(h, 0, sizeof(h));
	snprintf((char *) h, 100, "%s", name);
	snprintf((char *) h + 100, 8, "%07o", 0600);
	snprintf((char *) h + 124, 12, "%011zo", size);
	h[156] = (unsigned char) type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	if (prefix)
		snprintf((char *) h + 345, 155, "%s", prefix);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *) h + 148, 8, "%06o", sum);
	h[155] = ' ';
	rb_buf_append(b, h, 512);
}

static void
add_file(rb_buf *b, const char *name, const char *content, size_t len)
{
	static const char zeros[512];

	add_header(b, name, '0', len, NULL);
	rb_buf_append(b, content, len);
	if (len % 512)
		rb_buf_append(b, zeros, 512 - len % 512);
}

static const char *LABEL =
	"START WAL LOCATION: 0/2000028 (file 000000010000000000000002)\n"
	"CHECKPOINT LOCATION: 0/2000060\n"
	"BACKUP METHOD: streamed\n"
	"BACKUP FROM: primary\n"
	"START TIME: 2026-12-03 15:00:00 UTC\n"
	"LABEL: ripple_backup 7: first\n"
	"START TIMELINE: 1\n";

/* a manifest longer than the scanner's 4 KiB tail, its WAL-Ranges at the end */
static void
manifest(rb_buf *m)
{
	rb_buf_append_str(m, "{ \"PostgreSQL-Backup-Manifest-Version\": 1,\n\"Files\": [\n");
	for (int i = 0; i < 200; i++)
		rb_buf_appendf(m, "{ \"Path\": \"base/1/%d\", \"Size\": 8192 },\n", 1000 + i);
	rb_buf_append_str(m, "],\n\"WAL-Ranges\": [\n"
					  "{ \"Timeline\": 2, \"Start-LSN\": \"0/3000000\", \"End-LSN\": \"0/3000100\" },\n"
					  "{ \"Timeline\": 1, \"Start-LSN\": \"0/2000028\", \"End-LSN\": \"0/3000000\" }\n"
					  "],\n\"Manifest-Checksum\": \"ab\"}\n");
}

static void
base_tar(rb_buf *b, bool with_control)
{
	static const char zeros[1024];
	rb_buf		m = RB_BUF_INIT;
	char		block[9000];

	memset(block, 'x', sizeof(block));
	add_file(b, "backup_label", LABEL, strlen(LABEL));
	add_header(b, "base", '5', 0, NULL);
	add_header(b, "base/1", '5', 0, NULL);
	add_file(b, "base/1/1259", block, sizeof(block));
	if (with_control)
		add_file(b, "global/pg_control", block, 8192);
	manifest(&m);
	add_file(b, "backup_manifest", m.data, m.len);
	rb_buf_append(b, zeros, sizeof(zeros));
	rb_buf_free(&m);
}

static void
test_every_chunking(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	size_t		chunks[] = {1, 7, 511, 512, 513, 4096, 100000};

	(void) state;
	base_tar(&b, true);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
	{
		rb_tar_scan *s = rb_tar_scan_new();
		rb_base_backup_info info;
		rb_error	err;

		rb_error_clear(&err);
		for (size_t off = 0; off < b.len; off += chunks[c])
		{
			size_t		n = b.len - off < chunks[c] ? b.len - off : chunks[c];

			assert_int_equal(rb_tar_scan_feed(s, b.data + off, n, &err), 0);
		}
		assert_int_equal(rb_tar_scan_finish(s, &info, &err), 0);
		assert_string_equal(info.start_lsn, "0/2000028");
		assert_string_equal(info.stop_lsn, "0/3000100");	/* the greatest End-LSN */
		assert_int_equal(info.timeline, 1);
		assert_string_equal(info.label, "ripple_backup 7: first");
		assert_true(info.has_backup_label && info.has_pg_control && info.has_base_dir && info.has_manifest);
		assert_int_equal(info.members, 6);
		assert_string_equal(rb_tar_scan_backup_label(s), LABEL);
		assert_int_equal(rb_base_backup_info_check(&info, &err), 0);
		rb_tar_scan_free(s);
	}
	rb_buf_free(&b);
}

static void
test_refusals(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	rb_tar_scan *s;
	rb_base_backup_info info;
	rb_error	err;

	(void) state;
	base_tar(&b, true);

	/* truncated: every prefix that ends before the end-of-archive blocks */
	s = rb_tar_scan_new();
	assert_int_equal(rb_tar_scan_feed(s, b.data, b.len - 1024 - 100, &err), 0);
	assert_int_equal(rb_tar_scan_finish(s, &info, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	assert_non_null(strstr(err.msg, "truncated"));
	rb_tar_scan_free(s);

	/* a corrupt header checksum */
	b.data[512 * 2 + 10] ^= 1;	/* the name in the header of "base" (block 2) */
	s = rb_tar_scan_new();
	assert_int_equal(rb_tar_scan_feed(s, b.data, b.len, &err), -1);
	assert_non_null(strstr(err.msg, "bad header checksum"));
	rb_tar_scan_free(s);
	b.data[512 * 2 + 10] ^= 1;

	/* data after the end of the archive */
	rb_buf_append_str(&b, "junk");
	s = rb_tar_scan_new();
	assert_int_equal(rb_tar_scan_feed(s, b.data, b.len, &err), -1);
	assert_non_null(strstr(err.msg, "data after the end"));
	rb_tar_scan_free(s);
	rb_buf_free(&b);

	/* whole, but without global/pg_control: no base backup */
	base_tar(&b, false);
	s = rb_tar_scan_new();
	assert_int_equal(rb_tar_scan_feed(s, b.data, b.len, &err), 0);
	assert_int_equal(rb_tar_scan_finish(s, &info, &err), 0);
	assert_int_equal(rb_base_backup_info_check(&info, &err), -1);
	assert_non_null(strstr(err.msg, "global/pg_control"));
	rb_tar_scan_free(s);
	rb_buf_free(&b);
}

static void
test_long_names(void **state)
{
	static const char zeros[1024];
	rb_buf		b = RB_BUF_INIT;
	rb_tar_scan *s = rb_tar_scan_new();
	rb_base_backup_info info;
	rb_error	err;
	const char *longname = "global/pg_control";

	(void) state;
	/* ustar prefix + name */
	add_header(&b, "pg_control", '0', 0, "global");
	/* a GNU long name for the next member */
	add_header(&b, "././@LongLink", 'L', strlen(longname) + 1, NULL);
	rb_buf_append(&b, longname, strlen(longname) + 1);
	rb_buf_append(&b, zeros, 512 - (strlen(longname) + 1));
	add_header(&b, "ignored-short-name", '0', 0, NULL);
	rb_buf_append(&b, zeros, sizeof(zeros));
	assert_int_equal(rb_tar_scan_feed(s, b.data, b.len, &err), 0);
	assert_int_equal(rb_tar_scan_finish(s, &info, &err), 0);
	assert_true(info.has_pg_control);
	assert_int_equal(info.members, 2);
	rb_tar_scan_free(s);
	rb_buf_free(&b);
}

/* Feeds b in chunks of n through a scanner whose sink unpacks into a new directory. */
static int
extract(const rb_buf *b, size_t n, char *dir, rb_error *err)
{
	rb_tar_scan *s = rb_tar_scan_new();
	rb_tar_extract *x;
	rb_base_backup_info info;
	int			rc = 0;

	strcpy(dir, "/tmp/test_tar_extract_XXXXXX");
	assert_non_null(mkdtemp(dir));
	x = rb_tar_extract_new(dir);
	assert_non_null(x);
	rb_tar_scan_set_sink(s, rb_tar_extract_sink(x));
	for (size_t off = 0; rc == 0 && off < b->len; off += n)
		rc = rb_tar_scan_feed(s, b->data + off, b->len - off < n ? b->len - off : n, err);
	if (rc == 0)
		rc = rb_tar_scan_finish(s, &info, err);
	rb_tar_extract_free(x);
	rb_tar_scan_free(s);
	return rc;
}

static void
test_extract(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	size_t		chunks[] = {1, 511, 512, 513, 100000};
	char		dir[64];
	char		path[128];
	char		buf[9100];
	struct stat st;
	FILE	   *f;

	(void) state;
	base_tar(&b, true);
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++)
	{
		rb_error	err;

		rb_error_clear(&err);
		assert_int_equal(extract(&b, chunks[c], dir, &err), 0);
		snprintf(path, sizeof(path), "%s/base/1/1259", dir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 9000);
		assert_int_equal(st.st_mode & 07777, 0600);
		f = fopen(path, "r");
		assert_non_null(f);
		assert_int_equal(fread(buf, 1, sizeof(buf), f), 9000);
		fclose(f);
		assert_int_equal(buf[0], 'x');
		assert_int_equal(buf[8999], 'x');
		snprintf(path, sizeof(path), "%s/base/1", dir);
		assert_int_equal(stat(path, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0700);
		snprintf(path, sizeof(path), "%s/backup_label", dir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, (off_t) strlen(LABEL));
		snprintf(path, sizeof(path), "%s/global/pg_control", dir);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(rb_remove_tree(dir), 0);
		assert_int_not_equal(stat(dir, &st), 0);
	}
	rb_buf_free(&b);
}

static void
test_extract_refusals(void **state)
{
	static const char zeros[1024];
	const char *bad[] = {"../escape", "/etc/escape", "base/../../escape", "base/./x"};
	char		dir[64];
	char		path[128];
	struct stat st;

	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		rb_buf		b = RB_BUF_INIT;
		rb_error	err;

		add_file(&b, bad[i], "x", 1);
		rb_buf_append(&b, zeros, sizeof(zeros));
		rb_error_clear(&err);
		assert_int_equal(extract(&b, 512, dir, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		assert_non_null(strstr(err.msg, "is not a relative name inside the archive"));
		snprintf(path, sizeof(path), "%s/../escape", dir);
		assert_int_not_equal(stat(path, &st), 0);
		assert_int_equal(rb_remove_tree(dir), 0);
		rb_buf_free(&b);
	}
	{
		rb_buf		b = RB_BUF_INIT;
		rb_error	err;

		add_header(&b, "pg_tblspc/16384", '2', 0, NULL);	/* a symbolic link */
		rb_buf_append(&b, zeros, sizeof(zeros));
		rb_error_clear(&err);
		assert_int_equal(extract(&b, 512, dir, &err), -1);
		assert_non_null(strstr(err.msg, "has type '2'"));
		assert_int_equal(rb_remove_tree(dir), 0);
		rb_buf_free(&b);
	}
	{
		rb_buf		b = RB_BUF_INIT;
		rb_error	err;

		add_file(&b, "twice", "a", 1);
		add_file(&b, "twice", "b", 1);
		rb_buf_append(&b, zeros, sizeof(zeros));
		rb_error_clear(&err);
		assert_int_equal(extract(&b, 512, dir, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		assert_non_null(strstr(err.msg, "could not create"));
		assert_int_equal(rb_remove_tree(dir), 0);
		rb_buf_free(&b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_chunking),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_extract),
		cmocka_unit_test(test_extract_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
