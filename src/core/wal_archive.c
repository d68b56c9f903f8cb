/*
 * wal_archive.c — one WAL file into the destination by the archive module rules
 * (see wal_archive.h): the key, the store through stream_store, the metadata
 * object, and the comparison with what is already there.
 */
#include "wal_archive.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup_compress.h"
#include "encrypt_stream.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "rb_json.h"
#include "rb_time.h"
#include "stream_store.h"

#define METADATA_MAX (64 * 1024)
#define HASH_CHUNK (256 * 1024)

static bool
all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char) s[i]))
			return false;
	return true;
}

int
rb_wal_file_timeline(const char *f, uint32_t *timeline, rb_error *err)
{
	size_t		n = f ? strlen(f) : 0;
	bool		ok = false;

	if (n == 24 && all_hex(f, 24))
		ok = true;				/* segment */
	else if (n == 32 && all_hex(f, 24) && strcmp(f + 24, ".partial") == 0)
		ok = true;
	else if (n == 16 && all_hex(f, 8) && strcmp(f + 8, ".history") == 0)
		ok = true;
	else if (n == 40 && all_hex(f, 24) && f[24] == '.' && all_hex(f + 25, 8) &&
			 strcmp(f + 33, ".backup") == 0)
		ok = true;
	if (!ok)
		return rb_error_set(err, RB_ERR_INVALID, "\"%s\" is not the name of a WAL segment, history or backup history file",
							f ? f : "");
	{
		char		tli[9];

		memcpy(tli, f, 8);
		tli[8] = '\0';
		*timeline = (uint32_t) strtoul(tli, NULL, 16);
	}
	return 0;
}

bool
rb_wal_file_is_history(const char *f)
{
	return f != NULL && strlen(f) == 16 && all_hex(f, 8) && strcmp(f + 8, ".history") == 0;
}

char *
rb_wal_object_key(uint64_t system_identifier, const char *incarnation, uint32_t timeline,
				  const char *file_name)
{
	rb_buf		k = RB_BUF_INIT;

	rb_buf_appendf(&k, "%" PRIu64 "/%s/wal/%08X/%s.zst", system_identifier,
				   incarnation && incarnation[0] ? incarnation : "-", timeline, file_name);
	return k.data;
}

static char *
metadata_key(const char *key)
{
	rb_buf		k = RB_BUF_INIT;

	rb_buf_appendf(&k, "%s.metadata.json", key);
	return k.data;
}

/* SHA-256 and size of a local file. */
static int
hash_file(const char *path, char sha[65], uint64_t *size, rb_error *err)
{
	int			fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char *buf = NULL;
	rb_digest  *d = NULL;
	int			rc = -1;

	*size = 0;
	if (fd < 0)
		return rb_error_set(err, RB_ERR_IO, "could not open \"%s\": %s", path, strerror(errno));
	buf = malloc(HASH_CHUNK);
	if (buf == NULL)
	{
		rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		goto done;
	}
	d = rb_digest_new(RB_DIGEST_SHA256, err);
	if (d == NULL)
		goto done;
	for (;;)
	{
		ssize_t		n = read(fd, buf, HASH_CHUNK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
		{
			rb_error_set(err, RB_ERR_IO, "could not read \"%s\": %s", path, strerror(errno));
			goto done;
		}
		if (n == 0)
			break;
		if (rb_digest_update(d, buf, (size_t) n, err) < 0)
			goto done;
		*size += (uint64_t) n;
	}
	rc = rb_digest_final_hex(d, sha, err);
done:
	rb_digest_free(d);
	free(buf);
	close(fd);
	return rc;
}

/* --- reading back what is stored ------------------------------------------------ */

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_buf	   *b = arg;

	if (b->len + len > METADATA_MAX)
		return rb_error_set(err, RB_ERR_INTEGRITY, "the WAL metadata object is larger than %d bytes", METADATA_MAX);
	rb_buf_append(b, data, len);
	return 0;
}

/* The original SHA-256 recorded in the metadata object; RB_ERR_NOT_FOUND when there is none. */
static int
read_metadata_sha(rb_destination *dest, const char *mkey, char sha[65], rb_error *err)
{
	rb_buf		b = RB_BUF_INIT;
	rb_json    *j;
	const char *v;
	int			rc = -1;

	if (rb_destination_get(dest, mkey, 0, 0, collect, &b, err) < 0)
	{
		rb_buf_free(&b);
		return -1;
	}
	j = rb_json_parse(b.data ? b.data : "", b.len, err);
	if (j != NULL)
	{
		v = rb_json_get_string(j, "original_sha256");
		if (v == NULL || strlen(v) != 64)
			rb_error_set(err, RB_ERR_INTEGRITY, "the WAL metadata object has no original_sha256");
		else
		{
			memcpy(sha, v, 65);
			rc = 0;
		}
		rb_json_free(j);
	}
	rb_buf_free(&b);
	return rc;
}

/* The stored object, decrypted when it is encrypted, decompressed and hashed. */
typedef struct decode_state
{
	unsigned char head[RB_ENCRYPT_HEADER_LEN];
	size_t		nhead;
	bool		started;
	const rb_keyring *ring;
	rb_decryptor *dec;
	rb_decompressor *dz;
	rb_digest  *sha;
} decode_state;

static int
decode_hash(void *arg, const void *data, size_t len, rb_error *err)
{
	return rb_digest_update(((decode_state *) arg)->sha, data, len, err);
}

static int
decode_decompress(void *arg, const void *data, size_t len, rb_error *err)
{
	return rb_decompressor_write(((decode_state *) arg)->dz, data, len, err);
}

static int
decode_push(decode_state *s, const void *data, size_t len, rb_error *err)
{
	if (s->dec != NULL)
		return rb_decryptor_write(s->dec, data, len, err);
	return rb_decompressor_write(s->dz, data, len, err);
}

/* Decides on the first bytes whether the object is encrypted (the header's magic). */
static int
decode_start(decode_state *s, rb_error *err)
{
	s->started = true;
	if (rb_encrypt_detect(s->head, s->nhead))
	{
		if (s->ring == NULL || s->ring->nkeys == 0)
			return rb_error_set(err, RB_ERR_AUTH, "the archived file is encrypted and no encryption key is configured");
		s->dec = rb_decryptor_new(s->ring, decode_decompress, s, err);
		if (s->dec == NULL)
			return -1;
	}
	return decode_push(s, s->head, s->nhead, err);
}

static int
decode_write(void *arg, const void *data, size_t len, rb_error *err)
{
	decode_state *s = arg;

	if (!s->started)
	{
		size_t		take = sizeof(s->head) - s->nhead;

		if (take > len)
			take = len;
		memcpy(s->head + s->nhead, data, take);
		s->nhead += take;
		data = (const unsigned char *) data + take;
		len -= take;
		if (s->nhead < sizeof(s->head))
			return 0;
		if (decode_start(s, err) < 0)
			return -1;
	}
	return len > 0 ? decode_push(s, data, len, err) : 0;
}

static int
stored_original_sha(rb_destination *dest, const char *key, const rb_key *k, char sha[65],
					rb_error *err)
{
	rb_keyring ring;
	decode_state s;
	int			rc = -1;

	memset(&s, 0, sizeof(s));
	rb_keyring_init(&ring);
	if (k != NULL && rb_keyring_add(&ring, k, err) < 0)
		goto done;
	s.ring = &ring;
	s.sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (s.sha == NULL)
		goto done;
	s.dz = rb_decompressor_new(RB_COMPRESS_ZSTD, decode_hash, &s, err);
	if (s.dz == NULL)
		goto done;
	if (rb_destination_get(dest, key, 0, 0, decode_write, &s, err) < 0)
		goto done;
	if (!s.started && s.nhead == 0)
	{
		rb_error_set(err, RB_ERR_INTEGRITY, "the object is empty");
		goto done;
	}
	if (!s.started && decode_start(&s, err) < 0)
		goto done;
	if ((s.dec != NULL && rb_decryptor_finish(s.dec, err) < 0) ||
		rb_decompressor_finish(s.dz, err) < 0)
		goto done;
	rc = rb_digest_final_hex(s.sha, sha, err);
done:
	if (rc < 0)
		rb_error_prefix(err, "could not read back the archived file: ");
	rb_decryptor_free(s.dec);
	rb_decompressor_free(s.dz);
	rb_digest_free(s.sha);
	rb_keyring_wipe(&ring);
	return rc;
}

/* --- the metadata object ------------------------------------------------------- */

static int
write_metadata(const rb_wal_archive_params *p, const char *mkey, const rb_wal_archive_result *r,
			   bool replace, rb_error *err)
{
	rb_buf		j = RB_BUF_INIT;
	int			rc;

	rb_buf_appendf(&j, "{\"format\":\"ripple_backup wal v1\",\"file\":");
	rb_json_append_string(&j, p->file_name);
	rb_buf_appendf(&j, ",\"timeline\":%" PRIu32 ",\"system_identifier\":\"%" PRIu64 "\",\"incarnation\":",
				   r->timeline, p->system_identifier);
	rb_json_append_string(&j, p->incarnation);
	rb_buf_appendf(&j, ",\"original_bytes\":%" PRIu64 ",\"original_sha256\":\"%s\"",
				   r->original_bytes, r->original_sha256);
	if (r->stored_sha256[0])
		rb_buf_appendf(&j, ",\"stored_bytes\":%" PRIu64 ",\"stored_sha256\":\"%s\"",
					   r->stored_bytes, r->stored_sha256);
	rb_buf_appendf(&j, ",\"compression\":\"zstd\",\"encryption\":");
	if (p->encryption_key != NULL)
	{
		rb_buf_appendf(&j, "\"%s\",\"key_id\":\"%s\"", RB_ENCRYPT_ALGORITHM_NAME,
					   p->encryption_key->id_hex);
	}
	else
		rb_buf_appendf(&j, "null");
	rb_buf_appendf(&j, "}\n");
	rc = replace ? rb_destination_put_small(p->dest, mkey, j.data, j.len, err)
		: rb_destination_create_small(p->dest, mkey, j.data, j.len, err);
	rb_buf_free(&j);
	return rc;
}

/*
 * An object is at the key: the same content (true) or not.  When the metadata
 * object is missing (an earlier attempt stopped between the two writes) or
 * unreadable (a store that writes objects as their bytes arrive keeps a PUT cut
 * short, as the S3 test server does) the object itself is read back, and the
 * metadata written.  An object that does not decode and has no readable metadata
 * is an earlier upload cut short: no call ever returned true for it (true comes
 * only after the metadata is stored), so *replace says to store the file over it.
 */
static int
compare_existing(const rb_wal_archive_params *p, const char *key, const char *mkey,
				 const char *url, rb_wal_archive_result *r, bool *replace,
				 const rb_hooks *hooks, rb_error *err)
{
	char		archived[65];
	rb_error	e;
	bool		have_metadata = true;
	bool		metadata_unreadable = false;

	*replace = false;
	if (r->original_sha256[0] == '\0' &&
		hash_file(p->path, r->original_sha256, &r->original_bytes, err) < 0)
		return -1;
	rb_error_clear(&e);
	if (read_metadata_sha(p->dest, mkey, archived, &e) < 0)
	{
		if (e.code != RB_ERR_NOT_FOUND && e.code != RB_ERR_INTEGRITY)
		{
			if (err)
				*err = e;
			rb_error_prefix(err, "could not read the metadata of %s: ", url);
			return -1;
		}
		have_metadata = false;
		metadata_unreadable = e.code == RB_ERR_INTEGRITY;
		if (metadata_unreadable)
			rb_log(hooks, RB_LOG_INFO, "the metadata of %s is unreadable (%s): the object is read back",
				   url, e.msg);
		rb_error_clear(&e);
		if (stored_original_sha(p->dest, key, p->encryption_key, archived, &e) < 0)
		{
			if (e.code == RB_ERR_INTEGRITY)
			{
				rb_log(hooks, RB_LOG_INFO, "%s is an upload cut short (%s) with no metadata: it is stored again",
					   url, e.msg);
				*replace = true;
				return 0;
			}
			if (err)
				*err = e;
			return -1;
		}
	}
	if (strcmp(archived, r->original_sha256) != 0)
		return rb_error_set(err, RB_ERR_EXISTS,
							"WAL file \"%s\" is already archived at %s with different content: the archived file has SHA-256 %s, this one has SHA-256 %s",
							p->file_name, url, archived, r->original_sha256);
	r->outcome = RB_WAL_ALREADY_ARCHIVED;
	r->stored_bytes = 0;
	r->stored_sha256[0] = '\0';
	if (!have_metadata)
	{
		rb_error_clear(&e);
		if (write_metadata(p, mkey, r, metadata_unreadable, &e) < 0 && e.code != RB_ERR_EXISTS)
		{
			if (err)
				*err = e;
			rb_error_prefix(err, "could not store the metadata of %s: ", url);
			return -1;
		}
	}
	return 0;
}

int
rb_wal_archive_file(const rb_wal_archive_params *p, rb_wal_archive_result *r,
					const rb_hooks *hooks, rb_error *err)
{
	char	   *key = NULL,
			   *mkey = NULL,
			   *url = NULL;
	double		start = rb_now_seconds();
	int			fd = -1;
	int			rc = -1;
	rb_error	e;

	memset(r, 0, sizeof(*r));
	if (p == NULL || p->dest == NULL || p->path == NULL || p->incarnation == NULL ||
		p->incarnation[0] == '\0')
		return rb_error_set(err, RB_ERR_INTERNAL, "WAL archive parameters incomplete (destination, path and incarnation are required)");
	if (rb_wal_file_timeline(p->file_name, &r->timeline, err) < 0)
		return -1;
	key = rb_wal_object_key(p->system_identifier, p->incarnation, r->timeline, p->file_name);
	mkey = metadata_key(key);
	url = rb_destination_url_for(p->dest, key);

	rb_error_clear(&e);
	if (rb_destination_head(p->dest, key, NULL, NULL, &e) == 0)
	{
		bool		replace;

		rc = compare_existing(p, key, mkey, url, r, &replace, hooks, err);
		if (rc < 0 || !replace)
			goto done;
		rc = -1;
		if (rb_destination_delete(p->dest, mkey, err) < 0 ||
			rb_destination_delete(p->dest, key, err) < 0)
		{
			rb_error_prefix(err, "could not remove the upload cut short at %s: ", url);
			goto done;
		}
		memset(r, 0, sizeof(*r));
		(void) rb_wal_file_timeline(p->file_name, &r->timeline, NULL);
	}
	else if (e.code != RB_ERR_NOT_FOUND)
	{
		if (err)
			*err = e;
		rb_error_prefix(err, "could not look up %s: ", url);
		goto done;
	}

	fd = open(p->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not open \"%s\": %s", p->path, strerror(errno));
		goto done;
	}
	{
		rb_stream_store_params sp;
		rb_stream_store_result sr;

		memset(&sp, 0, sizeof(sp));
		sp.dest = p->dest;
		sp.key = key;
		sp.compression = RB_COMPRESS_ZSTD;
		sp.compression_level = p->compression_level;
		sp.encryption_key = p->encryption_key;
		rb_error_clear(&e);
		if (rb_stream_store_fd(&sp, fd, &sr, hooks, &e) < 0)
		{
			if (e.code == RB_ERR_EXISTS)
			{
				bool		replace;

				/* another writer stored it between the HEAD and the write */
				rc = compare_existing(p, key, mkey, url, r, &replace, hooks, err);
				if (rc == 0 && replace)
					rc = rb_error_set(err, RB_ERR_EXISTS,
									  "%s appeared, incomplete, while this file was being stored: the archiver tries again",
									  url);
				goto done;
			}
			if (err)
				*err = e;
			rb_error_prefix(err, "could not store %s: ", url);
			goto done;
		}
		r->outcome = RB_WAL_STORED;
		r->original_bytes = sr.original_bytes;
		memcpy(r->original_sha256, sr.original_sha256, 65);
		r->stored_bytes = sr.stored_bytes;
		memcpy(r->stored_sha256, sr.stored_sha256, 65);
	}
	rb_error_clear(&e);
	if (write_metadata(p, mkey, r, false, &e) < 0)
	{
		char		archived[65];

		if (e.code != RB_ERR_EXISTS)
		{
			if (err)
				*err = e;
			rb_error_prefix(err, "could not store the metadata of %s: ", url);
			goto done;
		}
		/* a metadata object without its object: only right when it describes this file */
		if (read_metadata_sha(p->dest, mkey, archived, err) < 0)
			goto done;
		if (strcmp(archived, r->original_sha256) != 0)
		{
			rb_error_set(err, RB_ERR_EXISTS,
						 "WAL file \"%s\" is already archived at %s with different content: the archived file has SHA-256 %s, this one has SHA-256 %s",
						 p->file_name, url, archived, r->original_sha256);
			goto done;
		}
	}
	rc = 0;

done:
	r->seconds = rb_now_seconds() - start;
	if (fd >= 0)
		close(fd);
	free(key);
	free(mkey);
	free(url);
	return rc;
}
