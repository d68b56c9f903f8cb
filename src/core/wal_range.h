/*
 * wal_range.h — how far the archived WAL lets a base backup recover: the WAL
 * objects of a listing (wal_archive.h's layout), the timeline history files,
 * and for one base backup the contiguous run of segments from its start
 * segment, following timeline switches.  No I/O: the caller lists the
 * destination, reads the history files (wal_history.h) and passes both.
 *
 * WAL file names encode the timeline and the segment: TTTTTTTTXXXXXXXXYYYYYYYY
 * is timeline T, segment number X * (2^32 / segment size) + Y.  The segment
 * size (wal_segment_size, 16 MiB unless initdb chose another) is not in the
 * name; the base backup's backup_label gives it (rb_wal_segment_size_from_label)
 * and the server knows its own.
 *
 * The walk follows what recovery with recovery_target_timeline = 'latest'
 * reads: the target is the newest timeline whose history passes through the
 * base backup's timeline after the base backup started; a segment number s is
 * read from the newest timeline of that path that had begun by s (a timeline
 * that branched at LSN L begins at L's segment: its copy of that segment
 * holds the old timeline's WAL up to L).  ".partial" segments are never read
 * by recovery: the old timeline's last segment, archived when a standby was
 * promoted.  A base backup is consistent only once WAL up to its stop LSN is
 * replayed: a run that ends before the stop segment recovers nothing.
 */
#ifndef RB_WAL_RANGE_H
#define RB_WAL_RANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rb_error.h"

#define RB_WAL_DEFAULT_SEGMENT_SIZE (16 * 1024 * 1024)
#define RB_WAL_NAME_LEN 25			/* 24 hex digits and the terminator */

typedef enum rb_wal_file_kind
{
	RB_WAL_KIND_SEGMENT,		/* 000000010000000000000003 */
	RB_WAL_KIND_PARTIAL,		/* 000000010000000000000003.partial */
	RB_WAL_KIND_HISTORY,		/* 00000002.history */
	RB_WAL_KIND_BACKUP			/* 000000010000000000000003.00000028.backup */
} rb_wal_file_kind;

/* One WAL object key, as rb_wal_key_parse reads it. */
typedef struct rb_wal_key
{
	rb_wal_file_kind kind;
	bool		metadata;		/* the ".zst.metadata.json" sidecar, not the file */
	uint32_t	timeline;		/* of the name (a history file's: the one it begins) */
	uint32_t	log;			/* XXXXXXXX of the name (0 for a history file) */
	uint32_t	seg;			/* YYYYYYYY of the name */
	char		incarnation[17];	/* the key's incarnation segment */
	char		file[41];		/* the WAL file name */
} rb_wal_key;

/*
 * Parses "<sysid>/<incarnation>/wal/<timeline>/<file>.zst" or the same +
 * ".metadata.json" (the last five segments of key; anything before them is
 * ignored, so a key with a destination prefix parses too).  False for any
 * other key, and for a name whose timeline differs from its directory's.
 */
bool		rb_wal_key_parse(const char *key, rb_wal_key *out);

/* The segment number of a parsed segment, partial or backup file name. */
uint64_t	rb_wal_key_segno(const rb_wal_key *k, uint64_t segment_size);

/* Timeline + segment number → "000000010000000000000003". */
void		rb_wal_segment_name(uint32_t timeline, uint64_t segno, uint64_t segment_size,
								char out[RB_WAL_NAME_LEN]);

/* "0/2000028" → 0x2000028.  False on malformed text. */
bool		rb_lsn_parse(const char *text, uint64_t *lsn);

/*
 * The segment size a backup_label implies: its "START WAL LOCATION: X/Y (file
 * F)" line names both the LSN and its segment file, and only one power-of-two
 * size from 1 MiB to 1 GiB puts that LSN in that file.  0 when the label has
 * no such line or no size fits (the caller then assumes 16 MiB and says so).
 */
uint64_t	rb_wal_segment_size_from_label(const char *backup_label);

/* A timeline history file (PostgreSQL's format: "<parent>\t<X/Y>\t<reason>" lines). */
typedef struct rb_wal_history_entry
{
	uint32_t	timeline;		/* an ancestor ... */
	uint64_t	end_lsn;		/* ... and where its successor branched off it */
} rb_wal_history_entry;

typedef struct rb_wal_history
{
	uint32_t	timeline;		/* the timeline the file begins */
	rb_wal_history_entry *entries;	/* oldest ancestor first; malloc'd */
	size_t		n;
} rb_wal_history;

/*
 * Parses the text of timeline's history file into h (initialised by the
 * call; free it with rb_wal_history_free).  Blank lines and "#" comments are
 * skipped.  RB_ERR_INTEGRITY for a malformed line, timelines that do not
 * increase, or an ancestor not older than timeline.
 */
int			rb_wal_history_parse(const char *text, size_t len, uint32_t timeline,
								 rb_wal_history *h, rb_error *err);
void		rb_wal_history_free(rb_wal_history *h);

/* One archived WAL file, for the walk (any incarnation; duplicates are fine). */
typedef struct rb_wal_file
{
	rb_wal_file_kind kind;		/* segments and partials matter */
	uint32_t	timeline;
	uint64_t	segno;
	int64_t		mtime;			/* the listing's LastModified, seconds; 0 = unknown */
} rb_wal_file;

typedef struct rb_wal_range_base
{
	uint32_t	timeline;		/* the base backup's START TIMELINE */
	uint64_t	start_lsn;
	uint64_t	stop_lsn;
	uint64_t	segment_size;
} rb_wal_range_base;

typedef enum rb_wal_range_status
{
	RB_WAL_RANGE_RECOVERABLE,	/* consistent; the run ends where the archive ends */
	RB_WAL_RANGE_GAP,			/* consistent; a segment is missing and later ones exist */
	RB_WAL_RANGE_NOT_CONSISTENT /* the run ends before the stop segment */
} rb_wal_range_status;

typedef struct rb_wal_range
{
	rb_wal_range_status status;
	uint32_t	target_timeline;	/* the newest timeline of the path */
	uint64_t	start_segno;
	uint64_t	stop_segno;		/* the segment that holds the WAL just before stop_lsn */
	uint64_t	segments;		/* contiguous segments found from start_segno */
	uint32_t	last_timeline;	/* the last contiguous segment (when segments > 0) */
	uint64_t	last_segno;
	int64_t		last_mtime;
	uint32_t	missing_timeline;	/* the first segment not archived */
	uint64_t	missing_segno;
	bool		ends_with_partial;	/* the missing segment is there only as .partial:
									 * the timeline was left, and no history file
									 * that continues it is archived */
} rb_wal_range;

/*
 * Computes the range of one base backup over files[0..nfiles) and the
 * history files hist[0..nhist).  Pure; never fails.
 */
void		rb_wal_range_compute(const rb_wal_file *files, size_t nfiles,
								 const rb_wal_history *hist, size_t nhist,
								 const rb_wal_range_base *base, rb_wal_range *out);

#endif							/* RB_WAL_RANGE_H */
