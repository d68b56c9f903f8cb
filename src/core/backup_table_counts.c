/*
 * backup_table_counts.c — the ordered list of per-table row counts, and the
 * "schema.table" keys used for it in the metadata JSON (see backup_table_counts.h).
 */
#include "backup_table_counts.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rb_alloc.h"

rb_table_count *
rb_table_counts_add(rb_table_counts *tc, const char *schema, const char *table, int64_t rows)
{
	rb_table_count *item;

	if (tc->n == tc->cap)
	{
		tc->cap = tc->cap ? tc->cap * 2 : 16;
		tc->items = rb_realloc(tc->items, tc->cap * sizeof(rb_table_count));
	}
	item = &tc->items[tc->n++];
	item->schema = rb_strdup(schema ? schema : "");
	item->table = rb_strdup(table ? table : "");
	item->rows = rows;
	return item;
}

const rb_table_count *
rb_table_counts_find(const rb_table_counts *tc, const char *schema, const char *table)
{
	for (size_t i = 0; i < tc->n; i++)
		if (strcmp(tc->items[i].schema, schema) == 0 && strcmp(tc->items[i].table, table) == 0)
			return &tc->items[i];
	return NULL;
}

int64_t
rb_table_counts_total(const rb_table_counts *tc)
{
	int64_t		sum = 0;

	for (size_t i = 0; i < tc->n; i++)
		sum += tc->items[i].rows;
	return sum;
}

void
rb_table_counts_copy(rb_table_counts *dst, const rb_table_counts *src)
{
	for (size_t i = 0; i < src->n; i++)
		rb_table_counts_add(dst, src->items[i].schema, src->items[i].table, src->items[i].rows);
}

void
rb_table_counts_free(rb_table_counts *tc)
{
	for (size_t i = 0; i < tc->n; i++)
	{
		free(tc->items[i].schema);
		free(tc->items[i].table);
	}
	free(tc->items);
	tc->items = NULL;
	tc->n = tc->cap = 0;
}

static bool
needs_quotes(const char *name)
{
	return name[0] == '\0' || strchr(name, '.') != NULL || strchr(name, '"') != NULL;
}

/* Appends name to out (quoted as an identifier when needed); returns the new end. */
static char *
append_name(char *out, const char *name)
{
	if (!needs_quotes(name))
	{
		size_t		n = strlen(name);

		memcpy(out, name, n);
		return out + n;
	}
	*out++ = '"';
	for (const char *s = name; *s; s++)
	{
		if (*s == '"')
			*out++ = '"';
		*out++ = *s;
	}
	*out++ = '"';
	return out;
}

char *
rb_table_key_format(const char *schema, const char *table)
{
	/* worst case: every character doubled, plus quotes, dot and NUL */
	size_t		cap = 2 * (strlen(schema) + strlen(table)) + 6;
	char	   *key = rb_malloc(cap);
	char	   *end;

	end = append_name(key, schema);
	*end++ = '.';
	end = append_name(end, table);
	*end = '\0';
	return key;
}

/* Parses one name at *pos (quoted or up to the next dot / end); malloc'd result. */
static char *
parse_name(const char **pos, bool last)
{
	const char *s = *pos;
	size_t		cap = strlen(s) + 1;
	char	   *out = rb_malloc(cap);
	size_t		n = 0;

	if (*s == '"')
	{
		s++;
		for (;;)
		{
			if (*s == '\0')
				goto bad;
			if (*s == '"')
			{
				if (s[1] == '"')
				{
					out[n++] = '"';
					s += 2;
					continue;
				}
				s++;
				break;
			}
			out[n++] = *s++;
		}
	}
	else
	{
		while (*s && (last || *s != '.'))
		{
			if (*s == '"')
				goto bad;
			out[n++] = *s++;
		}
		if (n == 0)
			goto bad;
	}
	out[n] = '\0';
	*pos = s;
	return out;
bad:
	free(out);
	return NULL;
}

int
rb_table_key_parse(const char *key, char **schema, char **table)
{
	const char *pos = key;
	char	   *s,
			   *t;

	*schema = *table = NULL;
	s = parse_name(&pos, false);
	if (s == NULL || *pos != '.')
	{
		free(s);
		return -1;
	}
	pos++;
	t = parse_name(&pos, true);
	if (t == NULL || *pos != '\0')
	{
		free(s);
		free(t);
		return -1;
	}
	*schema = s;
	*table = t;
	return 0;
}
