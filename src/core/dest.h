/*
 * dest.h — where backups are stored, chosen by URL: "s3://bucket/prefix"
 * (through the S3 client) or "file:///absolute/path" (a local directory).
 *
 * Keys are relative to the destination's prefix
 * ("1234/5f0c2a9e7b1d4c36/db/20261126T040000Z-7.dump.zst"); rb_destination_url_for
 * turns one into the full URL shown to users.  A large object is written through a
 * streaming writer that either commits (the object appears whole, at once) or
 * aborts (nothing remains: the multipart upload is aborted, the temporary file
 * unlinked).  Small objects (metadata JSON) go in with create_small or put_small.
 *
 * Backups never overwrite: the writer and create_small refuse a key that is
 * taken (RB_ERR_EXISTS, "object URL already exists; ..."), checked before
 * anything is written (HEAD, stat) and again by the write that makes the object
 * appear (S3: If-None-Match: * on PutObject / CompleteMultipartUpload; file://:
 * renameat2(RENAME_NOREPLACE), or link() + unlink()).  On an S3 server that
 * ignores If-None-Match (s3rver), two writers racing between the HEAD and the
 * write cannot be told apart: the HEAD is the only check there.
 */
#ifndef RB_DESTINATION_H
#define RB_DESTINATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backup_compress.h"			/* rb_write_fn */
#include "rb_error.h"

typedef enum rb_destination_kind
{
	RB_DEST_FILE,
	RB_DEST_S3
} rb_destination_kind;

/* Settings for s3:// destinations (ignored by file://).  Zero/NULL = the default. */
typedef struct rb_destination_options
{
	const char *s3_endpoint;	/* "http://127.0.0.1:9000"; NULL or "" = AWS */
	const char *s3_region;		/* NULL = "us-east-1" */
	const char *s3_uri_style;	/* "path" or "virtual"; NULL = virtual for AWS, path otherwise */
	const char *s3_credentials_file;	/* AWS shared-credentials file; NULL = AWS_* environment */
	const char *s3_profile;		/* profile in that file; NULL = "default" */
	bool		s3_tls_no_verify;	/* true = do not verify the server certificate */
	bool		s3_log_requests;	/* log each S3 request (rb_s3_options.log_requests) */
	const char *s3_ca_file;		/* extra CA bundle; NULL = system */
	const char *s3_sse;			/* server-side encryption: NULL/"" none, "AES256", "aws:kms" */
	const char *s3_sse_kms_key_id;	/* with "aws:kms": the KMS key; NULL = default */
	size_t		s3_part_size;	/* multipart part size in bytes, the least one used;
								 * 0 = default (16 MiB) */
	uint64_t	s3_expected_bytes;	/* about how large a backup stream may be (the
									 * database's size): raises the part size so
									 * that 10,000 equal parts hold twice that
									 * (rb_s3_part_size_choose); 0 = unknown */
	int			max_attempts;	/* per request, with backoff; 0 = default */
	bool		s3_allow_small_parts;	/* tests only: parts below 5 MiB (S3 refuses them) */
	int			s3_parts_in_flight; /* parts uploading at once; 0 = default (2) */
	int64_t		s3_request_timeout_ms;	/* deadline of one request, retries included;
										 * 0 = default (120 s), < 0 = none */
	int64_t		s3_operation_timeout_ms;	/* every request fails once this long has
											 * passed since the destination was opened
											 * (a per-backup deadline); aborts are
											 * exempt; 0 = none */

	/*
	 * The endpoint's circuit breaker, owned by the caller (the extension keeps one
	 * per endpoint in shared memory, so that every process talking to it shares
	 * what it learnt): NULL = a private breaker in the client.  s3_breaker_lock /
	 * s3_breaker_unlock (either may be NULL) are called with s3_breaker_lock_arg
	 * around every access to it; s3_clock (NULL = CLOCK_MONOTONIC) must be one
	 * clock for every process sharing the breaker.  See s3_client.h.
	 */
	struct rb_breaker *s3_breaker;
	void		(*s3_breaker_lock) (void *arg);
	void		(*s3_breaker_unlock) (void *arg);
	void	   *s3_breaker_lock_arg;
	int64_t		(*s3_clock) (void *arg);
	int			s3_breaker_threshold;	/* private breaker: 0 = default (5) */
	int64_t		s3_breaker_open_ms; /* private breaker: 0 = default (60 s) */
} rb_destination_options;

typedef struct rb_object_info
{
	const char *key;			/* relative to the destination prefix */
	uint64_t	size;
	int64_t		mtime;			/* seconds since the epoch, 0 if unknown */
} rb_object_info;

typedef struct rb_destination rb_destination;
typedef struct rb_dest_writer rb_dest_writer;

/*
 * Parses the URL and prepares the destination (no I/O for file://; S3 credentials
 * are loaded).  Returns NULL with err filled on a bad URL:
 *   invalid destination "ftp://x": scheme must be s3:// or file://
 */
rb_destination *rb_destination_open(const char *url, const rb_destination_options *opt,
									const rb_hooks *hooks, rb_error *err);
void		rb_destination_close(rb_destination *d);

rb_destination_kind rb_destination_get_kind(const rb_destination *d);
/* The URL the destination was opened with, normalised (no trailing slash). */
const char *rb_destination_url(const rb_destination *d);
/* Full URL of a key: "s3://bucket/prefix/key", "file:///path/key"; malloc'd. */
char	   *rb_destination_url_for(const rb_destination *d, const char *key);

/*
 * Streaming writer for one new object.  open fails with RB_ERR_EXISTS when an
 * object exists at the key (nothing written).  write() pushes bytes (uploads
 * parts as they fill); commit() makes the object visible and frees the writer
 * whatever the result (RB_ERR_EXISTS, with the temporary file removed or the
 * multipart upload aborted, when another writer stored the key first); abort()
 * removes every trace and frees the writer.  Matches rb_write_fn through
 * rb_dest_writer_write_cb.
 */
rb_dest_writer *rb_destination_writer_open(rb_destination *d, const char *key, rb_error *err);
int			rb_dest_writer_write(rb_dest_writer *w, const void *data, size_t len, rb_error *err);
int			rb_dest_writer_write_cb(void *w, const void *data, size_t len, rb_error *err);
int			rb_dest_writer_commit(rb_dest_writer *w, rb_error *err);
/*
 * Drives transfers already queued (S3 parts in flight) for up to timeout_ms while
 * the producer has nothing new to write: uploads only move while the caller is
 * inside the destination code.  A no-op for file://.  0, or -1 with err when the
 * upload has failed.
 */
int			rb_dest_writer_pump(rb_dest_writer *w, int timeout_ms, rb_error *err);
void		rb_dest_writer_abort(rb_dest_writer *w);

/* Stores a small object in one request (replaces an existing one). */
int			rb_destination_put_small(rb_destination *d, const char *key, const void *data,
									 size_t len, rb_error *err);

/* Stores a new small object; RB_ERR_EXISTS (nothing written) when the key is taken. */
int			rb_destination_create_small(rb_destination *d, const char *key, const void *data,
										size_t len, rb_error *err);

/*
 * Reads an object (or length bytes from offset; length 0 = to the end) into out.
 * RB_ERR_NOT_FOUND when it does not exist.
 */
int			rb_destination_get(rb_destination *d, const char *key, uint64_t offset,
							   uint64_t length, rb_write_fn out, void *out_arg, rb_error *err);

/* Size and mtime of an object; RB_ERR_NOT_FOUND when it does not exist. */
int			rb_destination_head(rb_destination *d, const char *key, uint64_t *size,
								int64_t *mtime, rb_error *err);

/*
 * Calls cb for every object whose key starts with prefix (recursively, in key
 * order for file://); cb returns 0 to go on or -1 (with err filled) to stop.
 */
typedef int (*rb_list_fn) (void *arg, const rb_object_info *info, rb_error *err);
int			rb_destination_list(rb_destination *d, const char *prefix, rb_list_fn cb,
								void *cb_arg, rb_error *err);

/*
 * Every object whose key starts with prefix, collected into an array sorted by
 * key (the keys are copies owned by the list).  Allocation failures are an
 * RB_ERR_NOMEM return, never the out-of-memory handler, so the server may call it
 * where an ereport must not happen.  Free with rb_object_list_free.
 */
typedef struct rb_object_list
{
	rb_object_info *objs;
	size_t		n;
	size_t		cap;
} rb_object_list;

int			rb_destination_list_all(rb_destination *d, const char *prefix,
									rb_object_list *out, rb_error *err);
void		rb_object_list_free(rb_object_list *l);

/* Deletes an object; deleting one that does not exist succeeds. */
int			rb_destination_delete(rb_destination *d, const char *key, rb_error *err);

#endif							/* RB_DESTINATION_H */
