/*
 * verify_record.h — the outcome of a backup's latest verification, kept beside
 * the backup as "<dump>.verify.json", so that ripple-backup sees it when the
 * database that verified it is gone:
 *   {"format_version": 1, "backup_id": 12, "status": "verified", "level": "restore",
 *    "verified_at": "2026-11-26T04:10:00Z", "rows": "match",
 *    "restore_seconds": 3.2, "error": null}
 * status is "verified" or "failed"; rows is "match" (the archive's or the
 * restored row counts equal the metadata's), "mismatch", or "not compared" (the
 * checksum level, or a failure before the counts).  The server's verifier
 * writes it after every verification that ran to its end (a cancelled one
 * leaves the previous record), together with the ".verified" marker that
 * retention reads (retention_keys.h); retention deletes it with the dump.
 */
#ifndef RB_VERIFY_RECORD_H
#define RB_VERIFY_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "dest.h"
#include "rb_buf.h"
#include "rb_error.h"

#define RB_VERIFY_RECORD_SUFFIX ".verify.json"
#define RB_VERIFY_RECORD_MAX_SIZE (64 * 1024)

typedef struct rb_verify_record
{
	int64_t		backup_id;
	bool		verified;
	char		level[16];		/* "checksum", "archive", "restore" */
	char		verified_at[32];	/* ISO 8601 UTC */
	char		rows[16];		/* "match", "mismatch", "not compared" */
	double		restore_seconds;	/* < 0: no restore */
	char		error[RB_ERROR_MSG_LEN];	/* "" when verified */
} rb_verify_record;

/* "verified" or "failed" */
const char *rb_verify_record_status(const rb_verify_record *r);

/* The JSON document (as above, one line, no newline) appended to out. */
void		rb_verify_record_to_json(const rb_verify_record *r, rb_buf *out);

/* Parses a document; RB_ERR_INTEGRITY when it is not one. */
int			rb_verify_record_from_json(const char *text, size_t len, rb_verify_record *r,
									   rb_error *err);

/*
 * Stores r as "<dump_key>.verify.json" and stores (verified) or deletes (failed)
 * the ".verified" marker.  A failure is logged through hooks as a warning and
 * otherwise ignored: the catalog stays the record.
 */
void		rb_verify_record_store(rb_destination *d, const char *dump_key,
								   const rb_verify_record *r, const rb_hooks *hooks);

#endif							/* RB_VERIFY_RECORD_H */
