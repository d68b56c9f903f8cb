/*
 * rb_alloc.c — allocation that never returns NULL: an emergency reserve, then
 * the host's failure handler (see rb_alloc.h).
 */
#include "rb_alloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
default_failure(size_t size)
{
	char		line[96];
	int			n = snprintf(line, sizeof(line), "out of memory (could not allocate %zu bytes)\n", size);

	/* write(2), not stdio: stdio may itself need memory */
	if (n > 0)
		(void) !write(STDERR_FILENO, line, (size_t) n);
	exit(1);
}

static rb_alloc_failure_handler failure_handler = default_failure;
static void *reserve = NULL;
static bool reserve_spent = false;
static long fail_countdown = -1;

rb_alloc_failure_handler
rb_alloc_set_failure_handler(rb_alloc_failure_handler handler)
{
	rb_alloc_failure_handler prev = failure_handler;

	failure_handler = handler ? handler : default_failure;
	return prev == default_failure ? NULL : prev;
}

bool
rb_alloc_reserve(size_t size)
{
	free(reserve);
	reserve = NULL;
	reserve_spent = false;
	if (size == 0)
		return true;
	reserve = malloc(size);
	if (reserve == NULL)
		return false;
	/* touched, so that the pages are really ours to give back */
	memset(reserve, 0, size);
	return true;
}

bool
rb_alloc_reserve_spent(void)
{
	return reserve_spent;
}

void
rb_alloc_test_fail_after(long n)
{
	fail_countdown = n;
}

/* True when the test hook says this allocation fails. */
static bool
injected_failure(void)
{
	if (fail_countdown < 0)
		return false;
	return fail_countdown-- == 0;
}

/* The C library said no: gives the reserve back, if any; true when the caller may retry. */
static bool
give_back_reserve(void)
{
	if (reserve == NULL)
		return false;
	free(reserve);
	reserve = NULL;
	reserve_spent = true;
	return true;
}

/* No memory, reserve or not: the handler ends the process. */
static void
failed(size_t size)
{
	failure_handler(size);
	/* a handler must not return; if one does, the default ends the process */
	default_failure(size);
}

void *
rb_malloc(size_t size)
{
	size_t		n = size ? size : 1;
	void	   *p = injected_failure() ? NULL : malloc(n);

	if (p == NULL && give_back_reserve())
		p = malloc(n);
	if (p == NULL)
		failed(size);
	return p;
}

void *
rb_calloc(size_t nmemb, size_t size)
{
	void	   *p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		failed(SIZE_MAX);
	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = injected_failure() ? NULL : calloc(nmemb, size);
	if (p == NULL && give_back_reserve())
		p = calloc(nmemb, size);
	if (p == NULL)
		failed(nmemb * size);
	return p;
}

void *
rb_realloc(void *ptr, size_t size)
{
	size_t		n = size ? size : 1;
	void	   *p = injected_failure() ? NULL : realloc(ptr, n);

	if (p == NULL && give_back_reserve())
		p = realloc(ptr, n);
	if (p == NULL)
		failed(size);
	return p;
}

char *
rb_strndup(const char *s, size_t n)
{
	size_t		len = strnlen(s, n);
	char	   *r = rb_malloc(len + 1);

	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

char *
rb_strdup(const char *s)
{
	return rb_strndup(s, SIZE_MAX);
}
