/*
 * cmd_fetch.c — "ripple-backup fetch": download a backup, prove it against its
 * metadata, and leave the decompressed (and, for an encrypted backup, decrypted)
 * archive in FILE for pg_restore.  The
 * archive is written to FILE.partial-XXXXXX beside FILE and renamed only when the
 * size, the SHA-256 and the decompression all succeeded: a failure leaves no FILE.
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
cli_cmd_fetch(cli_ctx *ctx)
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
	char		desc[512],
				s1[32],
				s2[32],
				s3[32];
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

	rb_error_clear(&err);
	dir = cli_dirname(args->output);
	prefix = rb_malloc(strlen(args->output) + 16);
	sprintf(prefix, "%s.partial-", strrchr(args->output, '/') ? strrchr(args->output, '/') + 1 : args->output);
	if (cli_check_free_space(dir, b->meta.uncompressed_bytes, &err) != 0 ||
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
	fo.progress_label = "fetch";
	if (cli_fetch(ctx->dest, b, &fo, &ctx->hooks, &res, &err) != 0 ||
		cli_tempfile_commit(&tmp, args->output, &err) != 0)
	{
		cli_tempfile_remove(&tmp);
		rc = cli_fail(&err);
		if (err.code == RB_ERR_INTEGRITY)
			cli_detail("Nothing was written to \"%s\". The stored object does not match the metadata written when the backup was taken; use another backup.", args->output);
		cli_catalog_free(&cat);
		return rc;
	}
	rb_format_bytes(res.archive_bytes, s1, sizeof(s1));
	rb_format_bytes(res.stored_bytes, s2, sizeof(s2));
	cli_format_duration(res.seconds, s3, sizeof(s3));
	if (!args->quiet)
		printf("fetched %s into \"%s\": %s archive from %s stored, size and sha256 match, %s\n",
			   desc, args->output, s1, s2, s3);
	cli_catalog_free(&cat);
	return CLI_EXIT_OK;
}
