/*
 * backup_retry_class.h — whether a failed backup is worth retrying as a whole.
 *
 * The launcher sees a failed backup only through the text of its error (the
 * runner hands it over in shared memory), so the classification reads that
 * text.  Transient: storage unreachable or answering 5xx after the request
 * retries, the circuit breaker open, a request timeout, pg_dump unable to
 * connect because the server is full, starting up, shutting down or in
 * recovery.  Permanent (never retried): refused credentials (AccessDenied,
 * SignatureDoesNotMatch, InvalidAccessKeyId, ...), a missing bucket, bad
 * settings, a refused encryption key file, a missing database, a pg_dump
 * error on the data, a cancel, the backup_timeout, and anything not known to
 * be transient.
 */
#ifndef RB_BACKUP_RETRY_CLASS_H
#define RB_BACKUP_RETRY_CLASS_H

#include <stdbool.h>

/* Whether a backup that failed with this error text may succeed if tried again. */
bool		rb_backup_failure_is_transient(const char *error);

/*
 * When text (pg_dump's stderr) says the server refused the connection for a
 * reason that passes (no free connection slot, starting up, shutting down, in
 * crash recovery), the phrase that says so ("too many clients"); else NULL.
 * The backup pipeline retries starting pg_dump on these (backup.h).
 */
const char *rb_connect_refusal_reason(const char *text);

#endif							/* RB_BACKUP_RETRY_CLASS_H */
