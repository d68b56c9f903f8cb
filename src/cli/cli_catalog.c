/*
 * cli_catalog.c — reads the metadata objects of a destination (see cli_catalog.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cli_catalog.h"
#include "rb_alloc.h"
#include "rb_buf.h"
#include "retention_keys.h"
#include "wal_archive.h"

#define METADATA_MAX_SIZE (64 * 1024 * 1024)

typedef struct small_sink
{
	rb_buf	   *out;
	size_t		max;
} small_sink;

static int
small_write(void *arg, const void *data, size_t len, rb_error *err)
{
	small_sink *s = arg;

	if (s->out->len + len > s->max)
		return rb_error_set(err, RB_ERR_INTEGRITY, "object is larger than %zu bytes", s->max);
	rb_buf_append(s->out, data, len);
	return 0;
}

int
cli_get_small(rb_destination *d, const char *key, size_t max, rb_buf *out, rb_error *err)
{
	small_sink	s = {out, max};

	rb_buf_reset(out);
	return rb_destination_get(d, key, 0, 0, small_write, &s, err);
}

const char *
cli_backup_verify_status(const cli_backup *b)
{
	return b->has_verify ? rb_verify_record_status(&b->verify) : "unverified";
}

/*
 * Reads "<key>.verify.json" into b.  A missing record leaves b unverified
 * silently; an unreadable one with a warning through hooks (NULL: silently).
 * Returns -1 with err only when the destination itself fails.
 */
static int
load_verify_record(rb_destination *d, cli_backup *b, const rb_hooks *hooks, rb_error *err)
{
	char	   *key = rb_key_with_suffix(b->key, RB_VERIFY_RECORD_SUFFIX);
	rb_buf		json = RB_BUF_INIT;
	rb_error	rerr;
	int			rc = 0;

	rb_error_clear(&rerr);
	b->has_verify = false;
	if (cli_get_small(d, key, RB_VERIFY_RECORD_MAX_SIZE, &json, &rerr) == 0)
	{
		if (rb_verify_record_from_json(rb_buf_str(&json), json.len, &b->verify, &rerr) == 0)
			b->has_verify = true;
		else if (hooks)
			rb_log(hooks, RB_LOG_WARNING, "ignoring the verification record %s: %s", key, rerr.msg);
	}
	else if (rerr.code == RB_ERR_CANCELLED || rerr.code == RB_ERR_CIRCUIT_OPEN ||
			 rerr.code == RB_ERR_NETWORK || rerr.code == RB_ERR_AUTH)
	{
		*err = rerr;
		rc = -1;
	}
	else if (rerr.code != RB_ERR_NOT_FOUND && hooks)
		rb_log(hooks, RB_LOG_WARNING, "could not read the verification record %s: %s", key, rerr.msg);
	rb_buf_free(&json);
	free(key);
	return rc;
}

void
cli_backup_free(cli_backup *b)
{
	free(b->key);
	free(b->metadata_key);
	rb_backup_metadata_free(&b->meta);
	b->key = b->metadata_key = NULL;
}

static int
load_metadata(rb_destination *d, const char *key, const char *metadata_key, cli_backup *b,
			  rb_error *err)
{
	rb_buf		json = RB_BUF_INIT;
	int			rc;

	memset(b, 0, sizeof(*b));
	rb_backup_metadata_init(&b->meta);
	b->key = rb_strdup(key);
	b->metadata_key = rb_strdup(metadata_key);
	rc = cli_get_small(d, metadata_key, METADATA_MAX_SIZE, &json, err);
	if (rc == 0)
	{
		rb_backup_metadata_free(&b->meta);
		rc = rb_backup_metadata_from_json(rb_buf_str(&json), json.len, &b->meta, err);
		if (rc != 0)
		{
			char	   *url = rb_destination_url_for(d, metadata_key);

			rb_error_prefix(err, "invalid metadata object %s: ", url);
			free(url);
		}
	}
	rb_buf_free(&json);
	return rc;
}

int
cli_backup_load(rb_destination *d, const char *key, cli_backup *b, rb_error *err)
{
	rb_buf		mk = RB_BUF_INIT;
	int			rc;

	rb_buf_appendf(&mk, "%s%s", key, CLI_METADATA_SUFFIX);
	rc = load_metadata(d, key, rb_buf_str(&mk), b, err);
	if (rc == 0)
		rc = load_verify_record(d, b, NULL, err);
	if (rc != 0 && err->code == RB_ERR_NOT_FOUND)
	{
		uint64_t	size;
		int64_t		mtime;
		rb_error	herr;

		rb_error_clear(&herr);
		if (rb_destination_head(d, key, &size, &mtime, &herr) == 0)
			rb_error_set(err, RB_ERR_NOT_FOUND,
						 "backup object \"%s\" in %s has no metadata object \"%s\": it is not a complete backup",
						 key, rb_destination_url(d), rb_buf_str(&mk));
		else
			rb_error_set(err, RB_ERR_NOT_FOUND, "no backup object \"%s\" in %s",
						 key, rb_destination_url(d));
	}
	rb_buf_free(&mk);
	return rc;
}

typedef struct key_list
{
	char	  **keys;
	size_t		n;
	size_t		cap;
} key_list;

/* the metadata keys, and the verification record keys, of a listing */
typedef struct key_lists
{
	key_list	metadata;
	key_list	records;
} key_lists;

static bool
has_suffix(const char *key, const char *suffix)
{
	size_t		len = strlen(key);
	size_t		sl = strlen(suffix);

	return len > sl && strcmp(key + len - sl, suffix) == 0;
}

static int
key_list_add(key_list *kl, const char *key, rb_error *err)
{
	if (kl->n == kl->cap)
	{
		size_t		cap = kl->cap ? kl->cap * 2 : 64;
		char	  **k = realloc(kl->keys, cap * sizeof(char *));

		if (k == NULL)
			return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		kl->keys = k;
		kl->cap = cap;
	}
	kl->keys[kl->n] = strdup(key);
	if (kl->keys[kl->n] == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	kl->n++;
	return 0;
}

/*
 * "<sysid>/<incarnation>/wal/<timeline>/<WAL file>.zst.metadata.json": the
 * metadata of an archived WAL file (wal_archive.h), not of a backup.
 */
static bool
is_wal_metadata(const char *key)
{
	static const char suffix[] = ".zst" CLI_METADATA_SUFFIX;
	size_t		len = strlen(key);
	const char *name;
	char		file[64];
	uint32_t	tli;
	rb_error	e;

	if (!has_suffix(key, suffix))
		return false;
	name = key + len - strlen(suffix);
	while (name > key && name[-1] != '/')
		name--;
	if ((size_t) (key + len - strlen(suffix) - name) >= sizeof(file) || name - key < 14 ||
		strncmp(name - 14, "/wal/", 5) != 0)
		return false;
	memcpy(file, name, (size_t) (key + len - strlen(suffix) - name));
	file[key + len - strlen(suffix) - name] = '\0';
	return rb_wal_file_timeline(file, &tli, &e) == 0;
}

static int
collect_key(void *arg, const rb_object_info *info, rb_error *err)
{
	key_lists  *kl = arg;

	if (is_wal_metadata(info->key))
		return 0;
	if (has_suffix(info->key, CLI_METADATA_SUFFIX))
		return key_list_add(&kl->metadata, info->key, err);
	if (has_suffix(info->key, RB_VERIFY_RECORD_SUFFIX))
		return key_list_add(&kl->records, info->key, err);
	return 0;
}

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static void
key_list_free(key_list *kl)
{
	for (size_t i = 0; i < kl->n; i++)
		free(kl->keys[i]);
	free(kl->keys);
}

static int
cmp_backup_newest(const void *a, const void *b)
{
	const cli_backup *x = a;
	const cli_backup *y = b;
	cli_backup_ref rx = {x->key, x->meta.backup_id, x->meta.system_identifier,
	x->meta.dbname, x->meta.timestamp, x->meta.incarnation, CLI_VERIFY_UNKNOWN};
	cli_backup_ref ry = {y->key, y->meta.backup_id, y->meta.system_identifier,
	y->meta.dbname, y->meta.timestamp, y->meta.incarnation, CLI_VERIFY_UNKNOWN};

	return cli_backup_ref_cmp_newest(&rx, &ry);
}

int
cli_catalog_load(rb_destination *d, const rb_hooks *hooks, cli_catalog *cat, rb_error *err)
{
	key_lists	lists;
	key_list	kl;
	int			rc;

	memset(cat, 0, sizeof(*cat));
	memset(&lists, 0, sizeof(lists));
	rc = rb_destination_list(d, "", collect_key, &lists, err);
	kl = lists.metadata;
	if (lists.records.n > 1)
		qsort(lists.records.keys, lists.records.n, sizeof(char *), cmp_key);
	if (rc == 0 && kl.n > 0)
	{
		cat->items = calloc(kl.n, sizeof(cli_backup));
		if (cat->items == NULL)
			rc = rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	}
	for (size_t i = 0; rc == 0 && i < kl.n; i++)
	{
		size_t		kl_len = strlen(kl.keys[i]) - strlen(CLI_METADATA_SUFFIX);
		char	   *key = rb_strndup(kl.keys[i], kl_len);
		rb_error	merr;
		cli_backup *b = &cat->items[cat->n];

		rb_error_clear(&merr);
		if (load_metadata(d, key, kl.keys[i], b, &merr) == 0)
		{
			char	   *rk = rb_key_with_suffix(key, RB_VERIFY_RECORD_SUFFIX);

			/* only the backups whose listing has a record: one GET each */
			if (bsearch(&rk, lists.records.keys, lists.records.n, sizeof(char *), cmp_key) != NULL &&
				load_verify_record(d, b, hooks, &merr) != 0)
			{
				*err = merr;
				cli_backup_free(b);
				rc = -1;
			}
			else
				cat->n++;
			free(rk);
		}
		else if (merr.code == RB_ERR_CANCELLED || merr.code == RB_ERR_CIRCUIT_OPEN ||
				 merr.code == RB_ERR_NETWORK || merr.code == RB_ERR_AUTH)
		{
			/* the destination itself is failing: stop, do not pretend */
			*err = merr;
			cli_backup_free(b);
			rc = -1;
		}
		else
		{
			rb_log(hooks, RB_LOG_WARNING, "skipping %s", merr.msg);
			cli_backup_free(b);
			cat->invalid++;
		}
		free(key);
	}
	key_list_free(&lists.metadata);
	key_list_free(&lists.records);
	if (rc != 0)
	{
		cli_catalog_free(cat);
		return -1;
	}
	if (cat->n > 1)
		qsort(cat->items, cat->n, sizeof(cli_backup), cmp_backup_newest);
	if (cat->n > 0)
	{
		cat->refs = calloc(cat->n, sizeof(cli_backup_ref));
		if (cat->refs == NULL)
		{
			cli_catalog_free(cat);
			return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		}
		for (size_t i = 0; i < cat->n; i++)
		{
			cat->refs[i].key = cat->items[i].key;
			cat->refs[i].backup_id = cat->items[i].meta.backup_id;
			cat->refs[i].system_identifier = cat->items[i].meta.system_identifier;
			cat->refs[i].dbname = cat->items[i].meta.dbname;
			cat->refs[i].timestamp = cat->items[i].meta.timestamp;
			cat->refs[i].incarnation = cat->items[i].meta.incarnation;
			cat->refs[i].verify = !cat->items[i].has_verify ? CLI_VERIFY_UNKNOWN :
				cat->items[i].verify.verified ? CLI_VERIFY_VERIFIED : CLI_VERIFY_FAILED;
		}
	}
	return 0;
}

void
cli_catalog_free(cli_catalog *cat)
{
	for (size_t i = 0; i < cat->n; i++)
		cli_backup_free(&cat->items[i]);
	free(cat->items);
	free(cat->refs);
	memset(cat, 0, sizeof(*cat));
}
