/*
 * wal_fetch.c — one archived WAL file back to a local path by restore_command's
 * rules (see wal_fetch.h): the incarnation that holds it, its metadata object,
 * the one streaming read of verify_fetch.h (stored SHA-256, decryption,
 * decompression) with the original bytes hashed and written on the way into a
 * temporary file that is renamed only when every check passed.
 */
#include "wal_fetch.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encrypt_stream.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "rb_file.h"
#include "rb_json.h"
#include "rb_time.h"
#include "verify_fetch.h"
#include "wal_archive.h"

#define WAL_METADATA_MAX (64 * 1024)
#define INCARNATION_LEN 16

/* What a WAL file's metadata object says (wal_archive.c writes it). */
typedef struct wal_meta
{
	char		incarnation[INCARNATION_LEN + 1];
	uint64_t	original_bytes;
	char		original_sha256[65];
	bool		has_stored;		/* stored_bytes and stored_sha256 recorded */
	uint64_t	stored_bytes;
	char		stored_sha256[65];
	char		compression[16];
	char		encryption[64]; /* "" = not encrypted */
	char		key_id[RB_KEY_ID_HEX_SIZE];
} wal_meta;

static bool
is_hex_n(const char *s, size_t n)
{
	if (s == NULL || strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char) s[i]))
			return false;
	return true;
}

static int
collect_small(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_buf	   *b = arg;

	if (b->len + len > WAL_METADATA_MAX)
		return rb_error_set(err, RB_ERR_INTEGRITY, "the WAL metadata object is larger than %d bytes",
							WAL_METADATA_MAX);
	rb_buf_append(b, data, len);
	return 0;
}

/*
 * Reads and checks the metadata object at mkey.  RB_ERR_NOT_FOUND when there is
 * none: an object without its metadata was never reported archived (the
 * archiver stopped between the two writes and will write it again).
 */
static int
read_wal_meta(rb_destination *dest, const char *mkey, const char *url, wal_meta *m,
			  rb_error *err)
{
	rb_buf		b = RB_BUF_INIT;
	rb_json    *j = NULL;
	const char *v;
	int			rc = -1;

	memset(m, 0, sizeof(*m));
	if (rb_destination_get(dest, mkey, 0, 0, collect_small, &b, err) < 0)
		goto done;
	j = rb_json_parse(b.data ? b.data : "", b.len, err);
	if (j == NULL)
	{
		rb_error_prefix(err, "the metadata object %s.metadata.json is not valid JSON: ", url);
		goto done;
	}
	v = rb_json_get_string(j, "original_sha256");
	if (!is_hex_n(v, 64) || rb_json_get_uint64(j, "original_bytes", &m->original_bytes) != 0)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "the metadata object %s.metadata.json has no original_sha256 or original_bytes", url);
		goto done;
	}
	memcpy(m->original_sha256, v, 65);
	v = rb_json_get_string(j, "stored_sha256");
	if (v != NULL)
	{
		if (!is_hex_n(v, 64) || rb_json_get_uint64(j, "stored_bytes", &m->stored_bytes) != 0)
		{
			rb_error_set(err, RB_ERR_INTEGRITY,
						 "the metadata object %s.metadata.json has an invalid stored_sha256 or stored_bytes", url);
			goto done;
		}
		memcpy(m->stored_sha256, v, 65);
		m->has_stored = true;
	}
	v = rb_json_get_string(j, "compression");
	snprintf(m->compression, sizeof(m->compression), "%s", v ? v : "zstd");
	v = rb_json_get_string(j, "encryption");
	if (v != NULL && strcmp(v, "none") != 0)
		snprintf(m->encryption, sizeof(m->encryption), "%s", v);
	v = rb_json_get_string(j, "key_id");
	if (v != NULL)
		snprintf(m->key_id, sizeof(m->key_id), "%s", v);
	rc = 0;
done:
	rb_json_free(j);
	rb_buf_free(&b);
	return rc;
}

/* --- incarnations -------------------------------------------------------------- */

typedef struct inc_list
{
	char	  **items;
	int			n;
	int			cap;
	size_t		prefix_len;		/* strlen("<sysid>/") */
	bool		failed;
} inc_list;

static int
inc_list_add(inc_list *l, const char *inc, rb_error *err)
{
	for (int i = 0; i < l->n; i++)
		if (strcmp(l->items[i], inc) == 0)
			return 0;
	if (l->n == l->cap)
	{
		int			cap = l->cap ? l->cap * 2 : 8;
		char	  **items = realloc(l->items, (size_t) cap * sizeof(char *));

		if (items == NULL)
			return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n] = strdup(inc);
	if (l->items[l->n] == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	l->n++;
	return 0;
}

/* "<sysid>/<16 hex>/wal/..." keys: the incarnation */
static int
inc_collect(void *arg, const rb_object_info *info, rb_error *err)
{
	inc_list   *l = arg;
	const char *rest = info->key + l->prefix_len;
	char		inc[INCARNATION_LEN + 1];

	if (strlen(rest) < INCARNATION_LEN + 5 || rest[INCARNATION_LEN] != '/' ||
		strncmp(rest + INCARNATION_LEN + 1, "wal/", 4) != 0)
		return 0;
	memcpy(inc, rest, INCARNATION_LEN);
	inc[INCARNATION_LEN] = '\0';
	if (!is_hex_n(inc, INCARNATION_LEN))
		return 0;
	return inc_list_add(l, inc, err);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

void
rb_wal_incarnations_free(char **list, int n)
{
	for (int i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

int
rb_wal_list_incarnations(rb_destination *dest, uint64_t system_identifier, char ***out, int *n,
						 rb_error *err)
{
	inc_list	l;
	char		prefix[32];

	*out = NULL;
	*n = 0;
	memset(&l, 0, sizeof(l));
	snprintf(prefix, sizeof(prefix), "%" PRIu64 "/", system_identifier);
	l.prefix_len = strlen(prefix);
	if (rb_destination_list(dest, prefix, inc_collect, &l, err) < 0)
	{
		rb_wal_incarnations_free(l.items, l.n);
		return -1;
	}
	if (l.n > 1)
		qsort(l.items, (size_t) l.n, sizeof(char *), cmp_str);
	*out = l.items;
	*n = l.n;
	return 0;
}

/* --- the fetch ------------------------------------------------------------------ */

typedef struct out_state
{
	int			fd;
	const char *name;
	rb_digest  *sha;
	uint64_t	bytes;
	uint64_t	limit;			/* more than the metadata's original_bytes: stop */
} out_state;

static int
out_write(void *arg, const void *data, size_t len, rb_error *err)
{
	out_state  *o = arg;

	o->bytes += len;
	if (o->bytes > o->limit)
		return rb_error_set(err, RB_ERR_INTEGRITY,
							"the archived file decompresses to more than the %" PRIu64 " bytes its metadata records",
							o->limit);
	if (rb_digest_update(o->sha, data, len, err) < 0)
		return -1;
	if (rb_write_all(o->fd, data, len) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not write to file \"%s\": %s", o->name, strerror(errno));
	return 0;
}

/* Whether the ring holds the key of this id (16 hex digits). */
static bool
ring_has_key(const rb_keyring *ring, const char *id_hex)
{
	if (ring == NULL)
		return false;
	for (int i = 0; i < ring->nkeys; i++)
		if (strcmp(ring->keys[i].id_hex, id_hex) == 0)
			return true;
	return false;
}

/* Streams the object into tmp_path (created here), checking everything. */
static int
fetch_into(const rb_wal_fetch_params *p, const char *key, const char *url, const wal_meta *m,
		   const char *tmp_path, rb_wal_fetch_result *res, const rb_hooks *hooks, rb_error *err)
{
	rb_fetch_options fo;
	rb_fetch_result fr;
	out_state	o;
	char		sha[65];
	int			rc = -1;

	memset(&o, 0, sizeof(o));
	o.fd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (o.fd < 0)
		return rb_error_set(err, RB_ERR_IO, "could not create file \"%s\": %s", tmp_path, strerror(errno));
	o.name = tmp_path;
	o.limit = m->original_bytes;
	o.sha = rb_digest_new(RB_DIGEST_SHA256, err);
	if (o.sha == NULL)
		goto done;

	memset(&fo, 0, sizeof(fo));
	fo.expected_size = m->stored_bytes;
	fo.expected_sha256 = m->stored_sha256;
	fo.compression = m->compression;
	fo.encryption = m->encryption[0] ? m->encryption : NULL;
	fo.keyring = p->keyring;
	fo.out_fd = -1;
	fo.out_fn = out_write;
	fo.out_arg = &o;
	fo.activity = "WAL fetch";
	if (rb_verify_fetch(p->dest, key, &fo, &fr, hooks, err) < 0)
	{
		if (err && err->code == RB_ERR_NOT_FOUND)
			rb_error_set(err, RB_ERR_INTEGRITY, "the archived object %s is missing though its metadata exists", url);
		goto done;
	}
	res->stored_bytes = fr.stored_bytes;
	if (m->has_stored && (!fr.size_ok || !fr.sha256_ok))
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "the archived object %s does not match its metadata: %" PRIu64 " bytes with SHA-256 %s, expected %" PRIu64 " bytes with SHA-256 %s",
					 url, fr.stored_bytes, fr.sha256, m->stored_bytes, m->stored_sha256);
		goto done;
	}
	if (fr.decrypt_failed)
	{
		if (err)
			*err = fr.decrypt_err;
		rb_error_prefix(err, "could not decrypt %s: ", url);
		goto done;
	}
	if (!fr.decompressed)
	{
		if (err)
			*err = fr.decompress_err;
		if (err && err->code != RB_ERR_INTEGRITY)
			err->code = RB_ERR_INTEGRITY;
		rb_error_prefix(err, "the archived object %s does not decompress: ", url);
		goto done;
	}
	if (rb_digest_final_hex(o.sha, sha, err) < 0)
		goto done;
	if (o.bytes != m->original_bytes || strcmp(sha, m->original_sha256) != 0)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "WAL file \"%s\" from %s does not match its metadata: %" PRIu64 " bytes with SHA-256 %s, expected %" PRIu64 " bytes with SHA-256 %s",
					 p->file_name, url, o.bytes, sha, m->original_bytes, m->original_sha256);
		goto done;
	}
	if (fsync(o.fd) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not fsync file \"%s\": %s", tmp_path, strerror(errno));
		goto done;
	}
	res->original_bytes = o.bytes;
	memcpy(res->original_sha256, sha, 65);
	rc = 0;
done:
	rb_digest_free(o.sha);
	if (close(o.fd) != 0 && rc == 0)
		rc = rb_error_set(err, RB_ERR_IO, "could not close file \"%s\": %s", tmp_path, strerror(errno));
	return rc;
}

static void
append_list(rb_buf *b, const char *const *items, int n)
{
	for (int i = 0; i < n; i++)
		rb_buf_appendf(b, "%s%s", i ? ", " : "", items[i]);
}

int
rb_wal_fetch_file(const rb_wal_fetch_params *p, rb_wal_fetch_result *res, const rb_hooks *hooks,
				  rb_error *err)
{
	double		start = rb_now_seconds();
	char	  **listed = NULL;
	int			nlisted = 0;
	const char *const *incs;
	int			ninc;
	int			found = -1;		/* index into incs */
	wal_meta	meta,
				m;
	rb_buf		holders = RB_BUF_INIT;
	bool		conflict = false;
	char	   *key = NULL,
			   *url = NULL,
			   *tmp = NULL;
	int			rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&meta, 0, sizeof(meta));
	if (p == NULL || p->dest == NULL || p->path == NULL || p->path[0] == '\0')
		return rb_error_set(err, RB_ERR_INTERNAL, "WAL fetch parameters incomplete (destination and path are required)");
	if (rb_wal_file_timeline(p->file_name, &res->timeline, err) < 0)
		return -1;
	for (int i = 0; i < p->n_incarnations; i++)
		if (p->incarnations == NULL || !is_hex_n(p->incarnations[i], INCARNATION_LEN))
			return rb_error_set(err, RB_ERR_INVALID, "invalid incarnation \"%s\": 16 hex digits expected",
								p->incarnations && p->incarnations[i] ? p->incarnations[i] : "");

	if (p->n_incarnations > 0)
	{
		incs = p->incarnations;
		ninc = p->n_incarnations;
	}
	else
	{
		if (rb_wal_list_incarnations(p->dest, p->system_identifier, &listed, &nlisted, err) < 0)
			goto done;
		incs = (const char *const *) listed;
		ninc = nlisted;
	}

	for (int i = 0; i < ninc; i++)
	{
		rb_error	e;
		char	   *k = rb_wal_object_key(p->system_identifier, incs[i], res->timeline, p->file_name);
		char	   *u = rb_destination_url_for(p->dest, k);
		rb_buf		mb = RB_BUF_INIT;
		char	   *mk;
		int			r;

		rb_buf_appendf(&mb, "%s.metadata.json", k);
		mk = mb.data;
		rb_error_clear(&e);
		r = read_wal_meta(p->dest, mk, u, &m, &e);
		free(mk);
		if (r < 0 && e.code == RB_ERR_NOT_FOUND)
		{
			free(k);
			free(u);
			continue;
		}
		if (r < 0)
		{
			if (err)
				*err = e;
			free(k);
			free(u);
			goto done;
		}
		snprintf(m.incarnation, sizeof(m.incarnation), "%s", incs[i]);
		rb_buf_appendf(&holders, "%s%s (SHA-256 %s)", holders.len ? ", " : "", incs[i], m.original_sha256);
		if (found < 0)
		{
			found = i;
			meta = m;
			key = k;
			url = u;
			if (p->n_incarnations > 0)
				break;			/* named: the first that holds it wins */
			continue;
		}
		if (strcmp(m.original_sha256, meta.original_sha256) != 0)
			conflict = true;
		free(k);
		free(u);
	}

	if (found < 0)
	{
		rb_buf		l = RB_BUF_INIT;

		append_list(&l, incs, ninc);
		rb_error_set(err, RB_ERR_NOT_FOUND,
					 "WAL file \"%s\" is not archived under system identifier %" PRIu64 " (%s%s)",
					 p->file_name, p->system_identifier,
					 ninc == 0 ? "no incarnation has archived WAL" : "incarnations searched: ",
					 rb_buf_str(&l));
		rb_buf_free(&l);
		goto done;
	}
	if (conflict)
	{
		rb_error_set(err, RB_ERR_EXISTS,
					 "WAL file \"%s\" is archived under several incarnations of system identifier %" PRIu64 " with different content: %s; name the one to restore from with --incarnation",
					 p->file_name, p->system_identifier, rb_buf_str(&holders));
		goto done;
	}
	if (meta.encryption[0] && meta.key_id[0] && !ring_has_key(p->keyring, meta.key_id))
	{
		rb_error_set(err, RB_ERR_AUTH,
					 "WAL file \"%s\" at %s is encrypted with key %s, which no configured key file holds",
					 p->file_name, url, meta.key_id);
		goto done;
	}
	snprintf(res->incarnation, sizeof(res->incarnation), "%s", meta.incarnation);

	{
		rb_buf		t = RB_BUF_INIT;

		rb_buf_appendf(&t, "%s.tmp-%ld", p->path, (long) getpid());
		tmp = t.data;
	}
	(void) unlink(tmp);			/* a leftover of an earlier attempt of this pid */
	if (fetch_into(p, key, url, &meta, tmp, res, hooks, err) < 0)
	{
		(void) unlink(tmp);
		goto done;
	}
	if (rename(tmp, p->path) != 0)
	{
		rb_error_set(err, RB_ERR_IO, "could not rename \"%s\" to \"%s\": %s", tmp, p->path, strerror(errno));
		(void) unlink(tmp);
		goto done;
	}
	rc = 0;
done:
	res->seconds = rb_now_seconds() - start;
	rb_buf_free(&holders);
	rb_wal_incarnations_free(listed, nlisted);
	free(key);
	free(url);
	free(tmp);
	return rc;
}
