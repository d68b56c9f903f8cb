/*
 * backup_table_counts.h — the per-table row counts of one backup: an ordered list of
 * (schema, table, rows), as counted from the dump stream by the archive parser,
 * stored in the metadata JSON and in the catalog.
 *
 * In the metadata JSON a table is named by one key "schema.table".  A name that
 * contains a dot or a double quote (or is empty) is written as a quoted identifier,
 * "my.schema"."a ""b""", so that the key always splits back into the same two names;
 * every other name is written as is.
 */
#ifndef RB_TABLE_COUNTS_H
#define RB_TABLE_COUNTS_H

#include <stddef.h>
#include <stdint.h>

typedef struct rb_table_count
{
	char	   *schema;			/* owned, never NULL */
	char	   *table;			/* owned, never NULL */
	int64_t		rows;
} rb_table_count;

typedef struct rb_table_counts
{
	rb_table_count *items;
	size_t		n;
	size_t		cap;
} rb_table_counts;

#define RB_TABLE_COUNTS_INIT {NULL, 0, 0}

/* Appends a copy of the names; returns the new item (memory: rb_alloc.h). */
rb_table_count *rb_table_counts_add(rb_table_counts *tc, const char *schema,
									const char *table, int64_t rows);
/* Returns the item with these names, or NULL. */
const rb_table_count *rb_table_counts_find(const rb_table_counts *tc,
										   const char *schema, const char *table);
/* Sum of all rows. */
int64_t		rb_table_counts_total(const rb_table_counts *tc);
void		rb_table_counts_copy(rb_table_counts *dst, const rb_table_counts *src);
void		rb_table_counts_free(rb_table_counts *tc);

/* The metadata key of a table: malloc'd "schema.table" (quoted where needed, see above). */
char	   *rb_table_key_format(const char *schema, const char *table);
/* Splits a key made by rb_table_key_format; malloc'd names; returns 0 or -1 when malformed. */
int			rb_table_key_parse(const char *key, char **schema, char **table);

#endif							/* RB_TABLE_COUNTS_H */
