/*
 * cli_report.c — error, warning and log output of ripple-backup on stderr
 * (see cli_report.h for the style).
 */
#include <stdarg.h>
#include <stdio.h>

#include "cli_exit.h"
#include "cli_report.h"

static bool report_quiet = false;
static bool report_verbose = false;
static void (*clear_line) (void) = NULL;

void
cli_report_set_verbosity(bool quiet, bool verbose)
{
	report_quiet = quiet;
	report_verbose = verbose;
}

void
cli_report_set_clear_line(void (*fn) (void))
{
	clear_line = fn;
}

static void
vreport(const char *tag, const char *fmt, va_list ap)
{
	if (clear_line)
		clear_line();
	fprintf(stderr, "%s: %s", CLI_PROGNAME, tag);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

void
cli_error(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

void
cli_warning(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vreport("warning: ", fmt, ap);
	va_end(ap);
}

void
cli_detail(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vreport("detail: ", fmt, ap);
	va_end(ap);
}

void
cli_hint(const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vreport("hint: ", fmt, ap);
	va_end(ap);
}

void
cli_info(const char *fmt,...)
{
	va_list		ap;

	if (report_quiet)
		return;
	va_start(ap, fmt);
	vreport("", fmt, ap);
	va_end(ap);
}

int
cli_fail(const rb_error *err)
{
	cli_error("%s", err->msg[0] ? err->msg : rb_error_code_name(err->code));
	return cli_exit_for_error(err->code);
}

void
cli_log_hook(void *arg, rb_log_level level, const char *line)
{
	(void) arg;
	switch (level)
	{
		case RB_LOG_ERROR:
		case RB_LOG_WARNING:
			cli_warning("%s", line);
			break;
		case RB_LOG_INFO:
		case RB_LOG_DEBUG:
			if (report_verbose)
				cli_error("%s", line);
			break;
	}
}
