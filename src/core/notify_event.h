/*
 * notify_event.h — the facts of one notification (a backup that succeeded or
 * failed, a verification or restore drill, a recovery point objective breached or
 * recovered, WAL archiving failing or working again) and its three renderings:
 *
 *   - an e-mail message (RFC 5322 headers, a plain-text UTF-8 body wrapped at 78
 *     columns), ready for rb_smtp_send();
 *   - the JSON body of a webhook (docs/notifications.md has the schema);
 *   - the body of a Slack or Mattermost incoming webhook (one `text` field).
 *
 * The event borrows every string: the caller keeps them alive while rendering.
 * Unknown facts are NULL or "" (strings) and negative (numbers, times); a
 * rendering leaves them out (e-mail, Slack) or writes null (JSON), so the caller
 * fills only what it knows.  No value is trusted: CR and LF inside any value are
 * turned into spaces before it reaches a header, so a database name or an error
 * text cannot add a header or end the header block.  No secret belongs in an
 * event: the caller passes a location URL without credentials.
 */
#ifndef RB_NOTIFY_EVENT_H
#define RB_NOTIFY_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "rb_buf.h"
#include "rb_error.h"

typedef enum rb_notify_kind
{
	RB_NOTIFY_BACKUP_SUCCEEDED,
	RB_NOTIFY_BACKUP_FAILED,
	RB_NOTIFY_VERIFY_FAILED,
	RB_NOTIFY_DRILL_SUCCEEDED,
	RB_NOTIFY_DRILL_FAILED,
	RB_NOTIFY_RPO_BREACHED,
	RB_NOTIFY_RPO_RECOVERED,
	RB_NOTIFY_WAL_ARCHIVE_FAILING,	/* WAL archiving failed for wal_archive_alert_after */
	RB_NOTIFY_WAL_ARCHIVE_RECOVERED,	/* ... and works again */
	RB_NOTIFY_TEST				/* "notify.test": a test message from a DBA's check */
} rb_notify_kind;

/* One of the largest tables of a backup: "schema.table" and its row count. */
typedef struct rb_notify_table
{
	const char *name;
	int64_t		rows;
} rb_notify_table;

typedef struct rb_notify_event
{
	rb_notify_kind kind;
	int64_t		timestamp;		/* when it happened, Unix seconds; < 0 = now */
	const char *host;			/* host or cluster name (cluster_name, else host name) */
	const char *dbname;
	const char *backup_id;
	const char *label;
	const char *status;			/* the catalog's status word: succeeded, failed, ... */
	int64_t		started_at;		/* Unix seconds */
	double		duration_s;
	int64_t		size_bytes;		/* bytes stored (compressed) */
	double		compression_ratio;	/* uncompressed / stored, e.g. 36.4 */
	int64_t		rows_total;
	int64_t		tables_total;
	const rb_notify_table *largest_tables;	/* largest first, as the caller sorted them */
	size_t		nlargest_tables;
	const char *location;		/* the object URL (s3://bucket/key, file:///...) */
	const char *verification;	/* verified, not verified, failed, ... */
	const char *error;			/* on failure: primary message, detail, hint */
	const char *detail;
	const char *hint;
	int64_t		last_success_at;	/* the last successful backup, Unix seconds */
	double		last_success_age_s;	/* its age when the event happened */
	double		rpo_target_s;	/* rpo.*: the objective */
	double		restore_s;		/* drill.*: the restore time measured */
} rb_notify_event;

/* Sets every field to "unknown" (NULL, -1) and the kind; timestamp = now. */
void		rb_notify_event_init(rb_notify_event *ev, rb_notify_kind kind);

/* "backup.succeeded", "backup.failed", ... "notify.test". */
const char *rb_notify_kind_name(rb_notify_kind kind);
/* The kind named by an event name; -1 with RB_ERR_INVALID when unknown. */
int			rb_notify_kind_parse(const char *name, rb_notify_kind *out, rb_error *err);
/* Whether the event is bad news (failed, breached); a DBA filters on it (notify_on). */
int			rb_notify_kind_is_failure(rb_notify_kind kind);

/*
 * The one-line summary, e.g. `[ripple_backup] FAILED: backup of "app" on db1`,
 * CR/LF neutralised: the e-mail subject and the first line of the other renderings.
 */
void		rb_notify_render_summary(const rb_notify_event *ev, rb_buf *out);

/* The plain-text body (the facts, lines wrapped at 78 columns), with LF line ends. */
void		rb_notify_render_text(const rb_notify_event *ev, rb_buf *out);

/* Who a message goes to and how its Message-ID is made. */
typedef struct rb_mail_envelope
{
	const char *from;			/* the From header: "addr" or "Name <addr>" */
	const char *const *to;		/* the To header: one address per entry */
	size_t		nto;
	int64_t		date;			/* the Date header, Unix seconds; < 0 = now */
	const char *message_id;		/* the whole Message-ID header value, or NULL for
								 * <ripple_backup.DATE.RANDOM@DOMAIN-OF-FROM> */
} rb_mail_envelope;

/*
 * The whole e-mail, headers and body, with CRLF line ends, as an SMTP DATA payload:
 * Date (RFC 5322, UTC), From, To, Subject (RFC 2047 encoded-words when it is not
 * ASCII), Message-ID, Auto-Submitted: auto-generated (RFC 3834, so no vacation
 * responder answers), MIME-Version 1.0, Content-Type text/plain; charset=UTF-8,
 * Content-Transfer-Encoding 8bit (an ASCII body) or quoted-printable (any other),
 * X-Ripple-Event.  Every header value has CR and LF replaced by spaces; long ASCII
 * headers are folded at spaces.  Returns -1 with RB_ERR_INVALID when from or to is
 * missing or empty.
 */
int			rb_notify_render_mail(const rb_notify_event *ev, const rb_mail_envelope *env,
								  rb_buf *out, rb_error *err);

/* The webhook's JSON body (one object; schema in docs/notifications.md). */
void		rb_notify_render_json(const rb_notify_event *ev, rb_buf *out);

/* Slack's and Mattermost's incoming-webhook body: {"text": "..."} with &, <, > escaped. */
void		rb_notify_render_slack(const rb_notify_event *ev, rb_buf *out);

#endif							/* RB_NOTIFY_EVENT_H */
