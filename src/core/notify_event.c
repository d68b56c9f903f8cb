/*
 * notify_event.c — the facts of a notification and their renderings: e-mail
 * (headers and a wrapped plain-text body), webhook JSON and Slack/Mattermost text
 * (see notify_event.h).
 *
 * Every value goes through rb_text_clean() before it is rendered: invalid UTF-8
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

#include "rb_json.h"
#include "notify_mail.h"
#include "rb_crypto.h"

#define MAIL_WIDTH		78		/* body line width (RFC 5322's advice) */
#define LABEL_WIDTH		16		/* "Largest tables: " */

/* --- kinds --------------------------------------------------------------------- */

static const char *const kind_names[] = {
	"backup.succeeded", "backup.failed", "verify.failed", "drill.succeeded",
	"drill.failed", "rpo.breached", "rpo.recovered", "wal_archive.failing",
	"wal_archive.recovered", "notify.test"
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
		kind == RB_NOTIFY_DRILL_FAILED || kind == RB_NOTIFY_RPO_BREACHED ||
		kind == RB_NOTIFY_WAL_ARCHIVE_FAILING;
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

/* A fact from a string: names on one line (RB_TEXT_ONE_LINE), messages keep their lines. */
static void
fact_str(facts *f, const char *label, const char *value, rb_text_mode mode)
{
	if (known(value))
		rb_text_clean(fact(f, label), value, mode);
}

static void
collect_facts(const rb_notify_event *ev, facts *f)
{
	char		a[64],
				b[64];

	f->n = 0;
	fact_str(f, "Database:", ev->dbname, RB_TEXT_ONE_LINE);
	fact_str(f, "Host:", ev->host, RB_TEXT_ONE_LINE);
	fact_str(f, "Backup id:", ev->backup_id, RB_TEXT_ONE_LINE);
	fact_str(f, "Label:", ev->label, RB_TEXT_ONE_LINE);
	fact_str(f, "Status:", ev->status, RB_TEXT_ONE_LINE);
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
			rb_text_clean(v, ev->largest_tables[i].name, RB_TEXT_ONE_LINE);
			rb_buf_appendf(v, " (%s row%s)", a, ev->largest_tables[i].rows == 1 ? "" : "s");
		}
	}
	fact_str(f, "Location:", ev->location, RB_TEXT_ONE_LINE);
	fact_str(f, "Verification:", ev->verification, RB_TEXT_ONE_LINE);
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
	fact_str(f, "Error:", ev->error, RB_TEXT_LINES);
	fact_str(f, "Detail:", ev->detail, RB_TEXT_LINES);
	fact_str(f, "Hint:", ev->hint, RB_TEXT_LINES);
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
		case RB_NOTIFY_WAL_ARCHIVE_FAILING: return (kind_words) {"FAILING", "WAL archiving"};
		case RB_NOTIFY_WAL_ARCHIVE_RECOVERED: return (kind_words) {"recovered", "WAL archiving"};
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
		rb_text_clean(out, ev->dbname, RB_TEXT_ONE_LINE);
		rb_buf_append_char(out, '"');
	}
	if (known(ev->host))
	{
		rb_buf_append_str(out, ev->kind == RB_NOTIFY_TEST ? " from " : " on ");
		rb_text_clean(out, ev->host, RB_TEXT_ONE_LINE);
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
		rb_text_clean(&db, ev->dbname, RB_TEXT_ONE_LINE);
		rb_buf_append_str(&db, "\"");
	}
	else
		rb_buf_append_str(&db, "the database");
	if (known(ev->host))
	{
		rb_buf_append_str(&on, " on ");
		rb_text_clean(&on, ev->host, RB_TEXT_ONE_LINE);
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
		case RB_NOTIFY_WAL_ARCHIVE_FAILING:
			rb_buf_appendf(out, "WAL archiving%s is FAILING: no WAL file has been archived "
						   "since the failures began. The server keeps the WAL in pg_wal until "
						   "it is archived; WAL written meanwhile is not yet in the archive.",
						   rb_buf_str(&on));
			break;
		case RB_NOTIFY_WAL_ARCHIVE_RECOVERED:
			rb_buf_appendf(out, "WAL archiving%s works again.", rb_buf_str(&on));
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
	rb_buf_reset(&intro);
	rb_buf_append_char(out, '\n');

	collect_facts(ev, &f);
	for (int i = 0; i < f.n; i++)
	{
		rb_buf_appendf(out, "%-*s", LABEL_WIDTH, f.label[i]);
		/* a URL (the location) wider than the line stays whole: see rb_text_wrap */
		rb_text_wrap(out, rb_buf_str(&f.value[i]), MAIL_WIDTH, LABEL_WIDTH, LABEL_WIDTH);
	}
	free_facts(&f);

	/* the signature separator "-- " keeps its space; the rest is wrapped like the body */
	rb_buf_append_str(out, "\n-- \n");
	rb_buf_append_str(&intro, "ripple_backup");
	if (known(ev->host))
	{
		rb_buf_append_str(&intro, " on ");
		rb_text_clean(&intro, ev->host, RB_TEXT_ONE_LINE);
	}
	rb_text_wrap(out, rb_buf_str(&intro), MAIL_WIDTH, 0, 0);
	rb_buf_free(&intro);
}

/* --- the e-mail ------------------------------------------------------------------------ */

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
	rb_mail_append_header(out, "Date", datestr, false);

	rb_text_clean(&v, env->from, RB_TEXT_ONE_LINE);
	rb_mail_append_header(out, "From", rb_buf_str(&v), false);
	rb_buf_reset(&v);
	for (size_t i = 0; i < env->nto; i++)
	{
		if (i > 0)
			rb_buf_append_str(&v, ", ");
		rb_text_clean(&v, env->to[i], RB_TEXT_ONE_LINE);
	}
	rb_mail_append_header(out, "To", rb_buf_str(&v), false);
	rb_buf_reset(&v);

	rb_notify_render_summary(ev, &v);
	rb_mail_append_header(out, "Subject", rb_buf_str(&v), true);
	rb_buf_reset(&v);

	if (known(env->message_id))
		rb_text_clean(&v, env->message_id, RB_TEXT_ONE_LINE);
	else
		make_message_id(ev, env, date, &v);
	rb_mail_append_header(out, "Message-ID", rb_buf_str(&v), false);
	rb_buf_reset(&v);

	/* RFC 3834: no vacation responder should answer a machine */
	rb_mail_append_header(out, "Auto-Submitted", "auto-generated", false);
	rb_mail_append_header(out, "MIME-Version", "1.0", false);
	rb_mail_append_header(out, "Content-Type", "text/plain; charset=UTF-8", false);

	rb_notify_render_text(ev, &body);
	if (rb_text_is_ascii(rb_buf_str(&body)))
	{
		rb_mail_append_header(out, "Content-Transfer-Encoding", "8bit", false);
		rb_mail_append_header(out, "X-Ripple-Event", rb_notify_kind_name(ev->kind), false);
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
		rb_mail_append_header(out, "Content-Transfer-Encoding", "quoted-printable", false);
		rb_mail_append_header(out, "X-Ripple-Event", rb_notify_kind_name(ev->kind), false);
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
	rb_text_clean(&v, value, RB_TEXT_LINES);
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

		rb_text_clean(&name, ev->largest_tables[i].name, RB_TEXT_ONE_LINE);
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
