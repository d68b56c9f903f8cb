/*
 * ripple_backup.c — the extension's entry point: _PG_init sets what src/core's
 * allocation failures do in the server, defines the GUCs, requests shared memory
 * and registers the launcher.  Nothing else lives here.
 *
 * Loaded without shared_preload_libraries (CREATE EXTENSION in a server that
 * does not preload it), only the settings are defined: the functions then fail
 * with an error that says the library must be preloaded.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"

#include "core_hooks.h"
#include "guc.h"
#include "launcher.h"
#include "shmem.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	rb_core_hooks_install_alloc_handler();
	rb_guc_define();
	if (!process_shared_preload_libraries_in_progress)
		return;
	rb_shmem_init();
	rb_launcher_register();
}
