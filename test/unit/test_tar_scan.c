/*
 * test_tar_scan.c — unit tests of the streaming tar scanner: a base backup's tar
 * fed in every chunking gives its members, backup_label fields and the manifest's
 * greatest End-LSN; long names (prefix, GNU 'L'); truncated, corrupt and trailing
 * data refused; what a usable base backup must contain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rb_buf.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_chunking),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_long_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
