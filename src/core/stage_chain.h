/*
 * stage_chain.h — the one loop that carries a producer's bytes into a stored
 * object: source → (inspector) → stream store (compressor → encryptor →
 * SHA-256 and count → destination writer, stream_store.h), with cancellation,
 * progress reports and cleanup.
 *
 * Every stored object is written through it: a logical backup (backup.c: pg_dump
 * → archive parser), a physical base backup (base_backup.c: pg_basebackup → tar
 * scanner) and one WAL file (stream_store.c: a file descriptor, no inspector).
 * The caller configures the stages and owns the source and the inspector; the
 * chain opens the store before it starts the source (a destination that refuses
 * the object starts nothing), and on any failure aborts the store (nothing is
 * left behind) before it returns, so that the caller then stops its producer.
 */
#ifndef RB_STAGE_CHAIN_H
#define RB_STAGE_CHAIN_H

#include <stdint.h>
#include <sys/types.h>

#include "rb_error.h"
#include "stream_store.h"

/* What the progress callback is told (named for the backups that report it). */
typedef struct rb_backup_progress
{
	uint64_t	bytes_read;		/* bytes received from the source */
	uint64_t	bytes_stored;	/* stored (compressed, encrypted) bytes handed to the destination */
	double		elapsed_seconds;
} rb_backup_progress;

typedef void (*rb_backup_progress_fn) (void *arg, const rb_backup_progress *progress);

/* rb_chain_source.read's result when nothing arrived within the timeout */
#define RB_CHAIN_IDLE (-2)

/* The producer of the bytes. */
typedef struct rb_chain_source
{
	/*
	 * Starts the producer, after the store is open.  0, or -1 with err.  NULL =
	 * nothing to start.
	 */
	int			(*start) (void *arg, rb_error *err);

	/*
	 * Up to cap bytes into buf: the number read (> 0); 0 at the end of a whole
	 * stream (the producer succeeded); RB_CHAIN_IDLE when nothing arrived within
	 * timeout_ms (the chain drives the destination's transfers meanwhile); -1
	 * with err when the producer failed.
	 */
	ssize_t		(*read) (void *arg, void *buf, size_t cap, int timeout_ms, rb_error *err);
	void	   *arg;
} rb_chain_source;

/*
 * Optional: a stage that sees every byte of the source before it is stored
 * (pg_dump's archive parser, the tar scanner) and judges the whole stream at
 * its end, before the store is committed.  Its errors are final; it words them
 * itself.  NULL functions = no inspection.
 */
typedef struct rb_chain_inspector
{
	int			(*feed) (void *arg, const void *data, size_t len, rb_error *err);
	int			(*finish) (void *arg, rb_error *err);
	void	   *arg;
} rb_chain_inspector;

typedef struct rb_chain_params
{
	/*
	 * The stages after the inspector.  store.what also words the cancellation
	 * ("backup cancelled"; "cancelled" when NULL).
	 */
	rb_stream_store_params store;
	rb_chain_source source;
	rb_chain_inspector inspect;

	rb_backup_progress_fn progress; /* NULL = no progress reports */
	void	   *progress_arg;
	int			progress_interval_ms;	/* 0 = 100 ms */
} rb_chain_params;

typedef struct rb_chain_result
{
	rb_stream_store_result stored;	/* the object's (and the source's) bytes and SHA-256 */
	double		duration_seconds;
} rb_chain_result;

/*
 * Runs the chain to the end of the source, then commits the object.  result
 * is initialised by the call; after a failure it still says how many bytes the
 * source gave (stored.original_bytes) and how long it took.  hooks->cancel is
 * polled after every read (sources that wait wait at most the 100 ms asked).
 * The progress callback is called at most every progress_interval_ms, and once
 * more after the commit.  Returns 0, or -1 with err: RB_ERR_CANCELLED, the
 * source's, the inspector's or the store's error.
 */
int			rb_chain_run(const rb_chain_params *params, rb_chain_result *result,
						 const rb_hooks *hooks, rb_error *err);

#endif							/* RB_STAGE_CHAIN_H */
