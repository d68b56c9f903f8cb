/*
 * discard.c — deletes the object and metadata of a discarded backup run (see
 * discard.h).  Used by the launcher, which holds no exported snapshot and runs
 * no pg_dump: it only opens the destination and deletes two keys.
 */
#include "postgres.h"

#include "backup.h"
#include "core_hooks.h"
#include "dest.h"
#include "guc.h"

#include "discard.h"

/* The destination URL that location was built from (palloc'd), or NULL. */
static char *
destination_of(const char *location, const char *object_key)
{
	size_t		loclen = strlen(location);
	size_t		keylen = strlen(object_key);

	if (keylen == 0 || loclen <= keylen + 1 ||
		strcmp(location + loclen - keylen, object_key) != 0 ||
		location[loclen - keylen - 1] != '/')
		return NULL;
	return pnstrdup(location, loclen - keylen - 1);
}

bool
rb_discard_stored_backup(int64 backup_id, const char *location, const char *object_key,
						 char *errbuf, size_t errlen)
{
	rb_hooks	hooks;
	RbCoreHookContext hook_ctx;
	rb_destination_options opt;
	rb_destination *dest;
	rb_error	err;
	char	   *url = destination_of(location, object_key);
	char	   *meta_key;
	bool		ok = true;

	errbuf[0] = '\0';
	if (object_key[0] == '\0')
		return true;			/* the run stopped before it chose a key */
	if (url == NULL)
		url = pstrdup(rb_guc_destination ? rb_guc_destination : "");

	rb_core_hooks_init(&hooks, &hook_ctx, "discarded backup %lld", (long long) backup_id);
	rb_guc_destination_options(&opt);
	rb_error_clear(&err);
	dest = rb_destination_open(url, &opt, &hooks, &err);
	pfree(url);
	if (dest == NULL)
	{
		rb_core_hooks_explain(&hook_ctx, &err);
		strlcpy(errbuf, err.msg, errlen);
		return false;
	}

	/* the metadata first: without it nothing looks like a backup any more */
	meta_key = rb_backup_metadata_key(object_key);
	if (rb_destination_delete(dest, meta_key, &err) != 0 ||
		rb_destination_delete(dest, object_key, &err) != 0)
	{
		rb_core_hooks_explain(&hook_ctx, &err);
		strlcpy(errbuf, err.msg, errlen);
		ok = false;
	}
	free(meta_key);
	rb_destination_close(dest);
	return ok;
}
