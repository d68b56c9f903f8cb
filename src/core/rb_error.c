/*
 * rb_error.c — error values, log lines and cancellation for src/core (see rb_error.h).
 */
#include "rb_error.h"

#include <stdio.h>
#include <string.h>

int
rb_error_set(rb_error *err, rb_error_code code, const char *fmt,...)
{
	va_list		ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

void
rb_error_prefix(rb_error *err, const char *fmt,...)
{
	char		prefix[RB_ERROR_MSG_LEN];
	char		old[RB_ERROR_MSG_LEN];
	va_list		ap;

	if (err == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	snprintf(err->msg, sizeof(err->msg), "%s%s", prefix, old);
}

void
rb_error_clear(rb_error *err)
{
	if (err == NULL)
		return;
	memset(err, 0, sizeof(*err));
}

const char *
rb_error_code_name(rb_error_code code)
{
	switch (code)
	{
		case RB_OK: return "ok";
		case RB_ERR_INTERNAL: return "internal";
		case RB_ERR_INVALID: return "invalid";
		case RB_ERR_NOMEM: return "out of memory";
		case RB_ERR_IO: return "i/o";
		case RB_ERR_NETWORK: return "network";
		case RB_ERR_REMOTE: return "remote";
		case RB_ERR_AUTH: return "authentication";
		case RB_ERR_NOT_FOUND: return "not found";
		case RB_ERR_INTEGRITY: return "integrity";
		case RB_ERR_CANCELLED: return "cancelled";
		case RB_ERR_CIRCUIT_OPEN: return "circuit open";
		case RB_ERR_CHILD: return "child process";
		case RB_ERR_EXISTS: return "already exists";
	}
	return "unknown";
}

void
rb_log(const rb_hooks *hooks, rb_log_level level, const char *fmt,...)
{
	char		line[RB_ERROR_MSG_LEN];
	va_list		ap;

	if (hooks == NULL || hooks->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	hooks->log(hooks->arg, level, line);
}

bool
rb_cancelled(const rb_hooks *hooks)
{
	return hooks != NULL && hooks->cancel != NULL && hooks->cancel(hooks->arg);
}
