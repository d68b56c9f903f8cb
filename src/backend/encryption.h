/*
 * encryption.h — the server's backup encryption settings and their keys:
 * ripple_backup.encryption_key_file (the key every new backup is encrypted
 * with; empty = no encryption) and ripple_backup.decryption_key_files (old keys
 * kept after a rotation, for reading).  The settings hold paths, never key
 * material; the keys are read from the files when a backup or a verification
 * starts (encrypt_key.h checks them), so a reload changes the next run.
 */
#ifndef RB_ENCRYPTION_H
#define RB_ENCRYPTION_H

#include <stdbool.h>
#include <stddef.h>

#include "encrypt_key.h"
#include "rb_error.h"

extern char *rb_guc_encryption_key_file;
extern char *rb_guc_decryption_key_files;

/* Defines the two settings (from rb_guc_define). */
extern void rb_encryption_define_gucs(void);

/*
 * The key new backups are encrypted with.  Returns 0 with *configured false when
 * encryption_key_file is empty, 0 with the key loaded, or -1 with err
 * (RB_ERR_INVALID) naming the file and what is wrong with it: a backup must then
 * fail rather than be stored unencrypted.
 */
extern int	rb_encryption_current_key(rb_key *key, bool *configured, rb_error *err);

/*
 * The keys to read backups with: encryption_key_file, then every file of
 * decryption_key_files.  A file that cannot be loaded is left out, logged, and
 * described in problems ("" when none) so that a failure to decrypt can say why
 * its key is missing.  Wipe the ring with rb_keyring_wipe.
 */
extern void rb_encryption_keyring(rb_keyring *ring, char *problems, size_t problems_len);

#endif							/* RB_ENCRYPTION_H */
