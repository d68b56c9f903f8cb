/*
 * s3_xml_fuzz.c — libFuzzer harness for the S3 XML reader and writer
 * (src/core/s3/s3_xml.c on the expat tree of s3_xml_tree.c, and s3_errors.c's
 * messages) and the SigV4 URL encoders (src/core/s3/s3_sigv4.c).
 *
 * Any input goes to every response parser.  A refusal must be RB_ERR_REMOTE with
 * a message and leave the result zeroed; an accepted document must give
 * well-formed results (no NULL keys, counts matching arrays, a token whenever a
 * listing is truncated).  The input, as a string, written with rb_xml_escape()
 * inside a DeleteResult, must come back identical when XML 1.0 can carry it (valid
 * UTF-8 without control characters other than tab, LF and CR) and be refused when
 * it cannot; and rb_sigv4_encode_path() must
 * produce only unreserved characters, "/" and %XX triplets that decode back to
 * the input.  Violations abort, which libFuzzer reports as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_buf.h"
#include "s3/s3_xml.h"
#include "s3/s3_sigv4.h"

static void
die(const char *what)
{
	fprintf(stderr, "s3_xml_fuzz: %s\n", what);
	abort();
}

static void
check_refusal(int rc, const rb_error *err)
{
	if (rc != -1)
		die("parser returned neither 0 nor -1");
	if (err->code == RB_OK || err->msg[0] == '\0')
		die("refusal without an error");
}

static bool
is_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;					/* lowercase hex is a bug here */
}

static void
check_path_encoding(const char *s)
{
	rb_buf		enc = RB_BUF_INIT;
	rb_buf		dec = RB_BUF_INIT;

	rb_sigv4_encode_path(s, &enc);
	for (size_t i = 0; i < enc.len; i++)
	{
		char		c = enc.data[i];

		if (c == '%')
		{
			if (i + 2 >= enc.len)
				die("truncated %XX");
			if (hexval(enc.data[i + 1]) < 0 || hexval(enc.data[i + 2]) < 0)
				die("bad %XX");
			rb_buf_append_char(&dec, (char) (hexval(enc.data[i + 1]) * 16 + hexval(enc.data[i + 2])));
			i += 2;
		}
		else if (c == '/' || is_unreserved((unsigned char) c))
			rb_buf_append_char(&dec, c);
		else
			die("reserved character left unencoded in a path");
	}
	if (strcmp(rb_buf_str(&dec), s[0] ? s : "/") != 0)
		die("path encoding does not decode back to the input");
	rb_buf_free(&enc);
	rb_buf_free(&dec);
}

/*
 * Whether s is a sequence of XML 1.0 characters in shortest-form UTF-8: #x9 | #xA |
 * #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
 */
static bool
xml_representable(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;

	while (*p)
	{
		uint32_t	cp;
		int			n;

		if (*p < 0x80)
			cp = *p, n = 0;
		else if ((*p & 0xE0) == 0xC0)
			cp = *p & 0x1F, n = 1;
		else if ((*p & 0xF0) == 0xE0)
			cp = *p & 0x0F, n = 2;
		else if ((*p & 0xF8) == 0xF0)
			cp = *p & 0x07, n = 3;
		else
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
		{
			if ((*p & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (*p & 0x3F);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
			return false;		/* overlong */
		if (cp < 0x20 && cp != 0x9 && cp != 0xA && cp != 0xD)
			return false;
		if ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF || cp > 0x10FFFF)
			return false;
	}
	return true;
}

static void
check_round_trip(const char *s)
{
	rb_buf		doc = RB_BUF_INIT;
	rb_s3_delete_result res;
	rb_error	err;
	int			rc;

	rb_buf_append_str(&doc, "<DeleteResult><Deleted><Key>");
	rb_xml_escape(s, &doc);
	rb_buf_append_str(&doc, "</Key></Deleted></DeleteResult>");
	memset(&err, 0, sizeof(err));
	rc = rb_s3_parse_delete_result(doc.data, doc.len, &res, &err);
	if (xml_representable(s))
	{
		if (rc != 0)
			die("an escaped string does not parse back");
		if (res.ndeleted != 1 || strcmp(res.deleted[0], s) != 0)
			die("an escaped string does not come back identical");
	}
	else
	{
		check_refusal(rc, &err);
		if (err.code != RB_ERR_REMOTE)
			die("a string XML cannot carry was not refused as a remote error");
	}
	rb_s3_delete_result_free(&res);
	rb_buf_free(&doc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *) data;
	rb_error	err;
	int			rc;

	{
		rb_s3_error_info info;

		memset(&err, 0, sizeof(err));
		rc = rb_s3_parse_error(body, size, &info, &err);
		if (rc != 0)
		{
			check_refusal(rc, &err);
			if (info.code[0] || info.message[0] || info.request_id[0])
				die("error info not cleared on refusal");
		}
		rb_s3_error_from_response(&err, 503, body, size);
		if (err.http_status != 503 || err.msg[0] == '\0')
			die("rb_s3_error_from_response left no message");
		for (const char *p = err.msg; *p; p++)
			if ((unsigned char) *p < 0x20)
				die("control character in an error message");
	}
	{
		rb_s3_list_page page;

		memset(&err, 0, sizeof(err));
		rc = rb_s3_parse_list_objects_v2(body, size, &page, &err);
		if (rc == 0)
		{
			if (page.nobjects > 0 && page.objects == NULL)
				die("objects missing");
			for (size_t i = 0; i < page.nobjects; i++)
				if (page.objects[i].key == NULL)
					die("object without key");
			for (size_t i = 0; i < page.ncommon_prefixes; i++)
				if (page.common_prefixes[i] == NULL)
					die("NULL common prefix");
			if (page.is_truncated && page.next_continuation_token == NULL)
				die("truncated without token");
		}
		else
		{
			check_refusal(rc, &err);
			if (page.objects != NULL || page.nobjects != 0 || page.next_continuation_token)
				die("list page not cleared on refusal");
		}
		rb_s3_list_page_free(&page);
	}
	{
		char	   *id = NULL;

		memset(&err, 0, sizeof(err));
		rc = rb_s3_parse_initiate_multipart(body, size, &id, &err);
		if (rc == 0 && (id == NULL || id[0] == '\0'))
			die("empty upload id accepted");
		if (rc != 0)
		{
			check_refusal(rc, &err);
			if (id != NULL)
				die("upload id set on refusal");
		}
		free(id);
	}
	{
		rb_s3_complete_result res;

		memset(&err, 0, sizeof(err));
		rc = rb_s3_parse_complete_multipart(body, size, &res, &err);
		if (rc == 0 && (res.etag == NULL || res.etag[0] == '\0'))
			die("complete without ETag accepted");
		if (rc != 0)
		{
			check_refusal(rc, &err);
			if (res.etag != NULL)
				die("complete result set on refusal");
		}
		rb_s3_complete_result_free(&res);
	}
	{
		rb_s3_delete_result res;

		memset(&err, 0, sizeof(err));
		rc = rb_s3_parse_delete_result(body, size, &res, &err);
		if (rc == 0)
		{
			for (size_t i = 0; i < res.ndeleted; i++)
				if (res.deleted[i] == NULL)
					die("NULL deleted key");
			for (size_t i = 0; i < res.nerrors; i++)
				if (!res.errors[i].key || !res.errors[i].code || !res.errors[i].message)
					die("incomplete delete error");
		}
		else
			check_refusal(rc, &err);
		rb_s3_delete_result_free(&res);
	}
	{
		/* the input as a C string (up to its first NUL) */
		char	   *s = malloc(size + 1);

		if (s == NULL)
			die("out of memory");
		memcpy(s, data, size);
		s[size] = '\0';
		check_round_trip(s);
		check_path_encoding(s);
		free(s);
	}
	return 0;
}
