/*
 * cli_resolve.c — from "latest", an id or a key to one backup of the catalog (see
 * cli_resolve.h).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_resolve.h"
#include "rb_buf.h"

#define HINT_DB "several databases"
#define HINT_SYSTEM "exists for"

bool
cli_parse_u64(const char *text, uint64_t *out)
{
	char	   *end;
	unsigned long long v;

	if (text == NULL || !isdigit((unsigned char) text[0]))
		return false;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = (uint64_t) v;
	return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t		ls = strlen(s),
				lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

int
cli_selector_parse(const char *text, const char *dest_url, cli_selector *sel, rb_error *err)
{
	uint64_t	id;
	const char *key = text;
	size_t		ul = dest_url ? strlen(dest_url) : 0;
	size_t		kl;

	memset(sel, 0, sizeof(*sel));
	if (text == NULL || text[0] == '\0')
		return rb_error_set(err, RB_ERR_INVALID, "missing backup: give an ID, a KEY or \"latest\"");
	if (strcmp(text, "latest") == 0)
	{
		sel->kind = CLI_SELECT_LATEST;
		return 0;
	}
	if (strcmp(text, "latest-verified") == 0)
	{
		sel->kind = CLI_SELECT_LATEST_VERIFIED;
		return 0;
	}
	if (cli_parse_u64(text, &id))
	{
		if (id > INT64_MAX)
			return rb_error_set(err, RB_ERR_INVALID, "invalid backup id \"%s\"", text);
		sel->kind = CLI_SELECT_ID;
		sel->id = (int64_t) id;
		return 0;
	}
	if (strstr(text, "://") != NULL)
	{
		if (ul == 0 || strncmp(text, dest_url, ul) != 0 || text[ul] != '/')
			return rb_error_set(err, RB_ERR_INVALID,
								"backup URL \"%s\" is not inside the destination %s",
								text, dest_url ? dest_url : "(none)");
		key = text + ul + 1;
	}
	while (*key == '/')
		key++;
	kl = strlen(key);
	if (ends_with(key, CLI_METADATA_SUFFIX))
		kl -= strlen(CLI_METADATA_SUFFIX);
	if (kl == 0)
		return rb_error_set(err, RB_ERR_INVALID, "invalid backup key \"%s\"", text);
	sel->kind = CLI_SELECT_KEY;
	sel->key = strndup(key, kl);
	if (sel->key == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	return 0;
}

void
cli_selector_free(cli_selector *sel)
{
	free(sel->key);
	sel->key = NULL;
}

static int
cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

int
cli_backup_ref_cmp_newest(const void *a, const void *b)
{
	const cli_backup_ref *x = a;
	const cli_backup_ref *y = b;
	int			c = cmp_str(y->timestamp, x->timestamp);

	if (c != 0)
		return c;
	if (x->backup_id != y->backup_id)
		return x->backup_id < y->backup_id ? 1 : -1;
	return cmp_str(y->key, x->key);
}

bool
cli_filter_match(const cli_filter *f, const cli_backup_ref *ref)
{
	if (f == NULL)
		return true;
	if (f->dbname != NULL && cmp_str(f->dbname, ref->dbname) != 0)
		return false;
	if (f->has_system_id && f->system_identifier != ref->system_identifier)
		return false;
	return true;
}

/* " of database "x"" / " of system N" for messages, from the filter */
static void
describe_filter(const cli_filter *f, rb_buf *out)
{
	if (f && f->dbname)
		rb_buf_appendf(out, " of database \"%s\"", f->dbname);
	if (f && f->has_system_id)
		rb_buf_appendf(out, " %s system %" PRIu64, (f->dbname ? "on" : "of"), f->system_identifier);
}

static long
not_found(const cli_filter *f, const char *what, const char *dest_url, rb_error *err)
{
	rb_buf		m = RB_BUF_INIT;

	if (what)
		rb_buf_append_str(&m, what);
	else if (f && (f->dbname || f->has_system_id))
		rb_buf_append_str(&m, "no backup");
	else
		rb_buf_append_str(&m, "no backups");
	describe_filter(f, &m);
	rb_buf_appendf(&m, " in %s", dest_url ? dest_url : "the destination");
	rb_error_set(err, RB_ERR_NOT_FOUND, "%s", rb_buf_str(&m));
	rb_buf_free(&m);
	return -1;
}

long
cli_resolve(const cli_backup_ref *refs, size_t n, const cli_selector *sel,
			const cli_filter *filter, const char *dest_url, rb_error *err)
{
	long		best = -1;

	if (sel->kind == CLI_SELECT_KEY)
	{
		for (size_t i = 0; i < n; i++)
			if (cmp_str(refs[i].key, sel->key) == 0)
				return (long) i;
		{
			rb_buf		m = RB_BUF_INIT;

			rb_buf_appendf(&m, "no backup object \"%s\"", sel->key);
			not_found(NULL, rb_buf_str(&m), dest_url, err);
			rb_buf_free(&m);
		}
		return -1;
	}

	if (sel->kind == CLI_SELECT_LATEST || sel->kind == CLI_SELECT_LATEST_VERIFIED)
	{
		const char *first_db = NULL;
		bool		several = false;
		size_t		matched = 0;

		for (size_t i = 0; i < n; i++)
		{
			if (!cli_filter_match(filter, &refs[i]))
				continue;
			matched++;
			if (refs[i].verify == CLI_VERIFY_FAILED ||
				(sel->kind == CLI_SELECT_LATEST_VERIFIED && refs[i].verify != CLI_VERIFY_VERIFIED))
				continue;
			if (first_db == NULL)
				first_db = refs[i].dbname;
			else if (cmp_str(first_db, refs[i].dbname) != 0)
				several = true;
			if (best < 0 || cli_backup_ref_cmp_newest(&refs[i], &refs[best]) < 0)
				best = (long) i;
		}
		if (best < 0 && matched > 0 && sel->kind == CLI_SELECT_LATEST)
		{
			rb_buf		m = RB_BUF_INIT;

			rb_buf_append_str(&m, "every backup");
			describe_filter(filter, &m);
			rb_buf_appendf(&m, " in %s failed verification", dest_url ? dest_url : "the destination");
			rb_error_set(err, RB_ERR_NOT_FOUND, "%s", rb_buf_str(&m));
			rb_buf_free(&m);
			return -1;
		}
		if (best < 0 && sel->kind == CLI_SELECT_LATEST_VERIFIED)
			return not_found(filter, "no verified backup", dest_url, err);
		if (best < 0)
			return not_found(filter, NULL, dest_url, err);
		if (several)
		{
			rb_error_set(err, RB_ERR_INVALID,
						 "\"latest\" is ambiguous: " HINT_DB " have backups in %s",
						 dest_url ? dest_url : "the destination");
			return -1;
		}
		return best;
	}

	/* by id: the same id on two systems, or on two incarnations of one, is two backups */
	{
		uint64_t	first_sys = 0;
		const char *first_inc = NULL;
		bool		have_sys = false;
		bool		several = false;

		for (size_t i = 0; i < n; i++)
		{
			if (refs[i].backup_id != sel->id || !cli_filter_match(filter, &refs[i]))
				continue;
			if (!have_sys)
			{
				first_sys = refs[i].system_identifier;
				first_inc = refs[i].incarnation;
				have_sys = true;
			}
			else if (first_sys != refs[i].system_identifier ||
					 cmp_str(first_inc ? first_inc : "", refs[i].incarnation ? refs[i].incarnation : "") != 0)
				several = true;
			if (best < 0 || cli_backup_ref_cmp_newest(&refs[i], &refs[best]) < 0)
				best = (long) i;
		}
		if (best < 0)
		{
			rb_buf		m = RB_BUF_INIT;

			rb_buf_appendf(&m, "no backup with id %" PRId64, sel->id);
			not_found(filter, rb_buf_str(&m), dest_url, err);
			rb_buf_free(&m);
			return -1;
		}
		if (several)
		{
			rb_error_set(err, RB_ERR_INVALID,
						 "backup id %" PRId64 " is ambiguous: it " HINT_SYSTEM " several systems or server incarnations in %s",
						 sel->id, dest_url ? dest_url : "the destination");
			return -1;
		}
		return best;
	}
}

const char *
cli_resolve_hint(const rb_error *err)
{
	if (strstr(err->msg, HINT_DB) != NULL)
		return "Choose one with --db NAME (\"ripple-backup list\" shows them).";
	if (strstr(err->msg, HINT_SYSTEM) != NULL)
		return "Choose one with --system-id N, or give the backup's KEY (\"ripple-backup list --long\" shows both).";
	if (err->code == RB_ERR_NOT_FOUND)
		return "\"ripple-backup list\" shows the backups in the destination.";
	return NULL;
}
