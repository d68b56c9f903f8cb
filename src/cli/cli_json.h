/*
 * cli_json.h — ripple-backup's --json output: one backup as a JSON object (the
 * metadata's fields plus the object key, its URL, and the table and row totals;
 * with the per-table counts for info).
 */
#ifndef CLI_JSON_H
#define CLI_JSON_H

#include <stdbool.h>

#include "cli_catalog.h"
#include "rb_buf.h"

void		cli_json_backup(rb_buf *out, const cli_backup *b, const char *url, bool with_tables);

#endif							/* CLI_JSON_H */
