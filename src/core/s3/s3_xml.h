/*
 * s3_xml.h — the S3 XML this project reads and writes.
 *
 * Reading: expat parses an answer into a tree (s3_xml_tree.h: namespaces dropped,
 * entities and CDATA decoded, a DOCTYPE refused, depth and size bounded), from which
 * the functions below pick the fields of each S3 response.  Input that is not
 * well-formed, or not the expected document, fails cleanly with RB_ERR_REMOTE and a
 * message saying what was wrong (never the whole body).  Every allocated result has
 * its free function; a zero-initialised result struct may be freed, and a failed
 * parse leaves the result zeroed.  What an error code means is s3_errors.h's.
 *
 * Writing: rb_xml_escape() and builders for the CompleteMultipartUpload and Delete
 * request bodies.
 */
#ifndef RB_S3_XML_H
#define RB_S3_XML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_buf.h"
#include "rb_error.h"
#include "s3_errors.h"

/* --- error responses -------------------------------------------------------- */

/*
 * Parses an S3 <Error> document.  Returns 0 when body is one (fields missing from it
 * are ""), -1 with err otherwise (not XML, or another document).
 */
int			rb_s3_parse_error(const char *body, size_t len, rb_s3_error_info *out,
							  rb_error *err);

/*
 * Fills err from a failed HTTP response: err->http_status = status,
 * err->remote_code = the S3 code when the body has one, err->code classified by
 * rb_s3_error_class(), err->msg "<status> <Code>: <Message>" (e.g. "403
 * SignatureDoesNotMatch: The request signature we calculated does not match ...")
 * or "<status> <reason phrase>" when there is no usable body (HEAD): the <Error>
 * document read here, the rest as rb_s3_error_from_info().  The caller
 * prefixes the operation: rb_error_prefix(err, "PUT s3://%s/%s: ", bucket, key).
 * Always returns -1.
 */
int			rb_s3_error_from_response(rb_error *err, int http_status, const char *body,
									  size_t len);

/* --- ListObjectsV2 ------------------------------------------------------------ */

typedef struct rb_s3_object
{
	char	   *key;
	uint64_t	size;
	char	   *etag;			/* as sent, quotes included, e.g. "\"9b2c...\"" */
	char	   *last_modified;	/* ISO 8601 as sent, e.g. "2024-01-02T03:04:05.000Z" */
} rb_s3_object;

typedef struct rb_s3_list_page
{
	rb_s3_object *objects;
	size_t		nobjects;
	char	  **common_prefixes;	/* with a delimiter */
	size_t		ncommon_prefixes;
	bool		is_truncated;
	char	   *next_continuation_token;	/* NULL when absent */
	long		key_count;		/* KeyCount, -1 when absent */
} rb_s3_list_page;

/* Parses a ListBucketResult (V2).  IsTruncated true without a token is an error. */
int			rb_s3_parse_list_objects_v2(const char *body, size_t len,
										rb_s3_list_page *out, rb_error *err);
void		rb_s3_list_page_free(rb_s3_list_page *page);

/* --- multipart upload ----------------------------------------------------------- */

/* InitiateMultipartUploadResult → *upload_id (malloc'd; free with free()). */
int			rb_s3_parse_initiate_multipart(const char *body, size_t len,
										   char **upload_id, rb_error *err);

typedef struct rb_s3_complete_result
{
	char	   *location;		/* NULL when absent */
	char	   *bucket;
	char	   *key;
	char	   *etag;			/* quotes included, e.g. "\"3858f6...-2\"" */
} rb_s3_complete_result;

/*
 * Parses the body of a 200 response to CompleteMultipartUpload.  S3 may answer 200
 * and then an <Error> document: that returns -1 with err filled as by
 * rb_s3_error_from_response() (http_status 200, remote_code e.g. "InternalError",
 * so rb_retry_should_retry() decides).  A result without an ETag is an error too.
 */
int			rb_s3_parse_complete_multipart(const char *body, size_t len,
										   rb_s3_complete_result *out, rb_error *err);
void		rb_s3_complete_result_free(rb_s3_complete_result *res);

/* --- DeleteObjects ---------------------------------------------------------------- */

typedef struct rb_s3_delete_error
{
	char	   *key;
	char	   *code;
	char	   *message;
} rb_s3_delete_error;

typedef struct rb_s3_delete_result
{
	char	  **deleted;		/* keys reported deleted (none in quiet mode) */
	size_t		ndeleted;
	rb_s3_delete_error *errors;
	size_t		nerrors;
} rb_s3_delete_result;

int			rb_s3_parse_delete_result(const char *body, size_t len,
									  rb_s3_delete_result *out, rb_error *err);
void		rb_s3_delete_result_free(rb_s3_delete_result *res);

/* --- ListMultipartUploads ------------------------------------------------------------ */

typedef struct rb_s3_multipart_upload
{
	char	   *key;
	char	   *upload_id;
	char	   *initiated;		/* ISO 8601 as sent; NULL when absent */
} rb_s3_multipart_upload;

typedef struct rb_s3_multipart_page
{
	rb_s3_multipart_upload *uploads;
	size_t		nuploads;
	bool		is_truncated;
	char	   *next_key_marker;
	char	   *next_upload_id_marker;
} rb_s3_multipart_page;

/* Parses a ListMultipartUploadsResult.  IsTruncated without NextKeyMarker is an error. */
int			rb_s3_parse_list_multipart_uploads(const char *body, size_t len,
											   rb_s3_multipart_page *out, rb_error *err);
void		rb_s3_multipart_page_free(rb_s3_multipart_page *page);

/* --- writing ---------------------------------------------------------------------- */

/*
 * Appends s as XML character data / attribute value: & < > " ' escaped, and
 * \t \n \r and other control characters as numeric references (so a key survives
 * XML end-of-line normalisation).
 */
void		rb_xml_escape(const char *s, rb_buf *out);

/*
 * Appends a CompleteMultipartUpload body; etags[i] is part i + 1's ETag as S3
 * returned it (quotes included or not).
 */
void		rb_s3_build_complete_body(const char *const *etags, size_t nparts, rb_buf *out);

/* Appends a Delete body for up to 1000 keys (<Quiet>true</Quiet> when quiet). */
void		rb_s3_build_delete_body(const char *const *keys, size_t nkeys, bool quiet,
									rb_buf *out);

#endif							/* RB_S3_XML_H */
