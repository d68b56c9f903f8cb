/*
 * rb_error.h — how src/core reports failure, logs and learns of cancellation.
 *
 * src/core never includes postgres.h and never calls ereport: a function that can
 * fail returns 0 on success or -1 on failure and fills an rb_error with a code and
 * a message written in PostgreSQL's style (lowercase, no trailing period, secrets
 * never included).  src/backend maps the code to an errcode and ereports the
 * message; the CLI prints it.  Log lines and cancellation go through callbacks the
 * caller supplies (rb_hooks), so a background worker can route them to elog and
 * its SIGTERM flag, and the CLI to stderr and SIGINT.
 */
#ifndef RB_ERROR_H
#define RB_ERROR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define RB_ERROR_MSG_LEN 1024

typedef enum rb_error_code
{
	RB_OK = 0,
	RB_ERR_INTERNAL,			/* a bug or an impossible state */
	RB_ERR_INVALID,				/* bad input from the caller: URL, option, cron text */
	RB_ERR_NOMEM,				/* out of memory */
	RB_ERR_IO,					/* local file or pipe I/O */
	RB_ERR_NETWORK,				/* connection, DNS, TLS, timeout, stalled transfer */
	RB_ERR_REMOTE,				/* the server answered with an error (S3 5xx, SMTP 5xx) */
	RB_ERR_AUTH,				/* credentials missing or refused (403, bad signature) */
	RB_ERR_NOT_FOUND,			/* no such bucket, key or file */
	RB_ERR_INTEGRITY,			/* checksum, ETag or size mismatch; corrupt data */
	RB_ERR_CANCELLED,			/* the caller's cancel callback said stop */
	RB_ERR_CIRCUIT_OPEN,		/* the circuit breaker refuses requests for now */
	RB_ERR_CHILD,				/* a child process (pg_dump, pg_restore) failed */
	RB_ERR_EXISTS				/* an object already exists where a new one would go */
} rb_error_code;

typedef struct rb_error
{
	rb_error_code code;
	int			http_status;	/* HTTP status when there was one, else 0 */
	char		remote_code[64];	/* S3 error code (AccessDenied, ...) or "" */
	char		msg[RB_ERROR_MSG_LEN];
} rb_error;

/* Sets code and message (printf style); returns -1 so callers can `return rb_error_set(...)`. */
int			rb_error_set(rb_error *err, rb_error_code code, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with context: "PUT s3://b/k: " + old message. */
void		rb_error_prefix(rb_error *err, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

void		rb_error_clear(rb_error *err);
const char *rb_error_code_name(rb_error_code code);

typedef enum rb_log_level
{
	RB_LOG_DEBUG,
	RB_LOG_INFO,
	RB_LOG_WARNING,
	RB_LOG_ERROR
} rb_log_level;

/*
 * Callbacks supplied by the caller.  Any may be NULL.  log receives one complete
 * line without a trailing newline and never a secret.  cancel is polled during long
 * operations (at least every 200 ms while a transfer waits) and returns true when
 * the operation should stop; the operation then fails with RB_ERR_CANCELLED.
 */
typedef struct rb_hooks
{
	void		(*log) (void *arg, rb_log_level level, const char *line);
	bool		(*cancel) (void *arg);
	void	   *arg;

	/*
	 * Optional: a multipart upload whose abort failed (the server refused it, or
	 * could not be reached), so its parts stay in the bucket.  The caller records
	 * bucket, key and upload id for a later abort; reason is the abort's error.
	 * NULL = the warning in the log is all.
	 */
	void		(*upload_abandoned) (void *arg, const char *bucket, const char *key,
									 const char *upload_id, const char *reason);

	/*
	 * Optional: a multipart upload was created on the server (called once, right
	 * after CreateMultipartUpload succeeds).  The caller may note bucket, key and
	 * upload id durably, so that an upload left open by a crash of the caller can be
	 * aborted later.  NULL = not noted.
	 */
	void		(*upload_started) (void *arg, const char *bucket, const char *key,
								   const char *upload_id);
} rb_hooks;

void		rb_log(const rb_hooks *hooks, rb_log_level level, const char *fmt,...)
			__attribute__((format(printf, 3, 4)));
bool		rb_cancelled(const rb_hooks *hooks);

#endif							/* RB_ERROR_H */
