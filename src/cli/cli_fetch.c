/*
 * cli_fetch.c — a backup's object read through rb_verify_fetch, with a progress
 * bar and the operator's wording of the verdict (see cli_fetch.h).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_fetch.h"
#include "cli_progress.h"
#include "rb_time.h"

/* 16 hex digits into a key id; false when they are not */
static bool
parse_key_id(const char *hex, unsigned char id[RB_KEY_ID_LEN])
{
	if (hex == NULL || strlen(hex) != 2 * RB_KEY_ID_LEN)
		return false;
	for (int i = 0; i < RB_KEY_ID_LEN; i++)
	{
		unsigned int v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return false;
		id[i] = (unsigned char) v;
	}
	return true;
}

bool
cli_key_available(const rb_keyring *ring, const char *key_id_hex)
{
	unsigned char id[RB_KEY_ID_LEN];

	return ring != NULL && parse_key_id(key_id_hex, id) && rb_keyring_find(ring, id) != NULL;
}

int
cli_check_backup_key(const cli_backup *b, const rb_keyring *ring, rb_error *err)
{
	unsigned char id[RB_KEY_ID_LEN];

	if (!rb_backup_metadata_encrypted(&b->meta))
		return 0;
	if (!parse_key_id(b->meta.key_id, id))
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"the metadata of backup %" PRId64 " says it is encrypted but names no valid key id",
							b->meta.backup_id);
	if (cli_key_available(ring, b->meta.key_id))
		return 0;
	if (ring == NULL || ring->nkeys == 0)
		return rb_error_set(err, RB_ERR_INVALID,
							"backup %" PRId64 " is encrypted with key %s; give --encryption-key-file with the file of that key",
							b->meta.backup_id, b->meta.key_id);
	return rb_error_set(err, RB_ERR_INVALID,
						"backup %" PRId64 " is encrypted with key %s, which none of the %d given key files holds; give --encryption-key-file with the file of that key",
						b->meta.backup_id, b->meta.key_id, ring->nkeys);
}

static void
progress_cb(void *arg, uint64_t stored)
{
	cli_progress_update(arg, stored);
}

int
cli_fetch(rb_destination *d, const cli_backup *b, const cli_fetch_options *opt,
		  const rb_hooks *hooks, rb_fetch_result *res, rb_error *err)
{
	rb_fetch_options fo;
	cli_progress progress;
	uint64_t	size = 0;
	int64_t		mtime;
	int			rc = -1;
	double		t0 = rb_now_seconds();
	char	   *url = rb_destination_url_for(d, b->key);
	const char *label = opt->progress_label ? opt->progress_label : "download";

	memset(res, 0, sizeof(*res));
	if ((opt->out_fd >= 0 || opt->out_fn != NULL || opt->parser != NULL) &&
		cli_check_backup_key(b, opt->keyring, err) != 0)
		goto done;
	if (rb_destination_head(d, b->key, &size, &mtime, err) != 0)
	{
		if (err->code == RB_ERR_NOT_FOUND)
			rb_error_set(err, RB_ERR_NOT_FOUND,
						 "backup object %s is missing (its metadata exists)", url);
		goto done;
	}
	if (size != b->meta.size_bytes)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "size mismatch for backup %" PRId64 " (%s): the metadata says %" PRIu64
					 " bytes, the object has %" PRIu64,
					 b->meta.backup_id, url, b->meta.size_bytes, size);
		goto done;
	}

	memset(&fo, 0, sizeof(fo));
	fo.expected_size = b->meta.size_bytes;
	fo.expected_sha256 = b->meta.sha256;
	fo.compression = opt->raw ? "none" : b->meta.compression;
	fo.encryption = b->meta.encryption;
	fo.keyring = opt->keyring;
	fo.out_fd = opt->out_fd;
	fo.out_name = opt->out_name;
	fo.out_fn = opt->out_fn;
	fo.out_arg = opt->out_arg;
	fo.parser = opt->parser;
	fo.activity = label;
	fo.progress = progress_cb;
	fo.progress_arg = &progress;
	cli_progress_start(&progress, label, b->meta.size_bytes);
	rc = rb_verify_fetch(d, b->key, &fo, res, hooks, err);
	cli_progress_finish(&progress);
	if (rc != 0)
		goto done;
	rc = -1;
	if (!res->size_ok)
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "size mismatch for backup %" PRId64 " (%s): the metadata says %" PRIu64
					 " bytes, %" PRIu64 " were read",
					 b->meta.backup_id, url, b->meta.size_bytes, res->stored_bytes);
	else if (!res->sha256_ok)
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "checksum mismatch for backup %" PRId64 " (%s): the metadata says sha256 %s, the object's is %s",
					 b->meta.backup_id, url, b->meta.sha256, res->sha256);
	else if (res->decrypt_failed)
		rb_error_set(err, res->decrypt_err.code == RB_ERR_AUTH ? RB_ERR_INVALID : RB_ERR_INTEGRITY,
					 "backup %" PRId64 " (%s) matches its checksum but does not decrypt: %s",
					 b->meta.backup_id, url, res->decrypt_err.msg);
	else if ((opt->out_fd >= 0 || opt->out_fn != NULL || opt->parser != NULL) && !res->decompressed)
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "backup %" PRId64 " (%s) matches its checksum but does not decompress: %s",
					 b->meta.backup_id, url, res->decompress_err.msg);
	else if (opt->parser != NULL && !res->parsed)
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "backup %" PRId64 " (%s) is not a valid pg_dump archive: %s",
					 b->meta.backup_id, url, res->parse_err.msg);
	else
		rc = 0;

done:
	res->seconds = rb_now_seconds() - t0;
	free(url);
	return rc;
}
