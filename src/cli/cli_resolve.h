/*
 * cli_resolve.h — which backup an operator means: "latest", a backup id, or an
 * object key (the dump's key, its metadata key, or either as a full URL under the
 * destination), narrowed by --db and --system-id.  Also the newest-first order of
 * listings.  Pure logic on a light view of the catalog, for unit tests.
 */
#ifndef CLI_RESOLVE_H
#define CLI_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_error.h"

#define CLI_METADATA_SUFFIX ".metadata.json"

/* What a backup's verification record says (cli_catalog.h). */
typedef enum cli_verify_state
{
	CLI_VERIFY_UNKNOWN = 0,		/* no record: never verified, or verified before records */
	CLI_VERIFY_VERIFIED,
	CLI_VERIFY_FAILED			/* known bad: "latest" never picks it */
} cli_verify_state;

/* What resolution needs to know of one backup (strings borrowed). */
typedef struct cli_backup_ref
{
	const char *key;			/* dump object key, relative to the destination */
	int64_t		backup_id;
	uint64_t	system_identifier;
	const char *dbname;
	const char *timestamp;		/* ISO 8601 UTC: sorts as text */
	const char *incarnation;	/* server incarnation; NULL = unknown (older metadata) */
	cli_verify_state verify;	/* its latest verification */
} cli_backup_ref;

typedef enum cli_selector_kind
{
	CLI_SELECT_LATEST,			/* "latest": the newest backup not known bad */
	CLI_SELECT_LATEST_VERIFIED, /* "latest-verified": the newest verified backup */
	CLI_SELECT_ID,
	CLI_SELECT_KEY
} cli_selector_kind;

typedef struct cli_selector
{
	cli_selector_kind kind;
	int64_t		id;				/* CLI_SELECT_ID */
	char	   *key;			/* CLI_SELECT_KEY: dump object key, malloc'd */
} cli_selector;

/* Filters from the command line (NULL / has_system_id false = any). */
typedef struct cli_filter
{
	const char *dbname;
	bool		has_system_id;
	uint64_t	system_identifier;
} cli_filter;

/*
 * Parses the operator's ID|KEY|latest|latest-verified.  dest_url (normalised, no trailing slash)
 * lets a full URL be given.  RB_ERR_INVALID for an empty text or a URL outside
 * the destination.  Free with cli_selector_free.
 */
int			cli_selector_parse(const char *text, const char *dest_url, cli_selector *sel,
							   rb_error *err);
void		cli_selector_free(cli_selector *sel);

/* qsort comparator: newest first (timestamp, then backup id, then key). */
int			cli_backup_ref_cmp_newest(const void *a, const void *b);

/* True when ref passes the filter. */
bool		cli_filter_match(const cli_filter *f, const cli_backup_ref *ref);

/*
 * Finds the backup sel means among refs (any order).  Returns its index, or -1
 * with err:
 *   RB_ERR_NOT_FOUND  no backup of database "x" in URL / no backup with id 7 in URL /
 *                     no backups in URL / no backup object "k" in URL /
 *                     no verified backup (of database "x") in URL / every backup
 *                     (of database "x") in URL failed verification
 * "latest" skips the backups whose verification failed; "latest-verified" takes
 * only verified ones.  An id or a key names its backup whatever its state.
 *   RB_ERR_INVALID    several databases with "latest" and no --db; an id that
 *                     several systems, or several incarnations of one system (a
 *                     promoted standby and its old primary), share and no
 *                     --system-id that tells them apart
 */
long		cli_resolve(const cli_backup_ref *refs, size_t n, const cli_selector *sel,
						const cli_filter *filter, const char *dest_url, rb_error *err);

/* Hint that goes with a resolution error (NULL when none). */
const char *cli_resolve_hint(const rb_error *err);

/* Parses a decimal unsigned 64-bit number (the whole text); false when invalid. */
bool		cli_parse_u64(const char *text, uint64_t *out);

#endif							/* CLI_RESOLVE_H */
