/*
 * wal_catalog.h — the archived WAL of one system identifier, as `ripple-backup
 * list --wal` reads it from a listing of the destination: every WAL file under
 * "<sysid>/<any incarnation>/wal/" (a timeline's segments are written under
 * the incarnation of the server that ran on it, so one base backup's range can
 * span several), the totals, and the timeline history files, read back
 * (decrypted with a key of the ring when encrypted, decompressed) and parsed.
 * A history file that cannot be read is skipped with a warning through hooks:
 * the range then stops at that timeline switch rather than guess.
 */
#ifndef RB_WAL_CATALOG_H
#define RB_WAL_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "dest.h"
#include "encrypt_key.h"
#include "rb_buf.h"
#include "rb_error.h"
#include "wal_range.h"

typedef struct rb_wal_catalog
{
	rb_wal_file *files;			/* segments, partials, history and backup files */
	size_t		nfiles;
	rb_wal_history *hist;		/* the history files that could be read */
	size_t		nhist;
	uint64_t	total_files;	/* WAL files (metadata objects not counted) */
	uint64_t	total_bytes;	/* stored bytes, metadata objects included */
	uint32_t	max_timeline;	/* the highest timeline with a file; 0 = none */
} rb_wal_catalog;

/*
 * Fills cat from objs (a listing of the destination, any prefix) for
 * system_identifier; segment_size turns names into segment numbers.  ring may
 * be NULL (encrypted history files are then skipped with a warning).  Returns
 * 0; -1 with err only for a cancellation.  Free with rb_wal_catalog_free.
 */
int			rb_wal_catalog_load(rb_destination *d, const rb_object_list *objs,
								uint64_t system_identifier, uint64_t segment_size,
								const rb_keyring *ring, const rb_hooks *hooks,
								rb_wal_catalog *cat, rb_error *err);
void		rb_wal_catalog_free(rb_wal_catalog *cat);

/*
 * Reads one stored WAL object into out (decrypted, decompressed), at most max
 * bytes of it.  RB_ERR_AUTH when it is encrypted and no key of ring (NULL = none)
 * opens it; RB_ERR_INTEGRITY when it does not decompress or is larger than max.
 */
int			rb_wal_object_read_small(rb_destination *d, const char *key, const rb_keyring *ring,
									 size_t max, rb_buf *out, rb_error *err);

#endif							/* RB_WAL_CATALOG_H */
