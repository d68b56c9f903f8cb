/*
 * pgdump_archive_fuzz.c — libFuzzer harness of the streaming custom-format parser
 * (src/core/pgdump_archive.c).  Invariants: no crash or sanitizer report on any
 * input, and the outcome (accepted or not, the message, every table count) does
 * not depend on how the bytes are chunked: the whole input at once must give the
 * same result as byte-by-byte feeding and as a split at an input-derived point.
 * Seeds: test/fixtures/pgdump_small.dump and prefixes of it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgdump_archive.h"

typedef struct outcome
{
	int			rc;
	char		msg[RB_ERROR_MSG_LEN];
	rb_table_counts counts;
	int64_t		blobs;
} outcome;

static void
run(const uint8_t *data, size_t size, size_t split, int bytewise, outcome *o)
{
	rb_archive_parser *p = rb_archive_parser_new();
	rb_error	err = {0};

	memset(o, 0, sizeof(*o));
	if (bytewise)
	{
		for (size_t i = 0; i < size && o->rc == 0; i++)
			o->rc = rb_archive_parser_feed(p, data + i, 1, &err);
	}
	else
	{
		o->rc = rb_archive_parser_feed(p, data, split, &err);
		if (o->rc == 0)
			o->rc = rb_archive_parser_feed(p, data + split, size - split, &err);
	}
	if (o->rc == 0)
		o->rc = rb_archive_parser_finish(p, &err);
	if (o->rc != 0)
		snprintf(o->msg, sizeof(o->msg), "%s", err.msg);
	else
	{
		rb_table_counts_copy(&o->counts, rb_archive_parser_counts(p));
		o->blobs = rb_archive_parser_blob_count(p);
	}
	rb_archive_parser_free(p);
}

static void
same(const outcome *a, const outcome *b)
{
	if (a->rc != b->rc || strcmp(a->msg, b->msg) != 0 || a->blobs != b->blobs ||
		a->counts.n != b->counts.n)
	{
		fprintf(stderr, "pgdump_archive_fuzz: chunking changed the outcome: %d \"%s\" vs %d \"%s\"\n",
				a->rc, a->msg, b->rc, b->msg);
		abort();
	}
	for (size_t i = 0; i < a->counts.n; i++)
		if (a->counts.items[i].rows != b->counts.items[i].rows ||
			strcmp(a->counts.items[i].schema, b->counts.items[i].schema) != 0 ||
			strcmp(a->counts.items[i].table, b->counts.items[i].table) != 0)
		{
			fprintf(stderr, "pgdump_archive_fuzz: chunking changed table %zu\n", i);
			abort();
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	outcome		whole,
				split,
				bytes;
	size_t		at = size ? (data[0] * 257u + (size > 1 ? data[size - 1] : 0)) % (size + 1) : 0;

	run(data, size, size, 0, &whole);
	run(data, size, at, 0, &split);
	same(&whole, &split);
	if (size < 4096)
	{
		run(data, size, 0, 1, &bytes);
		same(&whole, &bytes);
		rb_table_counts_free(&bytes.counts);
	}
	rb_table_counts_free(&whole.counts);
	rb_table_counts_free(&split.counts);
	return 0;
}
