/*
 * cli_pitr.h — the pure parts of "ripple-backup restore-pitr": reading the
 * recovery target the operator gives (a time with its zone, a WAL position),
 * choosing the base backup that can reach it, and quoting for the two
 * languages a restore_command passes through (postgresql.conf's string
 * literal, then the shell PostgreSQL runs it with).  No I/O, for unit tests.
 */
#ifndef CLI_PITR_H
#define CLI_PITR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cli_catalog.h"
#include "rb_buf.h"
#include "rb_error.h"

/*
 * Parses "YYYY-MM-DD HH:MM:SS[.frac]" (or with a T) followed by a zone: Z,
 * UTC, +HH, +HHMM, +HH:MM or the same with -, optionally after a blank.  A
 * time without a zone is refused (the server would read it in its own
 * TimeZone).  *epoch_us: microseconds since the epoch; norm: the same instant
 * as "YYYY-MM-DD HH:MM:SS.ffffff+00" (at least 40 bytes), what
 * recovery_target_time is given.
 */
int			cli_pitr_parse_time(const char *text, int64_t *epoch_us, char *norm, size_t len,
								rb_error *err);

/* When a base backup ends at the latest: its start time + its duration, rounded up. */
int64_t		cli_pitr_backup_end_us(const rb_backup_metadata *m);

typedef enum cli_pitr_target_kind
{
	CLI_PITR_TIME,
	CLI_PITR_LSN,
	CLI_PITR_NAME,
	CLI_PITR_LATEST
} cli_pitr_target_kind;

typedef struct cli_pitr_target
{
	cli_pitr_target_kind kind;
	int64_t		time_us;		/* CLI_PITR_TIME */
	uint64_t	lsn;			/* CLI_PITR_LSN */
} cli_pitr_target;

/*
 * The base backup to restore: among the catalog's physical backups of the
 * system identifier (has_sysid false: there must be only one among them) that
 * did not fail verification, the one base_id names (>= 0), else the newest
 * that ends before the target (stop_lsn <= an LSN target; its end before a
 * time target; any for a name or the latest).  Returns the index into
 * cat->items, or -1 with err: RB_ERR_NOT_FOUND (none fits, saying why and
 * which ones were passed over), RB_ERR_INVALID (several system identifiers).
 */
long		cli_pitr_choose_base(const cli_catalog *cat, bool has_sysid, uint64_t sysid,
								 int64_t base_id, const cli_pitr_target *target, rb_error *err);

/* Appends s as one shell word (bare when it holds only safe characters). */
void		cli_shell_quote(rb_buf *out, const char *s);

/* Appends s as a postgresql.conf string literal: '...' with ' and \ escaped. */
void		cli_conf_quote(rb_buf *out, const char *s);

#endif							/* CLI_PITR_H */
