/*
 * cmd_wal_fetch.c — "ripple-backup wal-fetch FILE PATH": PostgreSQL's
 * restore_command.  Restores one archived WAL file through src/core's
 * wal_fetch.h (the one implementation of reading WAL back) and turns its
 * outcome into the exit codes recovery understands: 0 restored, 1 not
 * archived (one line on stderr: recovery asks for such files as part of its
 * work), and CLI_EXIT_WAL_FATAL + the usual code for every other failure, so
 * that a damaged or unreachable archive stops recovery instead of ending it
 * early.  Runs as the server's OS user in the server's environment: the
 * destination and key files come from the command line's non-secret flags,
 * RIPPLE_BACKUP_* variables or the config file, credentials from the
 * s3_credentials_file or the AWS_* environment, as for every command.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_report.h"
#include "wal_fetch.h"

int
cli_cmd_wal_fetch(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	rb_wal_fetch_params p;
	rb_wal_fetch_result res;
	const rb_keyring *ring = NULL;
	rb_error	err;
	int			rc;

	if (!args->has_system_id)
	{
		cli_error("wal-fetch needs the server's system identifier: --system-identifier N");
		return CLI_EXIT_WAL_FATAL + CLI_EXIT_USAGE;
	}
	rc = cli_ctx_keyring(ctx, &ring);
	if (rc != CLI_EXIT_OK)
		return CLI_EXIT_WAL_FATAL + rc;

	memset(&p, 0, sizeof(p));
	p.dest = ctx->dest;
	p.system_identifier = args->system_id;
	p.incarnations = args->incarnations;
	p.n_incarnations = args->n_incarnations;
	p.file_name = args->wal_file;
	p.path = args->wal_path;
	p.keyring = ring;
	rb_error_clear(&err);
	if (rb_wal_fetch_file(&p, &res, &ctx->hooks, &err) != 0)
	{
		cli_error("%s", err.msg);
		if (err.code == RB_ERR_NOT_FOUND)
			return CLI_EXIT_WAL_NOT_ARCHIVED;
		if (err.code == RB_ERR_AUTH && strstr(err.msg, "encrypt") != NULL)
			cli_hint("Give the key file with --encryption-key-file in restore_command, RIPPLE_BACKUP_ENCRYPTION_KEY_FILE or encryption_key_file in the config file.");
		return CLI_EXIT_WAL_FATAL + cli_exit_for_error(err.code);
	}
	if (args->verbose)
		cli_info("restored WAL file \"%s\" from incarnation %s: %" PRIu64 " bytes from %" PRIu64 " stored, SHA-256 %s, %.2f s",
				 args->wal_file, res.incarnation, res.original_bytes, res.stored_bytes,
				 res.original_sha256, res.seconds);
	return CLI_EXIT_OK;
}
