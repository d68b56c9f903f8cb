/*
 * cli_context.h — what every ripple-backup command starts from: the merged
 * settings, the hooks (log to stderr, cancel on SIGINT/SIGTERM), the open
 * destination, and the one backup the operator named.
 */
#ifndef CLI_CONTEXT_H
#define CLI_CONTEXT_H

#include "cli_args.h"
#include "cli_catalog.h"
#include "cli_config.h"
#include "dest.h"
#include "encrypt_key.h"

typedef struct cli_ctx
{
	const cli_args *args;
	cli_settings settings;
	rb_hooks	hooks;
	rb_destination *dest;
	const char *url;			/* the destination's URL, for messages */
	rb_keyring *keyring;		/* the key files' keys, once loaded (cli_ctx_keyring) */
} cli_ctx;

/* Installs SIGINT/SIGTERM handlers that ask running operations to stop. */
void		cli_install_signal_handlers(void);
/* True once SIGINT or SIGTERM arrived. */
bool		cli_interrupted(void);

/*
 * Reads the settings (flags > environment > config file) and opens the
 * destination.  Returns CLI_EXIT_OK, or an exit code after printing the error.
 */
int			cli_ctx_open(cli_ctx *ctx, const cli_args *args);
void		cli_ctx_close(cli_ctx *ctx);

/*
 * Finds the backup args->selector names (with --db and --system-id).  On success
 * cat holds it and *backup points into cat; free cat with cli_catalog_free.
 * Returns CLI_EXIT_OK or an exit code after printing the error (and a hint).
 */
int			cli_ctx_find_backup(cli_ctx *ctx, cli_catalog *cat, const cli_backup **backup);

/* Loads the whole catalog; returns CLI_EXIT_OK or an exit code after printing. */
int			cli_ctx_load_catalog(cli_ctx *ctx, cli_catalog *cat);

/*
 * The keys of the key files the settings name (encryption_key_file, then
 * decryption_key_files), loaded on first use and wiped by cli_ctx_close.
 * Returns CLI_EXIT_OK (*ring may hold no key when none is configured), or
 * CLI_EXIT_USAGE after printing which file is refused and why.
 */
int			cli_ctx_keyring(cli_ctx *ctx, const rb_keyring **ring);

/* "backup 7 of database "app" taken 2026-11-26 04:00:00 UTC" into out. */
void		cli_describe_backup(const cli_backup *b, char *out, size_t len);

#endif							/* CLI_CONTEXT_H */
