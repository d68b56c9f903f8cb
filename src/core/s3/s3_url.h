/*
 * s3_url.h — S3 endpoints and request targets: parses the endpoint option, decides
 * between path-style and virtual-hosted addressing, and builds the Host header,
 * the raw path that SigV4 signs and the URL that libcurl fetches (encoded by
 * s3_sigv4.c's encoders, so URL and signature always agree).  Internal to the S3
 * client; no network I/O.
 */
#ifndef RB_S3_URL_H
#define RB_S3_URL_H

#include <stdbool.h>

#include "rb_buf.h"
#include "rb_error.h"
#include "s3_client.h"
#include "s3_sigv4.h"

typedef struct rb_s3_endpoint
{
	char		scheme[8];		/* "http" or "https" */
	char		host[256];		/* host name or IP ("[::1]" for IPv6), lowercase */
	int			port;			/* explicit port, 0 = the scheme's default */
	bool		is_aws;			/* the AWS default endpoint (no endpoint option) */
	bool		host_is_ip;
	bool		virtual_host;	/* resolved addressing style */
	char		normalized[300];	/* "https://s3.us-east-1.amazonaws.com" */
} rb_s3_endpoint;

/*
 * Parses endpoint (NULL/"" = AWS's https://s3.<region>.amazonaws.com) and resolves
 * the addressing style for bucket.  Returns -1 with RB_ERR_INVALID and a message
 * like `invalid S3 endpoint "ftp://x": scheme must be http or https`.
 */
int			rb_s3_endpoint_init(rb_s3_endpoint *ep, const char *endpoint, const char *region,
								const char *bucket, rb_s3_uri_style style, rb_error *err);

/* Checks a bucket name (1-255 characters, no "/", no spaces or control characters). */
int			rb_s3_bucket_validate(const char *bucket, rb_error *err);
/* Checks a key: 1 to 1024 bytes, no NUL (implicit), no control characters. */
int			rb_s3_key_validate(const char *key, rb_error *err);
/* Checks a region name: letters, digits and "-", 1-63 characters. */
int			rb_s3_region_validate(const char *region, rb_error *err);

/*
 * The Host header value (host, plus ":port" when not the scheme's default) and
 * the raw path ("/bucket/key" path-style, "/key" virtual; key NULL = the bucket
 * itself: "/bucket" or "/") of a request.  Both appended.
 */
void		rb_s3_target(const rb_s3_endpoint *ep, const char *bucket, const char *key,
						 rb_buf *host, rb_buf *path);

/* Appends "scheme://host" + encoded path + "?" + canonical query (when nquery > 0). */
void		rb_s3_build_url(const rb_s3_endpoint *ep, const char *host, const char *path,
							const rb_kv *query, size_t nquery, rb_buf *url);

#endif							/* RB_S3_URL_H */
