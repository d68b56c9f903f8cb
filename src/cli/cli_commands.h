/*
 * cli_commands.h — the commands of ripple-backup.  Each takes the open
 * context and returns the process exit code (cli_exit.h), having printed its
 * result to stdout and any problem to stderr.
 */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include "cli_args.h"
#include "cli_context.h"

int			cli_cmd_list(cli_ctx *ctx);
int			cli_cmd_info(cli_ctx *ctx);
int			cli_cmd_fetch(cli_ctx *ctx);
int			cli_cmd_verify(cli_ctx *ctx);
int			cli_cmd_restore(cli_ctx *ctx);
int			cli_cmd_prune(cli_ctx *ctx);
int			cli_cmd_report(cli_ctx *ctx);
int			cli_cmd_decrypt(cli_ctx *ctx);
int			cli_cmd_wal_fetch(cli_ctx *ctx);
int			cli_cmd_restore_pitr(cli_ctx *ctx);

/* keygen needs no destination: it runs without a context */
int			cli_cmd_keygen(const cli_args *args);

#endif							/* CLI_COMMANDS_H */
