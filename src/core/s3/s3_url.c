/*
 * s3_url.c — S3 endpoints, addressing style and request URLs (see s3_url.h).
 */
#include "s3_url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
default_port(const char *scheme)
{
	return strcmp(scheme, "https") == 0 ? 443 : 80;
}

int
rb_s3_region_validate(const char *region, rb_error *err)
{
	size_t		n = region ? strlen(region) : 0;

	if (n == 0 || n > 63)
		return rb_error_set(err, RB_ERR_INVALID, "invalid S3 region \"%s\": must be 1 to 63 characters",
							region ? region : "");
	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) region[i];

		if (!isalnum(ch) && ch != '-')
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid S3 region \"%s\": only letters, digits and \"-\" are allowed",
								region);
	}
	return 0;
}

int
rb_s3_bucket_validate(const char *bucket, rb_error *err)
{
	size_t		n = bucket ? strlen(bucket) : 0;

	if (n == 0)
		return rb_error_set(err, RB_ERR_INVALID, "S3 bucket name is empty");
	if (n > 255)
		return rb_error_set(err, RB_ERR_INVALID, "invalid S3 bucket name: longer than 255 characters");
	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) bucket[i];

		if (ch <= ' ' || ch == '/' || ch == 0x7f || ch == '?' || ch == '#' || ch == '\\')
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid S3 bucket name \"%s\": character not allowed", bucket);
	}
	return 0;
}

int
rb_s3_key_validate(const char *key, rb_error *err)
{
	size_t		n = key ? strlen(key) : 0;

	if (n == 0)
		return rb_error_set(err, RB_ERR_INVALID, "S3 object key is empty");
	if (n > RB_S3_MAX_KEY_LEN)
		return rb_error_set(err, RB_ERR_INVALID, "S3 object key is longer than %d bytes",
							RB_S3_MAX_KEY_LEN);
	for (size_t i = 0; i < n; i++)
	{
		unsigned char ch = (unsigned char) key[i];

		if (ch < ' ' || ch == 0x7f)
			return rb_error_set(err, RB_ERR_INVALID,
								"S3 object key contains a control character");
	}
	return 0;
}

/* Whether host is a dotted IPv4 address or a bracketed IPv6 one. */
static bool
host_is_ip(const char *host)
{
	bool		digits_and_dots = true;

	if (host[0] == '[')
		return true;
	for (const char *p = host; *p; p++)
		if (!isdigit((unsigned char) *p) && *p != '.')
			digits_and_dots = false;
	return digits_and_dots;
}

static int
parse_custom_endpoint(rb_s3_endpoint *ep, const char *endpoint, rb_error *err)
{
	const char *p;
	const char *hostend;
	size_t		hostlen;

	if (strncmp(endpoint, "https://", 8) == 0)
	{
		strcpy(ep->scheme, "https");
		p = endpoint + 8;
	}
	else if (strncmp(endpoint, "http://", 7) == 0)
	{
		strcpy(ep->scheme, "http");
		p = endpoint + 7;
	}
	else
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid S3 endpoint \"%s\": scheme must be http or https", endpoint);

	/* Never echo user information (it may hold a password). */
	if (memchr(p, '@', strcspn(p, "/?#")) != NULL)
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid S3 endpoint: user information is not allowed in the URL");
	if (*p == '[')
	{
		hostend = strchr(p, ']');
		if (hostend == NULL)
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid S3 endpoint \"%s\": unterminated IPv6 address", endpoint);
		hostend++;
	}
	else
		hostend = p + strcspn(p, ":/?#@");
	hostlen = (size_t) (hostend - p);
	if (hostlen == 0 || hostlen >= sizeof(ep->host))
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid S3 endpoint \"%s\": missing or overlong host name", endpoint);
	for (size_t i = 0; i < hostlen; i++)
		ep->host[i] = (char) tolower((unsigned char) p[i]);
	ep->host[hostlen] = '\0';
	for (size_t i = 0; i < hostlen; i++)
	{
		unsigned char ch = (unsigned char) ep->host[i];

		if (!(isalnum(ch) || ch == '.' || ch == '-' || ch == '_' ||
			  (ep->host[0] == '[' && (ch == ':' || ch == '[' || ch == ']'))))
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid S3 endpoint \"%s\": bad character in host name", endpoint);
	}

	p = hostend;
	ep->port = 0;
	if (*p == ':')
	{
		char	   *end;
		long		port = strtol(p + 1, &end, 10);

		if (end == p + 1 || port <= 0 || port > 65535)
			return rb_error_set(err, RB_ERR_INVALID,
								"invalid S3 endpoint \"%s\": bad port", endpoint);
		if (port != default_port(ep->scheme))
			ep->port = (int) port;
		p = end;
	}
	/* A trailing "/" is fine; a path, query or fragment is not. */
	if (*p == '/')
		p++;
	if (*p != '\0')
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid S3 endpoint \"%s\": a path is not allowed after the host", endpoint);
	ep->host_is_ip = host_is_ip(ep->host);
	ep->is_aws = false;
	return 0;
}

int
rb_s3_endpoint_init(rb_s3_endpoint *ep, const char *endpoint, const char *region,
					const char *bucket, rb_s3_uri_style style, rb_error *err)
{
	memset(ep, 0, sizeof(*ep));
	if (region == NULL || region[0] == '\0')
		region = RB_S3_DEFAULT_REGION;
	if (rb_s3_region_validate(region, err) < 0)
		return -1;
	if (rb_s3_bucket_validate(bucket, err) < 0)
		return -1;

	if (endpoint == NULL || endpoint[0] == '\0')
	{
		strcpy(ep->scheme, "https");
		snprintf(ep->host, sizeof(ep->host), "s3.%s.amazonaws.com", region);
		ep->is_aws = true;
	}
	else if (parse_custom_endpoint(ep, endpoint, err) < 0)
		return -1;

	switch (style)
	{
		case RB_S3_URI_PATH:
			ep->virtual_host = false;
			break;
		case RB_S3_URI_VIRTUAL:
			if (ep->host_is_ip)
				return rb_error_set(err, RB_ERR_INVALID,
									"virtual-hosted style needs a host name, not the IP address \"%s\"; use path style",
									ep->host);
			ep->virtual_host = true;
			break;
		case RB_S3_URI_AUTO:
		default:
			/* Dotted bucket names break TLS wildcard certificates: path style for them. */
			ep->virtual_host = ep->is_aws && strchr(bucket, '.') == NULL;
			break;
	}
	if (ep->virtual_host)
	{
		for (const char *p = bucket; *p; p++)
			if (!(islower((unsigned char) *p) || isdigit((unsigned char) *p) || *p == '-' || *p == '.'))
				return rb_error_set(err, RB_ERR_INVALID,
									"bucket name \"%s\" cannot be used with virtual-hosted style; use path style",
									bucket);
	}
	if (ep->port)
		snprintf(ep->normalized, sizeof(ep->normalized), "%s://%s:%d", ep->scheme, ep->host, ep->port);
	else
		snprintf(ep->normalized, sizeof(ep->normalized), "%s://%s", ep->scheme, ep->host);
	return 0;
}

void
rb_s3_target(const rb_s3_endpoint *ep, const char *bucket, const char *key,
			 rb_buf *host, rb_buf *path)
{
	if (ep->virtual_host)
		rb_buf_appendf(host, "%s.%s", bucket, ep->host);
	else
		rb_buf_append_str(host, ep->host);
	if (ep->port)
		rb_buf_appendf(host, ":%d", ep->port);

	if (!ep->virtual_host)
	{
		rb_buf_append_char(path, '/');
		rb_buf_append_str(path, bucket);
	}
	if (key != NULL)
	{
		rb_buf_append_char(path, '/');
		rb_buf_append_str(path, key);
	}
	else if (ep->virtual_host)
		rb_buf_append_char(path, '/');
}

void
rb_s3_build_url(const rb_s3_endpoint *ep, const char *host, const char *path,
				const rb_kv *query, size_t nquery, rb_buf *url)
{
	rb_buf_appendf(url, "%s://%s", ep->scheme, host);
	rb_sigv4_encode_path(path, url);
	if (nquery > 0)
	{
		rb_buf_append_char(url, '?');
		rb_sigv4_canonical_query(query, nquery, url);
	}
}
