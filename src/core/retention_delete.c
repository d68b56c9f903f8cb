/*
 * retention_delete.c — the order in which retention deletes (see
 * retention_delete.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dest_sweep.h"
#include "rb_alloc.h"
#include "retention_delete.h"
#include "retention_keys.h"
#include "verify_record.h"

/* Maps a failed key back to its target (key owner: target index per key). */
typedef struct failure_map
{
	const char **keys;
	rb_retention_target **owner;
	size_t		n;
} failure_map;

static void
on_failed(void *arg, const char *key, const char *reason)
{
	failure_map *m = arg;

	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->keys[i], key) == 0 && m->owner[i] != NULL && !m->owner[i]->failed)
		{
			m->owner[i]->failed = true;
			snprintf(m->owner[i]->failure, sizeof(m->owner[i]->failure), "%s", reason);
		}
}

static void
run_batch(rb_destination *d, failure_map *m, bool *batch_unsupported)
{
	rb_error	err;
	size_t		before = 0;

	if (m->n == 0)
		return;
	for (size_t i = 0; i < m->n; i++)
		before += m->owner[i] && m->owner[i]->failed;
	rb_error_clear(&err);
	if (rb_destination_delete_keys(d, m->keys, m->n, on_failed, m, batch_unsupported, &err) < 0)
	{
		size_t		after = 0;

		for (size_t i = 0; i < m->n; i++)
			after += m->owner[i] && m->owner[i]->failed;
		/* failed without naming a key: every key of the batch failed */
		if (after == before)
			for (size_t i = 0; i < m->n; i++)
				on_failed(m, m->keys[i], err.msg);
	}
}

size_t
rb_retention_delete(rb_destination *d, rb_retention_target *backups, size_t nb,
					rb_retention_target *orphans, size_t no, bool *batch_unsupported)
{
	size_t		cap = 4 * nb + no + 1;
	char	  **owned = rb_calloc(cap, sizeof(char *));
	failure_map m;
	size_t		nowned = 0;
	size_t		nfailed = 0;

	m.keys = rb_calloc(cap, sizeof(char *));
	m.owner = rb_calloc(cap, sizeof(*m.owner));
	for (size_t i = 0; i < nb; i++)
		backups[i].failed = false;
	for (size_t i = 0; i < no; i++)
		orphans[i].failed = false;

	/* 1. the metadata objects */
	m.n = 0;
	for (size_t i = 0; i < nb; i++)
	{
		owned[nowned] = rb_key_with_suffix(backups[i].key, RB_METADATA_SUFFIX);
		m.keys[m.n] = owned[nowned++];
		m.owner[m.n++] = &backups[i];
	}
	run_batch(d, &m, batch_unsupported);

	/* 2. the dumps and markers of those whose metadata is gone, and the orphans */
	m.n = 0;
	for (size_t i = 0; i < nb; i++)
	{
		if (backups[i].failed)
			continue;
		m.keys[m.n] = backups[i].key;
		m.owner[m.n++] = &backups[i];
		owned[nowned] = rb_key_with_suffix(backups[i].key, RB_PIN_SUFFIX);
		m.keys[m.n] = owned[nowned++];
		m.owner[m.n++] = &backups[i];
		owned[nowned] = rb_key_with_suffix(backups[i].key, RB_VERIFIED_SUFFIX);
		m.keys[m.n] = owned[nowned++];
		m.owner[m.n++] = &backups[i];
		owned[nowned] = rb_key_with_suffix(backups[i].key, RB_VERIFY_RECORD_SUFFIX);
		m.keys[m.n] = owned[nowned++];
		m.owner[m.n++] = &backups[i];
	}
	for (size_t i = 0; i < no; i++)
	{
		m.keys[m.n] = orphans[i].key;
		m.owner[m.n++] = &orphans[i];
	}
	run_batch(d, &m, batch_unsupported);

	for (size_t i = 0; i < nb; i++)
		nfailed += backups[i].failed;
	for (size_t i = 0; i < no; i++)
		nfailed += orphans[i].failed;
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(m.keys);
	free(m.owner);
	return nfailed;
}
