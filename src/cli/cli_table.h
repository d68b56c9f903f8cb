/*
 * cli_table.h — a plain-text table for the terminal: cells collected row by row,
 * then printed with columns padded to their widest cell (numbers right-aligned).
 */
#ifndef CLI_TABLE_H
#define CLI_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct cli_table
{
	size_t		ncols;
	const bool *right;			/* per column: right-align */
	char	  **cells;			/* row-major, malloc'd */
	size_t		ncells;
	size_t		cap;
} cli_table;

void		cli_table_init(cli_table *t, size_t ncols, const bool *right);
void		cli_table_add(cli_table *t, const char *cell);	/* copied; NULL = "" */
void		cli_table_addf(cli_table *t, const char *fmt,...) __attribute__((format(printf, 2, 3)));
void		cli_table_print(const cli_table *t, FILE *out);
void		cli_table_free(cli_table *t);

#endif							/* CLI_TABLE_H */
