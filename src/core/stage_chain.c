/*
 * stage_chain.c — source → (inspector) → stream store, with cancellation,
 * progress and cleanup (see stage_chain.h).  The loop runs in the caller's
 * thread; zstd may use worker threads of its own.
 */
#include "stage_chain.h"

#include <stdlib.h>
#include <string.h>

#include "rb_time.h"

#define READ_CHUNK (256 * 1024)

/* How long one read may wait, so that cancellation is seen within 100 ms. */
#define READ_WAIT_MS 100
/* How long the destination's transfers are driven when the source is idle. */
#define PUMP_MS 50

static void
report(const rb_chain_params *p, rb_stream_store *s, double elapsed)
{
	rb_backup_progress pr;

	memset(&pr, 0, sizeof(pr));
	rb_stream_store_counts(s, &pr.bytes_read, &pr.bytes_stored);
	pr.elapsed_seconds = elapsed;
	p->progress(p->progress_arg, &pr);
}

int
rb_chain_run(const rb_chain_params *p, rb_chain_result *r, const rb_hooks *hooks,
			 rb_error *err)
{
	rb_stream_store *store = NULL;
	unsigned char *buf = NULL;
	double		start = rb_now_seconds(),
				last_progress = start;
	double		interval;
	int			rc = -1;

	memset(r, 0, sizeof(*r));
	if (p == NULL || p->source.read == NULL)
		return rb_error_set(err, RB_ERR_INTERNAL, "stage chain parameters incomplete (a source is required)");
	interval = (p->progress_interval_ms > 0 ? p->progress_interval_ms : 100) / 1000.0;

	buf = malloc(READ_CHUNK);
	if (buf == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	store = rb_stream_store_open(&p->store, err);
	if (store == NULL)
		goto done;
	if (p->source.start != NULL && p->source.start(p->source.arg, err) < 0)
		goto done;

	for (;;)
	{
		ssize_t		n = p->source.read(p->source.arg, buf, READ_CHUNK, READ_WAIT_MS, err);
		double		now;

		if (n == -1)
			goto done;
		if (n == 0)
			break;
		if (n == RB_CHAIN_IDLE && rb_stream_store_pump(store, PUMP_MS, err) < 0)
			goto done;
		if (n > 0)
		{
			if (p->inspect.feed != NULL &&
				p->inspect.feed(p->inspect.arg, buf, (size_t) n, err) < 0)
				goto done;
			if (rb_stream_store_write(store, buf, (size_t) n, err) < 0)
				goto done;
		}
		if (rb_cancelled(hooks))
		{
			if (p->store.what != NULL)
				rb_error_set(err, RB_ERR_CANCELLED, "%s cancelled", p->store.what);
			else
				rb_error_set(err, RB_ERR_CANCELLED, "cancelled");
			goto done;
		}
		now = rb_now_seconds();
		if (p->progress != NULL && now - last_progress >= interval)
		{
			report(p, store, now - start);
			last_progress = now;
		}
	}

	/* the source ended well: is the stream whole? */
	if (p->inspect.finish != NULL && p->inspect.finish(p->inspect.arg, err) < 0)
		goto done;
	{
		rb_stream_store *s = store;

		store = NULL;			/* commit frees it whatever happens */
		if (rb_stream_store_commit(s, &r->stored, err) < 0)
			goto done;
	}
	r->duration_seconds = rb_now_seconds() - start;
	if (p->progress != NULL)
	{
		rb_backup_progress pr = {r->stored.original_bytes, r->stored.stored_bytes,
		r->duration_seconds};

		p->progress(p->progress_arg, &pr);
	}
	rc = 0;

done:
	if (rc != 0)
	{
		/* nothing that looks like the object may remain */
		if (store != NULL)
		{
			rb_stream_store_counts(store, &r->stored.original_bytes, NULL);
			rb_stream_store_abort(store);
		}
		r->duration_seconds = rb_now_seconds() - start;
	}
	free(buf);
	return rc;
}
