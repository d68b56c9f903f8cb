/*
 * cli_context.c — settings, destination and backup lookup shared by the commands
 * (see cli_context.h).
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_context.h"
#include "cli_exit.h"
#include "cli_format.h"
#include "cli_report.h"

static volatile sig_atomic_t interrupted = 0;

static void
on_signal(int sig)
{
	(void) sig;
	interrupted = 1;
}

void
cli_install_signal_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

bool
cli_interrupted(void)
{
	return interrupted != 0;
}

static bool
cancel_hook(void *arg)
{
	(void) arg;
	return interrupted != 0;
}

static const char *
real_getenv(const char *name)
{
	return getenv(name);
}

int
cli_ctx_open(cli_ctx *ctx, const cli_args *args)
{
	cli_settings env_layer,
				file_layer;
	rb_destination_options opt;
	rb_error	err;
	bool		required;
	char	   *path;
	int			rc = CLI_EXIT_OK;

	memset(ctx, 0, sizeof(*ctx));
	ctx->args = args;
	ctx->hooks.log = cli_log_hook;
	ctx->hooks.cancel = cancel_hook;
	cli_settings_init(&ctx->settings);
	cli_settings_init(&env_layer);
	cli_settings_init(&file_layer);
	rb_error_clear(&err);

	if (cli_settings_from_env(&env_layer, real_getenv, &err) != 0)
	{
		cli_error("%s", err.msg);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	path = cli_config_path(args->config_file, real_getenv, NULL, &required);
	if (path != NULL)
	{
		if (cli_settings_read_config(&file_layer, path, &err) != 0 &&
			(required || err.code != RB_ERR_NOT_FOUND))
		{
			cli_error("%s", err.msg);
			free(path);
			rc = err.code == RB_ERR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_ERROR;
			goto out;
		}
		free(path);
	}
	cli_settings_merge(&ctx->settings, &args->flags, &env_layer, &file_layer, real_getenv);
	if (ctx->settings.destination == NULL || ctx->settings.destination[0] == '\0')
	{
		cli_error("no destination configured");
		cli_hint("Give --destination s3://bucket/prefix or file:///directory, set RIPPLE_BACKUP_DESTINATION, or write \"destination = ...\" in ~/.config/ripple-backup.conf.");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	cli_settings_to_options(&ctx->settings, &opt);
	opt.s3_log_requests = args->verbose;	/* -v: every S3 request and its status */
	ctx->dest = rb_destination_open(ctx->settings.destination, &opt, &ctx->hooks, &err);
	if (ctx->dest == NULL)
	{
		rc = cli_fail(&err);
		goto out;
	}
	ctx->url = rb_destination_url(ctx->dest);
	if (rb_destination_get_kind(ctx->dest) == RB_DEST_FILE &&
		strncmp(ctx->url, "file://", 7) == 0)
	{
		struct stat st;
		const char *dir = ctx->url + 7;

		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		{
			cli_error("destination directory \"%s\" does not exist", dir);
			rc = CLI_EXIT_NOT_FOUND;
			goto out;
		}
	}

out:
	cli_settings_free(&env_layer);
	cli_settings_free(&file_layer);
	return rc;
}

void
cli_ctx_close(cli_ctx *ctx)
{
	if (ctx->dest)
		rb_destination_close(ctx->dest);
	ctx->dest = NULL;
	if (ctx->keyring != NULL)
	{
		rb_keyring_wipe(ctx->keyring);
		free(ctx->keyring);
		ctx->keyring = NULL;
	}
	cli_settings_free(&ctx->settings);
}

typedef struct key_load
{
	rb_keyring *ring;
	rb_error	err;
} key_load;

static int
load_key_file(void *arg, const char *path)
{
	key_load   *kl = arg;

	return rb_keyring_add_file(kl->ring, path, &kl->err) == 0 ? 0 : -1;
}

int
cli_ctx_keyring(cli_ctx *ctx, const rb_keyring **ring)
{
	key_load	kl;

	if (ctx->keyring == NULL)
	{
		kl.ring = calloc(1, sizeof(rb_keyring));
		if (kl.ring == NULL)
		{
			cli_error("out of memory");
			return CLI_EXIT_ERROR;
		}
		rb_keyring_init(kl.ring);
		rb_error_clear(&kl.err);
		if (cli_key_files_each(ctx->settings.encryption_key_file, load_key_file, &kl) != 0 ||
			cli_key_files_each(ctx->settings.decryption_key_files, load_key_file, &kl) != 0)
		{
			rb_keyring_wipe(kl.ring);
			free(kl.ring);
			cli_error("%s", kl.err.msg);
			cli_hint("A key file holds one key (64 hex digits or base64, as \"ripple-backup keygen\" writes it) and is readable by its owner only (chmod 600).");
			return CLI_EXIT_USAGE;
		}
		ctx->keyring = kl.ring;
	}
	*ring = ctx->keyring;
	return CLI_EXIT_OK;
}

static int
report_lookup_error(const rb_error *err)
{
	int			code = cli_fail(err);
	const char *hint = cli_resolve_hint(err);

	if (hint && err->code != RB_ERR_NETWORK && err->code != RB_ERR_AUTH)
		cli_hint("%s", hint);
	return code;
}

int
cli_ctx_load_catalog(cli_ctx *ctx, cli_catalog *cat)
{
	rb_error	err;

	rb_error_clear(&err);
	if (cli_catalog_load(ctx->dest, &ctx->hooks, cat, &err) != 0)
	{
		rb_error_prefix(&err, "could not list backups in %s: ", ctx->url);
		return cli_fail(&err);
	}
	return CLI_EXIT_OK;
}

int
cli_ctx_find_backup(cli_ctx *ctx, cli_catalog *cat, const cli_backup **backup)
{
	cli_selector sel;
	cli_filter	filter;
	rb_error	err;
	long		idx;
	int			rc;

	memset(cat, 0, sizeof(*cat));
	rb_error_clear(&err);
	if (cli_selector_parse(ctx->args->selector, ctx->url, &sel, &err) != 0)
		return cli_fail(&err);

	if (sel.kind == CLI_SELECT_KEY)
	{
		/* a key names its metadata object directly: no listing needed */
		cat->items = calloc(1, sizeof(cli_backup));
		if (cat->items == NULL)
		{
			cli_selector_free(&sel);
			cli_error("out of memory");
			return CLI_EXIT_ERROR;
		}
		if (cli_backup_load(ctx->dest, sel.key, &cat->items[0], &err) != 0)
		{
			cli_backup_free(&cat->items[0]);
			free(cat->items);
			cat->items = NULL;
			cli_selector_free(&sel);
			rc = cli_fail(&err);
			if (err.code == RB_ERR_NOT_FOUND)
				cli_hint("\"ripple-backup list --long\" shows the keys of complete backups.");
			return rc;
		}
		cat->n = 1;
		*backup = &cat->items[0];
		cli_selector_free(&sel);
		return CLI_EXIT_OK;
	}

	rc = cli_ctx_load_catalog(ctx, cat);
	if (rc != CLI_EXIT_OK)
	{
		cli_selector_free(&sel);
		return rc;
	}
	filter.dbname = ctx->args->db;
	filter.has_system_id = ctx->args->has_system_id;
	filter.system_identifier = ctx->args->system_id;
	idx = cli_resolve(cat->refs, cat->n, &sel, &filter, ctx->url, &err);
	cli_selector_free(&sel);
	if (idx < 0)
	{
		cli_catalog_free(cat);
		return report_lookup_error(&err);
	}
	*backup = &cat->items[idx];
	return CLI_EXIT_OK;
}

void
cli_describe_backup(const cli_backup *b, char *out, size_t len)
{
	char		t[40];

	cli_format_time(b->meta.timestamp, t, sizeof(t));
	snprintf(out, len, "backup %" PRId64 " of database \"%s\" taken %s UTC",
			 b->meta.backup_id, b->meta.dbname ? b->meta.dbname : "?", t);
}
