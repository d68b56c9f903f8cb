/*
 * cli_table.c — aligned plain-text tables (see cli_table.h).
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli_table.h"
#include "rb_alloc.h"
#include "rb_buf.h"

void
cli_table_init(cli_table *t, size_t ncols, const bool *right)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
	t->right = right;
}

void
cli_table_add(cli_table *t, const char *cell)
{
	if (t->ncells == t->cap)
	{
		size_t		cap = t->cap ? t->cap * 2 : 64;
		t->cells = rb_realloc(t->cells, cap * sizeof(char *));
		t->cap = cap;
	}
	t->cells[t->ncells] = rb_strdup(cell ? cell : "");
	t->ncells++;
}

void
cli_table_addf(cli_table *t, const char *fmt,...)
{
	rb_buf		b = RB_BUF_INIT;
	va_list		ap;

	va_start(ap, fmt);
	rb_buf_vappendf(&b, fmt, ap);
	va_end(ap);
	cli_table_add(t, rb_buf_str(&b));
	rb_buf_free(&b);
}

/* display width: UTF-8 continuation bytes take no column */
static size_t
width(const char *s)
{
	size_t		w = 0;

	for (; *s; s++)
		if (((unsigned char) *s & 0xC0) != 0x80)
			w++;
	return w;
}

void
cli_table_print(const cli_table *t, FILE *out)
{
	size_t	   *w = rb_calloc(t->ncols, sizeof(size_t));

	for (size_t i = 0; i < t->ncells; i++)
	{
		size_t		cw = width(t->cells[i]);

		if (cw > w[i % t->ncols])
			w[i % t->ncols] = cw;
	}
	for (size_t i = 0; i < t->ncells; i++)
	{
		size_t		col = i % t->ncols;
		size_t		pad = w[col] - width(t->cells[i]);
		bool		last = (col == t->ncols - 1);

		if (t->right && t->right[col])
			fprintf(out, "%*s%s", (int) pad, "", t->cells[i]);
		else if (last)
			fputs(t->cells[i], out);
		else
			fprintf(out, "%s%*s", t->cells[i], (int) pad, "");
		fputs(last ? "\n" : "  ", out);
	}
	free(w);
}

void
cli_table_free(cli_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}
