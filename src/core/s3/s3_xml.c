/*
 * s3_xml.c — the fields of each S3 answer this project reads, taken from the element
 * tree that expat builds (s3_xml_tree.h), and the request bodies it writes (see
 * s3_xml.h).
 */
#include "s3_xml.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"
#include "rb_crypto.h"
#include "s3_xml_tree.h"

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* --- helpers ---------------------------------------------------------------------- */

static char *
child_dup(const rb_xml_node *n, const char *name)
{
	const char *t = rb_xml_child_text(n, name);

	return t ? rb_strdup(t) : NULL;
}

/* Copies src into dst[size], truncating at a UTF-8 character boundary. */
static void
copy_trunc(char *dst, size_t size, const char *src)
{
	size_t		n = strlen(src ? src : "");

	if (n >= size)
	{
		n = size - 1;
		while (n > 0 && ((unsigned char) src[n] & 0xC0) == 0x80)
			n--;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

static const char *
trimmed(const char *s, size_t *n)
{
	while (*s && is_space(*s))
		s++;
	*n = strlen(s);
	while (*n > 0 && is_space(s[*n - 1]))
		(*n)--;
	return s;
}

static bool
text_is(const char *t, const char *want)
{
	size_t		n;
	const char *s;

	if (t == NULL)
		return false;
	s = trimmed(t, &n);
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

static int
parse_u64(const char *t, uint64_t *out)
{
	size_t		n;
	const char *s = trimmed(t, &n);
	uint64_t	v = 0;

	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++)
	{
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t) (s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t) (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
wrong_document(rb_error *err, const rb_xml_node *root, const char *want)
{
	return rb_error_set(err, RB_ERR_REMOTE,
						"could not parse S3 response: expected <%s>, got <%.64s>",
						want, root->name);
}

/* --- errors ---------------------------------------------------------------------- */

static void
error_info_from_node(const rb_xml_node *root, rb_s3_error_info *out)
{
	copy_trunc(out->code, sizeof(out->code), rb_xml_child_text(root, "Code"));
	copy_trunc(out->message, sizeof(out->message), rb_xml_child_text(root, "Message"));
	copy_trunc(out->request_id, sizeof(out->request_id), rb_xml_child_text(root, "RequestId"));
}

int
rb_s3_parse_error(const char *body, size_t len, rb_s3_error_info *out, rb_error *err)
{
	rb_xml_node *root;

	memset(out, 0, sizeof(*out));
	if (rb_xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "Error") != 0)
	{
		wrong_document(err, root, "Error");
		rb_xml_free(root);
		return -1;
	}
	error_info_from_node(root, out);
	rb_xml_free(root);
	return 0;
}

int
rb_s3_error_from_response(rb_error *err, int http_status, const char *body, size_t len)
{
	rb_s3_error_info info;
	rb_error	ignored;

	if (body != NULL && len > 0 &&
		rb_s3_parse_error(body, len, &info, &ignored) == 0 && info.code[0] != '\0')
		return rb_s3_error_from_info(err, http_status, &info);
	return rb_s3_error_from_info(err, http_status, NULL);
}

/* --- ListObjectsV2 --------------------------------------------------------------- */

/* Decodes EncodingType=url values in place (%XX, and '+' as space). */
static void
url_decode_inplace(char *s)
{
	char	   *o = s;

	for (char *i = s; *i; i++)
	{
		if (*i == '%' && rb_hex_digit(i[1]) >= 0 && rb_hex_digit(i[2]) >= 0)
		{
			*o++ = (char) (rb_hex_digit(i[1]) * 16 + rb_hex_digit(i[2]));
			i += 2;
		}
		else if (*i == '+')
			*o++ = ' ';
		else
			*o++ = *i;
	}
	*o = '\0';
}

void
rb_s3_list_page_free(rb_s3_list_page *page)
{
	if (page == NULL)
		return;
	for (size_t i = 0; i < page->nobjects; i++)
	{
		free(page->objects[i].key);
		free(page->objects[i].etag);
		free(page->objects[i].last_modified);
	}
	free(page->objects);
	for (size_t i = 0; i < page->ncommon_prefixes; i++)
		free(page->common_prefixes[i]);
	free(page->common_prefixes);
	free(page->next_continuation_token);
	memset(page, 0, sizeof(*page));
	page->key_count = -1;
}

int
rb_s3_parse_list_objects_v2(const char *body, size_t len, rb_s3_list_page *out,
							rb_error *err)
{
	rb_xml_node *root;
	const rb_xml_node *c;
	size_t		n = 0;
	bool		url_encoded;
	const char *t;

	memset(out, 0, sizeof(*out));
	out->key_count = -1;
	if (rb_xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "ListBucketResult") != 0)
	{
		wrong_document(err, root, "ListBucketResult");
		rb_xml_free(root);
		return -1;
	}
	url_encoded = text_is(rb_xml_child_text(root, "EncodingType"), "url");

	for (c = rb_xml_child(root, "Contents"); c != NULL; c = rb_xml_next(c, "Contents"))
		n++;
	out->objects = n ? rb_calloc(n, sizeof(rb_s3_object)) : NULL;
	for (c = rb_xml_child(root, "Contents"); c != NULL; c = rb_xml_next(c, "Contents"))
	{
		rb_s3_object *o = &out->objects[out->nobjects];

		t = rb_xml_child_text(c, "Key");
		if (t == NULL)
		{
			rb_error_set(err, RB_ERR_REMOTE,
						 "could not parse S3 response: <Contents> without <Key>");
			goto fail;
		}
		o->key = rb_strdup(t);
		if (url_encoded)
			url_decode_inplace(o->key);
		o->etag = child_dup(c, "ETag");
		o->last_modified = child_dup(c, "LastModified");
		out->nobjects++;
		t = rb_xml_child_text(c, "Size");
		if (t != NULL && parse_u64(t, &o->size) != 0)
		{
			rb_error_set(err, RB_ERR_REMOTE,
						 "could not parse S3 response: invalid <Size> for key \"%.200s\"",
						 o->key);
			goto fail;
		}
	}

	n = 0;
	for (c = rb_xml_child(root, "CommonPrefixes"); c != NULL; c = rb_xml_next(c, "CommonPrefixes"))
		n++;
	out->common_prefixes = n ? rb_calloc(n, sizeof(char *)) : NULL;
	for (c = rb_xml_child(root, "CommonPrefixes"); c != NULL; c = rb_xml_next(c, "CommonPrefixes"))
	{
		t = rb_xml_child_text(c, "Prefix");
		if (t == NULL)
			continue;
		out->common_prefixes[out->ncommon_prefixes] = rb_strdup(t);
		if (url_encoded)
			url_decode_inplace(out->common_prefixes[out->ncommon_prefixes]);
		out->ncommon_prefixes++;
	}

	t = rb_xml_child_text(root, "IsTruncated");
	if (t != NULL && !text_is(t, "true") && !text_is(t, "false"))
	{
		rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: invalid <IsTruncated>");
		goto fail;
	}
	out->is_truncated = text_is(t, "true");
	t = rb_xml_child_text(root, "NextContinuationToken");
	if (t != NULL && t[0] != '\0')
		out->next_continuation_token = rb_strdup(t);
	if (out->is_truncated && out->next_continuation_token == NULL)
	{
		rb_error_set(err, RB_ERR_REMOTE,
					 "could not parse S3 response: truncated listing without <NextContinuationToken>");
		goto fail;
	}
	t = rb_xml_child_text(root, "KeyCount");
	if (t != NULL)
	{
		uint64_t	kc;

		if (parse_u64(t, &kc) != 0 || kc > (uint64_t) 1 << 40)
		{
			rb_error_set(err, RB_ERR_REMOTE, "could not parse S3 response: invalid <KeyCount>");
			goto fail;
		}
		out->key_count = (long) kc;
	}
	rb_xml_free(root);
	return 0;

fail:
	rb_xml_free(root);
	rb_s3_list_page_free(out);
	return -1;
}

/* --- multipart upload ------------------------------------------------------------- */

int
rb_s3_parse_initiate_multipart(const char *body, size_t len, char **upload_id,
							   rb_error *err)
{
	rb_xml_node *root;
	const char *t;

	*upload_id = NULL;
	if (rb_xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "InitiateMultipartUploadResult") != 0)
	{
		wrong_document(err, root, "InitiateMultipartUploadResult");
		rb_xml_free(root);
		return -1;
	}
	t = rb_xml_child_text(root, "UploadId");
	if (t == NULL || t[0] == '\0')
	{
		rb_xml_free(root);
		return rb_error_set(err, RB_ERR_REMOTE,
							"could not parse S3 response: no <UploadId> in InitiateMultipartUploadResult");
	}
	*upload_id = rb_strdup(t);
	rb_xml_free(root);
	return 0;
}

void
rb_s3_complete_result_free(rb_s3_complete_result *res)
{
	if (res == NULL)
		return;
	free(res->location);
	free(res->bucket);
	free(res->key);
	free(res->etag);
	memset(res, 0, sizeof(*res));
}

int
rb_s3_parse_complete_multipart(const char *body, size_t len, rb_s3_complete_result *out,
							   rb_error *err)
{
	rb_xml_node *root;
	const char *t;

	memset(out, 0, sizeof(*out));
	if (rb_xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "Error") == 0)
	{
		rb_s3_error_info info;

		/* S3 sent 200 and then failed: an error like any other */
		error_info_from_node(root, &info);
		rb_xml_free(root);
		if (info.code[0] == '\0')
			copy_trunc(info.code, sizeof(info.code), "InternalError");
		return rb_s3_error_from_info(err, 200, &info);
	}
	if (strcmp(root->name, "CompleteMultipartUploadResult") != 0)
	{
		wrong_document(err, root, "CompleteMultipartUploadResult");
		rb_xml_free(root);
		return -1;
	}
	t = rb_xml_child_text(root, "ETag");
	if (t == NULL || t[0] == '\0')
	{
		rb_xml_free(root);
		return rb_error_set(err, RB_ERR_REMOTE,
							"could not parse S3 response: no <ETag> in CompleteMultipartUploadResult");
	}
	out->etag = rb_strdup(t);
	out->location = child_dup(root, "Location");
	out->bucket = child_dup(root, "Bucket");
	out->key = child_dup(root, "Key");
	rb_xml_free(root);
	return 0;
}

/* --- DeleteObjects ---------------------------------------------------------------- */

void
rb_s3_delete_result_free(rb_s3_delete_result *res)
{
	if (res == NULL)
		return;
	for (size_t i = 0; i < res->ndeleted; i++)
		free(res->deleted[i]);
	free(res->deleted);
	for (size_t i = 0; i < res->nerrors; i++)
	{
		free(res->errors[i].key);
		free(res->errors[i].code);
		free(res->errors[i].message);
	}
	free(res->errors);
	memset(res, 0, sizeof(*res));
}

int
rb_s3_parse_delete_result(const char *body, size_t len, rb_s3_delete_result *out,
						  rb_error *err)
{
	rb_xml_node *root;
	const rb_xml_node *c;
	size_t		nd = 0;
	size_t		ne = 0;

	memset(out, 0, sizeof(*out));
	if (rb_xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "DeleteResult") != 0)
	{
		wrong_document(err, root, "DeleteResult");
		rb_xml_free(root);
		return -1;
	}
	for (c = root->first_child; c != NULL; c = c->next)
	{
		if (strcmp(c->name, "Deleted") == 0)
			nd++;
		else if (strcmp(c->name, "Error") == 0)
			ne++;
	}
	out->deleted = nd ? rb_calloc(nd, sizeof(char *)) : NULL;
	out->errors = ne ? rb_calloc(ne, sizeof(rb_s3_delete_error)) : NULL;
	for (c = root->first_child; c != NULL; c = c->next)
	{
		if (strcmp(c->name, "Deleted") == 0)
		{
			const char *k = rb_xml_child_text(c, "Key");

			if (k != NULL)
				out->deleted[out->ndeleted++] = rb_strdup(k);
		}
		else if (strcmp(c->name, "Error") == 0)
		{
			rb_s3_delete_error *e = &out->errors[out->nerrors++];
			const char *code = rb_xml_child_text(c, "Code");

			e->key = rb_strdup(rb_xml_child_text(c, "Key") ? rb_xml_child_text(c, "Key") : "");
			e->code = rb_strdup(code && code[0] ? code : "InternalError");
			e->message = rb_strdup(rb_xml_child_text(c, "Message") ? rb_xml_child_text(c, "Message") : "");
		}
	}
	rb_xml_free(root);
	return 0;
}

/* --- writing ---------------------------------------------------------------------- */

void
rb_xml_escape(const char *s, rb_buf *out)
{
	if (s == NULL)
		return;
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		switch (*p)
		{
			case '&':
				rb_buf_append_str(out, "&amp;");
				break;
			case '<':
				rb_buf_append_str(out, "&lt;");
				break;
			case '>':
				rb_buf_append_str(out, "&gt;");
				break;
			case '"':
				rb_buf_append_str(out, "&quot;");
				break;
			case '\'':
				rb_buf_append_str(out, "&apos;");
				break;
			default:
				if (*p < 0x20 || *p == 0x7f)
					rb_buf_appendf(out, "&#%u;", (unsigned) *p);
				else
					rb_buf_append_char(out, (char) *p);
				break;
		}
	}
}

void
rb_s3_build_complete_body(const char *const *etags, size_t nparts, rb_buf *out)
{
	rb_buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					  "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < nparts; i++)
	{
		rb_buf_appendf(out, "<Part><PartNumber>%zu</PartNumber><ETag>", i + 1);
		rb_xml_escape(etags[i], out);
		rb_buf_append_str(out, "</ETag></Part>");
	}
	rb_buf_append_str(out, "</CompleteMultipartUpload>");
}

void
rb_s3_build_delete_body(const char *const *keys, size_t nkeys, bool quiet, rb_buf *out)
{
	rb_buf_append_str(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					  "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
	if (quiet)
		rb_buf_append_str(out, "<Quiet>true</Quiet>");
	for (size_t i = 0; i < nkeys; i++)
	{
		rb_buf_append_str(out, "<Object><Key>");
		rb_xml_escape(keys[i], out);
		rb_buf_append_str(out, "</Key></Object>");
	}
	rb_buf_append_str(out, "</Delete>");
}

/* --- ListMultipartUploads ------------------------------------------------------------ */

void
rb_s3_multipart_page_free(rb_s3_multipart_page *page)
{
	for (size_t i = 0; i < page->nuploads; i++)
	{
		free(page->uploads[i].key);
		free(page->uploads[i].upload_id);
		free(page->uploads[i].initiated);
	}
	free(page->uploads);
	free(page->next_key_marker);
	free(page->next_upload_id_marker);
	memset(page, 0, sizeof(*page));
}

int
rb_s3_parse_list_multipart_uploads(const char *body, size_t len, rb_s3_multipart_page *out,
								   rb_error *err)
{
	rb_xml_node *root;
	const rb_xml_node *c;
	size_t		n = 0;
	bool		url_encoded;

	memset(out, 0, sizeof(*out));
	if (rb_xml_parse(body, len, &root, err) != 0)
		return -1;
	if (strcmp(root->name, "ListMultipartUploadsResult") != 0)
	{
		wrong_document(err, root, "ListMultipartUploadsResult");
		rb_xml_free(root);
		return -1;
	}
	url_encoded = text_is(rb_xml_child_text(root, "EncodingType"), "url");
	for (c = rb_xml_child(root, "Upload"); c != NULL; c = rb_xml_next(c, "Upload"))
		n++;
	out->uploads = n ? rb_calloc(n, sizeof(rb_s3_multipart_upload)) : NULL;
	for (c = rb_xml_child(root, "Upload"); c != NULL; c = rb_xml_next(c, "Upload"))
	{
		rb_s3_multipart_upload *u = &out->uploads[out->nuploads];
		const char *key = rb_xml_child_text(c, "Key");
		const char *id = rb_xml_child_text(c, "UploadId");

		if (key == NULL || id == NULL)
		{
			rb_error_set(err, RB_ERR_REMOTE,
						 "could not parse S3 response: <Upload> without <Key> or <UploadId>");
			rb_xml_free(root);
			rb_s3_multipart_page_free(out);
			return -1;
		}
		u->key = rb_strdup(key);
		if (url_encoded)
			url_decode_inplace(u->key);
		u->upload_id = rb_strdup(id);
		u->initiated = child_dup(c, "Initiated");
		out->nuploads++;
	}
	out->is_truncated = text_is(rb_xml_child_text(root, "IsTruncated"), "true");
	out->next_key_marker = child_dup(root, "NextKeyMarker");
	if (out->next_key_marker && url_encoded)
		url_decode_inplace(out->next_key_marker);
	out->next_upload_id_marker = child_dup(root, "NextUploadIdMarker");
	rb_xml_free(root);
	if (out->is_truncated && (out->next_key_marker == NULL || out->next_key_marker[0] == '\0'))
	{
		rb_s3_multipart_page_free(out);
		return rb_error_set(err, RB_ERR_REMOTE,
							"could not parse S3 response: truncated upload listing without <NextKeyMarker>");
	}
	return 0;
}
