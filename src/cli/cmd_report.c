/*
 * cmd_report.c — "ripple-backup report --html FILE": one self-contained HTML page
 * about the backups in a destination, built from their metadata objects alone (so it
 * works when the database is gone).  Per database: whether the newest backup meets
 * the recovery point objective, charts of stored size, duration, compression ratio
 * and measured restore time over time, and a table of the backups with their
 * verification status (from the "<key>.verify.json" records the verifier writes).  No external scripts, styles or fonts; the file is written
 * to a temporary name and renamed into place once complete.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_format.h"
#include "cli_report.h"
#include "cli_tempfile.h"
#include "rb_alloc.h"
#include "report_chart.h"
#include "version.h"

static const char page_style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px auto;"
	"max-width:1340px;padding:0 16px;color:#1d2330;background:#fafbfc}"
	"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 8px;"
	"border-bottom:1px solid #d7dce3;padding-bottom:4px}"
	".meta{color:#5b6473;margin:0 0 16px}"
	".rpo{display:inline-block;padding:6px 12px;border-radius:6px;font-weight:600}"
	".rpo.met{background:#e3f4e6;color:#1e6b2e}.rpo.breached{background:#fbe4e4;color:#9b1c1c}"
	".charts{display:flex;flex-wrap:wrap;gap:12px}"
	"figure.chart{margin:0;background:#fff;border:1px solid #e1e5eb;border-radius:6px;padding:8px}"
	"figcaption{font-weight:600;margin:0 0 4px 6px}"
	"svg .plot{fill:#fff;stroke:#c9d0da}svg .grid{stroke:#eef1f5}"
	"svg .tick{font-size:11px;fill:#5b6473}svg .empty{font-size:13px;fill:#8a93a1}"
	"svg .series{fill:none;stroke:#2f6fdb;stroke-width:1.5}"
	"svg .point{fill:#2f6fdb}svg .point:hover{fill:#f08c00}"
	"table{border-collapse:collapse;background:#fff;margin-top:12px}"
	"th,td{padding:4px 10px;border-bottom:1px solid #eef1f5;text-align:left}"
	"td.num{text-align:right;font-variant-numeric:tabular-nums}"
	".st-verified{color:#1e6b2e}.st-failed{color:#9b1c1c;font-weight:600}.st-unverified{color:#8a6100}";

static void
fmt_bytes(double v, char *buf, size_t len)
{
	rb_format_bytes((uint64_t) (v + 0.5), buf, len);
}

static void
fmt_seconds(double v, char *buf, size_t len)
{
	cli_format_duration(v, buf, len);
}

static void
fmt_ratio(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f\xc3\x97", v);	/* "4.1×" */
}

static int64_t
backup_time(const rb_backup_metadata *m)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(m->timestamp, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return (int64_t) timegm(&tm);
}

/*
 * The verification cell of a backup: its status from "<key>.verify.json" (the level,
 * when it was verified, the measured restore time; a failure's error as the tooltip).
 */
static void
render_verification(rb_buf *out, const cli_backup *b)
{
	const char *status = cli_backup_verify_status(b);
	char		when[32];

	rb_buf_appendf(out, "<td class=\"st-%s\" data-verify=\"%s\"", status, status);
	if (b->has_verify && !b->verify.verified && b->verify.error[0])
	{
		rb_buf_append_str(out, " title=\"");
		report_html_escape(out, b->verify.error);
		rb_buf_append_str(out, "\"");
	}
	rb_buf_append_str(out, ">");
	if (!b->has_verify)
	{
		rb_buf_append_str(out, "not verified</td>");
		return;
	}
	cli_format_time(b->verify.verified_at, when, sizeof(when));
	rb_buf_append_str(out, b->verify.verified ? "verified" : "FAILED");
	rb_buf_append_str(out, " (");
	report_html_escape(out, b->verify.level);
	rb_buf_append_str(out, ", ");
	report_html_escape(out, when);
	if (b->verify.verified && b->verify.restore_seconds >= 0)
	{
		char		buf[64];

		cli_format_duration(b->verify.restore_seconds, buf, sizeof(buf));
		rb_buf_appendf(out, ", restored in %s", buf);
	}
	rb_buf_append_str(out, ")</td>");
}

/* The backups of one database of one server: indexes into the catalog, newest first. */
typedef struct report_group
{
	const char *dbname;
	uint64_t	system_identifier;
	size_t	   *idx;
	size_t		n;
} report_group;

/* By database name, then system identifier: the page reads the same every time. */
static int
cmp_group(const void *a, const void *b)
{
	const report_group *x = a;
	const report_group *y = b;
	int			c = strcmp(x->dbname, y->dbname);

	if (c != 0)
		return c;
	return x->system_identifier < y->system_identifier ? -1 :
		x->system_identifier > y->system_identifier;
}

static report_group *
group_backups(const cli_catalog *cat, const cli_filter *filter, size_t *ngroups)
{
	report_group *groups = rb_calloc(cat->n + 1, sizeof(*groups));
	size_t		ng = 0;

	for (size_t i = 0; i < cat->n; i++)
	{
		const rb_backup_metadata *m = &cat->items[i].meta;
		const char *db = m->dbname ? m->dbname : "";
		report_group *g = NULL;

		if (!cli_filter_match(filter, &cat->refs[i]))
			continue;
		for (size_t k = 0; k < ng && g == NULL; k++)
			if (groups[k].system_identifier == m->system_identifier &&
				strcmp(groups[k].dbname, db) == 0)
				g = &groups[k];
		if (g == NULL)
		{
			g = &groups[ng++];
			g->dbname = db;
			g->system_identifier = m->system_identifier;
			g->idx = rb_calloc(cat->n, sizeof(size_t));
		}
		g->idx[g->n++] = i;		/* the catalog is newest first already */
	}
	qsort(groups, ng, sizeof(*groups), cmp_group);
	*ngroups = ng;
	return groups;
}

static bool
db_name_shared(const report_group *groups, size_t ng, const report_group *g)
{
	for (size_t k = 0; k < ng; k++)
		if (&groups[k] != g && strcmp(groups[k].dbname, g->dbname) == 0)
			return true;
	return false;
}

static void
render_group(rb_buf *out, const cli_catalog *cat, const report_group *g, bool name_shared,
			 int64_t now, int64_t rpo_target_s)
{
	report_point *pts = rb_calloc(g->n, sizeof(*pts));
	int64_t		t0 = INT64_MAX,
				t1 = 0;
	int64_t		newest;
	size_t		n;
	char		buf[64],
				buf2[64];

	for (size_t k = 0; k < g->n; k++)
	{
		int64_t		t = backup_time(&cat->items[g->idx[k]].meta);

		if (t < t0)
			t0 = t;
		if (t > t1)
			t1 = t;
	}
	newest = t1;

	rb_buf_append_str(out, "<section class=\"database\" data-db=\"");
	report_html_escape(out, g->dbname);
	rb_buf_append_str(out, "\">\n<h2>Database ");
	report_html_escape(out, g->dbname);
	if (name_shared)
		rb_buf_appendf(out, " <small>(system %" PRIu64 ")</small>", g->system_identifier);
	rb_buf_append_str(out, "</h2>\n");

	/* the recovery point: the age of the newest backup against the target */
	cli_format_duration((double) (now - newest), buf, sizeof(buf));
	cli_format_duration((double) rpo_target_s, buf2, sizeof(buf2));
	rb_buf_appendf(out, "<p><span class=\"rpo %s\" data-rpo=\"%s\">RPO %s: newest backup is %s old "
				   "(target %s)</span> &middot; %zu backup%s</p>\n",
				   now - newest <= rpo_target_s ? "met" : "breached",
				   now - newest <= rpo_target_s ? "met" : "breached",
				   now - newest <= rpo_target_s ? "met" : "breached",
				   buf, buf2, g->n, g->n == 1 ? "" : "s");

	rb_buf_append_str(out, "<div class=\"charts\">\n");
	for (size_t k = 0; k < g->n; k++)
	{
		const rb_backup_metadata *m = &cat->items[g->idx[k]].meta;

		pts[k] = (report_point) {backup_time(m), (double) m->size_bytes, m->backup_id};
	}
	report_chart_svg(out, "size", "Stored size", pts, g->n, t0, t1, fmt_bytes);
	for (size_t k = 0; k < g->n; k++)
		pts[k].v = cat->items[g->idx[k]].meta.duration_seconds;
	report_chart_svg(out, "duration", "Backup duration", pts, g->n, t0, t1, fmt_seconds);
	n = 0;
	for (size_t k = 0; k < g->n; k++)
	{
		const rb_backup_metadata *m = &cat->items[g->idx[k]].meta;

		if (m->size_bytes > 0 && m->uncompressed_bytes > 0)
			pts[n++] = (report_point) {backup_time(m),
				(double) m->uncompressed_bytes / (double) m->size_bytes, m->backup_id};
	}
	report_chart_svg(out, "ratio", "Compression ratio", pts, n, t0, t1, fmt_ratio);
	/* the restore time the verifier measured (restore-level verifications that passed) */
	n = 0;
	for (size_t k = 0; k < g->n; k++)
	{
		const cli_backup *b = &cat->items[g->idx[k]];

		if (b->has_verify && b->verify.verified && b->verify.restore_seconds >= 0)
			pts[n++] = (report_point) {backup_time(&b->meta), b->verify.restore_seconds,
				b->meta.backup_id};
	}
	report_chart_svg(out, "restore", "Measured restore time", pts, n, t0, t1, fmt_seconds);
	rb_buf_append_str(out, "</div>\n");

	/* the backups, newest first */
	rb_buf_append_str(out, "<table class=\"backups\">\n<thead><tr><th>ID</th><th>Time (UTC)</th>"
					  "<th>Type</th><th>Size</th><th>Duration</th><th>Ratio</th><th>Rows</th>"
					  "<th>Verification</th><th>Label</th></tr></thead>\n<tbody>\n");
	for (size_t k = 0; k < g->n; k++)
	{
		const cli_backup *b = &cat->items[g->idx[k]];
		const rb_backup_metadata *m = &b->meta;

		cli_format_time(m->timestamp, buf, sizeof(buf));
		rb_buf_appendf(out, "<tr data-id=\"%" PRId64 "\"><td class=\"num\">%" PRId64 "</td><td>",
					   m->backup_id, m->backup_id);
		report_html_escape(out, buf);
		rb_buf_append_str(out, "</td><td>");
		report_html_escape(out, m->backup_type ? m->backup_type : "");
		rb_format_bytes(m->size_bytes, buf, sizeof(buf));
		rb_buf_appendf(out, "</td><td class=\"num\">%s</td>", buf);
		cli_format_duration(m->duration_seconds, buf, sizeof(buf));
		rb_buf_appendf(out, "<td class=\"num\">%s</td>", buf);
		if (m->size_bytes > 0 && m->uncompressed_bytes > 0)
			rb_buf_appendf(out, "<td class=\"num\">%.1f\xc3\x97</td>",
						   (double) m->uncompressed_bytes / (double) m->size_bytes);
		else
			rb_buf_append_str(out, "<td class=\"num\">-</td>");
		rb_buf_appendf(out, "<td class=\"num\">%" PRId64 "</td>",
					   rb_table_counts_total(&m->table_counts));
		render_verification(out, b);
		rb_buf_append_str(out, "<td>");
		report_html_escape(out, m->label ? m->label : "");
		rb_buf_append_str(out, "</td></tr>\n");
	}
	rb_buf_append_str(out, "</tbody>\n</table>\n</section>\n");
	free(pts);
}

int
cli_cmd_report(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	cli_filter	filter = {args->db, args->has_system_id, args->system_id};
	cli_catalog cat;
	report_group *groups;
	size_t		ng;
	rb_buf		out = RB_BUF_INIT;
	cli_tempfile tmp = {NULL, -1};
	char	   *dir;
	char		when[32];
	int64_t		now = (int64_t) time(NULL);
	rb_error	err;
	int			rc;

	if (args->html == NULL)
	{
		cli_error("report needs --html FILE");
		cli_hint("Try \"%s report --help\" for more information.", CLI_PROGNAME);
		return CLI_EXIT_USAGE;
	}
	if (!args->force && access(args->html, F_OK) == 0)
	{
		cli_error("\"%s\" already exists", args->html);
		cli_hint("Use --force to replace it.");
		return CLI_EXIT_USAGE;
	}
	rc = cli_ctx_load_catalog(ctx, &cat);
	if (rc != CLI_EXIT_OK)
		return rc;
	groups = group_backups(&cat, &filter, &ng);

	rb_metadata_format_time((time_t) now, when, sizeof(when));
	rb_buf_append_str(&out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
					  "<title>ripple_backup report</title>\n<style>");
	rb_buf_append_str(&out, page_style);
	rb_buf_append_str(&out, "</style>\n</head>\n<body>\n<h1>Backups in ");
	report_html_escape(&out, ctx->url);
	rb_buf_appendf(&out, "</h1>\n<p class=\"meta\">Made by %s %s at %s from the metadata objects "
				   "in the destination; %zu database%s.</p>\n",
				   CLI_PROGNAME, RB_EXTENSION_VERSION, when, ng, ng == 1 ? "" : "s");
	if (ng == 0)
		rb_buf_append_str(&out, "<p class=\"empty\">No backups match.</p>\n");
	for (size_t k = 0; k < ng; k++)
		render_group(&out, &cat, &groups[k], db_name_shared(groups, ng, &groups[k]), now,
					 args->rpo_target_s);
	rb_buf_append_str(&out, "</body>\n</html>\n");

	rb_error_clear(&err);
	dir = cli_dirname(args->html);
	rc = CLI_EXIT_OK;
	if (cli_tempfile_create(&tmp, dir, ".ripple-report-", ".html", &err) < 0 ||
		write(tmp.fd, out.data, out.len) != (ssize_t) out.len ||
		cli_tempfile_commit(&tmp, args->html, &err) < 0)
	{
		if (err.msg[0] == '\0')
			rb_error_set(&err, RB_ERR_IO, "could not write \"%s\": %m", args->html);
		cli_tempfile_remove(&tmp);
		rc = cli_fail(&err);
	}
	else
		cli_info("wrote the report of %zu database%s to \"%s\"", ng, ng == 1 ? "" : "s",
				 args->html);

	free(dir);
	for (size_t k = 0; k < ng; k++)
		free(groups[k].idx);
	free(groups);
	rb_buf_free(&out);
	cli_catalog_free(&cat);
	return rc;
}
