/*
 * notifier.h — the notifier background worker: sends the notifications queued
 * in ripple_backup.notifications (notify_queue.h), oldest first, by e-mail,
 * webhook or heartbeat, and records each outcome (sent or failed, with the
 * error) in its row.  Started by the launcher when rows are pending; exits when
 * none is left.  It is the only place that waits on a mail server or a webhook
 * receiver, so no backup, verification or launcher loop ever does.  One runs at a
 * time (a session advisory lock makes sure after a launcher restart).
 */
#ifndef RB_NOTIFIER_H
#define RB_NOTIFIER_H

#include "postgres.h"

#include "notify_channel.h"
#include "notify_event.h"

/*
 * From the launcher, outside a transaction, when notifications are pending:
 * starts a notifier unless one runs.  Its exit sets the launcher's latch.
 */
extern void rb_notifier_kick(void);

/*
 * Sends one event on one channel now (the heartbeat with signal_kind deciding
 * the signal: backup.started = start, a failure = fail, else success) and
 * returns 0, or -1 with err.  Runs outside a transaction; cancelled by SIGTERM
 * and by a query cancel.  heartbeat_url is used for the heartbeat channel.
 */
extern int	rb_notifier_send(rb_notify_channel ch, const rb_notify_event *ev,
							 bool heartbeat_start, const char *heartbeat_url,
							 rb_error *err);

/*
 * The rb_hooks of a call into src/core from a session or this worker: log lines
 * to the server log, cancelled by SIGTERM, a query cancel or postmaster death
 * (acted on once core has returned).
 */
extern void rb_notifier_hooks(rb_hooks *hooks);

extern PGDLLEXPORT void rb_notifier_main(Datum main_arg);

#endif							/* RB_NOTIFIER_H */
