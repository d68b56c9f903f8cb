/*
 * wal_catalog.c — the archived WAL of one system identifier from a listing,
 * with its history files read back (see wal_catalog.h).
 */
#include "wal_catalog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backup_compress.h"
#include "encrypt_stream.h"
#include "rb_alloc.h"

#define HISTORY_MAX (1024 * 1024)

typedef struct small_sink
{
	rb_buf	   *out;
	size_t		max;
} small_sink;

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	small_sink *s = arg;

	if (s->out->len + len > s->max)
		return rb_error_set(err, RB_ERR_INTEGRITY, "the object is larger than %zu bytes", s->max);
	rb_buf_append(s->out, data, len);
	return 0;
}

static int
to_decompressor(void *arg, const void *data, size_t len, rb_error *err)
{
	return rb_decompressor_write(arg, data, len, err);
}

int
rb_wal_object_read_small(rb_destination *d, const char *key, const rb_keyring *ring,
						 size_t max, rb_buf *out, rb_error *err)
{
	rb_buf		stored = RB_BUF_INIT;
	small_sink	raw = {&stored, max + RB_ENCRYPT_HEADER_LEN + 4096};
	small_sink	plain = {out, max};
	rb_decompressor *dz = NULL;
	rb_decryptor *dec = NULL;
	int			rc = -1;

	if (rb_destination_get(d, key, 0, 0, collect, &raw, err) < 0)
		goto done;
	dz = rb_decompressor_new(RB_COMPRESS_ZSTD, collect, &plain, err);
	if (dz == NULL)
		goto done;
	if (rb_encrypt_detect(stored.data, stored.len))
	{
		if (ring == NULL || ring->nkeys == 0)
		{
			rb_error_set(err, RB_ERR_AUTH, "the object is encrypted and no key is configured");
			goto done;
		}
		dec = rb_decryptor_new(ring, to_decompressor, dz, err);
		if (dec == NULL || rb_decryptor_write(dec, stored.data, stored.len, err) < 0 ||
			rb_decryptor_finish(dec, err) < 0)
			goto done;
	}
	else if (rb_decompressor_write(dz, stored.data, stored.len, err) < 0)
		goto done;
	rc = rb_decompressor_finish(dz, err);
done:
	rb_decryptor_free(dec);
	rb_decompressor_free(dz);
	rb_buf_free(&stored);
	return rc;
}

int
rb_wal_catalog_load(rb_destination *d, const rb_object_list *objs, uint64_t sysid,
					uint64_t segment_size, const rb_keyring *ring, const rb_hooks *hooks,
					rb_wal_catalog *cat, rb_error *err)
{
	char		prefix[32];
	size_t		plen;
	size_t		cap = 0;

	memset(cat, 0, sizeof(*cat));
	plen = (size_t) snprintf(prefix, sizeof(prefix), "%" PRIu64 "/", sysid);
	for (size_t i = 0; i < objs->n; i++)
	{
		const rb_object_info *o = &objs->objs[i];
		rb_wal_key k;

		if (strncmp(o->key, prefix, plen) != 0 || !rb_wal_key_parse(o->key, &k))
			continue;
		/* <sysid>/<incarnation>/wal/...: exactly one segment between */
		{
			const char *rest = o->key + plen;
			const char *slash = strchr(rest, '/');

			if (slash == NULL || strncmp(slash, "/wal/", 5) != 0)
				continue;
		}
		cat->total_bytes += o->size;
		if (k.metadata)
			continue;
		cat->total_files++;
		if (k.timeline > cat->max_timeline)
			cat->max_timeline = k.timeline;
		if (cat->nfiles == cap)
		{
			cap = cap ? cap * 2 : 64;
			cat->files = rb_realloc(cat->files, cap * sizeof(*cat->files));
		}
		cat->files[cat->nfiles].kind = k.kind;
		cat->files[cat->nfiles].timeline = k.timeline;
		cat->files[cat->nfiles].segno = k.kind == RB_WAL_KIND_HISTORY ? 0 : rb_wal_key_segno(&k, segment_size);
		cat->files[cat->nfiles].mtime = o->mtime;
		cat->nfiles++;

		if (k.kind == RB_WAL_KIND_HISTORY)
		{
			rb_buf		text = RB_BUF_INIT;
			rb_error	e;
			bool		seen = false;

			for (size_t h = 0; h < cat->nhist; h++)
				seen |= cat->hist[h].timeline == k.timeline;
			if (seen)
				continue;		/* the same file under another incarnation */
			if (rb_cancelled(hooks))
				return rb_error_set(err, RB_ERR_CANCELLED, "cancelled");
			rb_error_clear(&e);
			cat->hist = rb_realloc(cat->hist, (cat->nhist + 1) * sizeof(*cat->hist));
			if (rb_wal_object_read_small(d, o->key, ring, HISTORY_MAX, &text, &e) < 0 ||
				rb_wal_history_parse(text.data ? text.data : "", text.len, k.timeline,
									 &cat->hist[cat->nhist], &e) < 0)
				rb_log(hooks, RB_LOG_WARNING, "could not read the history file \"%s\": %s", o->key, e.msg);
			else
				cat->nhist++;
			rb_buf_free(&text);
		}
	}
	return 0;
}

void
rb_wal_catalog_free(rb_wal_catalog *cat)
{
	for (size_t i = 0; i < cat->nhist; i++)
		rb_wal_history_free(&cat->hist[i]);
	free(cat->hist);
	free(cat->files);
	memset(cat, 0, sizeof(*cat));
}
