/*
 * test_notify_event.c — unit tests of the notification renderings
 * (src/core/notify_event.c, with the text and MIME helpers of notify_mail.c): the subject line, the wrapped plain-text body, the
 * e-mail headers (Date, Message-ID, MIME, RFC 2047 subject, quoted-printable body),
 * header injection through any value, the webhook JSON and the Slack text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "rb_json.h"
#include "notify_mail.h"
#include "notify_event.h"
#include "s3/s3_retry.h"

#define T_DATE 1796287432		/* Thu, 03 Dec 2026 08:43:52 UTC */

static const rb_notify_table tables[] = {
	{"public.pgbench_accounts", 2000000},
	{"public.pgbench_history", 12345},
	{"public.pgbench_branches", 1},
};

/* What both sample events share: who, which backup, where. */
static void
sample_event(rb_notify_event *ev, rb_notify_kind kind, const char *status)
{
	rb_notify_event_init(ev, kind);
	ev->timestamp = T_DATE;
	ev->host = "db1.example.com";
	ev->dbname = "app";
	ev->backup_id = "20261203T084352Z-app-1a2b";
	ev->label = "nightly";
	ev->status = status;
	ev->location = "s3://backups/app/20261203T084352Z-app-1a2b.dump";
}

static void
failure_event(rb_notify_event *ev)
{
	sample_event(ev, RB_NOTIFY_BACKUP_FAILED, "failed");
	ev->started_at = T_DATE - 75;
	ev->duration_s = 75.4;
	ev->error = "pg_dump failed: could not connect to the server";
	ev->detail = "connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed: "
		"FATAL:  the database system is shutting down, and this detail is long enough to wrap "
		"over more than one line of the e-mail body";
	ev->hint = "Check that the server is running.";
	ev->last_success_at = T_DATE - 26 * 3600 - 180;
	ev->last_success_age_s = 26 * 3600 + 180;
}

static void
success_event(rb_notify_event *ev)
{
	sample_event(ev, RB_NOTIFY_BACKUP_SUCCEEDED, "succeeded");
	ev->started_at = T_DATE - 12;
	ev->duration_s = 12.3;
	ev->size_bytes = 5872025;
	ev->compression_ratio = 36.4;
	ev->rows_total = 2012346;
	ev->tables_total = 4;
	ev->largest_tables = tables;
	ev->nlargest_tables = 3;
	ev->verification = "verified";
}

/* Number of UTF-8 code points in [s, s+n). */
static int
cols(const char *s, size_t n)
{
	int			c = 0;

	for (size_t i = 0; i < n; i++)
	{
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			c++;
	}
	return c;
}

/* Every line of text (split on sep) has at most max code points. */
static void
assert_lines_within(const char *text, const char *sep, int max)
{
	const char *p = text;

	for (;;)
	{
		const char *e = strstr(p, sep);
		size_t		n = e ? (size_t) (e - p) : strlen(p);

		if (cols(p, n) > max)
			fail_msg("line longer than %d columns: \"%.*s\"", max, (int) n, p);
		if (e == NULL)
			break;
		p = e + strlen(sep);
	}
}

/*
 * Every line of a wrapped body (split on sep) has at most max code points, but for
 * a word wider than a line, which rb_text_wrap keeps whole on a line of its own.
 */
static void
assert_body_lines_within(const char *text, const char *sep, int max)
{
	const char *p = text;

	for (;;)
	{
		const char *e = strstr(p, sep);
		size_t		n = e ? (size_t) (e - p) : strlen(p);

		if (cols(p, n) > max)
		{
			/*
			 * Only a word wider than a line may pass the width, alone on its line
			 * after the indent or the label (at most 16 columns before it).
			 */
			const char *w = p + n;

			while (w > p && w[-1] != ' ')
				w--;
			if (cols(p, (size_t) (w - p)) > 16 ||
				cols(w, (size_t) (p + n - w)) <= max - 16 ||
				(size_t) (p + n - w) > RB_TEXT_MAX_WORD)
				fail_msg("line longer than %d columns: \"%.*s\"", max, (int) n, p);
		}
		if (e == NULL)
			break;
		p = e + strlen(sep);
	}
}

/* The header block of a message (up to the empty line), as a new string. */
static char *
header_block(const char *msg)
{
	const char *e = strstr(msg, "\r\n\r\n");

	assert_non_null(e);
	return strndup(msg, (size_t) (e - msg) + 2);
}

/* The unfolded value of header name in the block, or NULL. */
static char *
header_value(const char *block, const char *name)
{
	size_t		nl = strlen(name);
	const char *p = block;

	while (*p)
	{
		if (strncmp(p, name, nl) == 0 && p[nl] == ':')
		{
			rb_buf		v = RB_BUF_INIT;
			const char *s = p + nl + 1;

			while (*s == ' ')
				s++;
			for (;;)
			{
				const char *e = strstr(s, "\r\n");

				rb_buf_append(&v, s, (size_t) (e - s));
				if (e[2] != ' ' && e[2] != '\t')
					break;
				s = e + 2;
			}
			{
				char	   *r = strdup(rb_buf_str(&v));

				rb_buf_free(&v);
				return r;
			}
		}
		p = strstr(p, "\r\n");
		if (p == NULL)
			break;
		p += 2;
	}
	return NULL;
}

static void
test_kinds(void **state)
{
	rb_notify_kind k;
	rb_error	err;

	(void) state;
	for (int i = RB_NOTIFY_BACKUP_SUCCEEDED; i <= RB_NOTIFY_TEST; i++)
	{
		assert_int_equal(rb_notify_kind_parse(rb_notify_kind_name((rb_notify_kind) i), &k, &err), 0);
		assert_int_equal(k, i);
	}
	assert_string_equal(rb_notify_kind_name(RB_NOTIFY_BACKUP_FAILED), "backup.failed");
	assert_string_equal(rb_notify_kind_name(RB_NOTIFY_RPO_RECOVERED), "rpo.recovered");
	assert_int_equal(rb_notify_kind_parse("backup.exploded", &k, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_true(rb_notify_kind_is_failure(RB_NOTIFY_VERIFY_FAILED));
	assert_false(rb_notify_kind_is_failure(RB_NOTIFY_DRILL_SUCCEEDED));
}

static void
test_summary(void **state)
{
	rb_notify_event ev;
	rb_buf		b = RB_BUF_INIT;

	(void) state;
	failure_event(&ev);
	rb_notify_render_summary(&ev, &b);
	assert_string_equal(rb_buf_str(&b), "[ripple_backup] FAILED: backup of \"app\" on db1.example.com");
	rb_buf_reset(&b);
	success_event(&ev);
	rb_notify_render_summary(&ev, &b);
	assert_string_equal(rb_buf_str(&b), "[ripple_backup] succeeded: backup of \"app\" on db1.example.com");
	rb_buf_reset(&b);
	ev.kind = RB_NOTIFY_DRILL_FAILED;
	rb_notify_render_summary(&ev, &b);
	assert_string_equal(rb_buf_str(&b), "[ripple_backup] FAILED: restore drill of \"app\" on db1.example.com");
	rb_buf_reset(&b);
	ev.kind = RB_NOTIFY_RPO_BREACHED;
	rb_notify_render_summary(&ev, &b);
	assert_string_equal(rb_buf_str(&b),
						"[ripple_backup] BREACHED: recovery point objective of \"app\" on db1.example.com");
	rb_buf_free(&b);
}

static void
test_text_body(void **state)
{
	rb_notify_event ev;
	rb_buf		b = RB_BUF_INIT;
	const char *t;

	(void) state;
	failure_event(&ev);
	rb_notify_render_text(&ev, &b);
	t = rb_buf_str(&b);
	assert_non_null(strstr(t, "The backup of database \"app\" on db1.example.com FAILED."));
	assert_non_null(strstr(t, "\nDatabase:       app\n"));
	assert_non_null(strstr(t, "\nBackup id:      20261203T084352Z-app-1a2b\n"));
	assert_non_null(strstr(t, "\nLabel:          nightly\n"));
	assert_non_null(strstr(t, "\nStatus:         failed\n"));
	assert_non_null(strstr(t, "\nStarted:        2026-12-03 08:42:37 UTC\n"));
	assert_non_null(strstr(t, "\nDuration:       1 min 15 s\n"));
	assert_non_null(strstr(t, "\nLocation:       s3://backups/app/"));
	assert_non_null(strstr(t, "\nError:          pg_dump failed: could not connect to the server\n"));
	assert_non_null(strstr(t, "\nHint:           Check that the server is running.\n"));
	assert_non_null(strstr(t, "\nLast success:   2026-12-02 06:40:52 UTC, 26 h 03 min ago\n"));
	/* the long detail is wrapped, continuation lines indented under the value */
	assert_non_null(strstr(t, "\nDetail:         connection to server"));
	assert_non_null(strstr(t, "\n                "));
	assert_lines_within(t, "\n", 78);
	assert_null(strstr(t, "Size:"));	/* unknown facts are left out */
	rb_buf_reset(&b);

	success_event(&ev);
	rb_notify_render_text(&ev, &b);
	t = rb_buf_str(&b);
	assert_non_null(strstr(t, "\nSize:           5.6 MiB (5,872,025 bytes)\n"));
	assert_non_null(strstr(t, "\nCompression:    36.4 : 1\n"));
	assert_non_null(strstr(t, "\nRows:           2,012,346 in 4 tables\n"));
	assert_non_null(strstr(t, "\nLargest tables: public.pgbench_accounts (2,000,000 rows),"));
	assert_non_null(strstr(t, "public.pgbench_branches\n                (1 row)\n"));
	assert_non_null(strstr(t, "\nVerification:   verified\n"));
	assert_null(strstr(t, "Error:"));
	assert_lines_within(t, "\n", 78);
	rb_buf_reset(&b);

	/* a location longer than a line stays whole on its line: a cut URL is no link */
	ev.location = "s3://backups/prod/7715046653503022700/b229db9395d9c7ff/app/20261203T120118Z-1234.dump.zst";
	rb_notify_render_text(&ev, &b);
	t = rb_buf_str(&b);
	assert_non_null(strstr(t, "\nLocation:       s3://backups/prod/7715046653503022700/b229db9395d9c7ff/app/20261203T120118Z-1234.dump.zst\n"));
	rb_buf_free(&b);
}

static void
test_wrap(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	char		word[400];
	char		big[1001];
	const char *p;
	int			n;

	(void) state;
	rb_text_wrap(&b, "aaa bbb ccc", 7, 0, 0);
	assert_string_equal(rb_buf_str(&b), "aaa bbb\nccc\n");
	rb_buf_reset(&b);
	rb_text_wrap(&b, "aaa bbb ccc", 9, 2, 2);
	assert_string_equal(rb_buf_str(&b), "aaa bbb\n  ccc\n");
	rb_buf_reset(&b);
	rb_text_wrap(&b, "one\ntwo", 78, 4, 4);
	assert_string_equal(rb_buf_str(&b), "one\n    two\n");
	rb_buf_reset(&b);

	/* a word wider than a line (a URL in an error) stays whole on a line of its own */
	rb_text_wrap(&b, "could not write file:///dev/null/not-a-directory/7715060237324094125/6b9391b84634ce0f/app/x.dump.zst: Not a directory",
				 78, 16, 16);
	assert_string_equal(rb_buf_str(&b),
						"could not write\n"
						"                file:///dev/null/not-a-directory/7715060237324094125/6b9391b84634ce0f/app/x.dump.zst:\n"
						"                Not a directory\n");
	rb_buf_reset(&b);

	/* 100 two-byte characters and no space: whole, on the first line */
	word[0] = '\0';
	for (int i = 0; i < 100; i++)
		strcat(word, "\xC3\xA9");
	rb_text_wrap(&b, word, 78, 0, 0);
	assert_string_equal(rb_buf_str(&b) + 200, "\n");
	assert_memory_equal(rb_buf_str(&b), word, 200);
	rb_buf_reset(&b);

	/* 500 two-byte characters (past RB_TEXT_MAX_WORD bytes): cut at 78 columns, never inside one */
	big[0] = '\0';
	for (int i = 0; i < 500; i++)
		strcat(big, "\xC3\xA9");
	rb_text_wrap(&b, big, 78, 0, 0);
	p = rb_buf_str(&b);
	n = (int) (strchr(p, '\n') - p);
	assert_int_equal(n, 78 * 2);
	assert_int_equal(cols(p, (size_t) n), 78);
	/* six full lines, then the rest: 500 - 6 * 78 = 32 characters and the line end */
	p = strrchr(p, '\n');
	*(char *) p = '\0';
	p = strrchr(rb_buf_str(&b), '\n') + 1;
	assert_int_equal(strlen(p), 32 * 2);
	assert_memory_equal(p, big, 32 * 2);
	rb_buf_reset(&b);

	/* three-byte characters among words, with an indent */
	rb_text_wrap(&b, "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC \xE2\x82\xAC\xE2\x82\xAC", 5, 0, 1);
	assert_string_equal(rb_buf_str(&b), "\xE2\x82\xAC\xE2\x82\xAC\xE2\x82\xAC\n \xE2\x82\xAC\xE2\x82\xAC\n");
	rb_buf_free(&b);
}

static void
test_mail_date(void **state)
{
	char		d[40];

	(void) state;
	rb_mail_date(T_DATE, d);
	assert_string_equal(d, "Thu, 03 Dec 2026 08:43:52 +0000");
	rb_mail_date(0, d);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 +0000");
}

static void
test_mail_ascii(void **state)
{
	rb_notify_event ev;
	const char *to[] = {"dba@example.com", "oncall@example.com"};
	rb_mail_envelope env = {"ripple_backup <backup@example.com>", to, 2, T_DATE, NULL};
	rb_buf		m = RB_BUF_INIT;
	rb_error	err;
	char	   *h,
			   *v;
	const char *body;

	(void) state;
	failure_event(&ev);
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), 0);
	h = header_block(rb_buf_str(&m));
	assert_true(strncmp(h, "Date: Thu, 03 Dec 2026 08:43:52 +0000\r\n", 39) == 0);
	v = header_value(h, "From");
	assert_string_equal(v, "ripple_backup <backup@example.com>");
	free(v);
	v = header_value(h, "To");
	assert_string_equal(v, "dba@example.com, oncall@example.com");
	free(v);
	v = header_value(h, "Subject");
	assert_string_equal(v, "[ripple_backup] FAILED: backup of \"app\" on db1.example.com");
	free(v);
	v = header_value(h, "Message-ID");
	assert_true(strncmp(v, "<ripple_backup.1796287432.", 26) == 0);
	assert_int_equal(strlen(v), 26 + 16 + strlen("@example.com>"));
	assert_string_equal(v + 26 + 16, "@example.com>");
	free(v);
	v = header_value(h, "Auto-Submitted");
	assert_string_equal(v, "auto-generated");
	free(v);
	v = header_value(h, "MIME-Version");
	assert_string_equal(v, "1.0");
	free(v);
	v = header_value(h, "Content-Type");
	assert_string_equal(v, "text/plain; charset=UTF-8");
	free(v);
	v = header_value(h, "Content-Transfer-Encoding");
	assert_string_equal(v, "8bit");
	free(v);
	v = header_value(h, "X-Ripple-Event");
	assert_string_equal(v, "backup.failed");
	free(v);
	assert_lines_within(h, "\r\n", 78);
	free(h);

	/* CRLF everywhere, no bare LF or CR */
	for (const char *p = rb_buf_str(&m); *p; p++)
	{
		if (*p == '\n')
			assert_true(p > rb_buf_str(&m) && p[-1] == '\r');
		if (*p == '\r')
			assert_true(p[1] == '\n');
	}
	body = strstr(rb_buf_str(&m), "\r\n\r\n") + 4;
	assert_non_null(strstr(body, "Database:       app\r\n"));
	assert_lines_within(body, "\r\n", 78);

	/* a given Message-ID is used as it is; no sender or recipient is an error */
	rb_buf_reset(&m);
	env.message_id = "<fixed@example.com>";
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), 0);
	assert_non_null(strstr(rb_buf_str(&m), "\r\nMessage-ID: <fixed@example.com>\r\n"));
	env.nto = 0;
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	env.nto = 2;
	env.from = "";
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), -1);
	rb_buf_free(&m);
}

/* Decodes the RFC 2047 B words of a header value (concatenated). */
static char *
decode_words(const char *v)
{
	rb_buf		out = RB_BUF_INIT;
	const char *p = v;

	while ((p = strstr(p, "=?UTF-8?B?")) != NULL)
	{
		const char *s = p + 10;
		const char *e = strstr(s, "?=");
		unsigned char raw[200];
		int			n;
		int			pad = 0;

		assert_non_null(e);
		assert_true(e - p + 2 <= 75);
		n = EVP_DecodeBlock(raw, (const unsigned char *) s, (int) (e - s));
		assert_true(n >= 0);
		if (e - s >= 1 && e[-1] == '=')
			pad++;
		if (e - s >= 2 && e[-2] == '=')
			pad++;
		rb_buf_append(&out, raw, (size_t) (n - pad));
		p = e + 2;
	}
	{
		char	   *r = strdup(rb_buf_str(&out));

		rb_buf_free(&out);
		return r;
	}
}

/* Decodes quoted-printable text back (soft breaks removed, CRLF kept as LF). */
static char *
decode_qp(const char *s)
{
	rb_buf		out = RB_BUF_INIT;

	while (*s)
	{
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
			s += 3;
		else if (s[0] == '=')
		{
			char		hex[3] = {s[1], s[2], 0};

			rb_buf_append_char(&out, (char) strtol(hex, NULL, 16));
			s += 3;
		}
		else if (s[0] == '\r' && s[1] == '\n')
		{
			rb_buf_append_char(&out, '\n');
			s += 2;
		}
		else
			rb_buf_append_char(&out, *s++);
	}
	{
		char	   *r = strdup(rb_buf_str(&out));

		rb_buf_free(&out);
		return r;
	}
}

static void
test_mail_utf8(void **state)
{
	rb_notify_event ev;
	const char *to[] = {"dba@example.com"};
	rb_mail_envelope env = {"backup@example.com", to, 1, T_DATE, NULL};
	rb_buf		m = RB_BUF_INIT,
				text = RB_BUF_INIT,
				want = RB_BUF_INIT;
	rb_error	err;
	char	   *h,
			   *v,
			   *d;
	const char *body;

	(void) state;
	failure_event(&ev);
	ev.dbname = "donn\xC3\xA9""es_\xE6\x97\xA5\xE6\x9C\xAC_\xF0\x9F\x90\x98_with_a_rather_long_name_to_need_two_words";
	ev.error = "la sauvegarde a \xC3\xA9" "chou\xC3\xA9 = 100 %";
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), 0);
	h = header_block(rb_buf_str(&m));
	v = header_value(h, "Subject");
	assert_true(strncmp(v, "=?UTF-8?B?", 10) == 0);
	d = decode_words(v);
	rb_notify_render_summary(&ev, &want);
	assert_string_equal(d, rb_buf_str(&want));
	free(d);
	free(v);
	/* the encoded subject spans folded lines, each within 76 characters */
	assert_non_null(strstr(h, "?=\r\n =?UTF-8?B?"));
	assert_lines_within(h, "\r\n", 76);
	v = header_value(h, "Content-Transfer-Encoding");
	assert_string_equal(v, "quoted-printable");
	free(v);
	free(h);

	body = strstr(rb_buf_str(&m), "\r\n\r\n") + 4;
	assert_lines_within(body, "\r\n", 76);
	for (const unsigned char *p = (const unsigned char *) body; *p; p++)
		assert_true(*p < 0x80);
	d = decode_qp(body);
	rb_notify_render_text(&ev, &text);
	assert_string_equal(d, rb_buf_str(&text));
	free(d);
	rb_buf_free(&m);
	rb_buf_free(&text);
	rb_buf_free(&want);
}

static void
test_quoted_printable(void **state)
{
	rb_buf		b = RB_BUF_INIT;
	char		line[101];

	(void) state;
	rb_mime_quoted_printable(&b, "a=b\n", 4);
	assert_string_equal(rb_buf_str(&b), "a=3Db\r\n");
	rb_buf_reset(&b);
	rb_mime_quoted_printable(&b, "ab \nc\t\n", 7);
	assert_string_equal(rb_buf_str(&b), "ab=20\r\nc=09\r\n");
	rb_buf_reset(&b);
	rb_mime_quoted_printable(&b, "\xC3\xA9", 2);
	assert_string_equal(rb_buf_str(&b), "=C3=A9\r\n");
	rb_buf_reset(&b);
	memset(line, 'x', 100);
	line[100] = '\0';
	rb_mime_quoted_printable(&b, line, 100);
	assert_int_equal(strchr(rb_buf_str(&b), '\r') - rb_buf_str(&b), 76);
	assert_true(rb_buf_str(&b)[75] == '=');
	assert_lines_within(rb_buf_str(&b), "\r\n", 76);
	rb_buf_free(&b);
}

static void
test_header_injection(void **state)
{
	rb_notify_event ev;
	const char *to[] = {"dba@example.com\r\nBcc: victim@example.org", "b@example.com\nX-Evil: 2"};
	rb_mail_envelope env = {"backup@example.com\r\nBcc: from@example.org", to, 2, T_DATE,
	"<id@example.com>\r\nX-Evil: 3"};
	rb_buf		m = RB_BUF_INIT;
	rb_error	err;
	char	   *h,
			   *v;
	const char *p;
	static const char *const allowed[] = {
		"Date:", "From:", "To:", "Subject:", "Message-ID:", "Auto-Submitted:", "MIME-Version:",
		"Content-Type:",
		"Content-Transfer-Encoding:", "X-Ripple-Event:", NULL
	};

	(void) state;
	failure_event(&ev);
	ev.dbname = "app\r\nBcc: evil@example.org\r\n\r\nfake body";
	ev.host = "h\nX-Evil: 1";
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), 0);
	h = header_block(rb_buf_str(&m));
	/* every header line is one of ours or a folded continuation */
	for (p = h; *p; p = strstr(p, "\r\n") + 2)
	{
		int			ok = (*p == ' ' || *p == '\t');

		for (int i = 0; !ok && allowed[i]; i++)
			ok = strncmp(p, allowed[i], strlen(allowed[i])) == 0;
		if (!ok)
			fail_msg("unexpected header line: %.60s", p);
	}
	assert_null(strstr(h, "\nBcc:"));
	assert_null(strstr(h, "\nX-Evil:"));
	/* the values are there, with spaces for the line breaks */
	v = header_value(h, "Subject");
	assert_string_equal(v, "[ripple_backup] FAILED: backup of \"app  Bcc: evil@example.org    fake body\" "
						"on h X-Evil: 1");
	free(v);
	v = header_value(h, "To");
	assert_string_equal(v, "dba@example.com  Bcc: victim@example.org, b@example.com X-Evil: 2");
	free(v);
	free(h);
	/* in the body the name stays on its line too */
	assert_non_null(strstr(rb_buf_str(&m), "\r\nDatabase:       app Bcc: evil@example.org fake body\r\n"));
	/* and the body still starts after our headers only */
	assert_non_null(strstr(rb_buf_str(&m), "X-Ripple-Event: backup.failed\r\n\r\nThe backup of"));
	rb_buf_free(&m);
}

static void
test_long_ascii_subject_folds(void **state)
{
	rb_notify_event ev;
	const char *to[] = {"a@example.com"};
	rb_mail_envelope env = {"b@example.com", to, 1, T_DATE, NULL};
	rb_buf		m = RB_BUF_INIT;
	rb_error	err;
	char	   *h,
			   *v;

	(void) state;
	success_event(&ev);
	ev.host = "a-rather-long-cluster-name.in-a-datacenter.example.com";
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), 0);
	h = header_block(rb_buf_str(&m));
	assert_lines_within(h, "\r\n", 78);
	v = header_value(h, "Subject");
	assert_string_equal(v, "[ripple_backup] succeeded: backup of \"app\" on "
						"a-rather-long-cluster-name.in-a-datacenter.example.com");
	free(v);
	free(h);
	rb_buf_free(&m);
}

/* Folding never leaves a header line of whitespace alone, whatever the spaces. */
static void
test_fold_spaces(void **state)
{
	rb_notify_event ev;
	const char *to[] = {"a@example.com"};
	rb_mail_envelope env = {"b@example.com", to, 1, T_DATE, NULL};
	rb_buf		m = RB_BUF_INIT;
	rb_error	err;
	char	   *h,
			   *v;
	char		db[200];

	(void) state;
	success_event(&ev);
	/* a run of spaces across the fold column, then a word longer than a line */
	memset(db, 0, sizeof(db));
	memset(db, 'a', 20);
	memset(db + 20, ' ', 20);
	memset(db + 40, 'b', 90);
	ev.dbname = db;
	assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), 0);
	h = header_block(rb_buf_str(&m));
	for (const char *p = h; *p; p = strstr(p, "\r\n") + 2)
	{
		const char *e = strstr(p, "\r\n");
		const char *q = p;

		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		assert_true(q < e);
	}
	v = header_value(h, "Subject");
	assert_non_null(strstr(v, db));	/* unfolded, the name is intact */
	free(v);
	free(h);
	rb_buf_free(&m);
}

static void
test_json(void **state)
{
	rb_notify_event ev;
	rb_buf		b = RB_BUF_INIT;
	rb_error	err;
	rb_json    *j;
	const rb_json *a;
	int64_t		n;
	double		d;

	(void) state;
	success_event(&ev);
	ev.error = "say \"hi\"\nand \xFF bye";	/* quotes, a line break, invalid UTF-8 */
	rb_notify_render_json(&ev, &b);
	j = rb_json_parse(rb_buf_str(&b), b.len, &err);
	assert_non_null(j);
	assert_string_equal(rb_json_get_string(j, "event"), "backup.succeeded");
	assert_string_equal(rb_json_get_string(j, "timestamp"), "2026-12-03T08:43:52Z");
	assert_string_equal(rb_json_get_string(j, "summary"),
						"[ripple_backup] succeeded: backup of \"app\" on db1.example.com");
	assert_string_equal(rb_json_get_string(j, "host"), "db1.example.com");
	assert_string_equal(rb_json_get_string(j, "database"), "app");
	assert_string_equal(rb_json_get_string(j, "backup_id"), "20261203T084352Z-app-1a2b");
	assert_string_equal(rb_json_get_string(j, "label"), "nightly");
	assert_string_equal(rb_json_get_string(j, "status"), "succeeded");
	assert_string_equal(rb_json_get_string(j, "started_at"), "2026-12-03T08:43:40Z");
	assert_int_equal(rb_json_get_double(j, "duration_seconds", &d), 0);
	assert_true(d > 12.29 && d < 12.31);
	assert_int_equal(rb_json_get_int64(j, "size_bytes", &n), 0);
	assert_int_equal(n, 5872025);
	assert_int_equal(rb_json_get_double(j, "compression_ratio", &d), 0);
	assert_true(d > 36.39 && d < 36.41);
	assert_int_equal(rb_json_get_int64(j, "rows_total", &n), 0);
	assert_int_equal(n, 2012346);
	assert_int_equal(rb_json_get_int64(j, "tables_total", &n), 0);
	assert_int_equal(n, 4);
	a = rb_json_get(j, "largest_tables");
	assert_non_null(a);
	assert_int_equal(a->type, RB_JSON_ARRAY);
	assert_string_equal(rb_json_get_string(a->child, "name"), "public.pgbench_accounts");
	assert_int_equal(rb_json_get_int64(a->child, "rows", &n), 0);
	assert_int_equal(n, 2000000);
	assert_non_null(a->child->next->next);
	assert_null(a->child->next->next->next);
	assert_string_equal(rb_json_get_string(j, "location"), "s3://backups/app/20261203T084352Z-app-1a2b.dump");
	assert_string_equal(rb_json_get_string(j, "verification"), "verified");
	assert_string_equal(rb_json_get_string(j, "error"), "say \"hi\"\nand \xEF\xBF\xBD bye");
	/* unknown facts are present as null: a stable schema */
	assert_int_equal(rb_json_get(j, "detail")->type, RB_JSON_NULL);
	assert_int_equal(rb_json_get(j, "hint")->type, RB_JSON_NULL);
	assert_int_equal(rb_json_get(j, "last_success_at")->type, RB_JSON_NULL);
	assert_int_equal(rb_json_get(j, "last_success_age_seconds")->type, RB_JSON_NULL);
	assert_int_equal(rb_json_get(j, "rpo_target_seconds")->type, RB_JSON_NULL);
	assert_int_equal(rb_json_get(j, "restore_seconds")->type, RB_JSON_NULL);
	rb_json_free(j);
	rb_buf_reset(&b);

	failure_event(&ev);
	ev.kind = RB_NOTIFY_RPO_BREACHED;
	ev.rpo_target_s = 25 * 3600;
	rb_notify_render_json(&ev, &b);
	j = rb_json_parse(rb_buf_str(&b), b.len, &err);
	assert_non_null(j);
	assert_string_equal(rb_json_get_string(j, "event"), "rpo.breached");
	assert_int_equal(rb_json_get_int64(j, "rpo_target_seconds", &n), 0);
	assert_int_equal(n, 90000);
	assert_int_equal(rb_json_get_int64(j, "last_success_age_seconds", &n), 0);
	assert_int_equal(n, 26 * 3600 + 180);
	assert_string_equal(rb_json_get_string(j, "last_success_at"), "2026-12-02T06:40:52Z");
	assert_int_equal(rb_json_get(j, "size_bytes")->type, RB_JSON_NULL);
	assert_int_equal(rb_json_get(j, "largest_tables")->type, RB_JSON_ARRAY);
	assert_null(rb_json_get(j, "largest_tables")->child);
	rb_json_free(j);
	rb_buf_free(&b);
}

static void
test_slack(void **state)
{
	rb_notify_event ev;
	rb_buf		b = RB_BUF_INIT;
	rb_error	err;
	rb_json    *j;
	const char *t;

	(void) state;
	failure_event(&ev);
	ev.error = "a <b> & c";
	rb_notify_render_slack(&ev, &b);
	j = rb_json_parse(rb_buf_str(&b), b.len, &err);
	assert_non_null(j);
	assert_int_equal(j->type, RB_JSON_OBJECT);
	assert_string_equal(j->child->key, "text");
	assert_null(j->child->next);
	t = rb_json_get_string(j, "text");
	assert_true(strncmp(t, "[ripple_backup] FAILED: backup of \"app\" on db1.example.com\n", 59) == 0);
	assert_non_null(strstr(t, "\nDatabase: app\n"));
	assert_non_null(strstr(t, "\nError: a &lt;b&gt; &amp; c\n"));
	assert_non_null(strstr(t, "\nLocation: s3://backups/app/"));
	rb_json_free(j);
	rb_buf_free(&b);
}

static void
test_test_event(void **state)
{
	rb_notify_event ev;
	rb_buf		b = RB_BUF_INIT;

	(void) state;
	rb_notify_event_init(&ev, RB_NOTIFY_TEST);
	ev.host = "db1";
	rb_notify_render_summary(&ev, &b);
	assert_string_equal(rb_buf_str(&b), "[ripple_backup] test: notification from db1");
	rb_buf_reset(&b);
	rb_notify_render_text(&ev, &b);
	assert_non_null(strstr(rb_buf_str(&b), "This is a test notification from ripple_backup on db1."));
	rb_buf_free(&b);
}

/* A random string of 0..maxlen bytes, rich in what breaks mail: CR, LF, spaces, '=', UTF-8. */
static void
random_value(uint64_t *rng, char *out, size_t maxlen)
{
	static const char *const pieces[] = {
		"\r", "\n", "\r\n", " ", "  ", "=", "\t", "a", "Bcc: x@y.z", ".", "\xC3\xA9",
		"\xE6\x97\xA5", "\xF0\x9F\x90\x98", "\xFF", "\xC3", "\"", "<", ">", "&", "\\",
		"word", "averyveryveryveryveryveryveryveryveryveryverylongword", "\x01", "\x7F"
	};
	size_t		n = 0;
	size_t		want = (size_t) (rb_rng_next(rng) % (maxlen + 1));

	while (n < want)
	{
		const char *p = pieces[rb_rng_next(rng) % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t		l = strlen(p);

		if (n + l > maxlen)
			break;
		memcpy(out + n, p, l);
		n += l;
	}
	out[n] = '\0';
}

/*
 * Whatever the values, the message has only our header lines (or folded
 * continuations), CRLF line ends only, no line over 998 bytes (RFC 5322's limit)
 * and no body line over 78 columns before encoding; the JSON and Slack bodies parse.
 */
static void
test_random_values(void **state)
{
	uint64_t	rng = 20261203;
	static const char *const ours[] = {
		"Date: ", "From: ", "To: ", "Subject: ", "Message-ID: ", "Auto-Submitted: ",
		"MIME-Version: ", "Content-Type: ", "Content-Transfer-Encoding: ", "X-Ripple-Event: ", NULL
	};

	(void) state;
	for (int iter = 0; iter < 1000; iter++)
	{
		char		db[200], host[200], error[400], detail[400], from[120], to1[120], label[100];
		const char *to[] = {to1, "dba@example.com"};
		rb_mail_envelope env = {from, to, 2, T_DATE, NULL};
		rb_notify_event ev;
		rb_buf		m = RB_BUF_INIT,
					text = RB_BUF_INIT,
					j = RB_BUF_INIT;
		rb_error	err;
		rb_json    *doc;
		const char *body;
		int			headers = 0;

		random_value(&rng, db, 63);
		random_value(&rng, host, 150);
		random_value(&rng, error, 300);
		random_value(&rng, detail, 300);
		random_value(&rng, from, 100);
		random_value(&rng, to1, 100);
		random_value(&rng, label, 80);
		strcat(from, "x@example.com");	/* never empty */
		strcat(to1, "y@example.com");
		success_event(&ev);
		ev.kind = (rb_notify_kind) (rb_rng_next(&rng) % (RB_NOTIFY_TEST + 1));
		ev.dbname = db;
		ev.host = host;
		ev.error = error;
		ev.detail = detail;
		ev.label = label;

		assert_int_equal(rb_notify_render_mail(&ev, &env, &m, &err), 0);
		body = strstr(rb_buf_str(&m), "\r\n\r\n");
		assert_non_null(body);
		for (const char *p = rb_buf_str(&m); *p;)
		{
			const char *e = strstr(p, "\r\n");

			assert_non_null(e);
			assert_true(e - p <= 998);
			for (const char *c = p; c < e; c++)
				assert_true(*c != '\r' && *c != '\n');
			if (p < body + 2)
			{
				int			ok = (*p == ' ' || *p == '\t');

				for (int i = 0; !ok && ours[i]; i++)
				{
					if (strncmp(p, ours[i], strlen(ours[i])) == 0)
					{
						ok = 1;
						headers++;
					}
				}
				if (!ok)
					fail_msg("iteration %d: unexpected header line: %.60s", iter, p);
				/* a folded line is never whitespace alone */
				{
					const char *q = p;

					while (q < e && (*q == ' ' || *q == '\t'))
						q++;
					assert_true(q < e);
				}
			}
			p = e + 2;
			if (p == body + 2)
				p += 2;			/* the empty line that ends the headers */
		}
		assert_int_equal(headers, 10);

		rb_notify_render_text(&ev, &text);
		assert_body_lines_within(rb_buf_str(&text), "\n", 78);

		rb_notify_render_json(&ev, &j);
		doc = rb_json_parse(rb_buf_str(&j), j.len, &err);
		if (doc == NULL)
			fail_msg("iteration %d: JSON does not parse: %s", iter, err.msg);
		assert_string_equal(rb_json_get_string(doc, "event"), rb_notify_kind_name(ev.kind));
		rb_json_free(doc);
		rb_buf_reset(&j);
		rb_notify_render_slack(&ev, &j);
		doc = rb_json_parse(rb_buf_str(&j), j.len, &err);
		assert_non_null(doc);
		assert_non_null(rb_json_get_string(doc, "text"));
		rb_json_free(doc);

		rb_buf_free(&m);
		rb_buf_free(&text);
		rb_buf_free(&j);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_text_body),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_mail_date),
		cmocka_unit_test(test_mail_ascii),
		cmocka_unit_test(test_mail_utf8),
		cmocka_unit_test(test_quoted_printable),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_long_ascii_subject_folds),
		cmocka_unit_test(test_fold_spaces),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_slack),
		cmocka_unit_test(test_test_event),
		cmocka_unit_test(test_random_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
