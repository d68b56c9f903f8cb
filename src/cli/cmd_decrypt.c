/*
 * cmd_decrypt.c — "ripple-backup decrypt": download an encrypted backup, prove
 * its stored bytes against the metadata (size and SHA-256), and decrypt them
 * into FILE: the compressed archive exactly as it was before encryption (a
 * .dump.zst that stock zstd and then pg_restore read).  Each chunk is
 * authenticated before it is written, and FILE appears (renamed from
 * FILE.partial-XXXXXX) only when the whole stream decrypted to its final chunk.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_fetch.h"
#include "cli_format.h"
#include "cli_report.h"
#include "cli_tempfile.h"
#include "rb_alloc.h"

int
cli_cmd_decrypt(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	cli_catalog cat;
	const cli_backup *b;
	cli_tempfile tmp = {NULL, -1};
	cli_fetch_options fo;
	rb_fetch_result res;
	struct stat st;
	rb_error	err;
	char	   *dir;
	char	   *prefix;
	const char *base;
	char		desc[512],
				s1[32],
				s2[32];
	int			rc;

	if (!args->force && stat(args->output, &st) == 0)
	{
		cli_error("output file \"%s\" already exists", args->output);
		cli_hint("Remove it, choose another name, or use --force to replace it.");
		return CLI_EXIT_ERROR;
	}
	memset(&fo, 0, sizeof(fo));
	rc = cli_ctx_keyring(ctx, &fo.keyring);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_ctx_find_backup(ctx, &cat, &b);
	if (rc != CLI_EXIT_OK)
		return rc;
	cli_describe_backup(b, desc, sizeof(desc));
	if (!rb_backup_metadata_encrypted(&b->meta))
	{
		cli_error("%s is not encrypted", desc);
		cli_hint("\"ripple-backup fetch\" downloads and decompresses it.");
		cli_catalog_free(&cat);
		return CLI_EXIT_USAGE;
	}

	rb_error_clear(&err);
	dir = cli_dirname(args->output);
	base = strrchr(args->output, '/') ? strrchr(args->output, '/') + 1 : args->output;
	prefix = rb_malloc(strlen(base) + 16);
	sprintf(prefix, "%s.partial-", base);
	if (cli_check_free_space(dir, b->meta.size_bytes, &err) != 0 ||
		cli_tempfile_create(&tmp, dir, prefix, "", &err) != 0)
	{
		free(dir);
		free(prefix);
		cli_catalog_free(&cat);
		return cli_fail(&err);
	}
	free(dir);
	free(prefix);

	fo.out_fd = tmp.fd;
	fo.out_name = tmp.path;
	fo.progress_label = "decrypt";
	fo.raw = true;
	if (cli_fetch(ctx->dest, b, &fo, &ctx->hooks, &res, &err) != 0 ||
		cli_tempfile_commit(&tmp, args->output, &err) != 0)
	{
		cli_tempfile_remove(&tmp);
		rc = cli_fail(&err);
		if (err.code == RB_ERR_INTEGRITY)
			cli_detail("Nothing was written to \"%s\". The stored object does not match the metadata written when the backup was taken, or does not authenticate; use another backup.", args->output);
		cli_catalog_free(&cat);
		return rc;
	}
	rb_format_bytes(res.archive_bytes, s1, sizeof(s1));
	rb_format_bytes(res.stored_bytes, s2, sizeof(s2));
	if (!args->quiet)
		printf("decrypted %s into \"%s\": %s %s archive from %s stored with key %s, size and sha256 match\n",
			   desc, args->output, s1, b->meta.compression ? b->meta.compression : "?", s2,
			   b->meta.key_id);
	cli_catalog_free(&cat);
	return CLI_EXIT_OK;
}
