/*
 * cli_report.h — how ripple-backup talks to the operator on stderr, in the style of
 * PostgreSQL's client programs: "ripple-backup: <message>" (lowercase, no trailing
 * period), then optional "ripple-backup: detail: ..." and "ripple-backup: hint: ..."
 * lines written as sentences.  Also the rb_hooks log callback that routes src/core's
 * log lines (S3 retries and the like) to stderr.  Nothing printed here ever contains
 * a secret: src/core's messages never do, and the CLI never holds one.
 */
#ifndef CLI_REPORT_H
#define CLI_REPORT_H

#include <stdbool.h>

#include "rb_error.h"

#define CLI_PROGNAME "ripple-backup"

/* Prints "ripple-backup: <message>". */
void		cli_error(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		cli_warning(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		cli_detail(const char *fmt,...) __attribute__((format(printf, 1, 2)));
void		cli_hint(const char *fmt,...) __attribute__((format(printf, 1, 2)));
/* Prints an informational line unless quiet ("ripple-backup: <message>"). */
void		cli_info(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* Prints err's message as an error and returns the matching exit code. */
int			cli_fail(const rb_error *err);

/* Verbosity: quiet hides cli_info; verbose shows src/core's INFO and DEBUG lines. */
void		cli_report_set_verbosity(bool quiet, bool verbose);

/* rb_hooks.log: WARNING and ERROR always, INFO with --verbose, DEBUG never unless verbose. */
void		cli_log_hook(void *arg, rb_log_level level, const char *line);

/* Called before printing so that a progress bar on the same line is cleared first. */
void		cli_report_set_clear_line(void (*fn) (void));

#endif							/* CLI_REPORT_H */
