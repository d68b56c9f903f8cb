/*
 * notify_smtp.h — sends one e-mail through libcurl's SMTP client.
 *
 * The server is smtp://host[:port] (STARTTLS, port 25 unless given; 587 is the
 * submission port) or smtps://host[:port] (TLS from the first byte, port 465).
 * With tls = starttls (the default) an smtp:// server must offer STARTTLS or
 * nothing is sent (libcurl's CURLUSESSL_ALL); tls = none sends in plain text and
 * is meant for a test server on the same machine: credentials are refused over it
 * unless the host is a loopback address.  Credentials come from a file only the
 * owner can read (rb_smtp_credentials_load), never from a URL, a setting or argv;
 * the password never appears in a log line or an error.
 *
 * Each attempt has the delivery's timeout (default 10 s); failures that may pass
 * (connection refused or lost, timeouts, SMTP 4xx replies) are retried with the
 * product's backoff, 3 attempts in all.  Errors say what failed: could not
 * connect, the server does not offer STARTTLS, the server refused the credentials
 * (with its reply code), the server refused the sender or a recipient.
 */
#ifndef RB_NOTIFY_SMTP_H
#define RB_NOTIFY_SMTP_H

#include <stddef.h>

#include "notify_transport.h"
#include "rb_error.h"

typedef enum rb_smtp_tls
{
	RB_SMTP_TLS_STARTTLS,		/* smtp://: STARTTLS required; smtps://: implicit TLS */
	RB_SMTP_TLS_NONE			/* plain text (smtp:// only) */
} rb_smtp_tls;

/* "starttls" (also NULL or "") or "none"; -1 with RB_ERR_INVALID otherwise. */
int			rb_smtp_tls_parse(const char *text, rb_smtp_tls *out, rb_error *err);

typedef struct rb_smtp_credentials
{
	char		user[256];
	char		password[256];
} rb_smtp_credentials;

/*
 * Reads an SMTP credentials file (rules of rb_notify_read_secret_file: owner-only):
 *
 *     # comment
 *     user = backup@example.com
 *     password = the password
 *
 * Blank lines and lines starting with # are ignored; spaces around the key, the =
 * and the value are trimmed (a password cannot start or end with a space).  Both
 * keys are required; another key is an error naming the line.  Returns 0, or -1
 * with err (the file's name and line number, never a value).
 */
int			rb_smtp_credentials_load(const char *path, rb_smtp_credentials *out,
									 rb_error *err);

/* Zeroes the struct in a way the compiler keeps. */
void		rb_smtp_credentials_clear(rb_smtp_credentials *cred);

/* A list of bare e-mail addresses ("a@example.com, b@example.com"). */
typedef struct rb_address_list
{
	char	  **addr;
	size_t		n;
} rb_address_list;

/*
 * Splits a comma-separated list; each address is trimmed and must contain an @
 * and no space, control character, <, > or comma.  -1 with RB_ERR_INVALID
 * (naming the position) when one is not, or when the list is empty.
 */
int			rb_address_list_parse(const char *text, rb_address_list *out, rb_error *err);
void		rb_address_list_free(rb_address_list *list);

/*
 * The bare address of a From value: "Name <a@example.com>" -> a@example.com,
 * "a@example.com" -> itself.  -1 with RB_ERR_INVALID when it is not an address.
 */
int			rb_mail_envelope_address(const char *from, char *out, size_t size, rb_error *err);

typedef struct rb_smtp_options
{
	const char *url;			/* smtp://host[:port] or smtps://host[:port] */
	rb_smtp_tls tls;
	const rb_smtp_credentials *credentials;	/* NULL = no authentication */
	const char *mail_from;		/* the From value; its bare address is the sender */
	const char *const *rcpt;	/* bare recipient addresses */
	size_t		nrcpt;
} rb_smtp_options;

/*
 * Checks the options without sending (URL scheme and form, no user or password in
 * the URL, tls against the scheme, credentials over plain text only to loopback,
 * sender and recipients).  -1 with RB_ERR_INVALID.
 */
int			rb_smtp_check(const rb_smtp_options *opt, rb_error *err);

/*
 * Sends message (an RFC 5322 message with CRLF line ends, as rb_notify_render_mail
 * makes it) to every recipient; d may be NULL (defaults).  Returns 0 once the
 * server accepted it, or -1 with err: RB_ERR_INVALID (options), RB_ERR_NETWORK
 * (connection, timeout), RB_ERR_AUTH (credentials refused; remote_code holds the
 * SMTP reply code), RB_ERR_REMOTE (STARTTLS not offered, certificate not verified,
 * sender or recipient refused; remote_code = the reply code), RB_ERR_CANCELLED.
 */
int			rb_smtp_send(const rb_smtp_options *opt, const rb_notify_delivery *d,
						 const char *message, size_t len, const rb_hooks *hooks,
						 rb_error *err);

#endif							/* RB_NOTIFY_SMTP_H */
