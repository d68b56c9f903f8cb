/*
 * verify_fetch.c — stream, hash, decrypt, decompress and parse a stored object
 * (see verify_fetch.h).
 */
#include "verify_fetch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "backup_compress.h"
#include "encrypt_stream.h"
#include "rb_crypto.h"
#include "rb_file.h"
#include "rb_time.h"

typedef struct fetch_state
{
	const rb_fetch_options *opt;
	const rb_hooks *hooks;
	rb_digest  *digest;
	rb_decompressor *decomp;
	rb_decryptor *decrypt;		/* NULL when not encrypted or not decompressing */
	rb_keyring	empty_ring;		/* used when the caller gives none */
	bool		downstream_failed;	/* the decryptor's output (out_fd) failed: stop */
	bool		decrypt_failed_flag;	/* the stream did not decrypt */
	char		key_id[RB_KEY_ID_HEX_SIZE];	/* the key id the header names, once read */
	uint64_t	stored;
	uint64_t	archive;
	bool		decomp_failed;
	rb_error	decomp_err;
	bool		parser_failed;
	rb_error	parser_err;
} fetch_state;

/* downstream of the decompressor: the output file and the archive parser */
static int
archive_out(void *arg, const void *data, size_t len, rb_error *err)
{
	fetch_state *st = arg;

	st->archive += len;
	if (st->opt->parser != NULL && !st->parser_failed &&
		rb_archive_parser_feed(st->opt->parser, data, len, &st->parser_err) != 0)
		st->parser_failed = true;
	if (st->opt->out_fd >= 0 && rb_write_all(st->opt->out_fd, data, len) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not write to file \"%s\": %s",
							st->opt->out_name ? st->opt->out_name : "?", strerror(errno));
	if (st->opt->out_fn != NULL)
		return st->opt->out_fn(st->opt->out_arg, data, len, err);
	return 0;
}

/*
 * Into the decompressor (from the destination, or from the decryptor): a
 * corrupt stream is remembered and the rest ignored; an output error stops.
 */
static int
to_decompressor(fetch_state *st, const void *data, size_t len, rb_error *err)
{
	rb_error	e;

	if (st->decomp_failed)
		return 0;
	rb_error_clear(&e);
	if (rb_decompressor_write(st->decomp, data, len, &e) != 0)
	{
		if (e.code != RB_ERR_INTEGRITY)
		{
			*err = e;			/* writing the output failed: stop */
			return -1;
		}
		/* a corrupt stream: keep hashing, the checksum explains it best */
		st->decomp_failed = true;
		st->decomp_err = e;
	}
	return 0;
}

/* downstream of the decryptor: authenticated plaintext only */
static int
decrypted_out(void *arg, const void *data, size_t len, rb_error *err)
{
	fetch_state *st = arg;

	if (to_decompressor(st, data, len, err) != 0)
	{
		st->downstream_failed = true;
		return -1;
	}
	return 0;
}

/* Keeps the key id the header named, once the decryptor has read it. */
static void
keep_key_id(fetch_state *st)
{
	const char *id = st->decrypt ? rb_decryptor_key_id_hex(st->decrypt) : NULL;

	if (id != NULL && id[0] != '\0' && st->key_id[0] == '\0')
		snprintf(st->key_id, sizeof(st->key_id), "%s", id);
}

/* The stream does not decrypt: remembered, and nothing more is decrypted. */
static void
decrypt_failed(fetch_state *st, const rb_error *e)
{
	keep_key_id(st);
	st->decrypt_failed_flag = true;
	st->decomp_failed = true;
	st->decomp_err = *e;
	rb_decryptor_free(st->decrypt);
	st->decrypt = NULL;
}

/* downstream of the destination: cancel, hash, count, decrypt, decompress */
static int
stored_in(void *arg, const void *data, size_t len, rb_error *err)
{
	fetch_state *st = arg;

	if (rb_cancelled(st->hooks))
		return rb_error_set(err, RB_ERR_CANCELLED, "%s was canceled",
							st->opt->activity ? st->opt->activity : "download");
	if (rb_digest_update(st->digest, data, len, err) != 0)
		return -1;
	st->stored += len;
	if (st->opt->progress != NULL)
		st->opt->progress(st->opt->progress_arg, st->stored);
	if (st->decrypt != NULL)
	{
		rb_error	e;

		rb_error_clear(&e);
		if (rb_decryptor_write(st->decrypt, data, len, &e) != 0)
		{
			if (st->downstream_failed)
			{
				*err = e;
				return -1;
			}
			decrypt_failed(st, &e);
		}
		else
			keep_key_id(st);
		return 0;
	}
	if (st->decomp != NULL)
		return to_decompressor(st, data, len, err);
	return 0;
}

int
rb_verify_fetch(rb_destination *dest, const char *key, const rb_fetch_options *opt,
				rb_fetch_result *res, const rb_hooks *hooks, rb_error *err)
{
	fetch_state st;
	double		t0 = rb_now_seconds();
	int			rc = -1;

	memset(res, 0, sizeof(*res));
	memset(&st, 0, sizeof(st));
	rb_keyring_init(&st.empty_ring);
	st.opt = opt;
	st.hooks = hooks;
	st.digest = rb_digest_new(RB_DIGEST_SHA256, err);
	if (st.digest == NULL)
		goto done;
	if (opt->out_fd >= 0 || opt->out_fn != NULL || opt->parser != NULL)
	{
		rb_compress_kind kind;

		if (rb_compress_kind_parse(opt->compression ? opt->compression : "none", &kind, err) != 0)
			goto done;
		st.decomp = rb_decompressor_new(kind, archive_out, &st, err);
		if (st.decomp == NULL)
			goto done;
		if (opt->encryption != NULL && strcmp(opt->encryption, "none") != 0)
		{
			if (strcmp(opt->encryption, RB_ENCRYPT_ALGORITHM_NAME) != 0)
			{
				rb_error_set(err, RB_ERR_INVALID,
							 "the backup is encrypted with \"%s\", which this version cannot decrypt (it knows %s)",
							 opt->encryption, RB_ENCRYPT_ALGORITHM_NAME);
				goto done;
			}
			st.decrypt = rb_decryptor_new(opt->keyring ? opt->keyring : &st.empty_ring,
										  decrypted_out, &st, err);
			if (st.decrypt == NULL)
				goto done;
		}
	}
	if (rb_destination_get(dest, key, 0, 0, stored_in, &st, err) != 0)
		goto done;
	if (rb_digest_final_hex(st.digest, res->sha256, err) != 0)
		goto done;
	res->size_ok = (st.stored == opt->expected_size);
	res->sha256_ok = rb_ct_streq(res->sha256, opt->expected_sha256 ? opt->expected_sha256 : "");

	if (st.decrypt != NULL)
	{
		rb_error	e;

		rb_error_clear(&e);
		if (rb_decryptor_finish(st.decrypt, &e) != 0)
		{
			if (st.downstream_failed)
			{
				*err = e;
				goto done;
			}
			decrypt_failed(&st, &e);
		}
		else
			keep_key_id(&st);
	}
	memcpy(res->key_id, st.key_id, sizeof(res->key_id));
	if (st.decrypt_failed_flag)
	{
		res->decrypt_failed = true;
		res->decrypt_err = st.decomp_err;
	}
	if (st.decomp != NULL)
	{
		if (!st.decomp_failed && rb_decompressor_finish(st.decomp, &st.decomp_err) != 0)
		{
			if (st.decomp_err.code != RB_ERR_INTEGRITY)
			{
				*err = st.decomp_err;	/* writing the output failed */
				goto done;
			}
			st.decomp_failed = true;
		}
		res->decompressed = !st.decomp_failed;
		res->decompress_err = st.decomp_err;
		if (res->decompressed && opt->parser != NULL)
		{
			if (!st.parser_failed &&
				rb_archive_parser_finish(opt->parser, &st.parser_err) != 0)
				st.parser_failed = true;
			res->parsed = !st.parser_failed;
			res->parse_err = st.parser_err;
		}
	}
	rc = 0;
done:
	res->stored_bytes = st.stored;
	res->archive_bytes = st.archive;
	res->seconds = rb_now_seconds() - t0;
	rb_decryptor_free(st.decrypt);
	if (st.decomp)
		rb_decompressor_free(st.decomp);
	rb_digest_free(st.digest);
	return rc;
}
