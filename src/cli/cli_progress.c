/*
 * cli_progress.c — progress bar and spinner on stderr (see cli_progress.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_format.h"
#include "cli_progress.h"
#include "rb_time.h"

#define BAR_WIDTH 30

static bool progress_enabled = false;
static cli_progress *active = NULL;

void
cli_progress_set_enabled(bool enabled)
{
	progress_enabled = enabled;
}

bool
cli_progress_enabled(void)
{
	return progress_enabled;
}

void
cli_progress_clear_line(void)
{
	if (active != NULL && active->drawn)
	{
		fputs("\r\033[K", stderr);
		active->drawn = false;
	}
}

static void
draw(cli_progress *p, double now)
{
	double		elapsed = now - p->started;
	char		done_s[32],
				total_s[32],
				rate_s[32],
				el_s[32];

	cli_format_duration(elapsed, el_s, sizeof(el_s));
	fputs("\r\033[K", stderr);
	if (p->total > 0)
	{
		int			filled;
		double		frac = (double) p->done / (double) p->total;
		char		bar[BAR_WIDTH + 1];

		if (frac > 1.0)
			frac = 1.0;
		filled = (int) (frac * BAR_WIDTH);
		memset(bar, '#', (size_t) filled);
		memset(bar + filled, '.', (size_t) (BAR_WIDTH - filled));
		bar[BAR_WIDTH] = '\0';
		rb_format_bytes(p->done, done_s, sizeof(done_s));
		rb_format_bytes(p->total, total_s, sizeof(total_s));
		rb_format_bytes(elapsed > 0.001 ? (uint64_t) ((double) p->done / elapsed) : 0,
						 rate_s, sizeof(rate_s));
		fprintf(stderr, "%-12s [%s] %3d%%  %s / %s  %s/s  %s",
				p->label, bar, (int) (frac * 100.0), done_s, total_s, rate_s, el_s);
	}
	else
	{
		static const char spinner[] = "|/-\\";

		fprintf(stderr, "%-12s %c  %s", p->label, spinner[p->spin++ % 4], el_s);
		if (p->done > 0)
		{
			rb_format_bytes(p->done, done_s, sizeof(done_s));
			fprintf(stderr, "  %s", done_s);
		}
	}
	fflush(stderr);
	p->drawn = true;
	p->last_draw = now;
}

void
cli_progress_start(cli_progress *p, const char *label, uint64_t total)
{
	memset(p, 0, sizeof(*p));
	p->enabled = progress_enabled;
	p->label = label;
	p->total = total;
	p->started = rb_now_seconds();
	if (p->enabled)
	{
		active = p;
		draw(p, p->started);
	}
}

void
cli_progress_update(cli_progress *p, uint64_t done)
{
	double		now;

	p->done = done;
	if (!p->enabled)
		return;
	now = rb_now_seconds();
	if (now - p->last_draw >= 0.1)
		draw(p, now);
}

void
cli_progress_tick(cli_progress *p)
{
	cli_progress_update(p, p->done);
}

static void
tick_cb(void *p)
{
	cli_progress_tick(p);
}

void
cli_progress_spinner(cli_progress *p, const char *label, void (**tick) (void *), void **tick_arg)
{
	cli_progress_start(p, label, 0);
	*tick = tick_cb;
	*tick_arg = p;
}

void
cli_progress_finish(cli_progress *p)
{
	if (!p->enabled)
		return;
	draw(p, rb_now_seconds());
	fputc('\n', stderr);
	fflush(stderr);
	p->drawn = false;
	if (active == p)
		active = NULL;
	p->enabled = false;
}
