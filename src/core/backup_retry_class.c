/*
 * backup_retry_class.c — transient or permanent backup failures (see
 * backup_retry_class.h).  Permanent markers are checked first: an error that
 * names refused credentials is permanent even when it also mentions a retry.
 * S3 error codes are classified by s3_errors.h (rb_s3_error_class and
 * rb_s3_code_is_transient), not by a second table here.
 */
#include "backup_retry_class.h"

#include <ctype.h>
#include <string.h>

#include "rb_error.h"
#include "s3/s3_errors.h"

/* Phrases of a failure that trying again does not cure. */
static const char *const permanent_markers[] = {
	"ripple_backup.backup_timeout",
	"ripple_backup.encryption_key_file",	/* a key file refused: fix it, then back up */
	"cancel",
	"does not exist",
	"not configured",
	"invalid",
	NULL
};

/* Phrases of a failure that may be gone a minute later. */
static const char *const transient_markers[] = {
	"Connection refused",
	"Couldn't connect",
	"Could not connect",
	"Connection reset",
	"Connection timed out",
	"Timeout was reached",
	"timed out",
	"Operation too slow",
	"Couldn't resolve host",
	"Empty reply from server",
	"Failure when receiving data",
	"circuit breaker open",
	NULL
};

/*
 * Why the server refused pg_dump's connection, when it may accept one later
 * (its FATAL messages, as libpq prints them): full, starting, stopping, in
 * crash recovery.
 */
static const char *const connect_markers[] = {
	"too many clients",
	"remaining connection slots are reserved",
	"the database system is starting up",
	"the database system is shutting down",
	"the database system is in recovery mode",
	"the database system is not yet accepting connections",
	NULL
};

static const char *
find_any(const char *text, const char *const *markers)
{
	for (int i = 0; markers[i] != NULL; i++)
		if (strstr(text, markers[i]) != NULL)
			return markers[i];
	return NULL;
}

static bool
contains_any(const char *text, const char *const *markers)
{
	return find_any(text, markers) != NULL;
}

/*
 * Only the server's own answer to the connection counts, not the same words in
 * data that pg_dump quotes (a table or database name in "Query was: LOCK TABLE
 * ...", "permission denied for table ...", "database \"...\" does not exist"):
 * the marker must be the FATAL message that follows the first "failed: " of the
 * first line (libpq's "connection to server ... failed: FATAL:  ..."), or start
 * the text, and the rest of that line may hold no quoted name.
 */
const char *
rb_connect_refusal_reason(const char *text)
{
	static const char fatal[] = "FATAL:  ";
	static const char failed[] = "failed: ";
	const char *eol;
	const char *m;

	if (text == NULL)
		return NULL;
	eol = strchr(text, '\n');
	if (eol == NULL)
		eol = text + strlen(text);
	if (strncmp(text, fatal, strlen(fatal)) == 0)
		m = text + strlen(fatal);
	else
	{
		const char *f = strstr(text, failed);

		if (f == NULL || f >= eol || strncmp(f + strlen(failed), fatal, strlen(fatal)) != 0)
			return NULL;
		m = f + strlen(failed) + strlen(fatal);
	}
	if (strncmp(m, "sorry, ", 7) == 0)
		m += 7;
	for (int i = 0; connect_markers[i] != NULL; i++)
	{
		size_t		len = strlen(connect_markers[i]);

		if (m + len <= eol && strncmp(m, connect_markers[i], len) == 0 &&
			memchr(m + len, '"', (size_t) (eol - (m + len))) == NULL)
			return connect_markers[i];
	}
	return NULL;
}

/*
 * S3 answers appear in an error as "<status> <Code>: <Message>"
 * (rb_s3_error_from_info).  Finds each such pair; *permanent when one is
 * classed as refused credentials, missing, or integrity, *transient when one is
 * a 5xx, 429 or 408 or a transient code.
 */
static void
scan_s3_answers(const char *text, bool *permanent, bool *transient)
{
	for (const char *p = text; *p != '\0'; p++)
	{
		char		code[64];
		int			status;
		size_t		n = 0;
		const char *q;

		if (!isdigit((unsigned char) p[0]) || !isdigit((unsigned char) p[1]) ||
			!isdigit((unsigned char) p[2]) || p[3] != ' ' ||
			(p != text && isalnum((unsigned char) p[-1])))
			continue;
		status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
		if (status < 400 || status > 599)
			continue;
		q = p + 4;
		while (isalnum((unsigned char) q[n]) && n < sizeof(code) - 1)
			n++;
		memcpy(code, q, n);
		code[n] = '\0';
		if (q[n] != ':')
			code[0] = '\0';		/* "503 Service Unavailable": a reason phrase */
		switch (rb_s3_error_class(code, status))
		{
			case RB_ERR_AUTH:
			case RB_ERR_NOT_FOUND:
			case RB_ERR_INTEGRITY:
				*permanent = true;
				break;
			default:
				if (status >= 500 || status == 429 || status == 408 ||
					rb_s3_code_is_transient(code))
					*transient = true;
				else
					*permanent = true;
				break;
		}
	}
}

bool
rb_backup_failure_is_transient(const char *error)
{
	bool		permanent = false;
	bool		transient = false;

	if (error == NULL || error[0] == '\0')
		return false;
	scan_s3_answers(error, &permanent, &transient);
	if (permanent || contains_any(error, permanent_markers))
		return false;
	return transient || contains_any(error, transient_markers) ||
		contains_any(error, connect_markers);
}
