/*
 * test_s3_url.c — unit tests of S3 endpoints and request targets (src/core/s3/s3_url.c):
 * AWS's default endpoint per region, custom endpoints with and without ports,
 * path-style and virtual-hosted addressing (and the automatic choice), the Host
 * header and raw path that SigV4 signs, the URL built with the same encoders,
 * and the refusals of bad endpoints, buckets, keys and regions.  No network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "rb_buf.h"
#include "s3/s3_url.h"

/* Builds host, path and URL for key (NULL = bucket) with the given query. */
static void
target(const rb_s3_endpoint *ep, const char *bucket, const char *key, const rb_kv *q, size_t nq,
	   rb_buf *host, rb_buf *path, rb_buf *url)
{
	rb_s3_target(ep, bucket, key, host, path);
	rb_s3_build_url(ep, rb_buf_str(host), rb_buf_str(path), q, nq, url);
}

static void
test_aws_default_virtual(void **state)
{
	rb_s3_endpoint ep;
	rb_error	err;
	rb_buf		host = RB_BUF_INIT, path = RB_BUF_INIT, url = RB_BUF_INIT;

	rb_error_clear(&err);
	assert_int_equal(rb_s3_endpoint_init(&ep, NULL, "eu-west-1", "my-backups", RB_S3_URI_AUTO, &err), 0);
	assert_true(ep.is_aws);
	assert_true(ep.virtual_host);
	assert_string_equal(ep.normalized, "https://s3.eu-west-1.amazonaws.com");
	target(&ep, "my-backups", "db/x y+z.dump", NULL, 0, &host, &path, &url);
	assert_string_equal(rb_buf_str(&host), "my-backups.s3.eu-west-1.amazonaws.com");
	assert_string_equal(rb_buf_str(&path), "/db/x y+z.dump");
	assert_string_equal(rb_buf_str(&url), "https://my-backups.s3.eu-west-1.amazonaws.com/db/x%20y%2Bz.dump");
	rb_buf_free(&host);
	rb_buf_free(&path);
	rb_buf_free(&url);
}

static void
test_aws_default_region(void **state)
{
	rb_s3_endpoint ep;
	rb_error	err;

	rb_error_clear(&err);
	assert_int_equal(rb_s3_endpoint_init(&ep, "", NULL, "b", RB_S3_URI_PATH, &err), 0);
	assert_string_equal(ep.normalized, "https://s3.us-east-1.amazonaws.com");
	assert_false(ep.virtual_host);
}

static void
test_aws_dotted_bucket_is_path_style(void **state)
{
	rb_s3_endpoint ep;
	rb_error	err;
	rb_buf		host = RB_BUF_INIT, path = RB_BUF_INIT, url = RB_BUF_INIT;

	rb_error_clear(&err);
	assert_int_equal(rb_s3_endpoint_init(&ep, NULL, "us-east-1", "backups.example.com", RB_S3_URI_AUTO, &err), 0);
	assert_false(ep.virtual_host);
	target(&ep, "backups.example.com", "k", NULL, 0, &host, &path, &url);
	assert_string_equal(rb_buf_str(&url), "https://s3.us-east-1.amazonaws.com/backups.example.com/k");
	rb_buf_free(&host);
	rb_buf_free(&path);
	rb_buf_free(&url);
}

static void
test_custom_endpoint_path_style(void **state)
{
	rb_s3_endpoint ep;
	rb_error	err;
	rb_buf		host = RB_BUF_INIT, path = RB_BUF_INIT, url = RB_BUF_INIT;
	rb_kv		q[] = {{"uploadId", "a/b=c"}, {"partNumber", "3"}};

	rb_error_clear(&err);
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://127.0.0.1:4568/", "us-east-1", "test", RB_S3_URI_AUTO, &err), 0);
	assert_false(ep.is_aws);
	assert_false(ep.virtual_host);
	assert_string_equal(ep.normalized, "http://127.0.0.1:4568");
	target(&ep, "test", "dir/ä~_.-!", q, 2, &host, &path, &url);
	assert_string_equal(rb_buf_str(&host), "127.0.0.1:4568");
	assert_string_equal(rb_buf_str(&path), "/test/dir/ä~_.-!");
	/* path encoded once per segment, query sorted with every value encoded */
	assert_string_equal(rb_buf_str(&url),
						"http://127.0.0.1:4568/test/dir/%C3%A4~_.-%21?partNumber=3&uploadId=a%2Fb%3Dc");
	rb_buf_free(&host);
	rb_buf_free(&path);
	rb_buf_free(&url);
}

static void
test_bucket_level_targets(void **state)
{
	rb_s3_endpoint ep;
	rb_error	err;
	rb_buf		host = RB_BUF_INIT, path = RB_BUF_INIT, url = RB_BUF_INIT;
	rb_kv		q[] = {{"list-type", "2"}, {"continuation-token", "1/2 3"}, {"prefix", ""}};

	rb_error_clear(&err);
	assert_int_equal(rb_s3_endpoint_init(&ep, "https://minio.local:9000", NULL, "b", RB_S3_URI_PATH, &err), 0);
	target(&ep, "b", NULL, q, 3, &host, &path, &url);
	assert_string_equal(rb_buf_str(&path), "/b");
	assert_string_equal(rb_buf_str(&url),
						"https://minio.local:9000/b?continuation-token=1%2F2%203&list-type=2&prefix=");
	rb_buf_free(&host);
	rb_buf_free(&path);
	rb_buf_free(&url);

	/* virtual-hosted: the bucket is in the host, the path is "/" */
	assert_int_equal(rb_s3_endpoint_init(&ep, "https://r2.example.com", NULL, "b", RB_S3_URI_VIRTUAL, &err), 0);
	target(&ep, "b", NULL, NULL, 0, &host, &path, &url);
	assert_string_equal(rb_buf_str(&host), "b.r2.example.com");
	assert_string_equal(rb_buf_str(&path), "/");
	assert_string_equal(rb_buf_str(&url), "https://b.r2.example.com/");
	rb_buf_free(&host);
	rb_buf_free(&path);
	rb_buf_free(&url);
}

static void
test_default_ports_are_dropped(void **state)
{
	rb_s3_endpoint ep;
	rb_error	err;
	rb_buf		host = RB_BUF_INIT, path = RB_BUF_INIT;

	rb_error_clear(&err);
	assert_int_equal(rb_s3_endpoint_init(&ep, "https://S3.Example.COM:443", NULL, "b", RB_S3_URI_PATH, &err), 0);
	assert_int_equal(ep.port, 0);
	assert_string_equal(ep.normalized, "https://s3.example.com");
	rb_s3_target(&ep, "b", "k", &host, &path);
	assert_string_equal(rb_buf_str(&host), "s3.example.com");
	rb_buf_free(&host);
	rb_buf_free(&path);

	assert_int_equal(rb_s3_endpoint_init(&ep, "http://h:80", NULL, "b", RB_S3_URI_PATH, &err), 0);
	assert_string_equal(ep.normalized, "http://h");
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://h:443", NULL, "b", RB_S3_URI_PATH, &err), 0);
	assert_string_equal(ep.normalized, "http://h:443");
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://[::1]:9000", NULL, "b", RB_S3_URI_PATH, &err), 0);
	assert_string_equal(ep.normalized, "http://[::1]:9000");
}

static void
test_bad_endpoints(void **state)
{
	rb_s3_endpoint ep;
	rb_error	err;

	rb_error_clear(&err);
	assert_int_equal(rb_s3_endpoint_init(&ep, "ftp://x", NULL, "b", RB_S3_URI_AUTO, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, "invalid S3 endpoint \"ftp://x\": scheme must be http or https");
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://", NULL, "b", RB_S3_URI_AUTO, &err), -1);
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://h:0", NULL, "b", RB_S3_URI_AUTO, &err), -1);
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://h:99999", NULL, "b", RB_S3_URI_AUTO, &err), -1);
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://h/prefix", NULL, "b", RB_S3_URI_AUTO, &err), -1);
	assert_non_null(strstr(err.msg, "a path is not allowed"));
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://user:pw@h", NULL, "b", RB_S3_URI_AUTO, &err), -1);
	/* the password is not echoed back */
	assert_null(strstr(err.msg, "pw"));
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://h a", NULL, "b", RB_S3_URI_AUTO, &err), -1);
	assert_int_equal(rb_s3_endpoint_init(&ep, "http://127.0.0.1:9000", NULL, "b", RB_S3_URI_VIRTUAL, &err), -1);
	assert_non_null(strstr(err.msg, "virtual-hosted style needs a host name"));
	assert_int_equal(rb_s3_endpoint_init(&ep, NULL, NULL, "Upper_Case", RB_S3_URI_VIRTUAL, &err), -1);
	assert_non_null(strstr(err.msg, "cannot be used with virtual-hosted style"));
	/* AUTO with such a bucket on AWS also refuses rather than sending a bad host */
	assert_int_equal(rb_s3_endpoint_init(&ep, NULL, NULL, "Upper_Case", RB_S3_URI_AUTO, &err), -1);
	assert_int_equal(rb_s3_endpoint_init(&ep, NULL, NULL, "Upper_Case", RB_S3_URI_PATH, &err), 0);
}

static void
test_names(void **state)
{
	rb_error	err;
	char		longkey[RB_S3_MAX_KEY_LEN + 2];
	rb_s3_uri_style style;

	rb_error_clear(&err);
	assert_int_equal(rb_s3_bucket_validate("", &err), -1);
	assert_string_equal(err.msg, "S3 bucket name is empty");
	assert_int_equal(rb_s3_bucket_validate("a/b", &err), -1);
	assert_int_equal(rb_s3_bucket_validate("a b", &err), -1);
	assert_int_equal(rb_s3_bucket_validate("my-bucket.2", &err), 0);

	assert_int_equal(rb_s3_key_validate("", &err), -1);
	assert_int_equal(rb_s3_key_validate("a\nb", &err), -1);
	assert_string_equal(err.msg, "S3 object key contains a control character");
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_int_equal(rb_s3_key_validate(longkey, &err), -1);
	longkey[RB_S3_MAX_KEY_LEN] = '\0';
	assert_int_equal(rb_s3_key_validate(longkey, &err), 0);
	assert_int_equal(rb_s3_key_validate("ünïcödé/ key", &err), 0);

	assert_int_equal(rb_s3_region_validate("eu-central-1", &err), 0);
	assert_int_equal(rb_s3_region_validate("eu central", &err), -1);
	assert_int_equal(rb_s3_region_validate("", &err), -1);

	assert_int_equal(rb_s3_uri_style_parse("path", &style, &err), 0);
	assert_int_equal(style, RB_S3_URI_PATH);
	assert_int_equal(rb_s3_uri_style_parse("virtual", &style, &err), 0);
	assert_int_equal(style, RB_S3_URI_VIRTUAL);
	assert_int_equal(rb_s3_uri_style_parse(NULL, &style, &err), 0);
	assert_int_equal(style, RB_S3_URI_AUTO);
	assert_int_equal(rb_s3_uri_style_parse("vhost", &style, &err), -1);
	assert_string_equal(err.msg, "invalid S3 URI style \"vhost\": must be path, virtual or auto");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aws_default_virtual),
		cmocka_unit_test(test_aws_default_region),
		cmocka_unit_test(test_aws_dotted_bucket_is_path_style),
		cmocka_unit_test(test_custom_endpoint_path_style),
		cmocka_unit_test(test_bucket_level_targets),
		cmocka_unit_test(test_default_ports_are_dropped),
		cmocka_unit_test(test_bad_endpoints),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests_name("s3_url", tests, NULL, NULL);
}
