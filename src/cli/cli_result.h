/*
 * cli_result.h — the outcome of "verify" and "restore" as one JSON object on
 * standard output (--json), for scripts:
 *   {"command": "restore", "status": "restored", "exit_code": 0, "error": null,
 *    "backup_id": 12, "dbname": "app", "key": "...", "target_dbname": "app2",
 *    "stored_bytes": 1946, "archive_bytes": 10240, "sha256_ok": true,
 *    "seconds": {"download": 0.4, "pg_restore": 3.1, "row_counts": 0.2, "total": 3.8},
 *    "rows": {"verdict": "match", "tables": 6, "tables_differing": 0,
 *             "tables_uncounted": 0, "tables_not_compared": 0,
 *             "rows_expected": 2000071, "rows_found": 2000071, "differences": []}}
 * status: "verified" / "restored", or "failed" (exit_code and error say why);
 * a step not reached has null seconds; rows.verdict is "match", "mismatch" or
 * "not compared" (verify without --archive, or a failure before the counts).
 * differences lists each table whose count differs: {"table", "expected", "found"}
 * (found null when it could not be counted).
 */
#ifndef CLI_RESULT_H
#define CLI_RESULT_H

#include <stdbool.h>
#include <stdint.h>

#include "backup_table_counts.h"
#include "cli_catalog.h"
#include "pg_rowcount.h"
#include "verify_fetch.h"

typedef struct cli_result
{
	const char *command;		/* "verify", "restore" */
	const char *success_status; /* "verified", "restored" */
	int			exit_code;
	const char *error;			/* NULL or "" when none */
	const cli_backup *backup;	/* NULL when none was found */
	const char *target_dbname;	/* restore */
	const rb_fetch_result *fetch;	/* NULL when the download did not finish */
	double		download_s;		/* < 0: not reached (also the others) */
	double		restore_s;
	double		count_s;
	double		total_s;
	/* row counts: either those of a restored database or those of the archive */
	const rb_table_counts *expected;	/* the metadata's */
	const rb_rowcount_result *counted;	/* restore: counted in the database */
	const rb_table_counts *archive; /* verify --archive: read from the archive */
} cli_result;

/* Sets every time to "not reached" and the rest to nothing. */
void		cli_result_init(cli_result *r, const char *command, const char *success_status);

/* Prints r as one JSON line on standard output. */
void		cli_result_print_json(const cli_result *r);

#endif							/* CLI_RESULT_H */
