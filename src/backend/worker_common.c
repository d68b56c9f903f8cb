/*
 * worker_common.c — the set-up, signal handling and error containment shared by
 * the launcher (and the scheduler it runs), the runner and the verifier (see
 * worker_common.h).
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "postmaster/postmaster.h"
#include "tcop/tcopprot.h"
#include "utils/elog.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/varlena.h"

#include "worker_common.h"

volatile sig_atomic_t rb_worker_got_sigterm = false;

static char *captured_error = NULL;
static size_t captured_error_len = 0;
static emit_log_hook_type prev_emit_log_hook = NULL;

void
rb_worker_init(BackgroundWorker *worker, const char *function, const char *type,
			   int restart_time)
{
	memset(worker, 0, sizeof(*worker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = restart_time;
	strlcpy(worker->bgw_library_name, "ripple_backup", BGW_MAXLEN);
	strlcpy(worker->bgw_function_name, function, BGW_MAXLEN);
	strlcpy(worker->bgw_name, type, BGW_MAXLEN);
	strlcpy(worker->bgw_type, type, BGW_MAXLEN);
}

bool
rb_worker_start(BackgroundWorker *worker, BackgroundWorkerHandle **handle, bool keep_handle)
{
	MemoryContext oldcxt = keep_handle ? MemoryContextSwitchTo(TopMemoryContext) : NULL;
	bool		registered = RegisterDynamicBackgroundWorker(worker, handle);

	if (keep_handle)
		MemoryContextSwitchTo(oldcxt);
	return registered;
}

static void
worker_sigterm(SIGNAL_ARGS)
{
	rb_worker_got_sigterm = true;
	die(postgres_signal_arg);
}

void
rb_worker_signals(bool reload)
{
	pqsignal(SIGTERM, worker_sigterm);
	pqsignal(SIGHUP, reload ? SignalHandlerForConfigReload : SIG_IGN);
	BackgroundWorkerUnblockSignals();
}

char *
rb_worker_socket_directory(void)
{
	char	   *raw = pstrdup(Unix_socket_directories ? Unix_socket_directories : "");
	List	   *dirs;

	if (!SplitDirectoriesString(raw, ',', &dirs) || dirs == NIL)
		return NULL;
	return (char *) linitial(dirs);
}

void
rb_worker_connect(const char *dbname, const char *appname)
{
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname(appname);
}

static void
capture_emit_log(ErrorData *edata)
{
	if (edata->elevel >= ERROR && edata->message != NULL)
		strlcpy(captured_error, edata->message, captured_error_len);
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
rb_worker_capture_errors(char *buf, size_t len)
{
	captured_error = buf;
	captured_error_len = len;
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = capture_emit_log;
}

bool
rb_worker_try(void (*fn) (void *arg), void *arg, char **errmsg)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = true;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		fn(arg);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(oldcxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(oldcxt);
		CurrentResourceOwner = oldowner;
		*errmsg = pstrdup(edata->message ? edata->message : "error");
		FreeErrorData(edata);
		ok = false;
	}
	PG_END_TRY();
	return ok;
}
