/*
 * breaker_shmem.h — one S3 circuit breaker per destination endpoint in shared
 * memory, shared by every runner, verifier, retention run and probe that talks to
 * that endpoint, so that what one process learnt (the endpoint is down) holds for
 * the next.  A small fixed table (RB_BREAKER_SLOTS) keyed by the endpoint without
 * secrets ("http://127.0.0.1:9000", or "https://s3.<region>.amazonaws.com" for
 * AWS), under its own LWLock; the core breaker (s3_breaker.h) is used through the
 * lock callbacks of the S3 client, so src/core needs no PostgreSQL header.
 *
 * The clock is the wall clock in milliseconds since the Unix epoch, the same in
 * every process, so opened_at and friends read as timestamps in SQL.
 */
#ifndef RB_BREAKER_SHMEM_H
#define RB_BREAKER_SHMEM_H

#include "postgres.h"

#include "dest.h"

#define RB_BREAKER_SLOTS 8
#define RB_BREAKER_ENDPOINT_LEN 256

/* Defines ripple_backup.s3_breaker_threshold and s3_breaker_open_time (guc.c). */
extern void rb_breaker_define_gucs(void);

/* Shared memory size and initialisation (from shmem.c's hooks). */
extern Size rb_breaker_shmem_size(void);
extern void rb_breaker_shmem_startup(void);
extern void rb_breaker_shmem_request(void);

/*
 * Points opt at the shared breaker of its S3 endpoint (finding or claiming a
 * slot; the settings ripple_backup.s3_breaker_threshold and
 * ripple_backup.s3_breaker_open_time apply).  Leaves the private breaker when the
 * library was not preloaded or every slot holds another endpoint's open breaker.
 */
extern void rb_breaker_shared_options(rb_destination_options *opt);

#endif							/* RB_BREAKER_SHMEM_H */
