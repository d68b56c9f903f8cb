/*
 * cmd_prune.c — "ripple-backup prune": retention from the bucket alone, for a
 * destination whose database is gone or that several servers share.  The same
 * decision as the server's (rb_retention_decide, src/core), fed from what the
 * destination holds: the metadata objects (a backup exists only when its
 * metadata does), the pin markers "<dump>.pinned" and the verification markers
 * "<dump>.verified" (retention_keys.h).  Each server's backups of each database
 * are one series: "<system identifier>/<incarnation>/<database>", so the
 * backups of two servers that share a bucket never protect or expire each
 * other.  The policy comes from the options (defaults: the server's defaults),
 * not from any server.  --dry-run only prints the decisions; otherwise the
 * deletions run in the server's order (retention_delete.h) and the table says
 * what was deleted.
 *
 * Base backups are a series of their own per server ("<sysid>/<incarnation>",
 * which no database's series can be), decided by the same policy; then the WAL
 * under "<sysid>/<incarnation>/wal/" that the oldest kept base backup does not
 * need is deleted (wal_retention.h, the server's rule), never a history file,
 * none when that server has no base backup.  --db leaves base backups and WAL
 * alone: they belong to no database.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_format.h"
#include "cli_report.h"
#include "cli_table.h"
#include "rb_alloc.h"
#include "rb_format.h"
#include "rb_json.h"
#include "retention_delete.h"
#include "retention_keys.h"
#include "retention_policy.h"
#include "cli_list_wal.h"
#include "wal_range.h"
#include "wal_retention.h"

static int
cmp_key(const void *a, const void *b)
{
	return strcmp(((const rb_object_info *) a)->key, ((const rb_object_info *) b)->key);
}

static bool
has_object(const rb_object_list *l, const char *key)
{
	rb_object_info probe = {key, 0, 0};

	return bsearch(&probe, l->objs, l->n, sizeof(*l->objs), cmp_key) != NULL;
}

static bool
has_marker(const rb_object_list *l, const char *dump_key, const char *suffix)
{
	char	   *k = rb_key_with_suffix(dump_key, suffix);
	bool		found = has_object(l, k);

	free(k);
	return found;
}

/* An orphan is swept only when no filter excludes its system or database. */
static bool
orphan_selected(const cli_args *args, const char *key)
{
	char		sys[32];
	const char *slash = strchr(key, '/');

	if (args->has_system_id)
	{
		snprintf(sys, sizeof(sys), "%" PRIu64 "/", args->system_id);
		if (strncmp(key, sys, strlen(sys)) != 0)
			return false;
	}
	if (args->db)
	{
		/* <sysid>/<incarnation>/<db>/...: the database segment, as written */
		const char *db = slash ? strchr(slash + 1, '/') : NULL;
		size_t		len = strlen(args->db);

		if (db == NULL || strncmp(db + 1, args->db, len) != 0 || db[1 + len] != '/')
			return false;
	}
	return true;
}

static void
json_row(rb_buf *out, bool first, const cli_backup *b, const char *action, const char *reason,
		 const char *orphan_key)
{
	rb_buf_append_str(out, first ? "\n " : ",\n ");
	if (b)
	{
		rb_buf_appendf(out, "{\"backup_id\": %" PRId64 ", \"dbname\": ", b->meta.backup_id);
		rb_json_append_string(out, b->meta.dbname);
		rb_buf_append_str(out, ", \"timestamp\": ");
		rb_json_append_string(out, b->meta.timestamp);
		rb_buf_appendf(out, ", \"system_identifier\": \"%" PRIu64 "\", \"incarnation\": ",
					   b->meta.system_identifier);
		if (b->meta.incarnation)
			rb_json_append_string(out, b->meta.incarnation);
		else
			rb_buf_append_str(out, "null");
		rb_buf_append_str(out, ", \"key\": ");
		rb_json_append_string(out, b->key);
	}
	else
	{
		rb_buf_append_str(out, "{\"backup_id\": null, \"dbname\": null, \"key\": ");
		rb_json_append_string(out, orphan_key);
	}
	rb_buf_append_str(out, ", \"action\": ");
	rb_json_append_string(out, action);
	rb_buf_append_str(out, ", \"reason\": ");
	rb_json_append_string(out, reason);
	rb_buf_append_str(out, "}");
}

/* The WAL of one server (system identifier and incarnation) and what retention does to it. */
typedef struct wal_group
{
	uint64_t	sysid;
	char		incarnation[17];
	int64_t		oldest_id;		/* the oldest kept base backup; 0 = none */
	uint64_t	keep_from;		/* its start segment */
	uint64_t	segment_size;	/* from a backup_label that names one size; 0 = not known */
	int64_t		unsized_id;		/* a kept base backup while the size is not known; 0 = none */
	rb_wal_prune_plan plan;
} wal_group;

static wal_group *
group_for(wal_group **g, size_t *n, uint64_t sysid, const char *incarnation)
{
	for (size_t i = 0; i < *n; i++)
		if ((*g)[i].sysid == sysid && strcmp((*g)[i].incarnation, incarnation) == 0)
			return &(*g)[i];
	*g = rb_realloc(*g, (*n + 1) * sizeof(**g));
	memset(&(*g)[*n], 0, sizeof(**g));
	(*g)[*n].sysid = sysid;
	snprintf((*g)[*n].incarnation, sizeof((*g)[*n].incarnation), "%s", incarnation);
	return &(*g)[(*n)++];
}

/*
 * Finds every server with WAL in the listing (within --system-id), the oldest
 * base backup kept of each (one whose deletion failed counts as kept), and
 * unless --dry-run deletes the WAL it does not need.
 */
static wal_group *
plan_wal(cli_ctx *ctx, const rb_object_list *objs, const cli_catalog *cat,
		 const rb_retention_item *items, const size_t *which, size_t n,
		 const rb_retention_target *targets, size_t nt, size_t *ngroups)
{
	const cli_args *args = ctx->args;
	wal_group  *g = NULL;

	*ngroups = 0;
	for (size_t i = 0; i < objs->n; i++)
	{
		rb_wal_key k;
		uint64_t	sysid;

		if (rb_wal_key_parse(objs->objs[i].key, &k) &&
			sscanf(objs->objs[i].key, "%" SCNu64 "/", &sysid) == 1 &&
			(!args->has_system_id || sysid == args->system_id))
			(void) group_for(&g, ngroups, sysid, k.incarnation);
	}
	/*
	 * The segment size of each server from any of its base backups' labels that
	 * fits one size only: a start in the first segment of a 4 GB log fits
	 * several (64 MB segments: one start in 64), and the 16 MB default would
	 * then number the WAL wrongly and delete segments the backup needs.
	 */
	for (size_t i = 0; i < n; i++)
	{
		const rb_backup_metadata *m = &cat->items[which[i]].meta;
		bool		assumed;
		uint64_t	size;

		if (!rb_backup_metadata_is_physical(m) || m->incarnation == NULL)
			continue;
		size = cli_base_segment_size(m, &assumed);
		if (!assumed)
			group_for(&g, ngroups, m->system_identifier, m->incarnation)->segment_size = size;
	}
	for (size_t i = 0; i < n; i++)
	{
		const rb_backup_metadata *m = &cat->items[which[i]].meta;
		wal_group  *w;
		bool		kept = !items[i].delete;
		uint64_t	segno;

		if (!rb_backup_metadata_is_physical(m) || m->incarnation == NULL)
			continue;
		for (size_t t = 0; t < nt && !kept; t++)
			if (targets[t].key == cat->items[which[i]].key)
				kept = targets[t].failed;	/* still there (never, in a dry run) */
		w = group_for(&g, ngroups, m->system_identifier, m->incarnation);
		if (kept && w->segment_size == 0)
			w->unsized_id = m->backup_id;
		if (!kept || w->segment_size == 0 || !cli_base_start_segno(m, w->segment_size, &segno))
			continue;
		if (w->oldest_id == 0 || segno < w->keep_from)
		{
			w->oldest_id = m->backup_id;
			w->keep_from = segno;
		}
	}
	for (size_t i = 0; i < *ngroups; i++)
	{
		char		prefix[64];

		if (g[i].unsized_id != 0)
			g[i].oldest_id = 0;	/* no WAL is deleted (wal_row says why) */
		if (g[i].oldest_id == 0)
			continue;
		snprintf(prefix, sizeof(prefix), "%" PRIu64 "/%s/wal/", g[i].sysid, g[i].incarnation);
		rb_wal_prune_select(objs->objs, objs->n, prefix, g[i].segment_size, g[i].keep_from, &g[i].plan);
		if (!args->dry_run && g[i].plan.nobjects > 0)
			(void) rb_wal_prune_delete(ctx->dest, objs->objs, objs->n, &g[i].plan, NULL);
	}
	return g;
}

/*
 * Row r of a WAL group: the ranges (0..nranges-1), then one "keep" row
 * (r == nranges).  Returns the action, NULL for no row (a server with base
 * backups but no WAL).
 */
static const char *
wal_row(const wal_group *w, size_t r, bool dry_run, char *reason, size_t len)
{
	char		d[256];

	if (r < w->plan.nranges)
	{
		rb_wal_prune_range_describe(&w->plan.ranges[r], d, sizeof(d));
		snprintf(reason, len, "WAL %s", d);
		return dry_run ? "delete" : w->plan.failed > 0 ? "failed" : "deleted";
	}
	if (w->unsized_id != 0)
	{
		snprintf(reason, len,
				 "WAL: the WAL segment size is not known (the backup_label of base backup %" PRId64 " fits several and no other names one), so no WAL is deleted",
				 w->unsized_id);
		return "keep";
	}
	if (w->oldest_id == 0)
	{
		snprintf(reason, len, "WAL: no base backup is kept, so no WAL is deleted");
		return "keep";
	}
	{
		char		name[RB_WAL_NAME_LEN];

		rb_wal_segment_name(1, w->keep_from, w->segment_size, name);
		snprintf(reason, len,
				 "WAL from segment %s (on any timeline) on: needed by base backup %" PRId64 ", the oldest kept",
				 name + 8, w->oldest_id);
	}
	return "keep";
}

int
cli_cmd_prune(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	cli_filter	filter = {args->db, args->has_system_id, args->system_id};
	rb_retention_policy policy;
	cli_catalog cat;
	rb_object_list objs = {0};
	rb_retention_item *items = NULL;
	size_t	   *which = NULL;	/* items[i] is cat.items[which[i]] */
	char	  **series = NULL;
	bool	   *orphan = NULL;
	rb_retention_target *targets = NULL;
	rb_retention_target *otargets = NULL;
	wal_group  *wal = NULL;
	size_t		nwal = 0;
	size_t		n = 0,
				nt = 0,
				no = 0,
				nfailed = 0;
	rb_error	err;
	int			rc;

	rb_error_clear(&err);
	policy.retention_s = 30 * 86400;
	if (args->retention && rb_duration_parse(args->retention, &policy.retention_s, &err) < 0)
		return cli_fail(&err);
	policy.min_keep = args->min_keep;
	policy.keep_daily = args->keep_daily;
	policy.keep_weekly = args->keep_weekly;
	policy.keep_monthly = args->keep_monthly;
	if (rb_retention_policy_check(&policy, &err) < 0)
		return cli_fail(&err);

	if (rb_destination_list_all(ctx->dest, "", &objs, &err) < 0)
	{
		rb_error_prefix(&err, "could not list %s: ", ctx->url);
		return cli_fail(&err);
	}
	rc = cli_ctx_load_catalog(ctx, &cat);
	if (rc != CLI_EXIT_OK)
		goto done;

	items = rb_calloc(cat.n ? cat.n : 1, sizeof(*items));
	which = rb_calloc(cat.n ? cat.n : 1, sizeof(*which));
	series = rb_calloc(cat.n ? cat.n : 1, sizeof(*series));
	for (size_t i = 0; i < cat.n; i++)
	{
		const cli_backup *b = &cat.items[i];
		rb_buf		s = RB_BUF_INIT;
		int64_t		taken;

		bool		physical = rb_backup_metadata_is_physical(&b->meta);

		if (physical ? (args->db != NULL ||
						(args->has_system_id && b->meta.system_identifier != args->system_id)) :
			!cli_filter_match(&filter, &cat.refs[i]))
			continue;
		rb_buf_appendf(&s, "%" PRIu64 "/%s", b->meta.system_identifier,
					   b->meta.incarnation ? b->meta.incarnation : "-");
		if (!physical)
			rb_buf_appendf(&s, "/%s", b->meta.dbname);
		series[n] = s.data;
		if (!(physical ? rb_base_backup_key_parse(b->key, &taken, NULL) :
			  rb_backup_key_parse(b->key, &taken, NULL)))
		{
			struct tm	tm;

			memset(&tm, 0, sizeof(tm));
			taken = strptime(b->meta.timestamp, "%Y-%m-%dT%H:%M:%SZ", &tm) ? (int64_t) timegm(&tm) : 0;
		}
		items[n].backup_id = b->meta.backup_id;
		items[n].series = series[n];
		items[n].taken_at = taken;
		items[n].succeeded = true;
		items[n].verified = has_marker(&objs, b->key, RB_VERIFIED_SUFFIX);
		items[n].pinned = has_marker(&objs, b->key, RB_PIN_SUFFIX);
		items[n].size_bytes = b->meta.size_bytes;
		which[n++] = i;
	}
	(void) rb_retention_decide(items, n, &policy);

	orphan = rb_calloc(objs.n ? objs.n : 1, sizeof(bool));
	(void) rb_retention_find_orphans(objs.objs, objs.n, (int64_t) time(NULL),
									 args->orphan_age_s, orphan);
	for (size_t i = 0; i < objs.n; i++)
		if (orphan[i] && !orphan_selected(args, objs.objs[i].key))
			orphan[i] = false;

	targets = rb_calloc(n ? n : 1, sizeof(*targets));
	otargets = rb_calloc(objs.n ? objs.n : 1, sizeof(*otargets));
	for (size_t i = 0; i < n; i++)
		if (items[i].delete)
			targets[nt++].key = cat.items[which[i]].key;
	for (size_t i = 0; i < objs.n; i++)
		if (orphan[i])
			otargets[no++].key = objs.objs[i].key;
	if (!args->dry_run && nt + no > 0)
		nfailed = rb_retention_delete(ctx->dest, targets, nt, otargets, no, NULL);
	if (args->db == NULL)
		wal = plan_wal(ctx, &objs, &cat, items, which, n, targets, nt, &nwal);
	for (size_t i = 0; i < nwal; i++)
		nfailed += wal[i].plan.failed;

	/* the decisions (and outcomes), in the catalog's order: newest first */
	{
		rb_buf		json = RB_BUF_INIT;
		cli_table	t;
		static const bool right[] = {false, true, false, false, false, false};
		size_t		ti = 0;
		size_t		nwal_rows = 0;
		bool		first = true;

		cli_table_init(&t, 6, right);
		cli_table_add(&t, "ACTION");
		cli_table_add(&t, "ID");
		cli_table_add(&t, "DATABASE");
		cli_table_add(&t, "TIME (UTC)");
		cli_table_add(&t, "INCARNATION");
		cli_table_add(&t, "REASON");
		rb_buf_append_str(&json, "[");
		for (size_t i = 0; i < n; i++)
		{
			const cli_backup *b = &cat.items[which[i]];
			const char *action = "keep";
			const char *reason = items[i].reason;
			char		tbuf[64];

			if (items[i].delete)
			{
				rb_retention_target *tg = &targets[ti++];

				action = args->dry_run ? "delete" : tg->failed ? "failed" : "deleted";
				if (tg->failed)
					reason = tg->failure;
			}
			json_row(&json, first, b, action, reason, NULL);
			first = false;
			cli_format_time(b->meta.timestamp, tbuf, sizeof(tbuf));
			cli_table_add(&t, action);
			cli_table_addf(&t, "%" PRId64, b->meta.backup_id);
			cli_table_add(&t, b->meta.dbname ? b->meta.dbname : "(base backup)");
			cli_table_add(&t, tbuf);
			cli_table_add(&t, b->meta.incarnation ? b->meta.incarnation : "-");
			cli_table_add(&t, reason);
		}
		for (size_t i = 0; i < no; i++)
		{
			char	   *reason = rb_malloc(strlen(otargets[i].key) + 8);
			const char *action = args->dry_run ? "delete" : otargets[i].failed ? "failed" : "deleted";

			sprintf(reason, "orphan %s", otargets[i].key);
			json_row(&json, first, NULL, action, otargets[i].failed ? otargets[i].failure : reason,
					 otargets[i].key);
			first = false;
			cli_table_add(&t, action);
			cli_table_add(&t, "-");
			cli_table_add(&t, "-");
			cli_table_add(&t, "-");
			cli_table_add(&t, "-");
			cli_table_add(&t, otargets[i].failed ? otargets[i].failure : reason);
			free(reason);
		}
		for (size_t g = 0; g < nwal; g++)
			for (size_t r = 0; r <= wal[g].plan.nranges; r++)
			{
				char		reason[512];
				const char *action = wal_row(&wal[g], r, args->dry_run, reason, sizeof(reason));

				if (action == NULL)
					continue;
				rb_buf_append_str(&json, first ? "\n " : ",\n ");
				first = false;
				rb_buf_appendf(&json, "{\"backup_id\": null, \"dbname\": null, \"wal\": true,"
							   " \"system_identifier\": \"%" PRIu64 "\", \"incarnation\": ", wal[g].sysid);
				rb_json_append_string(&json, wal[g].incarnation);
				rb_buf_append_str(&json, ", \"action\": ");
				rb_json_append_string(&json, action);
				rb_buf_append_str(&json, ", \"reason\": ");
				rb_json_append_string(&json, reason);
				rb_buf_append_str(&json, "}");
				cli_table_add(&t, action);
				cli_table_add(&t, "-");
				cli_table_add(&t, "(WAL)");
				cli_table_add(&t, "-");
				cli_table_add(&t, wal[g].incarnation);
				cli_table_add(&t, reason);
				nwal_rows++;
			}
		rb_buf_append_str(&json, first ? "]\n" : "\n]\n");
		if (args->json)
			fputs(rb_buf_str(&json), stdout);
		else if (n + no + nwal_rows > 0)
			cli_table_print(&t, stdout);
		fflush(stdout);
		rb_buf_free(&json);
		cli_table_free(&t);
	}

	/* one summary line per series on stderr, as the server logs it */
	for (size_t i = 0; i < n; i++)
	{
		bool		seen = false;
		int			del = 0,
					kept = 0;
		uint64_t	bytes = 0;
		char		size[32];

		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(items[j].series, items[i].series) == 0;
		if (seen)
			continue;
		for (size_t j = i, ti = 0; j < n; j++)
		{
			bool		failed = false;

			if (items[j].delete)
			{
				for (ti = 0; ti < nt; ti++)
					if (targets[ti].key == cat.items[which[j]].key)
						failed = targets[ti].failed;
			}
			if (strcmp(items[j].series, items[i].series) != 0)
				continue;
			if (items[j].delete && !failed)
			{
				del++;
				bytes += items[j].size_bytes;
			}
			else
				kept++;
		}
		rb_format_bytes(bytes, size, sizeof(size));
		if (cat.items[which[i]].meta.dbname == NULL)
			cli_info("%s %d base backup%s (%s) in %s, kept %d",
					 args->dry_run ? "would delete" : "deleted", del, del == 1 ? "" : "s",
					 size, items[i].series, kept);
		else
			cli_info("%s %d backup%s of \"%s\" (%s) in %s, kept %d",
					 args->dry_run ? "would delete" : "deleted", del, del == 1 ? "" : "s",
					 cat.items[which[i]].meta.dbname, size, items[i].series, kept);
	}
	for (size_t i = 0; i < nt; i++)
		if (targets[i].failed)
			cli_error("could not delete backup %s: %s", targets[i].key, targets[i].failure);
	for (size_t i = 0; i < no; i++)
		if (otargets[i].failed)
			cli_error("could not delete orphaned object %s: %s", otargets[i].key, otargets[i].failure);
	for (size_t g = 0; g < nwal; g++)
		if (wal[g].plan.failed > 0)
			cli_error("could not delete %zu WAL object%s of %" PRIu64 "/%s: %s", wal[g].plan.failed,
					  wal[g].plan.failed == 1 ? "" : "s", wal[g].sysid, wal[g].incarnation,
					  wal[g].plan.failure);
	rc = nfailed > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
	cli_catalog_free(&cat);

done:
	for (size_t g = 0; g < nwal; g++)
		rb_wal_prune_plan_free(&wal[g].plan);
	free(wal);
	for (size_t i = 0; i < n; i++)
		free(series[i]);
	free(series);
	free(items);
	free(which);
	free(orphan);
	free(targets);
	free(otargets);
	rb_object_list_free(&objs);
	return rc;
}
