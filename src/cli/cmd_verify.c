/*
 * cmd_verify.c — "ripple-backup verify": the stored object against its metadata
 * (size and SHA-256); with --archive also the archive itself: it decompresses,
 * parses to the end with the same per-table row counts as the metadata, and
 * pg_restore --list reads it (an encrypted backup is decrypted on the way, with
 * --encryption-key-file; the size and SHA-256 are of the stored bytes and need
 * no key).  --json: the outcome as one JSON object (cli_result.h) instead of the
 * sentence.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_fetch.h"
#include "cli_format.h"
#include "cli_pgtools.h"
#include "cli_progress.h"
#include "cli_report.h"
#include "cli_result.h"
#include "cli_tempfile.h"
#include "pgdump_archive.h"
#include "verify_archive.h"
#include "rb_time.h"

static int
verify_archive(cli_ctx *ctx, const cli_backup *b, const char *desc, cli_result *result)
{
	const cli_args *args = ctx->args;
	const char *work = cli_work_dir(args->work_dir);
	char	   *pg_restore;
	cli_tempfile tmp = {NULL, -1};
	cli_fetch_options fo;
	rb_fetch_result res;
	rb_archive_parser *parser = NULL;
	rb_buf		report = RB_BUF_INIT;
	rb_error	err;
	int			entries = 0;
	int			table_data = 0;
	int			listed;
	rb_pg_run_options run;
	cli_progress spinner;
	size_t		diffs;
	int			rc = CLI_EXIT_OK;
	char		s1[32],
				s2[32];
	double		t0 = rb_now_seconds();

	rb_error_clear(&err);
	pg_restore = cli_find_pg_program("pg_restore", args->pg_bindir, &err);
	if (pg_restore == NULL)
		return cli_fail(&err);
	if (cli_check_free_space(work, b->meta.uncompressed_bytes, &err) != 0 ||
		cli_tempfile_create(&tmp, work, "ripple-backup-verify-", ".dump", &err) != 0)
	{
		free(pg_restore);
		rc = cli_fail(&err);
		cli_hint("Choose another directory with --work-dir.");
		return rc;
	}
	parser = rb_archive_parser_new();
	memset(&fo, 0, sizeof(fo));
	rc = cli_ctx_keyring(ctx, &fo.keyring);
	if (rc != CLI_EXIT_OK)
		goto done;
	fo.out_fd = tmp.fd;
	fo.out_name = tmp.path;
	fo.parser = parser;
	fo.progress_label = "verify";
	if (cli_fetch(ctx->dest, b, &fo, &ctx->hooks, &res, &err) != 0)
	{
		rc = cli_fail(&err);
		goto done;
	}
	result->download_s = res.seconds;
	result->expected = &b->meta.table_counts;
	result->archive = rb_archive_parser_counts(parser);
	diffs = rb_verify_compare_counts(&b->meta.table_counts, rb_archive_parser_counts(parser), &report);
	if (diffs > 0)
	{
		rb_error_set(&err, RB_ERR_INTEGRITY, "%s does not verify: %zu table%s of the archive differ from the metadata",
					 desc, diffs, diffs == 1 ? "" : "s");
		cli_error("%s", err.msg);
		fputs(rb_buf_str(&report), stderr);
		rc = CLI_EXIT_VERIFY;
		goto done;
	}
	memset(&run, 0, sizeof(run));
	cli_progress_spinner(&spinner, "pg_restore -l", &run.tick, &run.tick_arg);
	listed = rb_verify_list_archive(pg_restore, tmp.path, &run, NULL, &entries, &table_data,
									&ctx->hooks, &err);
	cli_progress_finish(&spinner);
	if (listed != 0)
	{
		if (err.code == RB_ERR_INTEGRITY)
			rb_error_prefix(&err, "pg_restore --list rejected the archive: ");
		rc = cli_fail(&err);
		goto done;
	}
	rb_format_bytes(res.stored_bytes, s1, sizeof(s1));
	cli_format_duration(rb_now_seconds() - t0, s2, sizeof(s2));
	if (!args->quiet && !args->json)
		printf("%s verified: size (%s) and sha256 match; the archive %sdecompresses, its %zu tables "
			   "hold the recorded %" PRId64 " rows, and pg_restore lists its %d entries (%s)\n",
			   desc, s1, rb_backup_metadata_encrypted(&b->meta) ? "decrypts, " : "",
			   b->meta.table_counts.n, rb_table_counts_total(&b->meta.table_counts),
			   entries, s2);

done:
	result->exit_code = rc;
	result->total_s = rb_now_seconds() - t0;
	if (rc != CLI_EXIT_OK)
		result->error = err.msg;
	if (args->json)
	{
		result->fetch = result->download_s >= 0 ? &res : NULL;
		cli_result_print_json(result);
	}
	cli_tempfile_remove(&tmp);
	if (parser)
		rb_archive_parser_free(parser);
	rb_buf_free(&report);
	free(pg_restore);
	return rc;
}

int
cli_cmd_verify(cli_ctx *ctx)
{
	cli_catalog cat;
	const cli_backup *b;
	cli_fetch_options fo;
	rb_fetch_result res;
	rb_error	err;
	cli_result	result;
	char		desc[512],
				s1[32],
				s2[32];
	int			rc;

	cli_result_init(&result, "verify", "verified");
	rc = cli_ctx_find_backup(ctx, &cat, &b);
	if (rc != CLI_EXIT_OK)
	{
		result.exit_code = rc;
		if (ctx->args->json)
			cli_result_print_json(&result);
		return rc;
	}
	result.backup = b;
	cli_describe_backup(b, desc, sizeof(desc));
	if (ctx->args->archive && rb_backup_metadata_is_physical(&b->meta))
	{
		cli_error("%s is a physical base backup; --archive reads pg_dump archives, verify it without --archive", desc);
		cli_catalog_free(&cat);
		return CLI_EXIT_USAGE;
	}
	if (ctx->args->archive)
	{
		rc = verify_archive(ctx, b, desc, &result);
		cli_catalog_free(&cat);
		return rc;
	}
	memset(&fo, 0, sizeof(fo));
	fo.out_fd = -1;
	fo.progress_label = "verify";
	rb_error_clear(&err);
	if (cli_fetch(ctx->dest, b, &fo, &ctx->hooks, &res, &err) != 0)
	{
		rc = cli_fail(&err);
		result.exit_code = rc;
		result.error = err.msg;
		if (ctx->args->json)
			cli_result_print_json(&result);
		cli_catalog_free(&cat);
		return rc;
	}
	rb_format_bytes(res.stored_bytes, s1, sizeof(s1));
	cli_format_duration(res.seconds, s2, sizeof(s2));
	result.fetch = &res;
	result.download_s = result.total_s = res.seconds;
	if (ctx->args->json)
		cli_result_print_json(&result);
	else if (!ctx->args->quiet)
		printf("%s verified: size (%s) and sha256 %s match the metadata (%s)%s%s%s\n",
			   desc, s1, res.sha256, s2,
			   rb_backup_metadata_encrypted(&b->meta) ? "; encrypted with key " : "",
			   rb_backup_metadata_encrypted(&b->meta) ? b->meta.key_id : "",
			   rb_backup_metadata_encrypted(&b->meta) ? ", the stored bytes were checked without decrypting" : "");
	cli_catalog_free(&cat);
	return CLI_EXIT_OK;
}
