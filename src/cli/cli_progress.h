/*
 * cli_progress.h — a one-line progress display on stderr for downloads and
 * restores: a bar with percentage, bytes and rate when the total is known, a
 * spinner with elapsed time when it is not (pg_restore).  Drawn only when enabled
 * (stderr is a terminal, or --progress), at most ten times a second; the line is
 * cleared before any other message is printed (cli_report).
 */
#ifndef CLI_PROGRESS_H
#define CLI_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cli_progress
{
	bool		enabled;
	bool		drawn;			/* something is on the line now */
	const char *label;
	uint64_t	total;			/* 0 = unknown: spinner */
	uint64_t	done;
	double		started;
	double		last_draw;
	unsigned	spin;
} cli_progress;

/* Whether bars are drawn at all (set once by main). */
void		cli_progress_set_enabled(bool enabled);
bool		cli_progress_enabled(void);

/* Starts a display; total 0 = indeterminate. */
void		cli_progress_start(cli_progress *p, const char *label, uint64_t total);
void		cli_progress_update(cli_progress *p, uint64_t done);
/* Redraws the spinner / elapsed time (call often; it limits itself). */
void		cli_progress_tick(cli_progress *p);
/*
 * Starts a spinner (total unknown) for a src/core call that takes a tick
 * callback (rb_pg_run, rb_rowcount_run): *tick and *tick_arg are set to redraw p.
 */
void		cli_progress_spinner(cli_progress *p, const char *label, void (**tick) (void *),
								 void **tick_arg);
/* Draws the final state and ends the line. */
void		cli_progress_finish(cli_progress *p);

/* Clears the active progress line, if any (for cli_report). */
void		cli_progress_clear_line(void);

#endif							/* CLI_PROGRESS_H */
