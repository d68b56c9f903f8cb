/*
 * cli_db_properties.h — the database-level properties of a backup for
 * "ripple-backup restore --create": the owner, the ACL (REVOKE CONNECT FROM PUBLIC,
 * GRANTs), the comment and the ALTER DATABASE / ALTER ROLE ... IN DATABASE settings
 * that pg_dump records in its archive for the database itself and that
 * pg_restore applies only with --create.  The CLI creates the database itself
 * (under any name), so it takes these statements from the archive
 * (`pg_restore --create --list`, then `pg_restore --create -L <those entries> -f -`),
 * keeps only statements of those kinds, renames the database in them to the
 * target, and runs them after the restore.
 */
#ifndef CLI_DB_PROPERTIES_H
#define CLI_DB_PROPERTIES_H

#include <stdbool.h>

#include "rb_buf.h"
#include "rb_error.h"

/*
 * Of `pg_restore --create --list` output, the lines of the database's own entries
 * (DATABASE, DATABASE PROPERTIES, and ACL, COMMENT or SECURITY LABEL on DATABASE),
 * as a pg_restore -L file; malloc'd, "" when none.
 */
char	   *cli_db_properties_list(const char *listing);

/*
 * Of the SQL that pg_restore printed for those entries, the ALTER DATABASE, ALTER
 * ROLE ... IN DATABASE, GRANT, REVOKE, COMMENT ON DATABASE and SECURITY LABEL ON
 * DATABASE statements on database `archived`, renamed to `target`, each followed by
 * a newline, after pg_restore's SET client_encoding when there is one (the encoding
 * of the text); CREATE DATABASE, \connect and the other session settings are left
 * out.
 * The text is lexed as the server lexes it (a comment of several lines is one
 * literal, not several statements), and only statements made of words, quoted
 * identifiers, string literals, numbers and , = . ( ) are read at all.  malloc'd;
 * *n = how many statements.  NULL (*n = -1) when the text holds anything else (a
 * dollar quote, a comment or a psql command inside a statement, an operator, an
 * unterminated quote): then nothing of it may be run.
 */
char	   *cli_db_properties_rewrite(const char *dump_sql, const char *archived,
									  const char *target, int *n);

/*
 * Both steps on an archive file: runs pg_restore twice (list_path is a scratch
 * file for the -L list, removed before returning).  *sql = the statements to run
 * (malloc'd, "" when none).  no_owner / no_privileges: leave out the owner / the
 * ACL, as pg_restore's flags of the same names.
 */
int			cli_db_properties_sql(const char *pg_restore, const char *archive,
								  const char *list_path, const char *archived,
								  const char *target, bool no_owner, bool no_privileges,
								  const rb_hooks *hooks, char **sql, int *n,
								  rb_error *err);

#endif							/* CLI_DB_PROPERTIES_H */
