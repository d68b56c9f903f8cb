/*
 * cli_restore_argv.h — what "ripple-backup restore" asks of the server, built
 * without running anything so that it can be tested: the pg_restore argv (with
 * --role when the restore runs as a role other than the connecting user) and the
 * CREATE DATABASE statement of --create (OWNER that role, so that the role can
 * create the dump's schemas in it).
 */
#ifndef CLI_RESTORE_ARGV_H
#define CLI_RESTORE_ARGV_H

#include "cli_args.h"
#include "pg_client.h"

/*
 * Appends pg_restore's argv: path, --no-password, --jobs=N, [--no-owner],
 * [--no-privileges], [--verbose], [--role=ROLE], connection flags, --dbname, file.
 */
void		cli_pg_restore_argv(rb_argv *argv, const char *pg_restore, const cli_args *args,
								const rb_pg_conn *conn, const char *file);

/* CREATE DATABASE "name" [OWNER "role"] TEMPLATE template0; malloc'd. */
char	   *cli_create_database_sql(const char *dbname, const char *owner);

#endif							/* CLI_RESTORE_ARGV_H */
