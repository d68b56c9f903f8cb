/*
 * main.c — ripple-backup, the disaster-recovery tool of ripple_backup: lists,
 * checks and restores the backups in a destination without the database server
 * that took them.  Linked with src/core only (never postgres.h, never libpq).
 * This file parses the command line and dispatches to the commands (cmd_*.c);
 * docs/cli.md is the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli_args.h"
#include "cli_commands.h"
#include "cli_context.h"
#include "cli_exit.h"
#include "cli_progress.h"
#include "cli_report.h"
#include "rb_alloc.h"
#include "version.h"

/* Every allocation failure of src/core and the CLI ends here (rb_alloc.h). */
static void
out_of_memory(size_t size)
{
	static const char msg[] = CLI_PROGNAME ": out of memory\n";

	(void) size;
	/* write(2), not stdio: stdio may itself need memory */
	(void) !write(STDERR_FILENO, msg, sizeof(msg) - 1);
	exit(CLI_EXIT_ERROR);
}

int
main(int argc, char **argv)
{
	cli_args	args;
	cli_ctx		ctx;
	int			rc;

	rb_alloc_set_failure_handler(out_of_memory);
	rc = cli_args_parse(argc, argv, &args);
	if (rc != CLI_EXIT_OK)
	{
		if (args.command == CLI_CMD_WAL_FETCH)
			rc += CLI_EXIT_WAL_FATAL;	/* a bad restore_command must stop recovery */
		cli_args_free(&args);
		return rc;
	}
	if (args.help)
	{
		cli_print_help(args.command);
		cli_args_free(&args);
		return CLI_EXIT_OK;
	}
	if (args.command == CLI_CMD_NONE)
	{
		printf("%s %s\n", CLI_PROGNAME, RB_EXTENSION_VERSION);
		cli_args_free(&args);
		return CLI_EXIT_OK;
	}

	cli_report_set_verbosity(args.quiet, args.verbose);
	cli_progress_set_enabled(args.progress == 1 ||
							 (args.progress < 0 && !args.quiet && isatty(STDERR_FILENO)));
	cli_report_set_clear_line(cli_progress_clear_line);
	cli_install_signal_handlers();

	if (args.command == CLI_CMD_KEYGEN)
	{
		rc = cli_cmd_keygen(&args);
		cli_args_free(&args);
		return rc;
	}

	rc = cli_ctx_open(&ctx, &args);
	if (rc == CLI_EXIT_OK)
	{
		switch (args.command)
		{
			case CLI_CMD_LIST:
				rc = cli_cmd_list(&ctx);
				break;
			case CLI_CMD_INFO:
				rc = cli_cmd_info(&ctx);
				break;
			case CLI_CMD_FETCH:
				rc = cli_cmd_fetch(&ctx);
				break;
			case CLI_CMD_VERIFY:
				rc = cli_cmd_verify(&ctx);
				break;
			case CLI_CMD_RESTORE:
				rc = cli_cmd_restore(&ctx);
				break;
			case CLI_CMD_PRUNE:
				rc = cli_cmd_prune(&ctx);
				break;
			case CLI_CMD_REPORT:
				rc = cli_cmd_report(&ctx);
				break;
			case CLI_CMD_DECRYPT:
				rc = cli_cmd_decrypt(&ctx);
				break;
			case CLI_CMD_WAL_FETCH:
				rc = cli_cmd_wal_fetch(&ctx);
				break;
			case CLI_CMD_RESTORE_PITR:
				rc = cli_cmd_restore_pitr(&ctx);
				break;
			case CLI_CMD_NONE:
			case CLI_CMD_KEYGEN:
				break;
		}
	}
	else if (args.command == CLI_CMD_WAL_FETCH)
		rc += CLI_EXIT_WAL_FATAL;	/* no destination: recovery must stop, not end */
	cli_ctx_close(&ctx);
	cli_args_free(&args);
	if (cli_interrupted() && rc == CLI_EXIT_OK)
		rc = args.command == CLI_CMD_WAL_FETCH ? CLI_EXIT_WAL_FATAL + CLI_EXIT_ERROR : CLI_EXIT_ERROR;
	return rc;
}
