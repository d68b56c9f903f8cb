/*
 * cli_args.c — option parsing and --help texts of ripple-backup (see cli_args.h).
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_exit.h"
#include "cli_report.h"
#include "cli_resolve.h"
#include "retention_policy.h"

enum
{
	OPT_DESTINATION = 1000,
	OPT_S3_ENDPOINT,
	OPT_S3_REGION,
	OPT_S3_URI_STYLE,
	OPT_S3_CREDENTIALS_FILE,
	OPT_S3_PROFILE,
	OPT_S3_CA_FILE,
	OPT_S3_NO_VERIFY_TLS,
	OPT_CONFIG,
	OPT_DB,
	OPT_SYSTEM_ID,
	OPT_JSON,
	OPT_LONG,
	OPT_WAL,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
	OPT_FORCE,
	OPT_ARCHIVE,
	OPT_WORK_DIR,
	OPT_PG_BINDIR,
	OPT_MAINTENANCE_DB,
	OPT_ROLE,
	OPT_DRY_RUN,
	OPT_RETENTION,
	OPT_MIN_KEEP,
	OPT_KEEP_DAILY,
	OPT_KEEP_WEEKLY,
	OPT_KEEP_MONTHLY,
	OPT_ORPHAN_AGE,
	OPT_HTML,
	OPT_RPO_TARGET,
	OPT_ENCRYPTION_KEY_FILE,
	OPT_HELP,
	OPT_HOST,					/* no short form: -h is help in every command */
	OPT_INCARNATION,
	OPT_PGDATA,
	OPT_TARGET_TIME,
	OPT_TARGET_LSN,
	OPT_TARGET_NAME,
	OPT_LATEST,
	OPT_BASE,
	OPT_TARGET_ACTION,
	OPT_START,
	OPT_VERBOSE = 'v',
	OPT_QUIET = 'q',
	OPT_OUTPUT = 'o',
	OPT_DBNAME = 'd',
	OPT_CREATE = 'C',
	OPT_JOBS = 'j',
	OPT_PORT = 'p',
	OPT_USERNAME = 'U',
	OPT_NO_OWNER = 'O',
	OPT_NO_PRIVILEGES = 'x'
};

static const struct option long_options[] = {
	{"destination", required_argument, NULL, OPT_DESTINATION},
	{"s3-endpoint", required_argument, NULL, OPT_S3_ENDPOINT},
	{"s3-region", required_argument, NULL, OPT_S3_REGION},
	{"s3-uri-style", required_argument, NULL, OPT_S3_URI_STYLE},
	{"s3-credentials-file", required_argument, NULL, OPT_S3_CREDENTIALS_FILE},
	{"s3-profile", required_argument, NULL, OPT_S3_PROFILE},
	{"s3-ca-file", required_argument, NULL, OPT_S3_CA_FILE},
	{"s3-no-verify-tls", no_argument, NULL, OPT_S3_NO_VERIFY_TLS},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"db", required_argument, NULL, OPT_DB},
	{"system-id", required_argument, NULL, OPT_SYSTEM_ID},
	{"system-identifier", required_argument, NULL, OPT_SYSTEM_ID},
	{"incarnation", required_argument, NULL, OPT_INCARNATION},
	{"pgdata", required_argument, NULL, OPT_PGDATA},
	{"target-time", required_argument, NULL, OPT_TARGET_TIME},
	{"target-lsn", required_argument, NULL, OPT_TARGET_LSN},
	{"target-name", required_argument, NULL, OPT_TARGET_NAME},
	{"latest", no_argument, NULL, OPT_LATEST},
	{"base", required_argument, NULL, OPT_BASE},
	{"target-action", required_argument, NULL, OPT_TARGET_ACTION},
	{"start", no_argument, NULL, OPT_START},
	{"json", no_argument, NULL, OPT_JSON},
	{"long", no_argument, NULL, OPT_LONG},
	{"wal", no_argument, NULL, OPT_WAL},
	{"progress", no_argument, NULL, OPT_PROGRESS},
	{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	{"force", no_argument, NULL, OPT_FORCE},
	{"archive", no_argument, NULL, OPT_ARCHIVE},
	{"work-dir", required_argument, NULL, OPT_WORK_DIR},
	{"pg-bindir", required_argument, NULL, OPT_PG_BINDIR},
	{"maintenance-db", required_argument, NULL, OPT_MAINTENANCE_DB},
	{"role", required_argument, NULL, OPT_ROLE},
	{"dry-run", no_argument, NULL, OPT_DRY_RUN},
	{"retention", required_argument, NULL, OPT_RETENTION},
	{"min-keep", required_argument, NULL, OPT_MIN_KEEP},
	{"keep-daily", required_argument, NULL, OPT_KEEP_DAILY},
	{"keep-weekly", required_argument, NULL, OPT_KEEP_WEEKLY},
	{"keep-monthly", required_argument, NULL, OPT_KEEP_MONTHLY},
	{"orphan-age", required_argument, NULL, OPT_ORPHAN_AGE},
	{"html", required_argument, NULL, OPT_HTML},
	{"rpo-target", required_argument, NULL, OPT_RPO_TARGET},
	{"encryption-key-file", required_argument, NULL, OPT_ENCRYPTION_KEY_FILE},
	{"help", no_argument, NULL, OPT_HELP},
	{"verbose", no_argument, NULL, OPT_VERBOSE},
	{"quiet", no_argument, NULL, OPT_QUIET},
	{"output", required_argument, NULL, OPT_OUTPUT},
	{"dbname", required_argument, NULL, OPT_DBNAME},
	{"create", no_argument, NULL, OPT_CREATE},
	{"jobs", required_argument, NULL, OPT_JOBS},
	{"host", required_argument, NULL, OPT_HOST},
	{"port", required_argument, NULL, OPT_PORT},
	{"username", required_argument, NULL, OPT_USERNAME},
	{"no-owner", no_argument, NULL, OPT_NO_OWNER},
	{"no-privileges", no_argument, NULL, OPT_NO_PRIVILEGES},
	{NULL, 0, NULL, 0}
};

static const char short_options[] = "vqo:d:Cj:hp:U:Ox";

/* options every command takes */
static const int common_options[] = {
	OPT_DESTINATION, OPT_S3_ENDPOINT, OPT_S3_REGION, OPT_S3_URI_STYLE,
	OPT_S3_CREDENTIALS_FILE, OPT_S3_PROFILE, OPT_S3_CA_FILE, OPT_S3_NO_VERIFY_TLS,
	OPT_CONFIG, OPT_HELP, OPT_VERBOSE, OPT_QUIET, OPT_PROGRESS, OPT_NO_PROGRESS,
	OPT_DB, OPT_SYSTEM_ID, 0
};
static const int list_options[] = {OPT_JSON, OPT_LONG, OPT_WAL, 0};
static const int info_options[] = {OPT_JSON, OPT_ENCRYPTION_KEY_FILE, 0};
static const int fetch_options[] = {OPT_OUTPUT, OPT_FORCE, OPT_ENCRYPTION_KEY_FILE, 0};
static const int decrypt_options[] = {OPT_OUTPUT, OPT_FORCE, OPT_ENCRYPTION_KEY_FILE, 0};
static const int verify_options[] = {OPT_ARCHIVE, OPT_WORK_DIR, OPT_PG_BINDIR, OPT_JSON,
OPT_ENCRYPTION_KEY_FILE, 0};
static const int prune_options[] = {
	OPT_DRY_RUN, OPT_RETENTION, OPT_MIN_KEEP, OPT_KEEP_DAILY, OPT_KEEP_WEEKLY,
	OPT_KEEP_MONTHLY, OPT_ORPHAN_AGE, OPT_JSON, 0
};
static const int report_options[] = {OPT_HTML, OPT_RPO_TARGET, OPT_FORCE, 0};
static const int keygen_options[] = {OPT_OUTPUT, 0};
/* keygen has no destination: of the common options only these */
static const int keygen_common_options[] = {OPT_HELP, OPT_VERBOSE, OPT_QUIET, 0};
static const int restore_options[] = {
	OPT_DBNAME, OPT_CREATE, OPT_JOBS, OPT_HOST, OPT_PORT, OPT_USERNAME, OPT_NO_OWNER,
	OPT_NO_PRIVILEGES, OPT_MAINTENANCE_DB, OPT_ROLE, OPT_WORK_DIR, OPT_PG_BINDIR, OPT_JSON,
	OPT_ENCRYPTION_KEY_FILE, 0
};

static const int wal_fetch_options[] = {OPT_INCARNATION, OPT_ENCRYPTION_KEY_FILE, 0};
static const int restore_pitr_options[] = {
	OPT_PGDATA, OPT_TARGET_TIME, OPT_TARGET_LSN, OPT_TARGET_NAME, OPT_LATEST, OPT_BASE,
	OPT_TARGET_ACTION, OPT_START, OPT_INCARNATION, OPT_PORT, OPT_PG_BINDIR,
	OPT_ENCRYPTION_KEY_FILE, 0
};

static const struct
{
	const char *name;
	cli_command cmd;
	const int  *options;
}			commands[] = {
	{"list", CLI_CMD_LIST, list_options},
	{"info", CLI_CMD_INFO, info_options},
	{"fetch", CLI_CMD_FETCH, fetch_options},
	{"verify", CLI_CMD_VERIFY, verify_options},
	{"restore", CLI_CMD_RESTORE, restore_options},
	{"prune", CLI_CMD_PRUNE, prune_options},
	{"report", CLI_CMD_REPORT, report_options},
	{"keygen", CLI_CMD_KEYGEN, keygen_options},
	{"decrypt", CLI_CMD_DECRYPT, decrypt_options},
	{"wal-fetch", CLI_CMD_WAL_FETCH, wal_fetch_options},
	{"restore-pitr", CLI_CMD_RESTORE_PITR, restore_pitr_options},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

cli_command
cli_command_from_name(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return commands[i].cmd;
	return CLI_CMD_NONE;
}

static bool
in_list(const int *list, int opt)
{
	for (; *list; list++)
		if (*list == opt)
			return true;
	return false;
}

static const char *
option_name(int opt)
{
	for (const struct option *o = long_options; o->name; o++)
		if (o->val == opt)
			return o->name;
	return "?";
}

static int	usage_error(const char *command, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));

static int
usage_error(const char *command, const char *fmt,...)
{
	va_list		ap;
	char		msg[1024];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cli_error("%s", msg);
	if (command)
		cli_hint("Try \"%s %s --help\" for more information.", CLI_PROGNAME, command);
	else
		cli_hint("Try \"%s --help\" for more information.", CLI_PROGNAME);
	return CLI_EXIT_USAGE;
}

/* A count option of prune: 0 or more. */
static int
set_count(cli_args *args, int *out, const char *value)
{
	char	   *end;
	long		v = strtol(value, &end, 10);

	if (*value == '\0' || *end != '\0' || v < 0 || v > 100000)
		return usage_error(args->command_name, "invalid count \"%s\" (0 to 100000)", value);
	*out = (int) v;
	return 0;
}

static int
set_flag(cli_args *args, const char *name, const char *value)
{
	rb_error	err;

	rb_error_clear(&err);
	if (cli_settings_set(&args->flags, name, value, &err) != 0)
		return usage_error(args->command_name, "%s", err.msg);
	return 0;
}

int
cli_args_parse(int argc, char **argv, cli_args *args)
{
	const int  *allowed = NULL;
	int			c;
	int			rc;

	memset(args, 0, sizeof(*args));
	cli_settings_init(&args->flags);
	args->progress = -1;
	args->jobs = 1;
	args->min_keep = 3;
	args->orphan_age_s = 86400;
	args->rpo_target_s = 25 * 3600;

	if (argc < 2)
		return usage_error(NULL, "%s", "no command given");
	args->command_name = argv[1];
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0 ||
		strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0)
	{
		args->help = true;
		if (strcmp(argv[1], "help") == 0 && argc > 2)
		{
			args->command = cli_command_from_name(argv[2]);
			if (args->command == CLI_CMD_NONE)
				return usage_error(NULL, "unknown command \"%s\"", argv[2]);
			args->command_name = argv[2];
		}
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		return 0;
	args->command = cli_command_from_name(argv[1]);
	if (args->command == CLI_CMD_NONE)
	{
		if (argv[1][0] == '-')
			return usage_error(NULL, "the command must come first, not option \"%s\"", argv[1]);
		return usage_error(NULL, "unknown command \"%s\"", argv[1]);
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].cmd == args->command)
			allowed = commands[i].options;

	/* -? and --help anywhere after the command: that command's help */
	for (int i = 2; i < argc; i++)
	{
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-?") == 0 || strcmp(argv[i], "--help") == 0 ||
			strcmp(argv[i], "-h") == 0)
		{
			args->help = true;
			return 0;
		}
	}

	optind = 2;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1)
	{
		if (c == '?')
			return usage_error(args->command_name, "invalid option or missing value: \"%s\"",
							   argv[optind - 1]);
		if (c == 'h')
		{
			args->help = true;
			continue;
		}
		if (!in_list(args->command == CLI_CMD_KEYGEN ? keygen_common_options : common_options, c) &&
			!in_list(allowed, c))
		{
			char		msg[256];

			snprintf(msg, sizeof(msg), "option --%s is not valid for command \"%s\"",
					 option_name(c), args->command_name);
			return usage_error(args->command_name, "%s", msg);
		}
		switch (c)
		{
			case OPT_DESTINATION:
				rc = set_flag(args, "destination", optarg);
				break;
			case OPT_S3_ENDPOINT:
				rc = set_flag(args, "s3_endpoint", optarg);
				break;
			case OPT_S3_REGION:
				rc = set_flag(args, "s3_region", optarg);
				break;
			case OPT_S3_URI_STYLE:
				rc = set_flag(args, "s3_uri_style", optarg);
				break;
			case OPT_S3_CREDENTIALS_FILE:
				rc = set_flag(args, "s3_credentials_file", optarg);
				break;
			case OPT_S3_PROFILE:
				rc = set_flag(args, "s3_profile", optarg);
				break;
			case OPT_S3_CA_FILE:
				rc = set_flag(args, "s3_ca_file", optarg);
				break;
			case OPT_S3_NO_VERIFY_TLS:
				rc = set_flag(args, "s3_verify_tls", "off");
				break;
			case OPT_ENCRYPTION_KEY_FILE:
				{
					rb_error	err;

					/* repeatable, and each may be a comma-separated list */
					rb_error_clear(&err);
					rc = cli_settings_append(&args->flags, "encryption_key_file", optarg, &err) == 0 ?
						0 : usage_error(args->command_name, "%s", err.msg);
				}
				break;
			case OPT_CONFIG:
				args->config_file = optarg;
				rc = 0;
				break;
			case OPT_DB:
				args->db = optarg;
				rc = 0;
				break;
			case OPT_SYSTEM_ID:
				args->has_system_id = true;
				rc = cli_parse_u64(optarg, &args->system_id) ? 0 :
					usage_error(args->command_name, "invalid system identifier \"%s\"", optarg);
				break;
			case OPT_JSON:
				args->json = true;
				rc = 0;
				break;
			case OPT_LONG:
				args->long_format = true;
				rc = 0;
				break;
			case OPT_WAL:
				args->wal = true;
				rc = 0;
				break;
			case OPT_PROGRESS:
				args->progress = 1;
				rc = 0;
				break;
			case OPT_NO_PROGRESS:
				args->progress = 0;
				rc = 0;
				break;
			case OPT_FORCE:
				args->force = true;
				rc = 0;
				break;
			case OPT_ARCHIVE:
				args->archive = true;
				rc = 0;
				break;
			case OPT_WORK_DIR:
				args->work_dir = optarg;
				rc = 0;
				break;
			case OPT_PG_BINDIR:
				args->pg_bindir = optarg;
				rc = 0;
				break;
			case OPT_MAINTENANCE_DB:
				args->maintenance_db = optarg;
				rc = 0;
				break;
			case OPT_HELP:
				args->help = true;
				rc = 0;
				break;
			case OPT_VERBOSE:
				args->verbose = true;
				rc = 0;
				break;
			case OPT_QUIET:
				args->quiet = true;
				rc = 0;
				break;
			case OPT_OUTPUT:
				args->output = optarg;
				rc = 0;
				break;
			case OPT_DBNAME:
				args->dbname = optarg;
				rc = 0;
				break;
			case OPT_CREATE:
				args->create = true;
				rc = 0;
				break;
			case OPT_JOBS:
				{
					char	   *end;
					long		j = strtol(optarg, &end, 10);

					if (*optarg == '\0' || *end != '\0' || j < 1 || j > 64)
						return usage_error(args->command_name,
										   "invalid number of jobs \"%s\" (1 to 64)", optarg);
					args->jobs = (int) j;
					rc = 0;
				}
				break;
			case OPT_HOST:
				args->host = optarg;
				rc = 0;
				break;
			case OPT_PORT:
				args->port = optarg;
				rc = 0;
				break;
			case OPT_USERNAME:
				args->username = optarg;
				rc = 0;
				break;
			case OPT_ROLE:
				if (optarg[0] == '\0')
					rc = usage_error(args->command_name, "%s", "--role must not be empty");
				else
				{
					args->role = optarg;
					rc = 0;
				}
				break;
			case OPT_DRY_RUN:
				args->dry_run = true;
				rc = 0;
				break;
			case OPT_RETENTION:
				{
					int64_t		secs;
					rb_error	err;

					rb_error_clear(&err);
					if (rb_duration_parse(optarg, &secs, &err) < 0 || secs <= 0)
						return usage_error(args->command_name, "invalid --retention \"%s\": %s", optarg,
										   err.msg[0] ? err.msg : "it must be positive");
					args->retention = optarg;
					rc = 0;
				}
				break;
			case OPT_ORPHAN_AGE:
				{
					rb_error	err;

					rb_error_clear(&err);
					if (rb_duration_parse(optarg, &args->orphan_age_s, &err) < 0)
						return usage_error(args->command_name, "invalid --orphan-age \"%s\": %s", optarg, err.msg);
					rc = 0;
				}
				break;
			case OPT_HTML:
				if (optarg[0] == '\0')
					return usage_error(args->command_name, "%s", "--html needs a file name");
				args->html = optarg;
				rc = 0;
				break;
			case OPT_RPO_TARGET:
				{
					rb_error	err;

					rb_error_clear(&err);
					if (rb_duration_parse(optarg, &args->rpo_target_s, &err) < 0 ||
						args->rpo_target_s <= 0)
						return usage_error(args->command_name, "invalid --rpo-target \"%s\": %s", optarg,
										   err.msg[0] ? err.msg : "it must be positive");
					rc = 0;
				}
				break;
			case OPT_MIN_KEEP:
				rc = set_count(args, &args->min_keep, optarg);
				break;
			case OPT_KEEP_DAILY:
				rc = set_count(args, &args->keep_daily, optarg);
				break;
			case OPT_KEEP_WEEKLY:
				rc = set_count(args, &args->keep_weekly, optarg);
				break;
			case OPT_KEEP_MONTHLY:
				rc = set_count(args, &args->keep_monthly, optarg);
				break;
			case OPT_NO_OWNER:
				args->no_owner = true;
				rc = 0;
				break;
			case OPT_NO_PRIVILEGES:
				args->no_privileges = true;
				rc = 0;
				break;
			case OPT_INCARNATION:
				if (args->n_incarnations == CLI_MAX_INCARNATIONS)
					rc = usage_error(args->command_name, "at most %d incarnations can be named", CLI_MAX_INCARNATIONS);
				else
				{
					args->incarnations[args->n_incarnations++] = optarg;
					rc = 0;
				}
				break;
			case OPT_PGDATA:
				args->pgdata = optarg;
				rc = 0;
				break;
			case OPT_TARGET_TIME:
				args->target_time = optarg;
				rc = 0;
				break;
			case OPT_TARGET_LSN:
				args->target_lsn = optarg;
				rc = 0;
				break;
			case OPT_TARGET_NAME:
				args->target_name = optarg;
				rc = 0;
				break;
			case OPT_LATEST:
				args->target_latest = true;
				rc = 0;
				break;
			case OPT_BASE:
				args->base = optarg;
				rc = 0;
				break;
			case OPT_TARGET_ACTION:
				if (strcmp(optarg, "pause") != 0 && strcmp(optarg, "promote") != 0 &&
					strcmp(optarg, "shutdown") != 0)
					rc = usage_error(args->command_name, "invalid --target-action \"%s\": pause, promote or shutdown", optarg);
				else
				{
					args->target_action = optarg;
					rc = 0;
				}
				break;
			case OPT_START:
				args->start = true;
				rc = 0;
				break;
			default:
				rc = usage_error(args->command_name, "%s", "invalid option");
				break;
		}
		if (rc != 0)
			return rc;
	}
	if (args->help)
		return 0;

	/* positional arguments */
	if (args->command == CLI_CMD_WAL_FETCH)
	{
		if (argc - optind != 2)
			return usage_error(args->command_name, "%s",
							   argc - optind < 2 ? "missing arguments: wal-fetch FILE PATH (restore_command's %f %p)" :
							   "too many arguments: wal-fetch FILE PATH");
		args->wal_file = argv[optind];
		args->wal_path = argv[optind + 1];
	}
	else if (args->command == CLI_CMD_LIST || args->command == CLI_CMD_PRUNE ||
			 args->command == CLI_CMD_REPORT || args->command == CLI_CMD_KEYGEN ||
			 args->command == CLI_CMD_RESTORE_PITR)
	{
		if (optind < argc)
			return usage_error(args->command_name, "too many arguments: \"%s\"", argv[optind]);
	}
	else
	{
		if (optind >= argc)
			return usage_error(args->command_name, "%s",
							   "missing backup: give an ID, a KEY or \"latest\"");
		args->selector = argv[optind++];
		if (optind < argc)
			return usage_error(args->command_name, "too many arguments: \"%s\"", argv[optind]);
	}
	if ((args->command == CLI_CMD_FETCH || args->command == CLI_CMD_DECRYPT) &&
		(args->output == NULL || args->output[0] == '\0'))
		return usage_error(args->command_name, "%s", "missing output file: -o FILE");
	if ((args->command == CLI_CMD_FETCH || args->command == CLI_CMD_DECRYPT) &&
		strcmp(args->output, "-") == 0)
		return usage_error(args->command_name, "%s",
						   "this command writes a file, not standard output: the archive is handed over only once it is proven");
	if (args->command == CLI_CMD_RESTORE && (args->dbname == NULL || args->dbname[0] == '\0'))
		return usage_error(args->command_name, "%s", "missing target database: --dbname NAME");
	if (args->command == CLI_CMD_RESTORE_PITR)
	{
		int			ntargets = (args->target_time != NULL) + (args->target_lsn != NULL) +
			(args->target_name != NULL) + args->target_latest;

		if (args->pgdata == NULL || args->pgdata[0] == '\0')
			return usage_error(args->command_name, "%s", "missing data directory: --pgdata DIR");
		if (ntargets != 1)
			return usage_error(args->command_name, "%s",
							   "give exactly one of --target-time, --target-lsn, --target-name and --latest");
	}
	if (args->quiet && args->verbose)
		return usage_error(args->command_name, "%s", "--quiet and --verbose cannot be used together");
	return 0;
}

void
cli_args_free(cli_args *args)
{
	cli_settings_free(&args->flags);
}

static const char help_overview[] =
"ripple-backup lists, checks and restores the backups that the ripple_backup\n"
"extension wrote, without needing the database server that took them.\n"
"\n"
"Usage:\n"
"  ripple-backup COMMAND [OPTION]... [ID|KEY|latest]\n"
"\n"
"Commands:\n"
"  list                       backups in the destination, newest first\n"
"                             (--wal: base backups and the WAL range each reaches)\n"
"  info    ID|KEY|latest      one backup's metadata\n"
"  fetch   ID|KEY|latest -o FILE\n"
"                             download, check, decompress to a file for pg_restore\n"
"  verify  ID|KEY|latest      check size and SHA-256 (--archive: also the archive)\n"
"  restore ID|KEY|latest --dbname NAME\n"
"                             download, check, pg_restore, compare row counts\n"
"  prune                      apply retention: delete old backups and orphans\n"
"  report  --html FILE        an HTML page of charts and status per database\n"
"  keygen  [-o FILE]          a new backup encryption key (key file text)\n"
"  decrypt ID|KEY|latest -o FILE\n"
"                             download, check, decrypt an encrypted backup into the\n"
"                             compressed archive (FILE.dump.zst for zstd and pg_restore)\n"
"  restore-pitr --pgdata DIR --target-time T|--target-lsn L|--target-name N|--latest\n"
"                             a base backup and recovery settings for a point in time\n"
"  wal-fetch FILE PATH        one archived WAL file (restore_command)\n"
"\n"
"A backup is named by its id (ripple_backup.backups.id), by its object KEY (as\n"
"\"list --long\" prints it, or as a full URL), \"latest\" (the newest backup that has\n"
"not failed verification) or \"latest-verified\" (the newest verified one); use --db\n"
"to choose the database when several have backups.\n"
"\n"
"Run \"ripple-backup COMMAND --help\" for the options of a command.\n";

static const char help_common[] =
"\n"
"Destination (flag > environment > config file):\n"
"  --destination URL          s3://bucket/prefix or file:///directory\n"
"                             (RIPPLE_BACKUP_DESTINATION)\n"
"  --s3-endpoint URL          S3 endpoint, empty = AWS (RIPPLE_BACKUP_S3_ENDPOINT,\n"
"                             else AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)\n"
"  --s3-region NAME           (RIPPLE_BACKUP_S3_REGION, else AWS_REGION,\n"
"                             AWS_DEFAULT_REGION; default us-east-1)\n"
"  --s3-uri-style STYLE       path, virtual or auto (RIPPLE_BACKUP_S3_URI_STYLE)\n"
"  --s3-credentials-file FILE AWS shared-credentials file\n"
"                             (RIPPLE_BACKUP_S3_CREDENTIALS_FILE; default: the\n"
"                             AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY environment,\n"
"                             then ~/.aws/credentials)\n"
"  --s3-profile NAME          profile in that file (RIPPLE_BACKUP_S3_PROFILE, AWS_PROFILE)\n"
"  --s3-ca-file FILE          extra CA bundle (RIPPLE_BACKUP_S3_CA_FILE)\n"
"  --s3-no-verify-tls         do not verify the endpoint's certificate\n"
"                             (RIPPLE_BACKUP_S3_VERIFY_TLS=off)\n"
"  --config FILE              config file (RIPPLE_BACKUP_CONFIG; default\n"
"                             ~/.config/ripple-backup.conf, then /etc/ripple-backup.conf):\n"
"                             \"name = value\" lines with the extension's setting names\n"
"                             (destination, s3_endpoint, s3_region, s3_uri_style,\n"
"                             s3_credentials_file, s3_profile, s3_ca_file, s3_verify_tls,\n"
"                             encryption_key_file, decryption_key_files)\n"
"\n"
"Selection and output:\n"
"  --db NAME                  only backups of this database\n"
"  --system-id N              only backups of this system identifier\n"
"  --progress, --no-progress  progress bar on stderr (default: when it is a terminal)\n"
"  -q, --quiet                only errors\n"
"  -v, --verbose              also S3 requests and retries\n"
"  -h, -?, --help             this help\n"
"\n"
"Exit codes: 0 success, 1 error, 2 usage or configuration error, 3 backup (or\n"
"destination, or metadata) not found, 4 verification failed (size, checksum,\n"
"archive or row counts do not match).\n"
"Documentation: docs/cli.md and docs/DISASTER_RECOVERY_RUNBOOK.md.\n";

static const char help_list[] =
"ripple-backup list: the backups in the destination, read from their metadata\n"
"objects, newest first: time (UTC), database, size, tables, rows, verification\n"
"(VERIFY: the level of the latest passed verification, FAILED (level), or - when\n"
"none is recorded beside the backup), id, incarnation, label, and when any is\n"
"encrypted the id of the key each one needs (ENCRYPTION; \"-\": not encrypted).\n"
"Labels are shown\n"
"on one line (\\n, \\t, \\x01 for control characters) and cut after 40 characters\n"
"with an ellipsis; --json keeps them exact.\n"
"\n"
"Usage:\n"
"  ripple-backup list [--db NAME] [--system-id N] [--json] [--long]\n"
"  ripple-backup list --wal [--system-id N] [--json]\n"
"\n"
"Options:\n"
"  --json                     a JSON array of objects (keys: backup_id, timestamp,\n"
"                             dbname, system_identifier, size_bytes, tables, rows,\n"
"                             label, backup_type, compression, encryption, key_id,\n"
"                             sha256, key, url, verify_status, verification)\n"
"  --long                     also the system identifier and the object key\n"
"  --wal                      the base backups instead, each with the WAL range it\n"
"                             can reach (\"recoverable from ... to ..., timeline T\",\n"
"                             or the first missing segment), and the archived WAL's\n"
"                             totals; --json: {\"base_backups\": [...], \"wal\": [...]}\n"
"Exits 3 when no backup (with --wal: no base backup) matches.\n";

static const char help_info[] =
"ripple-backup info: one backup's metadata and per-table row counts.\n"
"\n"
"Usage:\n"
"  ripple-backup info ID|KEY|latest [--db NAME] [--system-id N] [--json]\n"
"\n"
"Options:\n"
"  --json                     the metadata document, with key, url, verify_status\n"
"                             and verification (the record beside the backup) added\n"
"  --encryption-key-file FILE also say whether FILE holds the backup's key\n"
"                             (see fetch)\n";

static const char help_fetch[] =
"ripple-backup fetch: download a backup, check its size and SHA-256 against the\n"
"metadata, and decompress it into FILE, a custom-format archive for pg_restore.\n"
"On any mismatch it fails with exit code 4 and leaves no FILE.\n"
"\n"
"Usage:\n"
"  ripple-backup fetch ID|KEY|latest -o FILE [--force]\n"
"\n"
"Options:\n"
"  -o, --output FILE          where to write the archive (written as FILE.partial-*,\n"
"                             renamed when complete)\n"
"  --force                    replace FILE if it exists\n"
"  --encryption-key-file FILE key file to decrypt an encrypted backup with; repeat\n"
"                             it (or give a comma-separated list) for old keys: the\n"
"                             key whose id the backup names is used\n"
"                             (RIPPLE_BACKUP_ENCRYPTION_KEY_FILE, config file\n"
"                             encryption_key_file).  The file holds a key, never\n"
"                             the command line.\n";

static const char help_decrypt[] =
"ripple-backup decrypt: download an encrypted backup, check its size and SHA-256\n"
"against the metadata, and decrypt it into FILE: the compressed archive as it\n"
"was before encryption (zstd -d, then pg_restore, read it).  Every chunk is\n"
"authenticated before it is written; on any failure no FILE is left.\n"
"\n"
"Usage:\n"
"  ripple-backup decrypt ID|KEY|latest -o FILE --encryption-key-file KEYFILE [--force]\n"
"\n"
"Options:\n"
"  -o, --output FILE          where to write (FILE.partial-* renamed when complete)\n"
"  --force                    replace FILE if it exists\n"
"  --encryption-key-file FILE the key file (repeatable; see fetch)\n";

static const char help_verify[] =
"ripple-backup verify: download a backup and check its size and SHA-256 against\n"
"the metadata.  With --archive, also decompress it, read the whole archive\n"
"(per-table row counts must match the metadata) and run \"pg_restore --list\" on it.\n"
"\n"
"Usage:\n"
"  ripple-backup verify ID|KEY|latest [--archive] [--json]\n"
"\n"
"Options:\n"
"  --archive                  also check the archive (needs pg_restore)\n"
"  --json                     the outcome as one JSON object on stdout (status,\n"
"                             exit_code, error, seconds, rows: the row-count verdict)\n"
"  --work-dir DIR             temporary archive for pg_restore (default $TMPDIR or /tmp)\n"
"  --pg-bindir DIR            where pg_restore is (default: beside ripple-backup, PATH)\n"
"  --encryption-key-file FILE key file for --archive of an encrypted backup (see\n"
"                             fetch); the size and SHA-256 check needs no key\n"
"Exits 4 when the backup does not verify.\n";

static const char help_restore[] =
"ripple-backup restore: download a backup, check it, restore it with pg_restore\n"
"into database NAME, then count the rows of every table the metadata lists and\n"
"compare; prints the time taken.  Exits 4 when a count differs.  The extension's\n"
"own tables (schema ripple_backup) are restored but not compared.\n"
"\n"
"Usage:\n"
"  ripple-backup restore ID|KEY|latest --dbname NAME [--create] [--jobs N] [--json]\n"
"\n"
"Options:\n"
"  --json                     the outcome as one JSON object on stdout (status,\n"
"                             exit_code, error, seconds of each step, rows: the\n"
"                             row-count comparison with each table that differs)\n"
"  -d, --dbname NAME          target database\n"
"  -C, --create               create NAME first (CREATE DATABASE ... TEMPLATE template0,\n"
"                             issued in --maintenance-db); it must not exist\n"
"  -j, --jobs N               parallel pg_restore jobs (default 1)\n"
"  --host HOST                server host or socket directory (else PGHOST; no\n"
"                             short form: -h is help, as in every command)\n"
"  -p, --port PORT            server port (else PGPORT)\n"
"  -U, --username NAME        user name (else PGUSER); the password comes from\n"
"                             PGPASSWORD or ~/.pgpass, never from the command line\n"
"  --role ROLE                restore and count as ROLE (pg_restore --role, SET ROLE);\n"
"                             with --create, ROLE owns the new database.  The dump's\n"
"                             code (CHECK constraints, index expressions, triggers,\n"
"                             materialized views) runs as this role, else as the\n"
"                             user, and can RESET ROLE to the user: restore a dump you\n"
"                             do not trust connected as a user without superuser\n"
"                             rights (its future owner, or a member of it with --role)\n"
"  -O, --no-owner             do not restore object ownership (pg_restore -O)\n"
"  -x, --no-privileges        do not restore privileges (pg_restore -x)\n"
"  --maintenance-db NAME      database to connect to for --create (default postgres)\n"
"  --work-dir DIR             where the decompressed archive is kept during the\n"
"                             restore (default $TMPDIR or /tmp; removed afterwards)\n"
"  --pg-bindir DIR            where pg_restore and psql are (default: beside\n"
"                             ripple-backup, then PATH)\n"
"  --encryption-key-file FILE key file of an encrypted backup (see fetch)\n";

static const char help_prune[] =
"ripple-backup prune: retention from the destination alone, with the server's\n"
"policy code: per database of each server (system identifier and incarnation),\n"
"never the newest verified backup (the newest one if none is verified), nothing\n"
"newer than it, no pinned backup (its \".pinned\" marker) and at least --min-keep\n"
"backups; ages count from the newest good backup.  Also deletes orphaned objects\n"
"(backup objects without metadata) older than --orphan-age.  Metadata objects are\n"
"deleted before their dumps.  Prints every decision with its reason.\n"
"\n"
"Usage:\n"
"  ripple-backup prune [--db NAME] [--system-id N] [--dry-run] [--retention 30d]\n"
"                      [--min-keep N] [--keep-daily N] [--keep-weekly N]\n"
"                      [--keep-monthly N] [--orphan-age 1d] [--json]\n"
"\n"
"Options:\n"
"  --dry-run                  only print what would be deleted and why the rest is kept\n"
"  --retention DURATION       delete backups older than this (default 30 days; 12h,\n"
"                             90s, \"2 weeks\" ...), as ripple_backup.retention\n"
"  --min-keep N               keep at least N backups per database (default 3)\n"
"  --keep-daily N, --keep-weekly N, --keep-monthly N\n"
"                             also keep the newest backup of each of the last N days,\n"
"                             ISO weeks, months that have one (default 0: off)\n"
"  --orphan-age DURATION      sweep orphans older than this (default 1 day)\n"
"  --json                     the decisions as a JSON array (backup_id, dbname,\n"
"                             timestamp, system_identifier, incarnation, key,\n"
"                             action, reason)\n"
"Exits 1 when a deletion failed (what failed is kept and said).\n";

static const char help_report[] =
"ripple-backup report: one self-contained HTML page (no external scripts, styles\n"
"or fonts) about the backups in the destination, from their metadata objects\n"
"alone: per database, whether the newest backup meets the recovery point\n"
"objective, charts of stored size, duration and compression ratio over time,\n"
"and the table of backups.\n"
"\n"
"Usage:\n"
"  ripple-backup report --html FILE [--db NAME] [--system-id N] [--rpo-target 25h]\n"
"                       [--force]\n"
"\n"
"Options:\n"
"  --html FILE                where to write the page (written to a temporary file\n"
"                             beside it, renamed when complete)\n"
"  --rpo-target DURATION      the recovery point objective to judge the newest backup\n"
"                             by (default 25 hours, as ripple_backup.rpo_target)\n"
"  --force                    replace FILE if it exists\n";

static const char help_keygen[] =
"ripple-backup keygen: a new random 256-bit key for backup encryption, as the\n"
"text of a key file (64 hex digits and a newline, docs/encryption-format.md).\n"
"Prints the key id (never the key) on stderr.  Needs no destination.\n"
"\n"
"Usage:\n"
"  ripple-backup keygen -o FILE         create FILE with mode 0600 (never replaced)\n"
"  ripple-backup keygen > FILE && chmod 600 FILE\n"
"\n"
"Options:\n"
"  -o, --output FILE          create FILE (mode 0600); fails if it exists\n"
"  -q, --quiet                do not print the key id\n"
"Keep a copy of the key away from the backups: without it they cannot be read.\n";

static const char help_wal_fetch[] =
"ripple-backup wal-fetch: restore one archived WAL file (a segment, a .partial\n"
"segment, a .history or .backup file) to PATH, as PostgreSQL's restore_command:\n"
"decrypted, decompressed, its size and SHA-256 checked against the metadata\n"
"written when it was archived, written to PATH.tmp-PID and renamed.  A file\n"
"that is not archived exits 1 with one line on stderr (recovery asks for such\n"
"files as part of its work); on any other failure nothing is left at PATH and\n"
"the exit code is above 125, which makes PostgreSQL stop recovery rather than\n"
"take a damaged or unreachable archive for its end.\n"
"\n"
"Usage:\n"
"  ripple-backup wal-fetch FILE PATH --system-identifier N [--incarnation X ...]\n"
"  restore_command = 'ripple-backup wal-fetch %f %p --system-identifier N'\n"
"\n"
"Options:\n"
"  --system-identifier N      the server's system identifier (required; also --system-id)\n"
"  --incarnation X            search only this incarnation (16 hex digits); repeat it\n"
"                             for several, searched in order, the first that holds\n"
"                             the file wins.  Default: every incarnation of the\n"
"                             system identifier; a file found under several with\n"
"                             different content is then refused\n"
"  --encryption-key-file FILE key file of encrypted WAL (see fetch)\n"
"Exit codes of wal-fetch: 0 restored, 1 not archived, 200 + the usual code for\n"
"any other failure (201 error, 202 usage or configuration, 203 destination not\n"
"found, 204 integrity: size, checksum, decryption or decompression).\n";

static const char help_restore_pitr[] =
"ripple-backup restore-pitr: a point-in-time restore into a new data directory:\n"
"chooses the newest physical base backup that ends before the target, streams\n"
"it into DIR (fetch, decrypt, zstd -d, tar -x; no temporary copy), and writes\n"
"the recovery settings to DIR/postgresql.auto.conf (restore_command running\n"
"\"ripple-backup wal-fetch\", the target, recovery_target_timeline = 'latest',\n"
"recovery_target_action) and DIR/recovery.signal.  Prints how to start the\n"
"server, or starts it (--start).\n"
"\n"
"Usage:\n"
"  ripple-backup restore-pitr --pgdata DIR (--target-time T | --target-lsn L |\n"
"                             --target-name N | --latest) [--base ID|latest]\n"
"                             [--target-action pause|promote|shutdown] [--start]\n"
"\n"
"Options:\n"
"  --pgdata DIR               the new data directory: created with mode 0700, or\n"
"                             an empty existing one\n"
"  --target-time T            recover up to T, with its time zone\n"
"                             (\"2026-12-03 07:14:12+00\", \"...Z\", \"... UTC\")\n"
"  --target-lsn L             recover up to WAL position L (\"0/5000028\")\n"
"  --target-name N            recover up to the restore point N\n"
"                             (pg_create_restore_point); the newest base backup is\n"
"                             used unless --base names one taken before N\n"
"  --latest                   recover to the end of the archived WAL, newest timeline\n"
"  --base ID|latest           this base backup (its id) instead of the chosen one\n"
"  --target-action A          at the target: pause (default), promote or shutdown\n"
"  --start                    start the server (pg_ctl start -w) and wait for it\n"
"  -p, --port PORT            with --start: the port the server listens on\n"
"  --pg-bindir DIR            where pg_ctl is (default: beside ripple-backup, PATH)\n"
"  --incarnation X            passed to wal-fetch (see its help)\n"
"  --encryption-key-file FILE key file of encrypted WAL and base backups (see fetch)\n";

void
cli_print_help(cli_command cmd)
{
	switch (cmd)
	{
		case CLI_CMD_NONE:
			fputs(help_overview, stdout);
			break;
		case CLI_CMD_LIST:
			fputs(help_list, stdout);
			break;
		case CLI_CMD_INFO:
			fputs(help_info, stdout);
			break;
		case CLI_CMD_FETCH:
			fputs(help_fetch, stdout);
			break;
		case CLI_CMD_VERIFY:
			fputs(help_verify, stdout);
			break;
		case CLI_CMD_RESTORE:
			fputs(help_restore, stdout);
			break;
		case CLI_CMD_PRUNE:
			fputs(help_prune, stdout);
			break;
		case CLI_CMD_REPORT:
			fputs(help_report, stdout);
			break;
		case CLI_CMD_KEYGEN:
			fputs(help_keygen, stdout);
			return;				/* no destination options */
		case CLI_CMD_DECRYPT:
			fputs(help_decrypt, stdout);
			break;
		case CLI_CMD_WAL_FETCH:
			fputs(help_wal_fetch, stdout);
			break;
		case CLI_CMD_RESTORE_PITR:
			fputs(help_restore_pitr, stdout);
			break;
	}
	fputs(help_common, stdout);
}
