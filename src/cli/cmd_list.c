/*
 * cmd_list.c — "ripple-backup list": the backups in the destination, newest
 * first, as a table or as a JSON array.  VERIFY is the latest verification
 * recorded beside the backup ("<key>.verify.json"): the level it passed at,
 * "FAILED (level)", or "-" when none is recorded.  The INCARNATION column tells apart the
 * servers that share a system identifier (a promoted standby, a clone); a backup
 * written before incarnations were recorded shows "-".  When any listed backup is
 * encrypted, an ENCRYPTION column after LABEL shows the id of the key each one
 * needs ("-": not encrypted); without encrypted backups the table is unchanged.
 * --wal lists the base backups and the WAL range each can reach instead
 * (cli_list_wal.c).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_format.h"
#include "cli_json.h"
#include "cli_list_wal.h"
#include "cli_report.h"
#include "cli_table.h"

int
cli_cmd_list(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	cli_catalog cat;
	cli_filter	filter = {args->db, args->has_system_id, args->system_id};
	size_t		shown = 0;
	int			rc;

	if (args->wal)
		return cli_list_wal(ctx);
	rc = cli_ctx_load_catalog(ctx, &cat);
	if (rc != CLI_EXIT_OK)
		return rc;

	if (args->json)
	{
		rb_buf		out = RB_BUF_INIT;

		rb_buf_append_str(&out, "[");
		for (size_t i = 0; i < cat.n; i++)
		{
			char	   *url;

			if (!cli_filter_match(&filter, &cat.refs[i]))
				continue;
			url = rb_destination_url_for(ctx->dest, cat.items[i].key);
			rb_buf_append_str(&out, shown ? ",\n " : "\n ");
			cli_json_backup(&out, &cat.items[i], url, false);
			free(url);
			shown++;
		}
		rb_buf_append_str(&out, shown ? "\n]\n" : "]\n");
		fputs(rb_buf_str(&out), stdout);
		rb_buf_free(&out);
	}
	else
	{
		static const bool right_short[] = {false, false, true, true, true, false, true, false, false};
		static const bool right_long[] = {false, false, true, true, true, false, true, false, false,
		false, true, false, false};
		/* the same with ENCRYPTION after LABEL */
		static const bool right_short_enc[] = {false, false, true, true, true, false, true, false, false,
		false};
		static const bool right_long_enc[] = {false, false, true, true, true, false, true, false, false,
		false, false, true, false, false};
		bool		any_encrypted = false;
		cli_table	t;

		for (size_t i = 0; i < cat.n; i++)
			if (cli_filter_match(&filter, &cat.refs[i]) &&
				rb_backup_metadata_encrypted(&cat.items[i].meta))
				any_encrypted = true;
		cli_table_init(&t, (args->long_format ? 13 : 9) + (any_encrypted ? 1 : 0),
					   args->long_format ? (any_encrypted ? right_long_enc : right_long) :
					   (any_encrypted ? right_short_enc : right_short));
		cli_table_add(&t, "TIME (UTC)");
		cli_table_add(&t, "DATABASE");
		cli_table_add(&t, "SIZE");
		cli_table_add(&t, "TABLES");
		cli_table_add(&t, "ROWS");
		cli_table_add(&t, "VERIFY");
		cli_table_add(&t, "ID");
		cli_table_add(&t, "INCARNATION");
		cli_table_add(&t, "LABEL");
		if (any_encrypted)
			cli_table_add(&t, "ENCRYPTION");
		if (args->long_format)
		{
			cli_table_add(&t, "SYSTEM");
			cli_table_add(&t, "TIMELINE");
			cli_table_add(&t, "HOST");
			cli_table_add(&t, "KEY");
		}
		for (size_t i = 0; i < cat.n; i++)
		{
			const rb_backup_metadata *m = &cat.items[i].meta;
			char		buf[64];

			if (!cli_filter_match(&filter, &cat.refs[i]))
				continue;
			cli_format_time(m->timestamp, buf, sizeof(buf));
			cli_table_add(&t, buf);
			cli_table_add(&t, rb_backup_metadata_is_physical(m) ? "(base backup)" : m->dbname);
			rb_format_bytes(m->size_bytes, buf, sizeof(buf));
			cli_table_add(&t, buf);
			cli_table_addf(&t, "%zu", m->table_counts.n);
			cli_table_addf(&t, "%" PRId64, rb_table_counts_total(&m->table_counts));
			/* "restore", "checksum"...: the level it was verified at; "FAILED"; "-": never */
			if (!cat.items[i].has_verify)
				cli_table_add(&t, "-");
			else if (cat.items[i].verify.verified)
				cli_table_add(&t, cat.items[i].verify.level);
			else
				cli_table_addf(&t, "FAILED (%s)", cat.items[i].verify.level);
			cli_table_addf(&t, "%" PRId64, m->backup_id);
			cli_table_add(&t, m->incarnation ? m->incarnation : "-");
			{
				rb_buf		label = RB_BUF_INIT;

				cli_format_label(m->label, CLI_LABEL_MAX_CHARS, &label);
				cli_table_add(&t, rb_buf_str(&label));
				rb_buf_free(&label);
			}
			if (any_encrypted)
				cli_table_add(&t, rb_backup_metadata_encrypted(m) ? m->key_id : "-");
			if (args->long_format)
			{
				cli_table_addf(&t, "%" PRIu64, m->system_identifier);
				if (m->timeline > 0)
					cli_table_addf(&t, "%" PRIu32, m->timeline);
				else
					cli_table_add(&t, "-");
				cli_table_add(&t, m->host_name ? m->host_name : "-");
				cli_table_add(&t, cat.items[i].key);
			}
			shown++;
		}
		if (shown > 0)
			cli_table_print(&t, stdout);
		cli_table_free(&t);
	}
	fflush(stdout);

	if (shown == 0)
	{
		rb_error	err;
		cli_selector sel = {CLI_SELECT_LATEST, 0, NULL};

		rb_error_clear(&err);
		/* same wording as the lookup of "latest" */
		(void) cli_resolve(NULL, 0, &sel, &filter, ctx->url, &err);
		cli_error("%s", err.msg);
		if (cat.invalid > 0)
			cli_detail("%zu metadata objects could not be read.", cat.invalid);
		rc = CLI_EXIT_NOT_FOUND;
	}
	cli_catalog_free(&cat);
	return rc;
}
