/*
 * test_s3_xml.c — unit tests of the S3 XML reader and writer (src/core/s3/s3_xml.c on
 * the expat tree of s3_xml_tree.c; error classes and messages from s3_errors.c):
 * error documents, ListObjectsV2 pages with truncation and continuation tokens,
 * entities and CDATA, multipart initiate and complete (with S3's error inside a 200),
 * DeleteResult, malformed and hostile input (entity definitions, floods, bytes that
 * are not UTF-8) failing cleanly, and the request-body builders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "s3/s3_retry.h"
#include "s3/s3_xml.h"

#define S(lit) lit, sizeof(lit) - 1

static void
test_error_document(void **state)
{
	const char	body[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<Error><Code>SignatureDoesNotMatch</Code>"
		"<Message>The request signature we calculated does not match the signature you provided. Check your key and signing method.</Message>"
		"<AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId>"
		"<StringToSign>AWS4-HMAC-SHA256\n20130524T000000Z</StringToSign>"
		"<RequestId>4442587FB7D0A2F9</RequestId><HostId>abc=</HostId></Error>";
	rb_s3_error_info info;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_error(S(body), &info, &err), 0);
	assert_string_equal(info.code, "SignatureDoesNotMatch");
	assert_string_equal(info.message,
						"The request signature we calculated does not match the signature you provided. Check your key and signing method.");
	assert_string_equal(info.request_id, "4442587FB7D0A2F9");

	memset(&err, 0, sizeof(err));
	assert_int_equal(rb_s3_error_from_response(&err, 403, S(body)), -1);
	assert_int_equal(err.code, RB_ERR_AUTH);
	assert_int_equal(err.http_status, 403);
	assert_string_equal(err.remote_code, "SignatureDoesNotMatch");
	assert_string_equal(err.msg,
						"403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided. Check your key and signing method.");
	assert_false(rb_retry_should_retry(&err));
	rb_error_prefix(&err, "PUT s3://%s/%s: ", "b", "k");
	assert_memory_equal(err.msg, "PUT s3://b/k: 403 SignatureDoesNotMatch: ", 41);
}

static void
test_error_classes(void **state)
{
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_error_from_response(&err, 404,
											   S("<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>a&amp;b</Key></Error>")), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_string_equal(err.msg, "404 NoSuchKey: The specified key does not exist.");

	assert_int_equal(rb_s3_error_from_response(&err, 503,
											   S("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>")), -1);
	assert_int_equal(err.code, RB_ERR_REMOTE);
	assert_string_equal(err.remote_code, "SlowDown");
	assert_true(rb_retry_should_retry(&err));

	/* HEAD: no body at all */
	assert_int_equal(rb_s3_error_from_response(&err, 404, NULL, 0), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	assert_string_equal(err.msg, "404 Not Found");
	assert_string_equal(err.remote_code, "");
	/* a proxy's HTML page */
	assert_int_equal(rb_s3_error_from_response(&err, 502, S("<html><body>Bad gateway</body></html>")), -1);
	assert_int_equal(err.code, RB_ERR_REMOTE);
	assert_string_equal(err.msg, "502 Bad Gateway");
	assert_true(rb_retry_should_retry(&err));
	/* an unknown status */
	assert_int_equal(rb_s3_error_from_response(&err, 599, S("garbage")), -1);
	assert_string_equal(err.msg, "599 HTTP error");
	/* message with control characters is flattened */
	assert_int_equal(rb_s3_error_from_response(&err, 400,
											   S("<Error><Code>InvalidArgument</Code><Message>line1\nline2&#9;x</Message></Error>")), -1);
	assert_string_equal(err.msg, "400 InvalidArgument: line1 line2 x");
	assert_int_equal(rb_s3_error_from_response(&err, 400,
											   S("<Error><Code>Bad&#10;Code</Code></Error>")), -1);
	assert_string_equal(err.msg, "400 Bad Code");
	assert_string_equal(err.remote_code, "Bad Code");
	assert_int_equal(err.code, RB_ERR_REMOTE);
	assert_false(rb_retry_should_retry(&err));

	assert_int_equal(rb_s3_error_class("AccessDenied", 403), RB_ERR_AUTH);
	assert_int_equal(rb_s3_error_class("InvalidAccessKeyId", 403), RB_ERR_AUTH);
	assert_int_equal(rb_s3_error_class("NoSuchBucket", 404), RB_ERR_NOT_FOUND);
	assert_int_equal(rb_s3_error_class("NoSuchUpload", 404), RB_ERR_NOT_FOUND);
	assert_int_equal(rb_s3_error_class("BadDigest", 400), RB_ERR_INTEGRITY);
	assert_int_equal(rb_s3_error_class("InternalError", 500), RB_ERR_REMOTE);
	assert_int_equal(rb_s3_error_class(NULL, 403), RB_ERR_AUTH);
	assert_int_equal(rb_s3_error_class("", 500), RB_ERR_REMOTE);
	assert_string_equal(rb_http_reason_phrase(416), "Range Not Satisfiable");
	assert_string_equal(rb_http_reason_phrase(999), "");
}

static void
test_list_page(void **state)
{
	const char	body[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
		"<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\r\n"
		"  <Name>bucket</Name><Prefix>db/</Prefix><KeyCount>3</KeyCount><MaxKeys>3</MaxKeys>\n"
		"  <IsTruncated>true</IsTruncated>\n"
		"  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+</NextContinuationToken>\n"
		"  <Contents><Key>db/a.dump</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>"
		"<ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><Size>18446744073709551615</Size>"
		"<StorageClass>STANDARD</StorageClass></Contents>\n"
		"  <Contents><Key>db/ fish &amp; chips &lt;1&gt; &#233;&#x20AC;&#x1F600;</Key><Size>0</Size>"
		"<ETag>\"d41d8cd98f00b204e9800998ecf8427e\"</ETag></Contents>\n"
		"  <Contents><Key>  spaced  </Key><Size>12</Size><ETag>\"abc-2\"</ETag></Contents>\n"
		"  <CommonPrefixes><Prefix>db/sub/</Prefix></CommonPrefixes>\n"
		"</ListBucketResult>";
	rb_s3_list_page page;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_list_objects_v2(S(body), &page, &err), 0);
	assert_int_equal(page.nobjects, 3);
	assert_string_equal(page.objects[0].key, "db/a.dump");
	assert_true(page.objects[0].size == UINT64_MAX);
	assert_string_equal(page.objects[0].etag, "\"9b2cf535f27731c974343645a3985328\"");
	assert_string_equal(page.objects[0].last_modified, "2024-01-02T03:04:05.000Z");
	assert_string_equal(page.objects[1].key,
						"db/ fish & chips <1> \xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
	assert_true(page.objects[1].size == 0);
	assert_null(page.objects[1].last_modified);
	assert_string_equal(page.objects[2].key, "  spaced  ");	/* keys are not trimmed */
	assert_true(page.is_truncated);
	assert_string_equal(page.next_continuation_token,
						"1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=+");
	assert_int_equal(page.key_count, 3);
	assert_int_equal(page.ncommon_prefixes, 1);
	assert_string_equal(page.common_prefixes[0], "db/sub/");
	rb_s3_list_page_free(&page);
	assert_null(page.objects);
	rb_s3_list_page_free(&page);	/* twice is fine */
}

static void
test_list_last_page_and_empty(void **state)
{
	rb_s3_list_page page;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_list_objects_v2(
												 S("<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>"),
												 &page, &err), 0);
	assert_int_equal(page.nobjects, 0);
	assert_false(page.is_truncated);
	assert_null(page.next_continuation_token);
	assert_int_equal(page.key_count, 0);
	rb_s3_list_page_free(&page);

	/* self-closing elements and a namespace prefix */
	assert_int_equal(rb_s3_parse_list_objects_v2(
												 S("<s3:ListBucketResult xmlns:s3='x'><s3:Contents><s3:Key>k</s3:Key><s3:ETag/><s3:Size>5</s3:Size></s3:Contents></s3:ListBucketResult>"),
												 &page, &err), 0);
	assert_int_equal(page.nobjects, 1);
	assert_string_equal(page.objects[0].key, "k");
	assert_string_equal(page.objects[0].etag, "");
	assert_true(page.objects[0].size == 5);
	assert_int_equal(page.key_count, -1);
	rb_s3_list_page_free(&page);

	/* EncodingType=url: keys come percent-encoded */
	assert_int_equal(rb_s3_parse_list_objects_v2(
												 S("<ListBucketResult><EncodingType>url</EncodingType><Contents><Key>a+b%2Bc%C3%A9</Key><Size>1</Size></Contents></ListBucketResult>"),
												 &page, &err), 0);
	assert_string_equal(page.objects[0].key, "a b+c\xC3\xA9");
	rb_s3_list_page_free(&page);
}

static void
expect_list_fail(const char *body, const char *frag)
{
	rb_s3_list_page page;
	rb_error	err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(rb_s3_parse_list_objects_v2(body, strlen(body), &page, &err), -1);
	assert_int_equal(err.code, RB_ERR_REMOTE);
	if (strstr(err.msg, frag) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, frag);
	assert_null(page.objects);
	assert_int_equal(page.nobjects, 0);
	rb_s3_list_page_free(&page);
}

static void
test_list_invalid(void **state)
{
	(void) state;
	expect_list_fail("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",
					 "without <NextContinuationToken>");
	expect_list_fail("<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
					 "without <Key>");
	expect_list_fail("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents></ListBucketResult>",
					 "invalid <Size>");
	expect_list_fail("<ListBucketResult><Contents><Key>a</Key><Size>18446744073709551616</Size></Contents></ListBucketResult>",
					 "invalid <Size>");
	expect_list_fail("<ListBucketResult><IsTruncated>maybe</IsTruncated></ListBucketResult>",
					 "invalid <IsTruncated>");
	expect_list_fail("<Error><Code>AccessDenied</Code></Error>", "expected <ListBucketResult>, got <Error>");
}

static void
test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"   ",
		"just text",
		"<a>",
		"<a></b>",
		"<a><b></a></b>",
		"<a>x &bogus; y</a>",
		"<a>x & y</a>",
		"<a>&#0;</a>",
		"<a>&#xD800;</a>",
		"<a>&#x110000;</a>",
		"<a>&#12a;</a>",
		"<a>&amp</a>",
		"<a></a><b></b>",
		"<a></a>trailing",
		"</a>",
		"<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>",
		"<a><!-- unterminated </a>",
		"<a><![CDATA[ unterminated </a>",
		"<?xml version=\"1.0\"",
		"<a b></a>",
		"<a b=c></a>",
		"<a b=\"c></a>",
		"<a/ >",
		"< a></a>",
		"<a>\0</a>",
	};
	(void) state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		rb_s3_error_info info;
		rb_error	err;
		/* the last case has a NUL inside: its length is counted by hand */
		size_t		len = (i == sizeof(bad) / sizeof(bad[0]) - 1) ? 8 : strlen(bad[i]);

		memset(&err, 0, sizeof(err));
		if (rb_s3_parse_error(bad[i], len, &info, &err) != -1)
			fail_msg("case %zu (%s) parsed", i, bad[i]);
		assert_int_equal(err.code, RB_ERR_REMOTE);
		assert_non_null(strstr(err.msg, "could not parse S3 response"));
		assert_string_equal(info.code, "");
	}
	/* deep nesting is refused, not recursed into */
	{
		rb_buf		b = RB_BUF_INIT;
		rb_s3_error_info info;
		rb_error	err;

		for (int i = 0; i < 100; i++)
			rb_buf_append_str(&b, "<a>");
		for (int i = 0; i < 100; i++)
			rb_buf_append_str(&b, "</a>");
		assert_int_equal(rb_s3_parse_error(b.data, b.len, &info, &err), -1);
		assert_non_null(strstr(err.msg, "nested too deeply"));
		rb_buf_free(&b);
	}
}

static void
test_well_formed_extras(void **state)
{
	const char	body[] =
		"\xEF\xBB\xBF<?xml version='1.0'?><!-- c --><Error a='1' b=\"2\"  >"
		"<Code><![CDATA[Internal<Error>]]></Code><!-- inner -->"
		"<Message>a&#10;b&#x41;&apos;&quot;</Message></Error >\n<!-- after -->\n";
	rb_s3_error_info info;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_error(S(body), &info, &err), 0);
	assert_string_equal(info.code, "Internal<Error>");
	assert_string_equal(info.message, "a\nbA'\"");
	assert_string_equal(info.request_id, "");
}

/*
 * Hostile or odd bodies: entity definitions (billion laughs, an external entity) are
 * refused at the DOCTYPE, before any expansion; an element flood stops at the
 * element limit; undeclared namespace prefixes and bytes that are not UTF-8 are not
 * well-formed; whitespace before the declaration is skipped; a declared encoding
 * does not change how the bytes are read (UTF-8).
 */
static void
test_hostile(void **state)
{
	static const char *const refused[][2] = {
		{"<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
			"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
			"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">]>"
			"<Error><Code>&lol3;</Code></Error>", "DOCTYPE"},
		{"<!DOCTYPE Error SYSTEM \"file:///etc/passwd\"><Error><Code>x</Code></Error>", "DOCTYPE"},
		{"<!DOCTYPE Error [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><Error><Code>&x;</Code></Error>",
			"DOCTYPE"},
		{"<s3:Error><s3:Code>x</s3:Code></s3:Error>", "could not parse S3 response"},
		{"<Error><Code>\xff</Code></Error>", "could not parse S3 response"},
		{"<Error><Code>&#1;</Code></Error>", "could not parse S3 response"},
	};
	rb_s3_error_info info;
	rb_error	err;

	(void) state;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
	{
		memset(&err, 0, sizeof(err));
		if (rb_s3_parse_error(refused[i][0], strlen(refused[i][0]), &info, &err) != -1)
			fail_msg("case %zu parsed", i);
		assert_int_equal(err.code, RB_ERR_REMOTE);
		if (strstr(err.msg, refused[i][1]) == NULL)
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err.msg, refused[i][1]);
		assert_string_equal(info.code, "");
	}

	/* an element flood: refused at RB_XML_MAX_ELEMENTS (200,000), not built */
	{
		rb_buf		b = RB_BUF_INIT;
		rb_s3_list_page page;

		rb_buf_append_str(&b, "<ListBucketResult>");
		for (int i = 0; i < 200000; i++)
			rb_buf_append_str(&b, "<a/>");
		rb_buf_append_str(&b, "</ListBucketResult>");
		assert_int_equal(rb_s3_parse_list_objects_v2(b.data, b.len, &page, &err), -1);
		assert_non_null(strstr(err.msg, "too many elements"));
		assert_null(page.objects);
		rb_buf_free(&b);
	}

	/* padding before the declaration is skipped */
	assert_int_equal(rb_s3_parse_error(
									   S("\n   <?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code></Error>"),
									   &info, &err), 0);
	assert_string_equal(info.code, "SlowDown");

	/* the declaration says Latin-1; the bytes are read as UTF-8 all the same */
	assert_int_equal(rb_s3_parse_error(
									   S("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><Error><Code>\xC3\xA9</Code></Error>"),
									   &info, &err), 0);
	assert_string_equal(info.code, "\xC3\xA9");
}

static void
test_initiate(void **state)
{
	char	   *id = (char *) "untouched";
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_initiate_multipart(
													S("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>b</Bucket><Key>db/x</Key><UploadId>VXBsb2FkIElE+/=</UploadId></InitiateMultipartUploadResult>"),
													&id, &err), 0);
	assert_string_equal(id, "VXBsb2FkIElE+/=");
	free(id);
	assert_int_equal(rb_s3_parse_initiate_multipart(
													S("<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>"),
													&id, &err), -1);
	assert_null(id);
	assert_non_null(strstr(err.msg, "no <UploadId>"));
	assert_int_equal(rb_s3_parse_initiate_multipart(S("<Error><Code>AccessDenied</Code></Error>"),
													&id, &err), -1);
	assert_null(id);
}

static void
test_complete(void **state)
{
	rb_s3_complete_result res;
	rb_error	err;

	(void) state;
	/* S3 may pad with whitespace while it works before sending the document */
	assert_int_equal(rb_s3_parse_complete_multipart(
													S("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n          \n"
													  "<CompleteMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
													  "<Location>http://b.s3.amazonaws.com/db/x</Location><Bucket>b</Bucket><Key>db/x</Key>"
													  "<ETag>\"3858f62230ac3c915f300c664312c11f-9\"</ETag></CompleteMultipartUploadResult>"),
													&res, &err), 0);
	assert_string_equal(res.etag, "\"3858f62230ac3c915f300c664312c11f-9\"");
	assert_string_equal(res.location, "http://b.s3.amazonaws.com/db/x");
	assert_string_equal(res.bucket, "b");
	assert_string_equal(res.key, "db/x");
	rb_s3_complete_result_free(&res);
	assert_null(res.etag);

	/* 200 OK with an error inside: a failure, retryable */
	memset(&err, 0, sizeof(err));
	assert_int_equal(rb_s3_parse_complete_multipart(
													S("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n"
													  "<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message>"
													  "<RequestId>656c76696e6727732072657175657374</RequestId></Error>"),
													&res, &err), -1);
	assert_null(res.etag);
	assert_int_equal(err.code, RB_ERR_REMOTE);
	assert_int_equal(err.http_status, 200);
	assert_string_equal(err.remote_code, "InternalError");
	assert_string_equal(err.msg, "200 InternalError: We encountered an internal error. Please try again.");
	assert_true(rb_retry_should_retry(&err));

	/* an error that cannot succeed by retrying */
	assert_int_equal(rb_s3_parse_complete_multipart(
													S("<Error><Code>InvalidPart</Code><Message>One or more of the specified parts could not be found.</Message></Error>"),
													&res, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	assert_false(rb_retry_should_retry(&err));

	/* no ETag, or a truncated body */
	assert_int_equal(rb_s3_parse_complete_multipart(
													S("<CompleteMultipartUploadResult><Key>k</Key></CompleteMultipartUploadResult>"),
													&res, &err), -1);
	assert_non_null(strstr(err.msg, "no <ETag>"));
	assert_int_equal(rb_s3_parse_complete_multipart(
													S("<CompleteMultipartUploadResult><ETag>\"x\"</ETag>"), &res, &err), -1);
	assert_non_null(strstr(err.msg, "unexpected end"));
	assert_null(res.etag);
}

static void
test_delete_result(void **state)
{
	rb_s3_delete_result res;
	rb_error	err;

	(void) state;
	assert_int_equal(rb_s3_parse_delete_result(
											   S("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
												 "<DeleteResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
												 "<Deleted><Key>a</Key></Deleted>"
												 "<Error><Key>b &amp; c</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
												 "<Deleted><Key>d</Key><VersionId>1</VersionId></Deleted>"
												 "<Error><Key>e</Key></Error>"
												 "</DeleteResult>"),
											   &res, &err), 0);
	assert_int_equal(res.ndeleted, 2);
	assert_string_equal(res.deleted[0], "a");
	assert_string_equal(res.deleted[1], "d");
	assert_int_equal(res.nerrors, 2);
	assert_string_equal(res.errors[0].key, "b & c");
	assert_string_equal(res.errors[0].code, "AccessDenied");
	assert_string_equal(res.errors[0].message, "Access Denied");
	assert_string_equal(res.errors[1].key, "e");
	assert_string_equal(res.errors[1].code, "InternalError");
	assert_string_equal(res.errors[1].message, "");
	rb_s3_delete_result_free(&res);

	/* quiet mode: nothing to report */
	assert_int_equal(rb_s3_parse_delete_result(S("<DeleteResult/>"), &res, &err), 0);
	assert_int_equal(res.ndeleted, 0);
	assert_int_equal(res.nerrors, 0);
	rb_s3_delete_result_free(&res);

	assert_int_equal(rb_s3_parse_delete_result(S("<DeleteResult><Deleted>"), &res, &err), -1);
	assert_null(res.deleted);
}

static void
test_escape_and_builders(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	const char *etags[] = {"\"e1\"", "e2"};
	const char *keys[] = {"db/a&b<c>\"d'", "tab\there\r\n"};

	(void) state;
	rb_xml_escape("plain/\xC3\xA9 text", &b);
	assert_string_equal(rb_buf_str(&b), "plain/\xC3\xA9 text");
	rb_buf_reset(&b);
	rb_xml_escape("<&>\"'\x01", &b);
	assert_string_equal(rb_buf_str(&b), "&lt;&amp;&gt;&quot;&apos;&#1;");
	rb_buf_reset(&b);

	rb_s3_build_complete_body(etags, 2, &b);
	assert_string_equal(rb_buf_str(&b),
						"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
						"<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
						"<Part><PartNumber>1</PartNumber><ETag>&quot;e1&quot;</ETag></Part>"
						"<Part><PartNumber>2</PartNumber><ETag>e2</ETag></Part>"
						"</CompleteMultipartUpload>");
	rb_buf_reset(&b);

	rb_s3_build_delete_body(keys, 2, true, &b);
	assert_string_equal(rb_buf_str(&b),
						"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
						"<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>"
						"<Object><Key>db/a&amp;b&lt;c&gt;&quot;d&apos;</Key></Object>"
						"<Object><Key>tab&#9;here&#13;&#10;</Key></Object></Delete>");

	/* round trip: what we write, we read back identically */
	{
		rb_buf		doc = RB_BUF_INIT;
		rb_s3_delete_result res;
		rb_error	err;

		rb_buf_append_str(&doc, "<DeleteResult>");
		for (int i = 0; i < 2; i++)
		{
			rb_buf_append_str(&doc, "<Deleted><Key>");
			rb_xml_escape(keys[i], &doc);
			rb_buf_append_str(&doc, "</Key></Deleted>");
		}
		rb_buf_append_str(&doc, "</DeleteResult>");
		assert_int_equal(rb_s3_parse_delete_result(doc.data, doc.len, &res, &err), 0);
		assert_int_equal(res.ndeleted, 2);
		assert_string_equal(res.deleted[0], keys[0]);
		assert_string_equal(res.deleted[1], keys[1]);
		rb_s3_delete_result_free(&res);
		rb_buf_free(&doc);
	}
	rb_buf_free(&b);
}

static void
test_large_listing(void **state)
{
	rb_buf		doc = RB_BUF_INIT;
	rb_s3_list_page page;
	rb_error	err;

	(void) state;
	rb_buf_append_str(&doc, "<ListBucketResult><IsTruncated>false</IsTruncated><KeyCount>1000</KeyCount>");
	for (int i = 0; i < 1000; i++)
		rb_buf_appendf(&doc, "<Contents><Key>db/key-%04d</Key><Size>%d</Size><ETag>\"x\"</ETag></Contents>",
					   i, i * 10);
	rb_buf_append_str(&doc, "</ListBucketResult>");
	assert_int_equal(rb_s3_parse_list_objects_v2(doc.data, doc.len, &page, &err), 0);
	assert_int_equal(page.nobjects, 1000);
	assert_string_equal(page.objects[999].key, "db/key-0999");
	assert_true(page.objects[999].size == 9990);
	rb_s3_list_page_free(&page);
	rb_buf_free(&doc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_document),
		cmocka_unit_test(test_error_classes),
		cmocka_unit_test(test_list_page),
		cmocka_unit_test(test_list_last_page_and_empty),
		cmocka_unit_test(test_list_invalid),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_well_formed_extras),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_initiate),
		cmocka_unit_test(test_complete),
		cmocka_unit_test(test_delete_result),
		cmocka_unit_test(test_escape_and_builders),
		cmocka_unit_test(test_large_listing),
	};

	return cmocka_run_group_tests_name("s3_xml", tests, NULL, NULL);
}
