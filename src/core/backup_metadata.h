/*
 * backup_metadata.h — the metadata document stored beside every backup object
 * (<object key>.metadata.json), written last: a backup exists only when its
 * metadata exists.  Read back by verify, retention and the disaster-recovery CLI.
 *
 * JSON shape (format_version 1):
 *   {"format_version": 1, "backup_id": 7, "timestamp": "2026-11-26T04:00:00Z",
 *    "dbname": "app", "system_identifier": "7312...", "timeline": 2,
 *    "incarnation": "5f0c2a9e7b1d4c36", "host_name": "db2", "cluster_name": "main",
 *    "backup_type": "manual",
 *    "label": null, "size_bytes": 1234, "sha256": "<64 hex>", "compression": "zstd",
 *    "encryption": "none", "key_id": null, "pg_dump_format": "custom", "server_version": "15.20", "extension_version": "1.0",
 *    "duration_seconds": 1.25, "uncompressed_bytes": 5678, "object_key": "...",
 *    "table_counts": {"public.t": 10, ...}}
 * system_identifier is a string: it does not fit in a JSON number's exact range.
 *
 * Servers that share a system identifier (a promoted standby and its old primary,
 * clones of one base backup) are told apart by the incarnation: a random id the
 * server draws when it first runs as a primary on a timeline (the object key
 * carries it too), with the timeline, the host name and cluster_name beside it
 * for people.  These four are optional when reading (documents written before
 * them have none: 0 / NULL) and null when unknown.
 *
 * "encryption" names the client-side encryption of the stored object
 * (RB_ENCRYPT_ALGORITHM_NAME of encrypt_stream.h, or "none") and "key_id" the
 * key's id (16 hex digits; null when not encrypted), never the key.  size_bytes
 * and sha256 are of the stored (encrypted) bytes, so a checksum needs no key.
 * Both are optional when reading: a document without them is not encrypted.
 */
#ifndef RB_METADATA_H
#define RB_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rb_buf.h"
#include "rb_error.h"
#include "backup_table_counts.h"

#define RB_METADATA_FORMAT_VERSION 1

typedef struct rb_backup_metadata
{
	int			format_version;	/* RB_METADATA_FORMAT_VERSION */
	int64_t		backup_id;
	char		timestamp[32];	/* ISO 8601 UTC, "2026-11-26T04:00:00Z" */
	char	   *dbname;			/* every char * below is malloc'd and owned */
	uint64_t	system_identifier;
	uint32_t	timeline;		/* 0 = unknown */
	char	   *incarnation;	/* server incarnation id; NULL = unknown */
	char	   *host_name;		/* NULL = unknown */
	char	   *cluster_name;	/* the cluster_name setting; NULL = unset */
	char	   *backup_type;	/* "manual" | "scheduled" */
	char	   *label;			/* NULL = JSON null */
	uint64_t	size_bytes;		/* stored (compressed) bytes */
	char		sha256[65];		/* hex of the stored bytes */
	char	   *compression;	/* "zstd" | "gzip" | "none" */
	char	   *encryption;		/* RB_ENCRYPT_ALGORITHM_NAME | "none"; NULL = "none" */
	char	   *key_id;			/* 16 hex digits of the key's id; NULL = not encrypted */
	char	   *pg_dump_format; /* "custom" */
	char	   *server_version;
	char	   *extension_version;
	double		duration_seconds;
	uint64_t	uncompressed_bytes; /* bytes pg_dump wrote */
	char	   *object_key;		/* key of the dump object, relative to the destination */
	/*
	 * Physical base backups (base_backup.h) only, written only when kind is set:
	 * "kind": "physical" (absent or "logical" for a pg_dump archive), dbname
	 * null, pg_dump_format "tar", and the WAL positions and backup_label text
	 * that a point-in-time restore needs.  Readers before them ignore the keys.
	 */
	char	   *kind;			/* NULL = logical */
	char	   *start_lsn;		/* "0/2000028" */
	char	   *stop_lsn;
	char	   *backup_label;
	rb_table_counts table_counts;
} rb_backup_metadata;

void		rb_backup_metadata_init(rb_backup_metadata *m);
void		rb_backup_metadata_free(rb_backup_metadata *m);
/* True for a physical base backup's document ("kind": "physical"). */
bool		rb_backup_metadata_is_physical(const rb_backup_metadata *m);
/* Replaces *field with a copy of value (NULL allowed). */
void		rb_metadata_set_str(char **field, const char *value);
/* Formats t as ISO 8601 UTC into buf (at least 21 bytes). */
void		rb_metadata_format_time(time_t t, char *buf, size_t len);

/* True when the metadata says the stored object is encrypted. */
bool		rb_backup_metadata_encrypted(const rb_backup_metadata *m);

/* Appends the JSON document (UTF-8, every string escaped) to out. */
void		rb_backup_metadata_to_json(const rb_backup_metadata *m, rb_buf *out);

/*
 * Parses a document written by rb_backup_metadata_to_json (unknown keys are
 * ignored; a newer format_version is refused).  m is initialised by the call;
 * free it with rb_backup_metadata_free even on failure.  RB_ERR_INTEGRITY for
 * malformed JSON or a missing required field.
 */
int			rb_backup_metadata_from_json(const char *json, size_t len, rb_backup_metadata *m,
										 rb_error *err);

#endif							/* RB_METADATA_H */
