/*
 * cli_catalog.h — the backups in a destination as the CLI sees them: every
 * "*.metadata.json" object, read and parsed, newest first.  A backup exists only
 * when its metadata object does; a dump without one is an interrupted upload and
 * is not listed.  Also the lookup of the one backup an operator names.
 */
#ifndef CLI_CATALOG_H
#define CLI_CATALOG_H

#include <stddef.h>

#include "cli_resolve.h"
#include "dest.h"
#include "backup_metadata.h"
#include "rb_error.h"
#include "verify_record.h"

typedef struct cli_backup
{
	char	   *key;			/* dump object key, relative to the destination */
	char	   *metadata_key;	/* key + ".metadata.json" */
	rb_backup_metadata meta;
	bool		has_verify;		/* a verification record "<key>.verify.json" was read */
	rb_verify_record verify;	/* the latest verification, when has_verify */
} cli_backup;

/* "verified", "failed" or "unverified" (no record) */
const char *cli_backup_verify_status(const cli_backup *b);

typedef struct cli_catalog
{
	cli_backup *items;			/* newest first */
	size_t		n;
	size_t		invalid;		/* metadata objects that could not be parsed (warned) */
	cli_backup_ref *refs;		/* views of items, same order */
} cli_catalog;

/*
 * Lists and reads every metadata object, and the verification record of every
 * backup that has one.  A metadata object that cannot be read or parsed is
 * skipped with a warning through hooks; so is a record (the backup then counts
 * as unverified).  Returns 0 or -1 with err
 * (listing failed).
 */
int			cli_catalog_load(rb_destination *d, const rb_hooks *hooks, cli_catalog *cat,
							 rb_error *err);
void		cli_catalog_free(cli_catalog *cat);

/*
 * Reads the metadata object of one dump key into b (key copied), and its
 * verification record when there is one.  RB_ERR_NOT_FOUND
 * with a clear message when the metadata object is missing:
 *   backup object "k" in URL has no metadata object "k.metadata.json"
 * RB_ERR_INTEGRITY when it cannot be parsed.
 */
int			cli_backup_load(rb_destination *d, const char *key, cli_backup *b, rb_error *err);
void		cli_backup_free(cli_backup *b);

/* Reads a small object (at most max bytes) into out. */
int			cli_get_small(rb_destination *d, const char *key, size_t max, rb_buf *out,
						  rb_error *err);

#endif							/* CLI_CATALOG_H */
