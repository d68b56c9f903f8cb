/*
 * worker_common.h — what every ripple_backup background worker does the same
 * way, after worker_spi and autoprewarm: filling in and registering a
 * BackgroundWorker, the SIGTERM and SIGHUP handlers, connecting, keeping the
 * last ERROR message for an exit callback, and running a step in a
 * subtransaction whose ERROR is reported instead of ending the worker.
 */
#ifndef RB_WORKER_COMMON_H
#define RB_WORKER_COMMON_H

#include "postmaster/bgworker.h"

/* Set by the SIGTERM handler before it calls die(): the worker was terminated. */
extern volatile sig_atomic_t rb_worker_got_sigterm;

/*
 * A worker of this library connected to a database, started once recovery has
 * finished: function is its entry point, type its bgw_type (also its bgw_name
 * until the caller sets another), restart_time BGW_NEVER_RESTART or seconds.
 */
void		rb_worker_init(BackgroundWorker *worker, const char *function, const char *type,
						   int restart_time);

/*
 * Registers a dynamic worker; the handle is allocated in TopMemoryContext when
 * it must outlive the current transaction (keep_handle).  False when no
 * background worker slot is free.
 */
bool		rb_worker_start(BackgroundWorker *worker, BackgroundWorkerHandle **handle,
							bool keep_handle);

/*
 * Signal handlers of a worker's first lines, then unblocks signals: SIGTERM sets
 * rb_worker_got_sigterm and dies at the next CHECK_FOR_INTERRUPTS; SIGHUP asks
 * for a reload (reload) or is ignored (settings read once, at start).
 */
void		rb_worker_signals(bool reload);

/*
 * The first of unix_socket_directories (palloc'd), where the server's client
 * programs that a worker starts connect; NULL when the server listens on none.
 */
char	   *rb_worker_socket_directory(void);

/* Connects to dbname and shows appname in pg_stat_activity. */
void		rb_worker_connect(const char *dbname, const char *appname);

/*
 * From now on the message of every ERROR or FATAL this worker reports is copied
 * into buf (a FATAL while connecting cannot be caught), for its exit callback.
 */
void		rb_worker_capture_errors(char *buf, size_t len);

/*
 * Runs fn(arg) in an internal subtransaction of the current transaction.  On
 * ERROR the subtransaction is rolled back and false returned with the message in
 * *errmsg (palloc'd in the caller's memory context); the worker and its
 * transaction go on.
 */
bool		rb_worker_try(void (*fn) (void *arg), void *arg, char **errmsg);

#endif							/* RB_WORKER_COMMON_H */
