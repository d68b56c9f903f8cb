/*
 * wal_retention.c — the WAL retention deletes (see wal_retention.h).
 */
#include "wal_retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"
#include "rb_format.h"
#include "retention_delete.h"
#include "wal_range.h"

static rb_wal_prune_range *
range_for(rb_wal_prune_plan *plan, uint32_t timeline)
{
	size_t		i;

	for (i = 0; i < plan->nranges; i++)
		if (plan->ranges[i].timeline == timeline)
			return &plan->ranges[i];
	plan->ranges = rb_realloc(plan->ranges, (plan->nranges + 1) * sizeof(*plan->ranges));
	/* kept in ascending timeline order */
	for (i = plan->nranges; i > 0 && plan->ranges[i - 1].timeline > timeline; i--)
		plan->ranges[i] = plan->ranges[i - 1];
	memset(&plan->ranges[i], 0, sizeof(plan->ranges[i]));
	plan->ranges[i].timeline = timeline;
	plan->nranges++;
	return &plan->ranges[i];
}

void
rb_wal_prune_select(const rb_object_info *objs, size_t n, const char *wal_prefix,
					uint64_t segment_size, uint64_t keep_from_segno, rb_wal_prune_plan *plan)
{
	size_t		plen = strlen(wal_prefix);

	memset(plan, 0, sizeof(*plan));
	plan->delete = rb_calloc(n ? n : 1, sizeof(bool));
	for (size_t i = 0; i < n; i++)
	{
		rb_wal_key k;
		rb_wal_prune_range *r;

		if (strncmp(objs[i].key, wal_prefix, plen) != 0 || !rb_wal_key_parse(objs[i].key, &k))
			continue;
		if (k.kind == RB_WAL_KIND_HISTORY)
			continue;			/* kept forever */
		if (rb_wal_key_segno(&k, segment_size) >= keep_from_segno)
			continue;
		plan->delete[i] = true;
		plan->nobjects++;
		r = range_for(plan, k.timeline);
		r->bytes += objs[i].size;
		if (k.metadata)
			continue;
		r->files++;
		/* names of one timeline sort as their segment numbers do */
		if (r->first[0] == '\0' || strcmp(k.file, r->first) < 0)
			snprintf(r->first, sizeof(r->first), "%s", k.file);
		if (strcmp(k.file, r->last) > 0)
			snprintf(r->last, sizeof(r->last), "%s", k.file);
	}
}

size_t
rb_wal_prune_delete(rb_destination *d, const rb_object_info *objs, size_t n,
					rb_wal_prune_plan *plan, bool *batch_unsupported)
{
	rb_retention_target *t = rb_calloc(plan->nobjects ? plan->nobjects : 1, sizeof(*t));
	size_t		nt = 0;

	plan->failed = 0;
	plan->failure[0] = '\0';
	for (size_t i = 0; i < n; i++)
		if (plan->delete[i])
			t[nt++].key = objs[i].key;
	if (nt > 0)
		(void) rb_retention_delete(d, NULL, 0, t, nt, batch_unsupported);
	for (size_t i = 0; i < nt; i++)
		if (t[i].failed)
		{
			if (plan->failed++ == 0)
				snprintf(plan->failure, sizeof(plan->failure), "%s: %s", t[i].key, t[i].failure);
		}
	free(t);
	return plan->failed;
}

void
rb_wal_prune_range_describe(const rb_wal_prune_range *r, char *buf, size_t len)
{
	char		size[32];

	rb_format_bytes(r->bytes, size, sizeof(size));
	if (r->files == 0)
		snprintf(buf, len, "timeline %u: metadata objects only, %s", (unsigned) r->timeline, size);
	else if (r->files == 1)
		snprintf(buf, len, "timeline %u: %s, 1 file, %s", (unsigned) r->timeline, r->first, size);
	else
		snprintf(buf, len, "timeline %u: %s .. %s, %zu files, %s", (unsigned) r->timeline,
				 r->first, r->last, r->files, size);
}

void
rb_wal_prune_plan_free(rb_wal_prune_plan *plan)
{
	free(plan->delete);
	free(plan->ranges);
	memset(plan, 0, sizeof(*plan));
}
