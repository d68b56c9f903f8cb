/*
 * test_s3_multipart.c — unit tests of the ListMultipartUploads answer parser
 * (src/core/s3/s3_xml.c) and of the retention sweep's deletions on a file://
 * destination (src/core/dest_sweep.c, src/core/retention_delete.c): metadata
 * first, a missing key counts as deleted, what cannot be deleted is reported;
 * and against a scripted S3 server (fake_s3.h): DeleteObjects answered 501
 * falls back to one DELETE per key, ListMultipartUploads answered 501 is one
 * request (no retries), and stale uploads are aborted by upload id.
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

#include "dest.h"
#include "dest_sweep.h"
#include "fake_s3.h"
#include "retention_delete.h"
#include "s3/s3_xml.h"

static void
test_parse_uploads(void **state)
{
	const char *doc =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		"<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
		"<Bucket>b</Bucket><KeyMarker></KeyMarker><NextKeyMarker>p/k2</NextKeyMarker>"
		"<NextUploadIdMarker>id2</NextUploadIdMarker><IsTruncated>true</IsTruncated>"
		"<Upload><Key>p/k1</Key><UploadId>id1</UploadId><Initiated>2026-11-26T04:00:00.000Z</Initiated></Upload>"
		"<Upload><Key>p/k2</Key><UploadId>id2</UploadId></Upload>"
		"</ListMultipartUploadsResult>";
	rb_s3_multipart_page page;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_list_multipart_uploads(doc, strlen(doc), &page, &err), 0);
	assert_int_equal(page.nuploads, 2);
	assert_string_equal(page.uploads[0].key, "p/k1");
	assert_string_equal(page.uploads[0].upload_id, "id1");
	assert_string_equal(page.uploads[0].initiated, "2026-11-26T04:00:00.000Z");
	assert_null(page.uploads[1].initiated);
	assert_true(page.is_truncated);
	assert_string_equal(page.next_key_marker, "p/k2");
	assert_string_equal(page.next_upload_id_marker, "id2");
	rb_s3_multipart_page_free(&page);
}

static void
test_parse_uploads_bad(void **state)
{
	const char *no_id = "<ListMultipartUploadsResult><Upload><Key>k</Key></Upload></ListMultipartUploadsResult>";
	const char *no_marker = "<ListMultipartUploadsResult><IsTruncated>true</IsTruncated></ListMultipartUploadsResult>";
	const char *other = "<ListBucketResult></ListBucketResult>";
	const char *empty = "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>";
	rb_s3_multipart_page page;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_list_multipart_uploads(no_id, strlen(no_id), &page, &err), -1);
	assert_int_equal(rb_s3_parse_list_multipart_uploads(no_marker, strlen(no_marker), &page, &err), -1);
	assert_int_equal(rb_s3_parse_list_multipart_uploads(other, strlen(other), &page, &err), -1);
	assert_int_equal(rb_s3_parse_list_multipart_uploads(empty, strlen(empty), &page, &err), 0);
	assert_int_equal(page.nuploads, 0);
	assert_false(page.is_truncated);
	rb_s3_multipart_page_free(&page);
}

static void
put(const char *dir, const char *name)
{
	char		path[512];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
}

static bool
exists(const char *dir, const char *name)
{
	char		path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void
test_file_deletions(void **state)
{
	char		dir[] = "/tmp/rb_sweep_XXXXXX";
	char		url[600];
	char		sub[600];
	rb_error	err;
	rb_destination *d;
	rb_retention_target b[2];
	rb_retention_target o[1];

	(void) state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/db", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	put(dir, "db/1.dump.zst");
	put(dir, "db/1.dump.zst.metadata.json");
	put(dir, "db/1.dump.zst.verified");
	put(dir, "db/2.dump.zst.metadata.json");	/* its dump is gone already */
	put(dir, "db/9.dump.zst");	/* an orphan */
	put(dir, "db/keep.dump.zst");
	snprintf(url, sizeof(url), "file://%s", dir);
	d = rb_destination_open(url, NULL, NULL, &err);
	assert_non_null(d);

	memset(b, 0, sizeof(b));
	memset(o, 0, sizeof(o));
	b[0].key = "db/1.dump.zst";
	b[1].key = "db/2.dump.zst";
	o[0].key = "db/9.dump.zst";
	assert_int_equal(rb_retention_delete(d, b, 2, o, 1, NULL), 0);
	assert_false(exists(dir, "db/1.dump.zst"));
	assert_false(exists(dir, "db/1.dump.zst.metadata.json"));
	assert_false(exists(dir, "db/1.dump.zst.verified"));
	assert_false(exists(dir, "db/2.dump.zst.metadata.json"));
	assert_false(exists(dir, "db/9.dump.zst"));
	assert_true(exists(dir, "db/keep.dump.zst"));
	assert_false(b[0].failed || b[1].failed || o[0].failed);

	/* a metadata object that cannot be deleted keeps its dump, and says why */
	put(dir, "db/3.dump.zst");
	snprintf(sub, sizeof(sub), "%s/db/3.dump.zst.metadata.json", dir);
	assert_int_equal(mkdir(sub, 0700), 0);	/* a directory: unlink fails */
	put(dir, "db/3.dump.zst.metadata.json/x");
	memset(b, 0, sizeof(b));
	b[0].key = "db/3.dump.zst";
	assert_int_equal(rb_retention_delete(d, b, 1, NULL, 0, NULL), 1);
	assert_true(b[0].failed);
	assert_true(b[0].failure[0] != '\0');
	assert_true(exists(dir, "db/3.dump.zst"));

	rb_destination_close(d);
	{
		char		cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		assert_int_equal(system(cmd), 0);
	}
}

static rb_destination *
fake_dest(fake_s3 *f)
{
	rb_destination_options opt;
	rb_error	err = {0};
	rb_destination *d;

	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "secret", 1);
	memset(&opt, 0, sizeof(opt));
	opt.s3_endpoint = f->endpoint;
	opt.s3_uri_style = "path";
	d = rb_destination_open("s3://b/pre", &opt, NULL, &err);
	if (d == NULL)
		fail_msg("%s", err.msg);
	return d;
}

static void
test_s3_batch_fallback(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_destination *d = fake_dest(f);
	const char *keys[] = {"1/i/db/a.dump.zst", "1/i/db/b.dump.zst"};
	bool		unsupported = false;
	rb_error	err = {0};

	(void) state;
	/* DeleteObjects: 501 once (not retried), then one DELETE per key */
	fake_s3_answer(f, 501, NULL, "<Error><Code>NotImplemented</Code><Message>no</Message></Error>");
	fake_s3_answer(f, 204, NULL, NULL);
	fake_s3_answer(f, 204, NULL, NULL);
	assert_int_equal(rb_destination_delete_keys(d, keys, 2, NULL, NULL, &unsupported, &err), 0);
	assert_true(unsupported);
	assert_int_equal(f->nreq, 3);
	assert_string_equal(f->req[0].line, "POST /b?delete= HTTP/1.1");
	assert_string_equal(f->req[1].line, "DELETE /b/pre/1/i/db/a.dump.zst HTTP/1.1");
	assert_string_equal(f->req[2].line, "DELETE /b/pre/1/i/db/b.dump.zst HTTP/1.1");
	rb_destination_close(d);
	fake_s3_stop(f);
}

static void
test_s3_stale_uploads(void **state)
{
	fake_s3    *f = fake_s3_start();
	rb_destination *d = fake_dest(f);
	size_t		aborted = 0;
	rb_error	err = {0};
	const char *listing =
		"<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
		"<Upload><Key>pre/1/i/db/old.dump.zst</Key><UploadId>u1</UploadId><Initiated>2020-01-01T00:00:00.000Z</Initiated></Upload>"
		"<Upload><Key>pre/1/i/db/new.dump.zst</Key><UploadId>u2</UploadId><Initiated>2030-01-01T00:00:00.000Z</Initiated></Upload>"
		"</ListMultipartUploadsResult>";

	(void) state;
	/* a server without ListMultipartUploads: one request, 501, no retries */
	fake_s3_answer(f, 501, NULL, "<Error><Code>NotImplemented</Code><Message>no</Message></Error>");
	assert_int_equal(rb_destination_abort_stale_uploads(d, "1/i/", 1700000000, &aborted, &err), -1);
	assert_int_equal(err.http_status, 501);
	assert_int_equal(f->nreq, 1);
	assert_string_equal(f->req[0].line, "GET /b?prefix=pre%2F1%2Fi%2F&uploads= HTTP/1.1");

	/* the old upload is aborted by its id, the recent one left alone */
	fake_s3_answer(f, 200, NULL, listing);
	fake_s3_answer(f, 204, NULL, NULL);
	rb_error_clear(&err);
	assert_int_equal(rb_destination_abort_stale_uploads(d, "1/i/", 1700000000, &aborted, &err), 0);
	assert_int_equal(aborted, 1);
	assert_int_equal(f->nreq, 3);
	assert_string_equal(f->req[2].line, "DELETE /b/pre/1/i/db/old.dump.zst?uploadId=u1 HTTP/1.1");
	rb_destination_close(d);
	fake_s3_stop(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_uploads),
		cmocka_unit_test(test_parse_uploads_bad),
		cmocka_unit_test(test_file_deletions),
		cmocka_unit_test(test_s3_batch_fallback),
		cmocka_unit_test(test_s3_stale_uploads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
