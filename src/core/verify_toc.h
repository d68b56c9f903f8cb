/*
 * verify_toc.h — how a restore-level verify splits a backup's table of contents
 * (`pg_restore --list` output) so that no object of the backup is ever created or
 * run by a superuser:
 *   schemas     SCHEMA entries and
 *   extensions  EXTENSION entries: the server creates these itself, as superuser,
 *               before the restore role first connects, from statements it
 *               rebuilds from their names (rb_verify_server_sql), never from the
 *               dump's text; the schemas are owned by the restore role;
 *   rest        every other entry, restored by the restore role, minus what only a
 *               superuser may create and is left out with a note: event triggers
 *               (and their comments), comments on extensions, and every entry of
 *               the ripple_backup extension itself (it refuses to exist outside
 *               the catalog database).
 * Each list is the text of a `pg_restore -L` file, in the archive's order.
 * Plain C (no postgres.h).
 */
#ifndef RB_VERIFY_TOC_H
#define RB_VERIFY_TOC_H

#include "rb_error.h"

typedef struct rb_verify_toc_plan
{
	char	   *schemas;		/* malloc'd; "" when none */
	char	   *extensions;
	char	   *rest;
	int			n_schemas;
	int			n_extensions;
	int			n_rest;
	int			own_entries;	/* entries of the extension named by ext */
	int			event_triggers; /* EVENT TRIGGER entries left out */
	int			extension_comments; /* COMMENT ON EXTENSION entries left out */
} rb_verify_toc_plan;

/* Splits listing (see above); ext = the extension whose entries are left out. */
void		rb_verify_toc_plan_make(const char *listing, const char *ext, rb_verify_toc_plan *plan);
void		rb_verify_toc_plan_free(rb_verify_toc_plan *plan);

/*
 * From the SQL that `pg_restore --no-owner -f - -L <schemas and extensions>`
 * prints, the statements the server runs, rebuilt from the parsed identifiers
 * (so nothing of the dump's text but names is ever executed), in order:
 *   CREATE SCHEMA IF NOT EXISTS "<schema>" AUTHORIZATION "<owner>";
 *   CREATE EXTENSION IF NOT EXISTS "<name>" WITH SCHEMA "<schema>";
 * *schemas and *extensions = how many of each.  Any CREATE SCHEMA or CREATE
 * EXTENSION line of another shape fails (RB_ERR_INTEGRITY).  malloc'd.
 */
char	   *rb_verify_server_sql(const char *dump_sql, const char *owner, int *schemas,
								 int *extensions, rb_error *err);

#endif							/* RB_VERIFY_TOC_H */
