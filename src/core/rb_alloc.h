/*
 * rb_alloc.h — memory allocation for src/core and the CLI, with one failure path.
 *
 * rb_malloc and friends never return NULL.  When the C library cannot allocate:
 *
 *  1. if the host armed an emergency reserve (rb_alloc_reserve), the reserve is
 *     given back to the C library and the allocation retried.  When that
 *     succeeds the caller goes on, and rb_alloc_reserve_spent() says true from
 *     then on: the host's cancel hook then stops the running operation, which
 *     winds down through its ordinary cleanup (children killed and reaped,
 *     uploads aborted, temporary files removed) and fails as cancelled, and the
 *     host reports it as out of memory.  The server's workers do this.
 *  2. otherwise the failure handler that the host set is called, which does not
 *     return.  In the server it is ereport(FATAL): the process exits with code 1,
 *     which the postmaster treats as a normal exit (no reinitialization of the
 *     cluster, as after a signal such as SIGABRT).  In the CLI it prints
 *     "ripple-backup: out of memory" and exits with status 1.  Without a handler,
 *     the default writes one line to stderr and exits with status 1.
 *
 * No allocation failure calls abort().  Allocations whose size comes from the
 * input or a setting (part buffers, copy buffers) use plain malloc and fail their
 * operation with RB_ERR_NOMEM instead; these functions are for the small
 * bookkeeping allocations whose failure leaves nothing sensible to do.  A size of
 * 0 allocates 1 byte, so the result is never NULL.
 */
#ifndef RB_ALLOC_H
#define RB_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

/* Called with the size that could not be allocated; must not return. */
typedef void (*rb_alloc_failure_handler) (size_t size);

/* Sets the handler (NULL restores the default); returns the previous one (NULL: the default). */
rb_alloc_failure_handler rb_alloc_set_failure_handler(rb_alloc_failure_handler handler);

void	   *rb_malloc(size_t size);
void	   *rb_calloc(size_t nmemb, size_t size);	/* zeroed; nmemb * size checked */
void	   *rb_realloc(void *ptr, size_t size);
char	   *rb_strdup(const char *s);
char	   *rb_strndup(const char *s, size_t n);	/* at most n bytes, NUL-terminated */

/*
 * Arms the emergency reserve with size bytes (re-arms it once spent, and then
 * clears rb_alloc_reserve_spent); size 0 releases it.  Returns false when the
 * reserve itself could not be allocated (then there is none).
 */
bool		rb_alloc_reserve(size_t size);

/* True once an allocation failed and was served by giving the reserve back. */
bool		rb_alloc_reserve_spent(void);

/*
 * For tests only: the allocation after the next n ones fails once as if the C
 * library had no memory left (n = 0: the very next one); n < 0 turns it off.
 */
void		rb_alloc_test_fail_after(long n);

#endif							/* RB_ALLOC_H */
