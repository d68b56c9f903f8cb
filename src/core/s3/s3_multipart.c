/*
 * s3_multipart.c — ListMultipartUploads and AbortMultipartUpload by upload id
 * (see s3_multipart.h), on the client's request engine: signed, retried and
 * behind the circuit breaker like every request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"
#include "s3_multipart.h"
#include "s3_xml.h"

int
rb_s3_list_multipart_uploads(rb_s3_client *c, const char *prefix, rb_s3_upload_list_fn cb,
							 void *cb_arg, rb_error *err)
{
	char	   *key_marker = NULL;
	char	   *id_marker = NULL;
	int			rc = 0;

	for (;;)
	{
		rb_s3_xfer	x;
		rb_s3_multipart_page page;

		memset(&page, 0, sizeof(page));
		rb_s3_xfer_init(&x, c, "GET", NULL, "multipart uploads in ");
		rb_s3_xfer_add_query(&x, "uploads", "");
		if (prefix && prefix[0])
			rb_s3_xfer_add_query(&x, "prefix", prefix);
		if (key_marker)
			rb_s3_xfer_add_query(&x, "key-marker", key_marker);
		if (id_marker)
			rb_s3_xfer_add_query(&x, "upload-id-marker", id_marker);
		rc = rb_s3_xfer_run(c, &x, err);
		if (rc == 0 && rb_s3_parse_list_multipart_uploads(rb_buf_str(&x.resp), x.resp.len,
														  &page, err) < 0)
		{
			rb_error_prefix(err, "%s: ", x.what_err);
			rc = -1;
		}
		rb_s3_xfer_cleanup(&x);
		if (rc < 0)
			break;
		for (size_t i = 0; i < page.nuploads && rc == 0; i++)
			if (cb(cb_arg, page.uploads[i].key, page.uploads[i].upload_id,
				   page.uploads[i].initiated ? rb_s3_parse_date(page.uploads[i].initiated) : 0, err) < 0)
				rc = -1;
		free(key_marker);
		free(id_marker);
		key_marker = page.is_truncated ? page.next_key_marker : NULL;
		id_marker = page.is_truncated ? page.next_upload_id_marker : NULL;
		if (page.is_truncated)
			page.next_key_marker = page.next_upload_id_marker = NULL;
		rb_s3_multipart_page_free(&page);
		if (rc < 0 || key_marker == NULL)
			break;
	}
	free(key_marker);
	free(id_marker);
	return rc;
}

int
rb_s3_abort_multipart_upload(rb_s3_client *c, const char *key, const char *upload_id,
							 rb_error *err)
{
	rb_s3_xfer	x;
	int			rc;

	rb_s3_xfer_init(&x, c, "DELETE", key, "multipart upload of ");
	rb_s3_xfer_add_query(&x, "uploadId", upload_id);
	rc = rb_s3_xfer_run(c, &x, err);
	if (rc < 0 && err && err->http_status == 404 && strcmp(err->remote_code, "NoSuchBucket") != 0)
	{
		rb_error_clear(err);
		rc = 0;
	}
	rb_s3_xfer_cleanup(&x);
	return rc;
}
