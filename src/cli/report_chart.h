/*
 * report_chart.h — one time-series chart of the HTML report as inline SVG: a point
 * per backup (with a tooltip naming the backup and its value), joined by a line,
 * a y axis from zero to a rounded maximum and the first and last dates on the x
 * axis.  Plain markup, no script: the page renders the same in any browser and
 * offline.
 */
#ifndef REPORT_CHART_H
#define REPORT_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "rb_buf.h"

typedef struct report_point
{
	int64_t		t;				/* seconds since the epoch (x) */
	double		v;				/* the value (y), >= 0 */
	int64_t		backup_id;		/* named in the tooltip */
} report_point;

/* Formats a value of the chart's unit ("1.9 MB", "12.3 s", "4.1×") into buf. */
typedef void (*report_value_fmt) (double v, char *buf, size_t len);

/*
 * Appends <figure class="chart" data-chart="NAME" data-points="N"> with the SVG to
 * out.  pts need not be sorted.  t0..t1 is the x range shared by a database's charts
 * (so their points line up); n = 0 draws an empty chart that says "no data".
 */
void		report_chart_svg(rb_buf *out, const char *name, const char *title,
							 const report_point *pts, size_t n, int64_t t0, int64_t t1,
							 report_value_fmt fmt);

/* Appends text with &, <, >, " and ' escaped for HTML text and attribute values. */
void		report_html_escape(rb_buf *out, const char *text);

#endif							/* REPORT_CHART_H */
