/*
 * pgdump_archive.h — a streaming observer of pg_dump's custom-format archive
 * (-Fc, uncompressed: -Z0).  Fed the bytes as they pass (any chunking), it reads
 * the header and the table of contents, then follows the data blocks and counts
 * the rows of every TABLE DATA entry exactly: COPY text rows are lines, so the
 * count is the number of newlines in that entry's data.  It never changes or
 * keeps the bytes.  Archive versions 1.12 to 1.16 (PostgreSQL 10 to 17); a
 * compressed archive is refused.
 */
#ifndef RB_PGDUMP_ARCHIVE_H
#define RB_PGDUMP_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_error.h"
#include "backup_table_counts.h"

typedef struct rb_archive_parser rb_archive_parser;

rb_archive_parser *rb_archive_parser_new(void);
void		rb_archive_parser_free(rb_archive_parser *p);

/* Observes the next len bytes; -1 with RB_ERR_INTEGRITY when they are not a valid archive. */
int			rb_archive_parser_feed(rb_archive_parser *p, const void *data, size_t len,
								   rb_error *err);
/* At end of stream: fails if the archive stopped in the middle of an item. */
int			rb_archive_parser_finish(rb_archive_parser *p, rb_error *err);

/*
 * Row counts of the TABLE DATA entries in TOC order (tables whose data block was
 * not seen count 0).  Valid after finish.
 */
const rb_table_counts *rb_archive_parser_counts(const rb_archive_parser *p);

/* Facts from the header (valid once the header has been read, else NULL/0). */
const char *rb_archive_parser_server_version(const rb_archive_parser *p);
const char *rb_archive_parser_dump_version(const rb_archive_parser *p);
const char *rb_archive_parser_dbname(const rb_archive_parser *p);
int			rb_archive_parser_version(const rb_archive_parser *p);	/* e.g. 0x010e00 for 1.14.0 */
int			rb_archive_parser_toc_count(const rb_archive_parser *p);
int64_t		rb_archive_parser_blob_count(const rb_archive_parser *p);

#endif							/* RB_PGDUMP_ARCHIVE_H */
