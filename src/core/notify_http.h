/*
 * notify_http.h — the HTTP notifications: a webhook POST and a heartbeat to a
 * dead-man's switch, through libcurl.
 *
 * Webhook: POST of a body (rb_notify_render_json or rb_notify_render_slack) with
 * Content-Type: application/json.  With a secret, the request carries
 *     X-Ripple-Signature: sha256=<lowercase hex HMAC-SHA256 of the body, keyed by the secret>
 * the way GitHub-style receivers check a webhook.  The secret comes from a file
 * only its owner can read (rb_webhook_secret_load).
 *
 * Heartbeat, the healthchecks.io protocol most dead-man's switches speak:
 *     GET  <url>/start   a scheduled run starts (the service measures the run time)
 *     GET  <url>         it succeeded
 *     POST <url>/fail    it failed; the body is the error text (text/plain, UTF-8)
 * The suffix goes at the end of the URL's path, before any query string.
 *
 * Both: http:// or https:// only, redirects are not followed, each attempt has the
 * delivery's timeout (default 10 s), and network failures, 5xx, 408 and 429 are
 * retried with the product's backoff (3 attempts).  A 2xx answer is success; any
 * other is an error naming the status.  Errors and log lines name the URL as
 * scheme://host:port only, because the path of a Slack or healthchecks.io URL is
 * itself the secret.
 */
#ifndef RB_NOTIFY_HTTP_H
#define RB_NOTIFY_HTTP_H

#include <stddef.h>

#include "notify_transport.h"
#include "rb_buf.h"
#include "rb_error.h"

#define RB_WEBHOOK_SIGNATURE_HEADER	"X-Ripple-Signature"
#define RB_WEBHOOK_SIGNATURE_SIZE	72	/* "sha256=" + 64 hex digits + NUL */

/*
 * Reads a webhook secret file (owner-only, see rb_notify_read_secret_file): the
 * secret is the file's contents without the line ends and spaces at its end.
 * RB_ERR_INVALID when that leaves nothing.  Free out with rb_buf_free_secure().
 */
int			rb_webhook_secret_load(const char *path, rb_buf *out, rb_error *err);

/* "sha256=<hex HMAC-SHA256(secret, body)>" into out. */
int			rb_webhook_signature(const void *secret, size_t secret_len, const char *body,
								 size_t len, char out[RB_WEBHOOK_SIGNATURE_SIZE], rb_error *err);

/*
 * POSTs body to url (Content-Type: application/json), signed when secret_len > 0.
 * d may be NULL (defaults).  0 on a 2xx answer; -1 with err otherwise:
 * RB_ERR_INVALID (URL), RB_ERR_NETWORK, RB_ERR_REMOTE (http_status set),
 * RB_ERR_CANCELLED.
 */
int			rb_webhook_post(const char *url, const char *body, size_t len,
							const void *secret, size_t secret_len,
							const rb_notify_delivery *d, const rb_hooks *hooks, rb_error *err);

/*
 * Checks that url is http:// or https:// with a host; what names it in the error
 * ("webhook", "heartbeat").  -1 with RB_ERR_INVALID (the URL itself is not quoted).
 */
int			rb_http_url_check(const char *url, const char *what, rb_error *err);

typedef enum rb_heartbeat_signal
{
	RB_HEARTBEAT_START,			/* GET <url>/start */
	RB_HEARTBEAT_SUCCESS,		/* GET <url> */
	RB_HEARTBEAT_FAIL			/* POST <url>/fail, the error as the body */
} rb_heartbeat_signal;

/* "start", "success", "fail"; and back (-1 with RB_ERR_INVALID). */
const char *rb_heartbeat_signal_name(rb_heartbeat_signal sig);
int			rb_heartbeat_signal_parse(const char *name, rb_heartbeat_signal *out, rb_error *err);

/* The URL a signal goes to (suffix before the query string).  -1 with RB_ERR_INVALID. */
int			rb_heartbeat_url(const char *url, rb_heartbeat_signal sig, rb_buf *out, rb_error *err);

/*
 * Sends one heartbeat signal; error_text (may be NULL) is the body of a fail.
 * Return values as rb_webhook_post.
 */
int			rb_heartbeat_send(const char *url, rb_heartbeat_signal sig, const char *error_text,
							  const rb_notify_delivery *d, const rb_hooks *hooks, rb_error *err);

#endif							/* RB_NOTIFY_HTTP_H */
