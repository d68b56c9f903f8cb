/*
 * cmd_info.c — "ripple-backup info": one backup's metadata and per-table row
 * counts, as text or JSON; for an encrypted backup, its key id and whether a
 * key file given with --encryption-key-file holds that key.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_fetch.h"
#include "cli_format.h"
#include "cli_json.h"
#include "cli_table.h"

int
cli_cmd_info(cli_ctx *ctx)
{
	cli_catalog cat;
	const cli_backup *b;
	const rb_backup_metadata *m;
	char	   *url;
	int			rc;

	const rb_keyring *ring;

	rc = cli_ctx_keyring(ctx, &ring);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_ctx_find_backup(ctx, &cat, &b);
	if (rc != CLI_EXIT_OK)
		return rc;
	m = &b->meta;
	url = rb_destination_url_for(ctx->dest, b->key);

	if (ctx->args->json)
	{
		rb_buf		out = RB_BUF_INIT;

		cli_json_backup(&out, b, url, true);
		rb_buf_append_char(&out, '\n');
		fputs(rb_buf_str(&out), stdout);
		rb_buf_free(&out);
	}
	else
	{
		static const bool right[] = {false, true};
		char		buf[64],
					buf2[64];
		cli_table	t;

		cli_format_time(m->timestamp, buf, sizeof(buf));
		printf("backup id:          %" PRId64 "\n", m->backup_id);
		printf("database:           %s\n", m->dbname ? m->dbname : "");
		if (rb_backup_metadata_is_physical(m))
		{
			printf("kind:               physical (base backup of the cluster)\n");
			printf("WAL from:           %s to %s\n", m->start_lsn ? m->start_lsn : "?",
				   m->stop_lsn ? m->stop_lsn : "?");
		}
		printf("time:               %s UTC\n", buf);
		printf("system identifier:  %" PRIu64 "\n", m->system_identifier);
		printf("incarnation:        %s\n", m->incarnation ? m->incarnation : "-");
		if (m->timeline > 0)
			printf("timeline:           %" PRIu32 "\n", m->timeline);
		else
			printf("timeline:           -\n");
		printf("host:               %s%s%s%s\n", m->host_name ? m->host_name : "-",
			   m->cluster_name ? " (cluster \"" : "", m->cluster_name ? m->cluster_name : "",
			   m->cluster_name ? "\")" : "");
		printf("type:               %s\n", m->backup_type ? m->backup_type : "");
		{
			rb_buf		label = RB_BUF_INIT;

			cli_format_label(m->label, 0, &label);
			printf("label:              %s\n", rb_buf_str(&label));
			rb_buf_free(&label);
		}
		rb_format_bytes(m->size_bytes, buf, sizeof(buf));
		printf("size:               %s (%" PRIu64 " bytes, %s)\n", buf, m->size_bytes,
			   m->compression ? m->compression : "?");
		rb_format_bytes(m->uncompressed_bytes, buf, sizeof(buf));
		printf("archive size:       %s (%" PRIu64 " bytes, pg_dump %s format)\n", buf,
			   m->uncompressed_bytes, m->pg_dump_format ? m->pg_dump_format : "?");
		printf("sha256:             %s\n", m->sha256);
		if (rb_backup_metadata_encrypted(m))
			printf("encryption:         %s, key %s (%s)\n", m->encryption, m->key_id,
				   ring->nkeys == 0 ? "give --encryption-key-file to read it" :
				   cli_key_available(ring, m->key_id) ? "a given key file holds it" :
				   "none of the given key files holds it");
		else
			printf("encryption:         none\n");
		cli_format_duration(m->duration_seconds, buf2, sizeof(buf2));
		printf("backup duration:    %s\n", buf2);
		printf("server version:     %s\n", m->server_version ? m->server_version : "");
		printf("extension version:  %s\n", m->extension_version ? m->extension_version : "");
		if (!b->has_verify)
			printf("verification:       none recorded\n");
		else
		{
			cli_format_time(b->verify.verified_at, buf, sizeof(buf));
			printf("verification:       %s at level %s, %s UTC (row counts: %s%s)\n",
				   rb_verify_record_status(&b->verify), b->verify.level, buf, b->verify.rows,
				   b->verify.restore_seconds >= 0 ? "" : ", no restore");
			if (b->verify.restore_seconds >= 0)
			{
				cli_format_duration(b->verify.restore_seconds, buf2, sizeof(buf2));
				printf("restore time:       %s (measured by the verification)\n", buf2);
			}
			if (!b->verify.verified)
				printf("verify error:       %s\n", b->verify.error);
		}
		printf("key:                %s\n", b->key);
		printf("url:                %s\n", url);
		printf("tables:             %zu (%" PRId64 " rows)\n", m->table_counts.n,
			   rb_table_counts_total(&m->table_counts));
		if (m->table_counts.n > 0)
		{
			cli_table_init(&t, 2, right);
			cli_table_add(&t, "  TABLE");
			cli_table_add(&t, "ROWS");
			for (size_t i = 0; i < m->table_counts.n; i++)
			{
				char	   *k = rb_table_key_format(m->table_counts.items[i].schema,
													m->table_counts.items[i].table);

				cli_table_addf(&t, "  %s", k);
				cli_table_addf(&t, "%" PRId64, m->table_counts.items[i].rows);
				free(k);
			}
			cli_table_print(&t, stdout);
			cli_table_free(&t);
		}
	}
	fflush(stdout);
	free(url);
	cli_catalog_free(&cat);
	return CLI_EXIT_OK;
}
