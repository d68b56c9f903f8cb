/*
 * cli_args.h — ripple-backup's command line: the commands, the options each one
 * accepts (one getopt_long table, checked per command), and the --help texts that
 * document them with the exit codes.
 */
#ifndef CLI_ARGS_H
#define CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "cli_config.h"

typedef enum cli_command
{
	CLI_CMD_NONE,
	CLI_CMD_LIST,
	CLI_CMD_INFO,
	CLI_CMD_FETCH,
	CLI_CMD_VERIFY,
	CLI_CMD_RESTORE,
	CLI_CMD_PRUNE,
	CLI_CMD_REPORT,
	CLI_CMD_KEYGEN,
	CLI_CMD_DECRYPT,
	CLI_CMD_WAL_FETCH,
	CLI_CMD_RESTORE_PITR
} cli_command;

/* wal-fetch, restore-pitr: --incarnation, repeatable */
#define CLI_MAX_INCARNATIONS 16

typedef struct cli_args
{
	cli_command command;
	const char *command_name;
	cli_settings flags;			/* destination, S3 and key file settings given as flags */
	const char *config_file;	/* --config */
	const char *selector;		/* ID|KEY|latest */

	/* filters and output */
	const char *db;				/* --db */
	bool		has_system_id;
	uint64_t	system_id;		/* --system-id */
	bool		json;
	bool		long_format;	/* list --long */
	bool		wal;			/* list --wal */
	bool		verbose;
	bool		quiet;
	int			progress;		/* -1 auto (terminal), 0 never, 1 always */
	bool		help;

	/* fetch, keygen, decrypt */
	const char *output;			/* -o */
	bool		force;

	/* verify */
	bool		archive;

	/* restore */
	const char *dbname;			/* --dbname: the target */
	bool		create;
	int			jobs;
	const char *host;
	const char *port;
	const char *username;
	const char *role;			/* --role: pg_restore --role, SET ROLE for the counts */
	bool		no_owner;
	bool		no_privileges;
	const char *maintenance_db;

	/* prune: the retention policy (defaults: the server's defaults) */
	bool		dry_run;
	const char *retention;		/* --retention DURATION; NULL = 30 days */
	int			min_keep;		/* --min-keep (3) */
	int			keep_daily;
	int			keep_weekly;
	int			keep_monthly;
	int64_t		orphan_age_s;	/* --orphan-age (1 day) */

	/* report */
	const char *html;			/* --html FILE */
	int64_t		rpo_target_s;	/* --rpo-target (25 hours, as the server's default) */

	/* wal-fetch FILE PATH, restore-pitr */
	const char *wal_file;		/* %f */
	const char *wal_path;		/* %p */
	const char *incarnations[CLI_MAX_INCARNATIONS];
	int			n_incarnations;
	const char *pgdata;			/* --pgdata */
	const char *target_time;	/* exactly one of these four */
	const char *target_lsn;
	const char *target_name;
	bool		target_latest;
	const char *base;			/* --base ID|latest; NULL = chosen by the target */
	const char *target_action;	/* --target-action; NULL = pause */
	bool		start;			/* --start */

	/* verify --archive, restore */
	const char *work_dir;
	const char *pg_bindir;
} cli_args;

/*
 * Parses argv.  Returns 0, or an exit code (CLI_EXIT_USAGE after printing the
 * problem and a hint to stderr).  A --help request sets args->help; "help" and
 * --version are handled by the caller through args->command_name.
 */
int			cli_args_parse(int argc, char **argv, cli_args *args);
void		cli_args_free(cli_args *args);

/* Prints the help of a command (CLI_CMD_NONE = the overview) to stdout. */
void		cli_print_help(cli_command cmd);

/* Maps "list" etc. to the command; CLI_CMD_NONE when unknown. */
cli_command cli_command_from_name(const char *name);

#endif							/* CLI_ARGS_H */
