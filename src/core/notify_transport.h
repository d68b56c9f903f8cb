/*
 * notify_transport.h — what the notification senders (notify_smtp.c,
 * notify_http.c) share: how long one attempt may take and how often to try
 * (the product's retry policy from s3_retry.h, 3 attempts), running one libcurl
 * transfer while polling the cancel hook, a URL made safe for log lines, and
 * reading a secret from a file only its owner can read.
 *
 * A notification must never hold up what it reports on: every attempt has a
 * timeout (default 10 s), the waits between attempts poll the cancel hook every
 * 200 ms, and no secret (password, webhook secret, the path of a webhook URL,
 * which for Slack or healthchecks.io is itself the secret) reaches a log line or
 * an error message.
 */
#ifndef RB_NOTIFY_TRANSPORT_H
#define RB_NOTIFY_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "rb_buf.h"
#include "rb_error.h"
#include "s3/s3_retry.h"

#define RB_NOTIFY_DEFAULT_TIMEOUT_MS	10000
#define RB_NOTIFY_DEFAULT_ATTEMPTS		3
#define RB_NOTIFY_MAX_SECRET_FILE		65536

/* How one notification is delivered.  Zero values mean the defaults. */
typedef struct rb_notify_delivery
{
	int			timeout_ms;		/* one attempt, connection included (default 10 s) */
	const rb_retry_policy *retry;	/* NULL = rb_notify_retry_policy() */
	const char *ca_file;		/* CA bundle for TLS (NULL = the system's) */
} rb_notify_delivery;

/* The product's retry policy (s3_retry.h) with 3 attempts: waits of about 1 s and 2 s. */
rb_retry_policy rb_notify_retry_policy(void);

/*
 * Reads a secret file into out (which the caller frees with rb_buf_free_secure).
 * The file must be a regular file owned by the user running this code (or root)
 * with no permission for group or others (chmod 600 or 400); anything else is
 * refused with RB_ERR_AUTH, since a secret others can read is no longer one.  The
 * error names the file (what: "SMTP credentials file", "webhook secret file") and
 * never its contents.  At most RB_NOTIFY_MAX_SECRET_FILE bytes.
 */
int			rb_notify_read_secret_file(const char *path, const char *what, rb_buf *out,
									   rb_error *err);

/*
 * scheme://host[:port] of url, without user, password, path or query, for log
 * lines and errors ("https://hooks.slack.com").  "(invalid URL)" when unparsable.
 */
void		rb_notify_url_for_log(const char *url, char *out, size_t size);

/*
 * One attempt of a transfer: what to try (returns 0 or -1 with err filled) and
 * whether a failure is worth another attempt (NULL = rb_retry_should_retry).
 */
typedef int (*rb_notify_attempt_fn) (void *arg, rb_error *err);
typedef bool (*rb_notify_retryable_fn) (const rb_error *err);

/*
 * Runs attempt up to policy->max_attempts times, waiting rb_retry_delay() between
 * failures that retryable accepts (the wait polls the cancel hook).  Logs each
 * failed attempt that is retried as a WARNING naming what ("e-mail to
 * smtp://host:587").  Returns 0, or -1 with the last error prefixed with what
 * (and "attempt 3 of 3" when there was more than one).
 */
int			rb_notify_with_retry(const rb_notify_delivery *d, const char *what,
								 rb_notify_attempt_fn attempt, rb_notify_retryable_fn retryable,
								 void *arg, const rb_hooks *hooks, rb_error *err);

/*
 * Runs one configured libcurl easy handle (a CURL *) to the end, polling the
 * cancel hook at least every 200 ms.  Returns the transfer's CURLcode, or
 * CURLE_ABORTED_BY_CALLBACK when cancelled (*cancelled set).  The caller holds a
 * curl_global_init() reference while the handle lives.
 */
int			rb_notify_curl_run(void *curl, const rb_hooks *hooks, bool *cancelled);

/* The timeout of one attempt: d->timeout_ms, or the default when d is NULL or 0. */
int			rb_notify_timeout_ms(const rb_notify_delivery *d);

/*
 * Sets what every notification transfer shares on a libcurl easy handle: the URL,
 * the protocols allowed ("smtp,smtps", "http,https"), no signals, errbuf
 * (CURL_ERROR_SIZE bytes) for libcurl's message, the attempt's timeout for the
 * connection and for the whole transfer, and the CA file.  -1 with
 * RB_ERR_INTERNAL naming the option libcurl refused.
 */
int			rb_notify_curl_setup(void *curl, const char *url, const char *protocols,
								 const rb_notify_delivery *d, char *errbuf, rb_error *err);

/*
 * curl_easy_setopt(h, opt, val) for the senders' own options; on refusal fills err
 * and jumps to the caller's `done` label.
 */
#define RB_NOTIFY_SETOPT(h, opt, val) \
	do { \
		if (curl_easy_setopt((h), opt, val) != CURLE_OK) \
		{ \
			rb_error_set(err, RB_ERR_INTERNAL, "libcurl refused option %s", #opt); \
			goto done; \
		} \
	} while (0)

/*
 * Why a connection failed, in words: the system's reason when libcurl kept one
 * ("Connection refused"), else fallback (libcurl's message).  Static storage.
 */
const char *rb_notify_connect_error(void *curl, const char *fallback);

#endif							/* RB_NOTIFY_TRANSPORT_H */
