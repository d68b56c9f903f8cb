/*
 * cli_fetch.c — download, checksum, decompress (see cli_fetch.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli_fetch.h"
#include "cli_progress.h"
#include "backup_compress.h"
#include "rb_crypto.h"
#include "rb_time.h"

typedef struct fetch_state
{
	const cli_fetch_options *opt;
	rb_digest  *digest;
	rb_decompressor *decomp;
	uint64_t	stored;
	uint64_t	archive;
	bool		decomp_failed;
	rb_error	decomp_err;
	bool		parser_failed;
	rb_error	parser_err;
	cli_progress progress;
} fetch_state;

int
cli_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0)
	{
		ssize_t		n = write(fd, p, len);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* downstream of the decompressor: the output file and the archive parser */
static int
archive_out(void *arg, const void *data, size_t len, rb_error *err)
{
	fetch_state *st = arg;

	st->archive += len;
	if (st->opt->parser != NULL && !st->parser_failed &&
		rb_archive_parser_feed(st->opt->parser, data, len, &st->parser_err) != 0)
		st->parser_failed = true;
	if (st->opt->out_fd >= 0 && cli_write_all(st->opt->out_fd, data, len) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not write to file \"%s\": %s",
							st->opt->out_name ? st->opt->out_name : "?", strerror(errno));
	return 0;
}

/* downstream of the destination: hash, count, decompress */
static int
stored_in(void *arg, const void *data, size_t len, rb_error *err)
{
	fetch_state *st = arg;

	if (rb_digest_update(st->digest, data, len, err) != 0)
		return -1;
	st->stored += len;
	cli_progress_update(&st->progress, st->stored);
	if (st->decomp != NULL && !st->decomp_failed)
	{
		rb_error	e;

		rb_error_clear(&e);
		if (rb_decompressor_write(st->decomp, data, len, &e) != 0)
		{
			if (e.code != RB_ERR_INTEGRITY)
			{
				*err = e;
				return -1;		/* local I/O failure: stop */
			}
			/* corrupt stream: keep hashing, the checksum explains it best */
			st->decomp_failed = true;
			st->decomp_err = e;
		}
	}
	return 0;
}

int
cli_fetch(rb_destination *d, const cli_backup *b, const cli_fetch_options *opt,
		  const rb_hooks *hooks, cli_fetch_result *res, rb_error *err)
{
	fetch_state st;
	uint64_t	size = 0;
	int64_t		mtime;
	int			rc = -1;
	double		t0 = rb_now_seconds();
	char	   *url = rb_destination_url_for(d, b->key);
	bool		decompress = (opt->out_fd >= 0 || opt->parser != NULL);

	(void) hooks;
	memset(res, 0, sizeof(*res));
	memset(&st, 0, sizeof(st));
	st.opt = opt;

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
	st.digest = rb_digest_new(RB_DIGEST_SHA256, err);
	if (st.digest == NULL)
		goto done;
	if (decompress)
	{
		rb_compress_kind kind;

		if (rb_compress_kind_parse(b->meta.compression ? b->meta.compression : "none",
								   &kind, err) != 0)
			goto done;
		st.decomp = rb_decompressor_new(kind, archive_out, &st, err);
		if (st.decomp == NULL)
			goto done;
	}

	cli_progress_start(&st.progress, opt->progress_label ? opt->progress_label : "download",
					   b->meta.size_bytes);
	if (rb_destination_get(d, b->key, 0, 0, stored_in, &st, err) != 0)
	{
		cli_progress_finish(&st.progress);
		goto done;
	}
	cli_progress_finish(&st.progress);

	if (rb_digest_final_hex(st.digest, res->sha256, err) != 0)
		goto done;
	if (st.stored != b->meta.size_bytes)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "size mismatch for backup %" PRId64 " (%s): the metadata says %" PRIu64
					 " bytes, %" PRIu64 " were read",
					 b->meta.backup_id, url, b->meta.size_bytes, st.stored);
		goto done;
	}
	if (strcmp(res->sha256, b->meta.sha256) != 0)
	{
		rb_error_set(err, RB_ERR_INTEGRITY,
					 "checksum mismatch for backup %" PRId64 " (%s): the metadata says sha256 %s, the object's is %s",
					 b->meta.backup_id, url, b->meta.sha256, res->sha256);
		goto done;
	}
	if (st.decomp != NULL)
	{
		if (!st.decomp_failed && rb_decompressor_finish(st.decomp, &st.decomp_err) != 0)
		{
			if (st.decomp_err.code != RB_ERR_INTEGRITY)
			{
				*err = st.decomp_err;
				goto done;
			}
			st.decomp_failed = true;
		}
		if (st.decomp_failed)
		{
			rb_error_set(err, RB_ERR_INTEGRITY,
						 "backup %" PRId64 " (%s) matches its checksum but does not decompress: %s",
						 b->meta.backup_id, url, st.decomp_err.msg);
			goto done;
		}
	}
	if (opt->parser != NULL)
	{
		if (!st.parser_failed && rb_archive_parser_finish(opt->parser, &st.parser_err) != 0)
			st.parser_failed = true;
		if (st.parser_failed)
		{
			rb_error_set(err, RB_ERR_INTEGRITY,
						 "backup %" PRId64 " (%s) is not a valid pg_dump archive: %s",
						 b->meta.backup_id, url, st.parser_err.msg);
			goto done;
		}
	}
	rc = 0;

done:
	res->stored_bytes = st.stored;
	res->archive_bytes = st.archive;
	res->seconds = rb_now_seconds() - t0;
	if (st.decomp)
		rb_decompressor_free(st.decomp);
	rb_digest_free(st.digest);
	free(url);
	return rc;
}
