/*
 * runner_outcome.h — what one runner's backup came to, logical (runner.c) or
 * physical (base_backup.c), before it is handed to the launcher in the slot.
 */
#ifndef RB_RUNNER_OUTCOME_H
#define RB_RUNNER_OUTCOME_H

#include "postgres.h"

#include "storage/dsm.h"

#include "backup.h"
#include "encrypt_key.h"
#include "incarnation.h"
#include "rb_error.h"
#include "shmem.h"

typedef struct RunOutcome
{
	bool		succeeded;
	rb_error	err;
	char		location[RB_TEXT_LEN];
	char		object_key[RB_TEXT_LEN];
	uint64		size_bytes;
	uint64		bytes_read;
	double		duration;
	char		sha256[65];
	char		encryption[40];
	char		key_id[RB_KEY_ID_HEX_SIZE];
	dsm_handle	counts;
	char		incarnation[RB_INCARNATION_LEN];
	uint32		timeline;
} RunOutcome;

/* Shared by both kinds of runner (runner.c). */
extern void rb_runner_progress(void *arg, const rb_backup_progress *p);
extern void rb_runner_upload_abandoned(void *arg, const char *bucket, const char *key,
									   const char *upload_id, const char *reason);
extern rb_compress_kind rb_runner_compression_kind(void);
extern char *rb_runner_program_path(const char *program);
extern void rb_runner_upload_started(void *arg, const char *bucket, const char *key,
									 const char *upload_id);
extern void rb_runner_backup_nice(const char **env, char *options, size_t options_len);
extern bool rb_runner_encryption_key(RunOutcome *out, const rb_key **key);
extern void rb_runner_wipe_key(void);

#endif							/* RB_RUNNER_OUTCOME_H */
