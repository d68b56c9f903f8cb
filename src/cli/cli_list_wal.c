/*
 * cli_list_wal.c — "ripple-backup list --wal" (see cli_list_wal.h): per
 * system identifier, the WAL objects of every incarnation under it
 * (wal_catalog.h: a promoted server writes the new timeline under a new
 * incarnation), then for each base backup the range wal_range.h computes:
 *   recoverable from <base stop time> to <last contiguous segment's LastModified>, timeline T
 *   WAL is missing from segment X: recoverable only to <time>, timeline T
 *   no WAL archived: not recoverable past the end of the base backup (...)
 * The base stop time is the metadata's timestamp (when the backup started)
 * plus its duration.  --json gives the same as one object.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_exit.h"
#include "cli_format.h"
#include "cli_list_wal.h"
#include "cli_report.h"
#include "cli_table.h"
#include "rb_alloc.h"
#include "rb_format.h"
#include "rb_json.h"
#include "wal_catalog.h"
#include "wal_range.h"

uint64_t
cli_base_segment_size(const rb_backup_metadata *m, bool *assumed)
{
	uint64_t	size = rb_wal_segment_size_from_label(m->backup_label);

	*assumed = size == 0;
	return size ? size : RB_WAL_DEFAULT_SEGMENT_SIZE;
}

bool
cli_base_start_segno(const rb_backup_metadata *m, uint64_t segment_size, uint64_t *segno)
{
	uint64_t	lsn;

	if (!rb_lsn_parse(m->start_lsn, &lsn))
		return false;
	*segno = lsn / segment_size;
	return true;
}

static int64_t
iso_to_time(const char *iso)
{
	struct tm	tm;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || strptime(iso, "%Y-%m-%dT%H:%M:%SZ", &tm) == NULL)
		return 0;
	return (int64_t) timegm(&tm);
}

/* "2026-12-01 02:00:05" (display) and "2026-12-01T02:00:05Z" (JSON) */
static void
format_times(int64_t t, char *display, char *iso, size_t len)
{
	if (t == 0)
	{
		snprintf(display, len, "an unknown time");
		snprintf(iso, len, "%s", "");
		return;
	}
	rb_metadata_format_time((time_t) t, iso, len);
	cli_format_time(iso, display, len);
}

typedef struct wal_row
{
	const cli_backup *b;
	bool		has_lsns;
	rb_wal_range r;
	uint64_t	segment_size;
	int64_t		from;			/* the base backup's stop time */
	char		description[512];
} wal_row;

static const char *
status_name(const wal_row *w)
{
	if (!w->has_lsns)
		return "unknown";
	switch (w->r.status)
	{
		case RB_WAL_RANGE_RECOVERABLE:
			return "recoverable";
		case RB_WAL_RANGE_GAP:
			return "gap";
		case RB_WAL_RANGE_NOT_CONSISTENT:
			break;
	}
	return "not_consistent";
}

static void
describe(wal_row *w)
{
	char		from[40],
				to[40],
				iso[40],
				missing[RB_WAL_NAME_LEN],
				first[RB_WAL_NAME_LEN],
				stop[RB_WAL_NAME_LEN];
	const rb_wal_range *r = &w->r;

	if (!w->has_lsns)
	{
		snprintf(w->description, sizeof(w->description),
				 "its metadata records no start and stop LSN: the range is unknown");
		return;
	}
	format_times(w->from, from, iso, sizeof(from));
	format_times(r->last_mtime, to, iso, sizeof(to));
	rb_wal_segment_name(r->missing_timeline, r->missing_segno, w->segment_size, missing);
	rb_wal_segment_name(w->b->meta.timeline, r->start_segno, w->segment_size, first);
	rb_wal_segment_name(w->b->meta.timeline, r->stop_segno, w->segment_size, stop);
	if (r->status == RB_WAL_RANGE_NOT_CONSISTENT && r->segments == 0)
		snprintf(w->description, sizeof(w->description),
				 "no WAL archived: not recoverable past the end of the base backup"
				 " (nor consistent: it needs the WAL from %s to %s)", first, stop);
	else if (r->status == RB_WAL_RANGE_NOT_CONSISTENT)
		snprintf(w->description, sizeof(w->description),
				 "WAL is missing from segment %s, before the end of the base backup (stop LSN %s): not recoverable",
				 missing, w->b->meta.stop_lsn);
	else if (r->status == RB_WAL_RANGE_GAP)
		snprintf(w->description, sizeof(w->description),
				 "WAL is missing from segment %s: recoverable only to %s, timeline %" PRIu32,
				 missing, to, r->last_timeline);
	else
		snprintf(w->description, sizeof(w->description),
				 "recoverable from %s to %s, timeline %" PRIu32 "%s%s%s", from, to, r->last_timeline,
				 r->ends_with_partial ? " (the timeline ends with " : "",
				 r->ends_with_partial ? missing : "",
				 r->ends_with_partial ? ".partial and no later timeline's history file is archived)" : "");
}

static void
json_time(rb_buf *out, int64_t t)
{
	char		iso[40];

	if (t == 0)
	{
		rb_buf_append_str(out, "null");
		return;
	}
	rb_metadata_format_time((time_t) t, iso, sizeof(iso));
	rb_json_append_string(out, iso);
}

static void
json_row(rb_buf *out, const wal_row *w)
{
	const rb_backup_metadata *m = &w->b->meta;
	const rb_wal_range *r = &w->r;
	char		name[RB_WAL_NAME_LEN];
	bool		consistent = w->has_lsns && r->status != RB_WAL_RANGE_NOT_CONSISTENT;

	rb_buf_appendf(out, "{\"backup_id\": %" PRId64 ", \"timestamp\": ", m->backup_id);
	rb_json_append_string(out, m->timestamp);
	rb_buf_appendf(out, ", \"system_identifier\": \"%" PRIu64 "\", \"incarnation\": ", m->system_identifier);
	if (m->incarnation)
		rb_json_append_string(out, m->incarnation);
	else
		rb_buf_append_str(out, "null");
	rb_buf_appendf(out, ", \"timeline\": %" PRIu32 ", \"start_lsn\": ", m->timeline);
	if (m->start_lsn)
		rb_json_append_string(out, m->start_lsn);
	else
		rb_buf_append_str(out, "null");
	rb_buf_append_str(out, ", \"stop_lsn\": ");
	if (m->stop_lsn)
		rb_json_append_string(out, m->stop_lsn);
	else
		rb_buf_append_str(out, "null");
	rb_buf_append_str(out, ", \"key\": ");
	rb_json_append_string(out, w->b->key);
	rb_buf_append_str(out, ", \"status\": ");
	rb_json_append_string(out, status_name(w));
	rb_buf_append_str(out, ", \"recoverable_from\": ");
	json_time(out, consistent ? w->from : 0);
	rb_buf_append_str(out, ", \"recoverable_to\": ");
	json_time(out, consistent ? r->last_mtime : 0);
	if (consistent)
		rb_buf_appendf(out, ", \"recoverable_timeline\": %" PRIu32, r->last_timeline);
	else
		rb_buf_append_str(out, ", \"recoverable_timeline\": null");
	rb_buf_append_str(out, ", \"first_segment\": ");
	if (w->has_lsns)
	{
		rb_wal_segment_name(m->timeline, r->start_segno, w->segment_size, name);
		rb_json_append_string(out, name);
	}
	else
		rb_buf_append_str(out, "null");
	rb_buf_append_str(out, ", \"last_segment\": ");
	if (w->has_lsns && r->segments > 0)
	{
		rb_wal_segment_name(r->last_timeline, r->last_segno, w->segment_size, name);
		rb_json_append_string(out, name);
	}
	else
		rb_buf_append_str(out, "null");
	rb_buf_append_str(out, ", \"missing_segment\": ");
	if (w->has_lsns)
	{
		rb_wal_segment_name(r->missing_timeline, r->missing_segno, w->segment_size, name);
		rb_json_append_string(out, name);
	}
	else
		rb_buf_append_str(out, "null");
	rb_buf_appendf(out, ", \"segments\": %" PRIu64 ", \"ends_with_partial\": %s, \"description\": ",
				   w->has_lsns ? r->segments : 0, w->has_lsns && r->ends_with_partial ? "true" : "false");
	rb_json_append_string(out, w->description);
	rb_buf_append_str(out, "}");
}

typedef struct wal_system
{
	uint64_t	sysid;
	uint64_t	segment_size;
	bool		assumed;
	rb_wal_catalog cat;
} wal_system;

static wal_system *
system_for(wal_system **systems, size_t *n, uint64_t sysid)
{
	for (size_t i = 0; i < *n; i++)
		if ((*systems)[i].sysid == sysid)
			return &(*systems)[i];
	*systems = rb_realloc(*systems, (*n + 1) * sizeof(**systems));
	memset(&(*systems)[*n], 0, sizeof(**systems));
	(*systems)[*n].sysid = sysid;
	(*systems)[*n].segment_size = 0;
	return &(*systems)[(*n)++];
}

int
cli_list_wal(cli_ctx *ctx)
{
	const cli_args *args = ctx->args;
	cli_catalog cat;
	rb_object_list objs = {0};
	const rb_keyring *ring = NULL;
	wal_system *systems = NULL;
	size_t		nsys = 0;
	wal_row    *rows = NULL;
	size_t		nrows = 0;
	rb_error	err;
	int			rc;

	rb_error_clear(&err);
	rc = cli_ctx_load_catalog(ctx, &cat);
	if (rc != CLI_EXIT_OK)
		return rc;
	rc = cli_ctx_keyring(ctx, &ring);
	if (rc != CLI_EXIT_OK)
		goto done;
	if (rb_destination_list_all(ctx->dest, "", &objs, &err) < 0)
	{
		rb_error_prefix(&err, "could not list %s: ", ctx->url);
		rc = cli_fail(&err);
		goto done;
	}

	/* the systems: those of the base backups (newest first: its label gives the size) ... */
	rows = rb_calloc(cat.n ? cat.n : 1, sizeof(*rows));
	for (size_t i = 0; i < cat.n; i++)
	{
		const rb_backup_metadata *m = &cat.items[i].meta;
		wal_system *s;

		if (!rb_backup_metadata_is_physical(m) ||
			(args->has_system_id && m->system_identifier != args->system_id))
			continue;
		s = system_for(&systems, &nsys, m->system_identifier);
		if (s->segment_size == 0)
			s->segment_size = cli_base_segment_size(m, &s->assumed);
		rows[nrows++].b = &cat.items[i];
	}
	/* ... and those with WAL but no base backup */
	for (size_t i = 0; i < objs.n; i++)
	{
		rb_wal_key k;
		uint64_t	sysid;

		if (!rb_wal_key_parse(objs.objs[i].key, &k) ||
			sscanf(objs.objs[i].key, "%" SCNu64 "/", &sysid) != 1 ||
			(args->has_system_id && sysid != args->system_id))
			continue;
		{
			wal_system *s = system_for(&systems, &nsys, sysid);

			if (s->segment_size == 0)
			{
				s->segment_size = RB_WAL_DEFAULT_SEGMENT_SIZE;
				s->assumed = true;
			}
		}
	}
	for (size_t i = 0; i < nsys; i++)
		if (rb_wal_catalog_load(ctx->dest, &objs, systems[i].sysid, systems[i].segment_size, ring,
								&ctx->hooks, &systems[i].cat, &err) < 0)
		{
			rc = cli_fail(&err);
			goto done;
		}

	for (size_t i = 0; i < nrows; i++)
	{
		wal_row    *w = &rows[i];
		const rb_backup_metadata *m = &w->b->meta;
		wal_system *s = system_for(&systems, &nsys, m->system_identifier);
		rb_wal_range_base base;

		w->segment_size = s->segment_size;
		w->from = iso_to_time(m->timestamp);
		if (w->from)
			w->from += (int64_t) m->duration_seconds;	/* the start second is truncated too */
		base.timeline = m->timeline ? m->timeline : 1;
		base.segment_size = s->segment_size;
		w->has_lsns = rb_lsn_parse(m->start_lsn, &base.start_lsn) &&
			rb_lsn_parse(m->stop_lsn, &base.stop_lsn);
		if (w->has_lsns)
		{
			rb_wal_range_compute(s->cat.files, s->cat.nfiles, s->cat.hist, s->cat.nhist, &base, &w->r);
			/*
			 * The stop segment is archived before the backup's end is recorded:
			 * a consistent backup recovers at least to its own end.
			 */
			if (w->r.status != RB_WAL_RANGE_NOT_CONSISTENT && w->r.last_mtime != 0 &&
				w->r.last_mtime < w->from)
				w->r.last_mtime = w->from;
		}
		describe(w);
	}

	if (args->json)
	{
		rb_buf		out = RB_BUF_INIT;

		rb_buf_append_str(&out, "{\"base_backups\": [");
		for (size_t i = 0; i < nrows; i++)
		{
			rb_buf_append_str(&out, i ? ",\n " : "\n ");
			json_row(&out, &rows[i]);
		}
		rb_buf_append_str(&out, nrows ? "\n],\n\"wal\": [" : "],\n\"wal\": [");
		for (size_t i = 0; i < nsys; i++)
			rb_buf_appendf(&out, "%s{\"system_identifier\": \"%" PRIu64 "\", \"files\": %" PRIu64
						   ", \"bytes\": %" PRIu64 ", \"highest_timeline\": %" PRIu32
						   ", \"segment_size\": %" PRIu64 ", \"segment_size_assumed\": %s}",
						   i ? ",\n " : "\n ", systems[i].sysid, systems[i].cat.total_files,
						   systems[i].cat.total_bytes, systems[i].cat.max_timeline,
						   systems[i].segment_size, systems[i].assumed ? "true" : "false");
		rb_buf_append_str(&out, nsys ? "\n]}\n" : "]}\n");
		fputs(rb_buf_str(&out), stdout);
		rb_buf_free(&out);
	}
	else
	{
		static const bool right[] = {false, true, true, false, false, false, false};
		cli_table	t;

		cli_table_init(&t, 7, right);
		cli_table_add(&t, "TIME (UTC)");
		cli_table_add(&t, "ID");
		cli_table_add(&t, "TIMELINE");
		cli_table_add(&t, "START LSN");
		cli_table_add(&t, "STOP LSN");
		cli_table_add(&t, "INCARNATION");
		cli_table_add(&t, "WAL");
		for (size_t i = 0; i < nrows; i++)
		{
			const rb_backup_metadata *m = &rows[i].b->meta;
			char		tbuf[64];

			cli_format_time(m->timestamp, tbuf, sizeof(tbuf));
			cli_table_add(&t, tbuf);
			cli_table_addf(&t, "%" PRId64, m->backup_id);
			cli_table_addf(&t, "%" PRIu32, m->timeline);
			cli_table_add(&t, m->start_lsn ? m->start_lsn : "-");
			cli_table_add(&t, m->stop_lsn ? m->stop_lsn : "-");
			cli_table_add(&t, m->incarnation ? m->incarnation : "-");
			cli_table_add(&t, rows[i].description);
		}
		if (nrows > 0)
			cli_table_print(&t, stdout);
		cli_table_free(&t);
		for (size_t i = 0; i < nsys; i++)
		{
			char		size[32];

			rb_format_bytes(systems[i].cat.total_bytes, size, sizeof(size));
			printf("WAL of system %" PRIu64 ": %" PRIu64 " file%s, %s, timelines up to %" PRIu32
				   " (segment size %" PRIu64 " MiB%s)\n",
				   systems[i].sysid, systems[i].cat.total_files,
				   systems[i].cat.total_files == 1 ? "" : "s", size, systems[i].cat.max_timeline,
				   systems[i].segment_size / (1024 * 1024),
				   systems[i].assumed ? ", assumed: no base backup_label tells" : "");
		}
	}
	fflush(stdout);
	if (nrows == 0)
	{
		cli_error("no base backup found in %s", ctx->url);
		rc = CLI_EXIT_NOT_FOUND;
	}
done:
	for (size_t i = 0; i < nsys; i++)
		rb_wal_catalog_free(&systems[i].cat);
	free(systems);
	free(rows);
	rb_object_list_free(&objs);
	cli_catalog_free(&cat);
	return rc;
}
