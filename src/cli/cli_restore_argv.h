/*
 * cli_restore_argv.h — what "ripple-backup restore" asks of the server, built
 * without running anything so that it can be tested: the pg_restore argv (with
 * --role when the restore runs as a role other than the connecting user) and the
 * CREATE DATABASE statement of --create (OWNER that role, so that the role can
 * create the dump's schemas in it).
 *
 * And how the restore overlaps the download (cli_restore_choose_plan): pg_restore
 * --jobs needs a seekable file, but one reading its stdin can start on the first
 * byte.  With --create the CLI streams the archive into pg_restore while it
 * downloads (a database it created can be dropped if the object then fails its
 * checksum; an existing database is never touched before the object is proven).
 * With --jobs 1 everything is streamed (the file is still written: its TOC gives
 * the database's own properties); with --jobs N the schema and the data stream
 * through one connection while the file fills, then indexes and constraints (post-data) are built by N jobs from the
 * file, unless the metadata's row counts say that N jobs could load the data
 * markedly faster than one (no table dominates): then the file is downloaded
 * first and pg_restore --jobs N does everything, as without --create.
 */
#ifndef CLI_RESTORE_ARGV_H
#define CLI_RESTORE_ARGV_H

#include "backup_table_counts.h"
#include "cli_args.h"
#include "pg_client.h"

/* Which sections one pg_restore run restores */
typedef enum cli_restore_part
{
	CLI_RESTORE_ALL,			/* every section */
	CLI_RESTORE_PRE_AND_DATA,	/* --section=pre-data --section=data */
	CLI_RESTORE_POST_DATA		/* --section=post-data */
} cli_restore_part;

/* How a restore runs */
typedef enum cli_restore_plan
{
	CLI_PLAN_AFTER_DOWNLOAD,	/* download into the file, then pg_restore --jobs N of it */
	CLI_PLAN_STREAM_ALL,		/* one pg_restore reads the download from its stdin */
	CLI_PLAN_STREAM_DATA		/* pre-data and data from stdin while the file fills, then
								 * post-data with --jobs N from the file */
} cli_restore_plan;

/*
 * Appends pg_restore's argv: path, --no-password, --jobs=N, [--no-owner],
 * [--no-privileges], [--verbose], [--role=ROLE], connection flags, --dbname, file.
 */
void		cli_pg_restore_argv(rb_argv *argv, const char *pg_restore, const cli_args *args,
								const rb_pg_conn *conn, const char *file);

/*
 * The same for a part of the restore: --section flags after --no-password, and
 * --jobs=N only when reading a file (file NULL = the archive comes on stdin,
 * which allows no parallel jobs).
 */
void		cli_pg_restore_argv_part(rb_argv *argv, const char *pg_restore, const cli_args *args,
									 const rb_pg_conn *conn, const char *file,
									 cli_restore_part part);

/*
 * The plan for args (--create, --jobs) and the backup's per-table row counts:
 * without --create, CLI_PLAN_AFTER_DOWNLOAD; with --jobs 1, CLI_PLAN_STREAM_ALL;
 * with --jobs N, CLI_PLAN_STREAM_DATA when N jobs could load the rows at most
 * 10% faster than one (the largest table, or rows/N, is at least 90% of all
 * rows), else CLI_PLAN_AFTER_DOWNLOAD.
 */
cli_restore_plan cli_restore_choose_plan(const cli_args *args, const rb_table_counts *counts);

/* DROP DATABASE "name" WITH (FORCE); malloc'd (a streamed restore that failed its proof). */
char	   *cli_drop_database_sql(const char *dbname);

/* CREATE DATABASE "name" [OWNER "role"] TEMPLATE template0; malloc'd. */
char	   *cli_create_database_sql(const char *dbname, const char *owner);

#endif							/* CLI_RESTORE_ARGV_H */
