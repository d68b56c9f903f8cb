/*
 * notify_facts.h — the facts of a notification, read from the catalog: the
 * backup's row (database, label, status, times, size, compression ratio,
 * location, verification, error), its row totals and largest tables, the last
 * successful backup of its database and its age, and the host or cluster name.
 */
#ifndef RB_NOTIFY_FACTS_H
#define RB_NOTIFY_FACTS_H

#include "postgres.h"

#include "notify_event.h"

#define RB_NOTIFY_LARGEST_TABLES 5

/*
 * Fills ev for an event of kind about backup_id (0 = none: an RPO event or a
 * test) of database dbname (NULL = the backup's).  Strings are allocated in the
 * current memory context, which must outlive ev.  Needs a transaction and an
 * active snapshot; connects to SPI itself.
 */
extern void rb_notify_facts(rb_notify_kind kind, int64 backup_id, const char *dbname,
							rb_notify_event *ev);

#endif							/* RB_NOTIFY_FACTS_H */
