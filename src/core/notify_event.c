/*
 * notify_event.c — the facts of a notification and their renderings: e-mail
 * (headers and a wrapped plain-text body), webhook JSON and Slack/Mattermost text
 * (see notify_event.h).
 *
 * Every value goes through clean_value() before it is rendered: invalid UTF-8
 * becomes U+FFFD (the e-mail says charset=UTF-8 and JSON must be UTF-8), and control
 * characters become spaces (in headers all of them, CR and LF included, which is
 * what makes header injection impossible; in body text LF is kept as a line break).
 */
#include "notify_event.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "json.h"
#include "rb_crypto.h"

#define MAIL_WIDTH		78		/* body and header line width (RFC 5322's advice) */
#define LABEL_WIDTH		16		/* "Largest tables: " */
#define QP_WIDTH		76		/* RFC 2045's limit for quoted-printable lines */
#define B_CHUNK_BYTES	39		/* raw bytes per encoded-word: 52 base64 characters,
								 * 64 with =?UTF-8?B??=, under RFC 2047's 75 */

/* --- kinds --------------------------------------------------------------------- */

static const char *const kind_names[] = {
	"backup.succeeded", "backup.failed", "verify.failed", "drill.succeeded",
	"drill.failed", "rpo.breached", "rpo.recovered", "notify.test"
};

const char *
rb_notify_kind_name(rb_notify_kind kind)
{
	if ((unsigned) kind < sizeof(kind_names) / sizeof(kind_names[0]))
		return kind_names[kind];
	return "unknown";
}

int
rb_notify_kind_parse(const char *name, rb_notify_kind *out, rb_error *err)
{
	for (size_t i = 0; name != NULL && i < sizeof(kind_names) / sizeof(kind_names[0]); i++)
	{
		if (strcmp(name, kind_names[i]) == 0)
		{
			*out = (rb_notify_kind) i;
			return 0;
		}
	}
	return rb_error_set(err, RB_ERR_INVALID, "unknown notification event \"%s\"",
						name ? name : "");
}

int
rb_notify_kind_is_failure(rb_notify_kind kind)
{
	return kind == RB_NOTIFY_BACKUP_FAILED || kind == RB_NOTIFY_VERIFY_FAILED ||
		kind == RB_NOTIFY_DRILL_FAILED || kind == RB_NOTIFY_RPO_BREACHED;
}

void
rb_notify_event_init(rb_notify_event *ev, rb_notify_kind kind)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->timestamp = -1;
	ev->started_at = -1;
	ev->duration_s = -1;
	ev->size_bytes = -1;
	ev->compression_ratio = -1;
	ev->rows_total = -1;
	ev->tables_total = -1;
	ev->last_success_at = -1;
	ev->last_success_age_s = -1;
	ev->rpo_target_s = -1;
	ev->restore_s = -1;
}

/* --- values -------------------------------------------------------------------- */

static int
known(const char *s)
{
	return s != NULL && s[0] != '\0';
}

static int
known_num(double v)
{
	return isfinite(v) && v >= 0;
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0 when invalid. */
static size_t
utf8_seq_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t		len;
	unsigned char lo = 0x80,
				hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF)
	{
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	}
	else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
	{
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	}
	return len;
}

typedef enum clean_mode
{
	CLEAN_HEADER,				/* every control character (CR, LF, TAB...) -> space */
	CLEAN_TEXT					/* LF kept, CR dropped, other controls -> space */
} clean_mode;

/* Appends s with invalid UTF-8 replaced by U+FFFD and control characters handled. */
static void
clean_value(rb_buf *out, const char *s, clean_mode mode)
{
	const unsigned char *p = (const unsigned char *) (s ? s : "");
	size_t		n = strlen((const char *) p);

	while (n > 0)
	{
		size_t		len = utf8_seq_len(p, n);

		if (len == 0)
		{
			rb_buf_append_str(out, "\xEF\xBF\xBD");
			p++;
			n--;
			continue;
		}
		if (len == 1 && (*p < 0x20 || *p == 0x7F))
		{
			if (mode == CLEAN_TEXT && *p == '\n')
				rb_buf_append_char(out, '\n');
			else if (!(mode == CLEAN_TEXT && *p == '\r'))
				rb_buf_append_char(out, ' ');
		}
		else
			rb_buf_append(out, p, len);
		p += len;
		n -= len;
	}
	if (out->data == NULL)
		rb_buf_append_str(out, "");
}

/* "2026-12-03 08:43:52 UTC" (text) or RFC 3339 "2026-12-03T08:43:52Z" (json) */
static void
fmt_time(int64_t t, int json, char *out, size_t size)
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(out, size, "%lld", (long long) t);
	else
		snprintf(out, size, json ? "%04d-%02d-%02dT%02d:%02d:%02dZ" : "%04d-%02d-%02d %02d:%02d:%02d UTC",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void
fmt_time_text(int64_t t, char *out, size_t size)
{
	fmt_time(t, 0, out, size);
}

static void
fmt_time_json(int64_t t, char *out, size_t size)
{
	fmt_time(t, 1, out, size);
}

/* "12.3 s", "4 min 05 s", "26 h 03 min", "3 d 04 h" */
static void
fmt_duration(double s, char *out, size_t size)
{
	long long	t = (long long) llround(s);

	if (s < 60)
		snprintf(out, size, "%.1f s", s);
	else if (t < 3600)
		snprintf(out, size, "%lld min %02lld s", t / 60, t % 60);
	else if (t < 2 * 86400)
		snprintf(out, size, "%lld h %02lld min", t / 3600, (t % 3600) / 60);
	else
		snprintf(out, size, "%lld d %02lld h", t / 86400, (t % 86400) / 3600);
}

/* 2000000 -> "2,000,000" */
static void
fmt_count(int64_t v, char *out, size_t size)
{
	char		digits[32];
	size_t		n,
				j = 0;

	snprintf(digits, sizeof(digits), "%lld", (long long) v);
	n = strlen(digits);
	for (size_t i = 0; i < n && j + 2 < size; i++)
	{
		if (i > 0 && digits[i - 1] != '-' && (n - i) % 3 == 0)
			out[j++] = ',';
		out[j++] = digits[i];
	}
	out[j] = '\0';
}

/* "5.6 MiB (5,872,025 bytes)" */
static void
fmt_size(int64_t v, char *out, size_t size)
{
	static const char *const units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double		d = (double) v;
	int			u = 0;
	char		count[32];

	while (d >= 1024 && u < 5)
	{
		d /= 1024;
		u++;
	}
	fmt_count(v, count, sizeof(count));
	if (u == 0)
		snprintf(out, size, "%s bytes", count);
	else
		snprintf(out, size, "%.1f %s (%s bytes)", d, units[u], count);
}

/* --- the facts, shared by the text renderings ------------------------------------- */

#define MAX_FACTS 24

typedef struct facts
{
	int			n;
	const char *label[MAX_FACTS];
	rb_buf		value[MAX_FACTS];
} facts;

static rb_buf *
fact(facts *f, const char *label)
{
	rb_buf	   *b = &f->value[f->n];

	f->label[f->n++] = label;
	rb_buf_init(b);
	return b;
}

/* A fact from a string: names on one line (CLEAN_HEADER), messages keep their lines. */
static void
fact_str(facts *f, const char *label, const char *value, clean_mode mode)
{
	if (known(value))
		clean_value(fact(f, label), value, mode);
}

static void
collect_facts(const rb_notify_event *ev, facts *f)
{
	char		a[64],
				b[64];

	f->n = 0;
	fact_str(f, "Database:", ev->dbname, CLEAN_HEADER);
	fact_str(f, "Host:", ev->host, CLEAN_HEADER);
	fact_str(f, "Backup id:", ev->backup_id, CLEAN_HEADER);
	fact_str(f, "Label:", ev->label, CLEAN_HEADER);
	fact_str(f, "Status:", ev->status, CLEAN_HEADER);
	if (ev->started_at >= 0)
	{
		fmt_time_text(ev->started_at, a, sizeof(a));
		rb_buf_append_str(fact(f, "Started:"), a);
	}
	if (known_num(ev->duration_s))
	{
		fmt_duration(ev->duration_s, a, sizeof(a));
		rb_buf_append_str(fact(f, "Duration:"), a);
	}
	if (ev->size_bytes >= 0)
	{
		fmt_size(ev->size_bytes, a, sizeof(a));
		rb_buf_append_str(fact(f, "Size:"), a);
	}
	if (known_num(ev->compression_ratio) && ev->compression_ratio > 0)
		rb_buf_appendf(fact(f, "Compression:"), "%.1f : 1", ev->compression_ratio);
	if (ev->rows_total >= 0)
	{
		rb_buf	   *v = fact(f, "Rows:");

		fmt_count(ev->rows_total, a, sizeof(a));
		rb_buf_append_str(v, a);
		if (ev->tables_total >= 0)
		{
			fmt_count(ev->tables_total, b, sizeof(b));
			rb_buf_appendf(v, " in %s table%s", b, ev->tables_total == 1 ? "" : "s");
		}
	}
	else if (ev->tables_total >= 0)
	{
		fmt_count(ev->tables_total, b, sizeof(b));
		rb_buf_appendf(fact(f, "Tables:"), "%s", b);
	}
	if (ev->nlargest_tables > 0 && ev->largest_tables != NULL)
	{
		rb_buf	   *v = fact(f, "Largest tables:");

		for (size_t i = 0; i < ev->nlargest_tables; i++)
		{
			fmt_count(ev->largest_tables[i].rows, a, sizeof(a));
			if (i > 0)
				rb_buf_append_str(v, ", ");
			clean_value(v, ev->largest_tables[i].name, CLEAN_HEADER);
			rb_buf_appendf(v, " (%s row%s)", a, ev->largest_tables[i].rows == 1 ? "" : "s");
		}
	}
	fact_str(f, "Location:", ev->location, CLEAN_HEADER);
	fact_str(f, "Verification:", ev->verification, CLEAN_HEADER);
	if (known_num(ev->restore_s))
	{
		fmt_duration(ev->restore_s, a, sizeof(a));
		rb_buf_append_str(fact(f, "Restore time:"), a);
	}
	if (known_num(ev->rpo_target_s))
	{
		fmt_duration(ev->rpo_target_s, a, sizeof(a));
		rb_buf_append_str(fact(f, "RPO target:"), a);
	}
	if (ev->last_success_at >= 0 || known_num(ev->last_success_age_s))
	{
		rb_buf	   *v = fact(f, "Last success:");

		if (ev->last_success_at >= 0)
		{
			fmt_time_text(ev->last_success_at, a, sizeof(a));
			rb_buf_append_str(v, a);
		}
		if (known_num(ev->last_success_age_s))
		{
			fmt_duration(ev->last_success_age_s, b, sizeof(b));
			rb_buf_appendf(v, "%s%s ago", ev->last_success_at >= 0 ? ", " : "", b);
		}
	}
	fact_str(f, "Error:", ev->error, CLEAN_TEXT);
	fact_str(f, "Detail:", ev->detail, CLEAN_TEXT);
	fact_str(f, "Hint:", ev->hint, CLEAN_TEXT);
}

static void
free_facts(facts *f)
{
	for (int i = 0; i < f->n; i++)
		rb_buf_free(&f->value[i]);
	f->n = 0;
}

/* --- summary and body text ----------------------------------------------------------- */

typedef struct kind_words
{
	const char *outcome;		/* FAILED, succeeded, ... (the subject's first word) */
	const char *what;			/* backup, verification, ... */
} kind_words;

static kind_words
words_of(rb_notify_kind kind)
{
	switch (kind)
	{
		case RB_NOTIFY_BACKUP_SUCCEEDED: return (kind_words) {"succeeded", "backup"};
		case RB_NOTIFY_BACKUP_FAILED: return (kind_words) {"FAILED", "backup"};
		case RB_NOTIFY_VERIFY_FAILED: return (kind_words) {"FAILED", "verification"};
		case RB_NOTIFY_DRILL_SUCCEEDED: return (kind_words) {"succeeded", "restore drill"};
		case RB_NOTIFY_DRILL_FAILED: return (kind_words) {"FAILED", "restore drill"};
		case RB_NOTIFY_RPO_BREACHED: return (kind_words) {"BREACHED", "recovery point objective"};
		case RB_NOTIFY_RPO_RECOVERED: return (kind_words) {"recovered", "recovery point objective"};
		case RB_NOTIFY_TEST: return (kind_words) {"test", "notification"};
	}
	return (kind_words) {"unknown", "event"};
}

void
rb_notify_render_summary(const rb_notify_event *ev, rb_buf *out)
{
	kind_words	w = words_of(ev->kind);

	rb_buf_appendf(out, "[ripple_backup] %s: %s", w.outcome, w.what);
	if (known(ev->dbname))
	{
		rb_buf_append_str(out, " of \"");
		clean_value(out, ev->dbname, CLEAN_HEADER);
		rb_buf_append_char(out, '"');
	}
	if (known(ev->host))
	{
		rb_buf_append_str(out, ev->kind == RB_NOTIFY_TEST ? " from " : " on ");
		clean_value(out, ev->host, CLEAN_HEADER);
	}
}

/* The opening sentence of the body. */
static void
render_intro(const rb_notify_event *ev, rb_buf *out)
{
	rb_buf		db = RB_BUF_INIT,
				on = RB_BUF_INIT;
	const char *d;

	if (known(ev->dbname))
	{
		rb_buf_append_str(&db, "database \"");
		clean_value(&db, ev->dbname, CLEAN_HEADER);
		rb_buf_append_str(&db, "\"");
	}
	else
		rb_buf_append_str(&db, "the database");
	if (known(ev->host))
	{
		rb_buf_append_str(&on, " on ");
		clean_value(&on, ev->host, CLEAN_HEADER);
	}
	d = rb_buf_str(&db);
	switch (ev->kind)
	{
		case RB_NOTIFY_BACKUP_SUCCEEDED:
			rb_buf_appendf(out, "The backup of %s%s succeeded.", d, rb_buf_str(&on));
			break;
		case RB_NOTIFY_BACKUP_FAILED:
			rb_buf_appendf(out, "The backup of %s%s FAILED. No new backup exists; the "
						   "earlier backups are untouched.", d, rb_buf_str(&on));
			break;
		case RB_NOTIFY_VERIFY_FAILED:
			rb_buf_appendf(out, "The verification of a backup of %s%s FAILED: restoring it "
						   "did not give back what was dumped. Do not count on this backup.",
						   d, rb_buf_str(&on));
			break;
		case RB_NOTIFY_DRILL_SUCCEEDED:
			rb_buf_appendf(out, "The restore drill of %s%s succeeded.", d, rb_buf_str(&on));
			break;
		case RB_NOTIFY_DRILL_FAILED:
			rb_buf_appendf(out, "The restore drill of %s%s FAILED.", d, rb_buf_str(&on));
			break;
		case RB_NOTIFY_RPO_BREACHED:
			rb_buf_appendf(out, "The recovery point objective of %s%s is BREACHED: the last "
						   "successful backup is older than the target.", d, rb_buf_str(&on));
			break;
		case RB_NOTIFY_RPO_RECOVERED:
			rb_buf_appendf(out, "The recovery point objective of %s%s is met again.",
						   d, rb_buf_str(&on));
			break;
		case RB_NOTIFY_TEST:
			rb_buf_appendf(out, "This is a test notification from ripple_backup%s. If you "
						   "read it, this channel works.", rb_buf_str(&on));
			break;
	}
	rb_buf_free(&db);
	rb_buf_free(&on);
}

void
rb_notify_render_text(const rb_notify_event *ev, rb_buf *out)
{
	rb_buf		intro = RB_BUF_INIT;
	facts		f;

	render_intro(ev, &intro);
	rb_text_wrap(out, rb_buf_str(&intro), MAIL_WIDTH, 0, 0);
	rb_buf_free(&intro);
	rb_buf_append_char(out, '\n');

	collect_facts(ev, &f);
	for (int i = 0; i < f.n; i++)
	{
		rb_buf_appendf(out, "%-*s", LABEL_WIDTH, f.label[i]);
		rb_text_wrap(out, rb_buf_str(&f.value[i]), MAIL_WIDTH, LABEL_WIDTH, LABEL_WIDTH);
	}
	free_facts(&f);

	rb_buf_append_str(out, "\n-- \nripple_backup");
	if (known(ev->host))
	{
		rb_buf_append_str(out, " on ");
		clean_value(out, ev->host, CLEAN_HEADER);
	}
	rb_buf_append_char(out, '\n');
}

/* --- wrapping and MIME encodings ------------------------------------------------------- */

static void
append_spaces(rb_buf *out, int n)
{
	for (int i = 0; i < n; i++)
		rb_buf_append_char(out, ' ');
}

/* Bytes of the UTF-8 character at p (1 for an invalid byte, never past the NUL). */
static size_t
char_len(const unsigned char *p)
{
	size_t		n = 1;

	while (n < 4 && (p[n] & 0xC0) == 0x80)
		n++;
	return n;
}

void
rb_text_wrap(rb_buf *out, const char *text, int width, int first_used, int indent)
{
	const unsigned char *p = (const unsigned char *) (text ? text : "");
	int			col = first_used;
	int			line_start = first_used;	/* col where this line's text began */

	if (indent >= width)
		indent = 0;
	if (width < 1)
		width = 1;
	while (*p)
	{
		const unsigned char *w;
		int			wcols = 0;

		if (*p == '\n')
		{
			rb_buf_append_char(out, '\n');
			append_spaces(out, indent);
			col = line_start = indent;
			p++;
			continue;
		}
		if (*p == ' ' || *p == '\r')
		{
			p++;
			continue;
		}
		/* one word: up to a space or a line end */
		for (w = p; *w && *w != ' ' && *w != '\n' && *w != '\r'; w += char_len(w))
			wcols++;
		if (col > line_start && col + 1 + wcols > width)
		{
			rb_buf_append_char(out, '\n');
			append_spaces(out, indent);
			col = line_start = indent;
		}
		if (col > line_start)
		{
			rb_buf_append_char(out, ' ');
			col++;
		}
		/* a word longer than a line is cut at code-point boundaries */
		while (p < w)
		{
			size_t		n = char_len(p);

			if (col >= width && col > line_start)
			{
				rb_buf_append_char(out, '\n');
				append_spaces(out, indent);
				col = line_start = indent;
			}
			rb_buf_append(out, p, n);
			p += n;
			col++;
		}
	}
	rb_buf_append_char(out, '\n');
}

void
rb_mime_encode_header_words(rb_buf *out, const char *value)
{
	const unsigned char *p = (const unsigned char *) value;
	size_t		n = strlen(value);
	int			first = 1;

	while (n > 0)
	{
		size_t		take = 0;
		char		b64[RB_BASE64_SIZE(B_CHUNK_BYTES + 4)];

		/* whole characters only: a word must not end inside a UTF-8 sequence */
		while (take < n)
		{
			size_t		c = char_len(p + take);

			if (take + c > n)
				c = n - take;
			if (take + c > B_CHUNK_BYTES && take > 0)
				break;
			take += c;
		}
		rb_base64_encode(p, take, b64);
		if (!first)
			rb_buf_append_str(out, "\r\n ");
		rb_buf_appendf(out, "=?UTF-8?B?%s?=", b64);
		first = 0;
		p += take;
		n -= take;
	}
}

void
rb_mime_quoted_printable(rb_buf *out, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *) text;
	const unsigned char *end = p + len;

	while (p < end)
	{
		const unsigned char *eol = memchr(p, '\n', (size_t) (end - p));
		const unsigned char *stop = eol ? eol : end;
		int			col = 0;

		/* a CR before the LF is part of the line end, not of the line */
		if (stop > p && stop[-1] == '\r')
			stop--;
		for (const unsigned char *c = p; c < stop; c++)
		{
			char		tok[4];
			int			last = (c + 1 == stop);

			if (*c == '=' || *c >= 0x7F || (*c < 0x20 && *c != '\t') ||
				(last && (*c == ' ' || *c == '\t')))
				snprintf(tok, sizeof(tok), "=%02X", *c);
			else
			{
				tok[0] = (char) *c;
				tok[1] = '\0';
			}
			/* keep room for the soft break "=" within 76 columns */
			if (col + (int) strlen(tok) > QP_WIDTH - 1 && !(last && col + (int) strlen(tok) <= QP_WIDTH))
			{
				rb_buf_append_str(out, "=\r\n");
				col = 0;
			}
			rb_buf_append_str(out, tok);
			col += (int) strlen(tok);
		}
		rb_buf_append_str(out, "\r\n");
		p = eol ? eol + 1 : end;
	}
}

void
rb_mail_date(int64_t t, char out[40])
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t		tt = (time_t) t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000",
			 days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* --- the e-mail ------------------------------------------------------------------------ */

static int
is_ascii(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
	{
		if (*p >= 0x80)
			return 0;
	}
	return 1;
}

/*
 * Appends "Name: value" + CRLF, value already cleaned (no CR, LF or control
 * character).  An ASCII value longer than a line is folded at spaces; any other
 * value is encoded as RFC 2047 words when encode is set.
 */
static void
append_header(rb_buf *out, const char *name, const char *value, int encode)
{
	size_t		col = strlen(name) + 2;
	const char *p = value;

	rb_buf_appendf(out, "%s: ", name);
	if (encode && !is_ascii(value))
	{
		rb_mime_encode_header_words(out, value);
		rb_buf_append_str(out, "\r\n");
		return;
	}
	while (*p)
	{
		size_t		rest = strlen(p);
		const char *brk = NULL;

		if (col + rest <= MAIL_WIDTH)
		{
			rb_buf_append_str(out, p);
			break;
		}
		/*
		 * The last space that keeps the line within the width, else the next one;
		 * only a space after a non-space, so no line is whitespace alone.
		 */
		for (const char *s = p + 1; s < p + rest && (size_t) (s - p) + col <= MAIL_WIDTH; s++)
		{
			if (*s == ' ' && s[-1] != ' ')
				brk = s;
		}
		for (const char *s = p + 1; brk == NULL && *s; s++)
		{
			if (*s == ' ' && s[-1] != ' ')
				brk = s;
		}
		if (brk == NULL)
		{
			rb_buf_append_str(out, p);
			break;
		}
		rb_buf_append(out, p, (size_t) (brk - p));
		rb_buf_append_str(out, "\r\n");
		p = brk;				/* the space starts the continuation line */
		col = 0;
	}
	rb_buf_append_str(out, "\r\n");
}

/* The domain of the address in a From value ("Name <a@example.com>" -> example.com). */
static void
from_domain(const char *from, rb_buf *out)
{
	const char *at = strrchr(from, '@');

	if (at == NULL)
		return;
	for (const char *p = at + 1; *p; p++)
	{
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
			rb_buf_append_char(out, *p);
		else
			break;
	}
}

static void
make_message_id(const rb_notify_event *ev, const rb_mail_envelope *env, int64_t date,
				rb_buf *out)
{
	unsigned char rnd[8];
	char		hex[2 * sizeof(rnd) + 1];
	rb_buf		domain = RB_BUF_INIT;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
	{
		/* not a secret, only unique: time and address are a fallback */
		uint64_t	x = (uint64_t) date ^ ((uint64_t) (uintptr_t) &rnd << 16) ^ (uint64_t) clock();

		memcpy(rnd, &x, sizeof(rnd));
	}
	rb_hex_encode(rnd, sizeof(rnd), hex);
	from_domain(env->from, &domain);
	if (domain.len == 0 && known(ev->host))
	{
		for (const char *p = ev->host; *p; p++)
		{
			if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				(*p >= '0' && *p <= '9') || *p == '.' || *p == '-')
				rb_buf_append_char(&domain, *p);
		}
	}
	if (domain.len == 0)
		rb_buf_append_str(&domain, "ripple-backup.invalid");
	rb_buf_appendf(out, "<ripple_backup.%lld.%s@%s>", (long long) date, hex,
				   rb_buf_str(&domain));
	rb_buf_free(&domain);
}

int
rb_notify_render_mail(const rb_notify_event *ev, const rb_mail_envelope *env,
					  rb_buf *out, rb_error *err)
{
	rb_buf		v = RB_BUF_INIT,
				body = RB_BUF_INIT;
	int64_t		date = env->date >= 0 ? env->date : (int64_t) time(NULL);
	char		datestr[40];

	if (!known(env->from))
		return rb_error_set(err, RB_ERR_INVALID, "the e-mail has no sender (mail_from is empty)");
	if (env->nto == 0 || env->to == NULL)
		return rb_error_set(err, RB_ERR_INVALID, "the e-mail has no recipient (mail_to is empty)");
	for (size_t i = 0; i < env->nto; i++)
	{
		if (!known(env->to[i]))
			return rb_error_set(err, RB_ERR_INVALID, "recipient %zu of the e-mail is empty", i + 1);
	}

	rb_mail_date(date, datestr);
	append_header(out, "Date", datestr, 0);

	clean_value(&v, env->from, CLEAN_HEADER);
	append_header(out, "From", rb_buf_str(&v), 0);
	rb_buf_reset(&v);
	for (size_t i = 0; i < env->nto; i++)
	{
		if (i > 0)
			rb_buf_append_str(&v, ", ");
		clean_value(&v, env->to[i], CLEAN_HEADER);
	}
	append_header(out, "To", rb_buf_str(&v), 0);
	rb_buf_reset(&v);

	rb_notify_render_summary(ev, &v);
	append_header(out, "Subject", rb_buf_str(&v), 1);
	rb_buf_reset(&v);

	if (known(env->message_id))
		clean_value(&v, env->message_id, CLEAN_HEADER);
	else
		make_message_id(ev, env, date, &v);
	append_header(out, "Message-ID", rb_buf_str(&v), 0);
	rb_buf_reset(&v);

	/* RFC 3834: no vacation responder should answer a machine */
	append_header(out, "Auto-Submitted", "auto-generated", 0);
	append_header(out, "MIME-Version", "1.0", 0);
	append_header(out, "Content-Type", "text/plain; charset=UTF-8", 0);

	rb_notify_render_text(ev, &body);
	if (is_ascii(rb_buf_str(&body)))
	{
		append_header(out, "Content-Transfer-Encoding", "8bit", 0);
		append_header(out, "X-Ripple-Event", rb_notify_kind_name(ev->kind), 0);
		rb_buf_append_str(out, "\r\n");
		/* LF -> CRLF */
		for (const char *p = rb_buf_str(&body); *p; p++)
		{
			if (*p == '\n')
				rb_buf_append_str(out, "\r\n");
			else
				rb_buf_append_char(out, *p);
		}
	}
	else
	{
		append_header(out, "Content-Transfer-Encoding", "quoted-printable", 0);
		append_header(out, "X-Ripple-Event", rb_notify_kind_name(ev->kind), 0);
		rb_buf_append_str(out, "\r\n");
		rb_mime_quoted_printable(out, rb_buf_str(&body), body.len);
	}
	rb_buf_free(&v);
	rb_buf_free(&body);
	return 0;
}

/* --- JSON and Slack ------------------------------------------------------------------- */

static void
json_str(rb_buf *out, const char *key, const char *value)
{
	rb_buf		v = RB_BUF_INIT;

	rb_buf_appendf(out, ",\"%s\":", key);
	if (!known(value))
	{
		rb_buf_append_str(out, "null");
		return;
	}
	clean_value(&v, value, CLEAN_TEXT);
	rb_json_append_string(out, rb_buf_str(&v));
	rb_buf_free(&v);
}

static void
json_int(rb_buf *out, const char *key, int64_t value)
{
	if (value < 0)
		rb_buf_appendf(out, ",\"%s\":null", key);
	else
		rb_buf_appendf(out, ",\"%s\":%lld", key, (long long) value);
}

static void
json_num(rb_buf *out, const char *key, double value, int decimals)
{
	if (!known_num(value))
		rb_buf_appendf(out, ",\"%s\":null", key);
	else
		rb_buf_appendf(out, ",\"%s\":%.*f", key, decimals, value);
}

static void
json_time(rb_buf *out, const char *key, int64_t t)
{
	char		s[40];

	if (t < 0)
	{
		rb_buf_appendf(out, ",\"%s\":null", key);
		return;
	}
	fmt_time_json(t, s, sizeof(s));
	rb_buf_appendf(out, ",\"%s\":\"%s\"", key, s);
}

void
rb_notify_render_json(const rb_notify_event *ev, rb_buf *out)
{
	rb_buf		summary = RB_BUF_INIT;
	int64_t		ts = ev->timestamp >= 0 ? ev->timestamp : (int64_t) time(NULL);

	rb_buf_append_str(out, "{\"event\":");
	rb_json_append_string(out, rb_notify_kind_name(ev->kind));
	json_time(out, "timestamp", ts);
	rb_notify_render_summary(ev, &summary);
	json_str(out, "summary", rb_buf_str(&summary));
	rb_buf_free(&summary);
	json_str(out, "host", ev->host);
	json_str(out, "database", ev->dbname);
	json_str(out, "backup_id", ev->backup_id);
	json_str(out, "label", ev->label);
	json_str(out, "status", ev->status);
	json_time(out, "started_at", ev->started_at);
	json_num(out, "duration_seconds", ev->duration_s, 3);
	json_int(out, "size_bytes", ev->size_bytes);
	json_num(out, "compression_ratio", ev->compression_ratio, 2);
	json_int(out, "rows_total", ev->rows_total);
	json_int(out, "tables_total", ev->tables_total);
	rb_buf_append_str(out, ",\"largest_tables\":[");
	for (size_t i = 0; ev->largest_tables != NULL && i < ev->nlargest_tables; i++)
	{
		rb_buf		name = RB_BUF_INIT;

		clean_value(&name, ev->largest_tables[i].name, CLEAN_HEADER);
		rb_buf_append_str(out, i > 0 ? ",{\"name\":" : "{\"name\":");
		rb_json_append_string(out, rb_buf_str(&name));
		rb_buf_appendf(out, ",\"rows\":%lld}", (long long) ev->largest_tables[i].rows);
		rb_buf_free(&name);
	}
	rb_buf_append_char(out, ']');
	json_str(out, "location", ev->location);
	json_str(out, "verification", ev->verification);
	json_str(out, "error", ev->error);
	json_str(out, "detail", ev->detail);
	json_str(out, "hint", ev->hint);
	json_time(out, "last_success_at", ev->last_success_at);
	json_num(out, "last_success_age_seconds", ev->last_success_age_s, 0);
	json_num(out, "rpo_target_seconds", ev->rpo_target_s, 0);
	json_num(out, "restore_seconds", ev->restore_s, 3);
	rb_buf_append_char(out, '}');
}

/* Slack's three control characters, as its message formatting asks. */
static void
slack_escape(rb_buf *out, const char *s)
{
	for (; *s; s++)
	{
		if (*s == '&')
			rb_buf_append_str(out, "&amp;");
		else if (*s == '<')
			rb_buf_append_str(out, "&lt;");
		else if (*s == '>')
			rb_buf_append_str(out, "&gt;");
		else
			rb_buf_append_char(out, *s);
	}
}

void
rb_notify_render_slack(const rb_notify_event *ev, rb_buf *out)
{
	rb_buf		text = RB_BUF_INIT,
				summary = RB_BUF_INIT;
	facts		f;

	rb_notify_render_summary(ev, &summary);
	slack_escape(&text, rb_buf_str(&summary));
	rb_buf_free(&summary);
	collect_facts(ev, &f);
	for (int i = 0; i < f.n; i++)
	{
		rb_buf_appendf(&text, "\n%s ", f.label[i]);
		slack_escape(&text, rb_buf_str(&f.value[i]));
	}
	free_facts(&f);
	rb_buf_append_str(out, "{\"text\":");
	rb_json_append_string(out, rb_buf_str(&text));
	rb_buf_append_char(out, '}');
	rb_buf_free(&text);
}
