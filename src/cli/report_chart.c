/*
 * report_chart.c — time-series charts of the HTML report as inline SVG (see
 * report_chart.h).
 */
#include <math.h>
#include <stdio.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rb_alloc.h"
#include "report_chart.h"

#define CHART_W		640
#define CHART_H		220
#define PAD_LEFT	78
#define PAD_RIGHT	16
#define PAD_TOP		14
#define PAD_BOTTOM	34

void
report_html_escape(rb_buf *out, const char *text)
{
	for (const char *p = text; *p; p++)
	{
		switch (*p)
		{
			case '&':
				rb_buf_append_str(out, "&amp;");
				break;
			case '<':
				rb_buf_append_str(out, "&lt;");
				break;
			case '>':
				rb_buf_append_str(out, "&gt;");
				break;
			case '"':
				rb_buf_append_str(out, "&quot;");
				break;
			case '\'':
				rb_buf_append_str(out, "&#39;");
				break;
			default:
				/* control bytes would make the page invalid; show them as U+FFFD */
				if ((unsigned char) *p < 0x20 && *p != '\n' && *p != '\t')
					rb_buf_append_str(out, "&#xFFFD;");
				else
					rb_buf_append_char(out, *p);
		}
	}
}

/* The smallest 1, 2 or 5 × 10^k at or above v (the top of the y axis). */
static double
nice_ceiling(double v)
{
	double		mag;
	double		f;

	if (!(v > 0))
		return 1;
	mag = pow(10, floor(log10(v)));
	f = v / mag;
	if (f <= 1)
		return mag;
	if (f <= 2)
		return 2 * mag;
	if (f <= 5)
		return 5 * mag;
	return 10 * mag;
}

static void
format_date(int64_t t, char *buf, size_t len)
{
	time_t		tt = (time_t) t;
	struct tm	tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%d %H:%M", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
}

static int
cmp_point(const void *a, const void *b)
{
	const report_point *x = a;
	const report_point *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->backup_id < y->backup_id ? -1 : x->backup_id > y->backup_id;
}

void
report_chart_svg(rb_buf *out, const char *name, const char *title,
				 const report_point *pts_in, size_t n, int64_t t0, int64_t t1,
				 report_value_fmt fmt)
{
	const double plot_w = CHART_W - PAD_LEFT - PAD_RIGHT;
	const double plot_h = CHART_H - PAD_TOP - PAD_BOTTOM;
	report_point *pts = NULL;
	double		vmax = 0;
	double		top;
	char		buf[64];
	char		buf2[64];

	rb_buf_append_str(out, "<figure class=\"chart\" data-chart=\"");
	report_html_escape(out, name);
	rb_buf_appendf(out, "\" data-points=\"%zu\">\n<figcaption>", n);
	report_html_escape(out, title);
	rb_buf_appendf(out, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
				   "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
				   CHART_W, CHART_H, CHART_W, CHART_H);
	report_html_escape(out, title);
	rb_buf_append_str(out, "\">\n");
	rb_buf_appendf(out, "<rect class=\"plot\" x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\"/>\n",
				   PAD_LEFT, PAD_TOP, plot_w, plot_h);

	if (n == 0)
	{
		rb_buf_appendf(out, "<text class=\"empty\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">"
					   "no data</text>\n</svg>\n</figure>\n",
					   PAD_LEFT + plot_w / 2, PAD_TOP + plot_h / 2);
		return;
	}

	pts = rb_calloc(n, sizeof(*pts));
	memcpy(pts, pts_in, n * sizeof(*pts));
	qsort(pts, n, sizeof(*pts), cmp_point);
	for (size_t i = 0; i < n; i++)
		if (pts[i].v > vmax)
			vmax = pts[i].v;
	top = nice_ceiling(vmax);

	/* y axis: 0, half, top, with grid lines */
	for (int k = 0; k <= 2; k++)
	{
		double		v = top * k / 2;
		double		y = PAD_TOP + plot_h - plot_h * k / 2;

		fmt(v, buf, sizeof(buf));
		rb_buf_appendf(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>"
					   "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">",
					   PAD_LEFT, y, PAD_LEFT + plot_w, y, PAD_LEFT - 6, y + 4);
		report_html_escape(out, buf);
		rb_buf_append_str(out, "</text>\n");
	}
	/* x axis: the first and last dates of the database's backups */
	format_date(t0, buf, sizeof(buf));
	format_date(t1, buf2, sizeof(buf2));
	rb_buf_appendf(out, "<text class=\"tick\" x=\"%d\" y=\"%d\" text-anchor=\"start\">%s</text>\n",
				   PAD_LEFT, CHART_H - 10, buf);
	if (t1 > t0)
		rb_buf_appendf(out, "<text class=\"tick\" x=\"%.0f\" y=\"%d\" text-anchor=\"end\">%s</text>\n",
					   PAD_LEFT + plot_w, CHART_H - 10, buf2);

	/* the line, then a point per backup on top of it */
	rb_buf_append_str(out, "<polyline class=\"series\" points=\"");
	for (size_t i = 0; i < n; i++)
	{
		double		x = t1 > t0 ? PAD_LEFT + plot_w * (double) (pts[i].t - t0) / (double) (t1 - t0)
			: PAD_LEFT + plot_w / 2;
		double		y = PAD_TOP + plot_h - plot_h * (pts[i].v / top);

		rb_buf_appendf(out, "%s%.1f,%.1f", i ? " " : "", x, y);
	}
	rb_buf_append_str(out, "\"/>\n");
	for (size_t i = 0; i < n; i++)
	{
		double		x = t1 > t0 ? PAD_LEFT + plot_w * (double) (pts[i].t - t0) / (double) (t1 - t0)
			: PAD_LEFT + plot_w / 2;
		double		y = PAD_TOP + plot_h - plot_h * (pts[i].v / top);

		fmt(pts[i].v, buf, sizeof(buf));
		format_date(pts[i].t, buf2, sizeof(buf2));
		rb_buf_appendf(out, "<circle class=\"point\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\">"
					   "<title>backup %" PRId64 ", %s UTC: ", x, y, pts[i].backup_id, buf2);
		report_html_escape(out, buf);
		rb_buf_append_str(out, "</title></circle>\n");
	}
	rb_buf_append_str(out, "</svg>\n</figure>\n");
	free(pts);
}
