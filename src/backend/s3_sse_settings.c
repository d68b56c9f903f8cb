/*
 * s3_sse_settings.c — ripple_backup.s3_sse and ripple_backup.s3_sse_kms_key_id
 * (see s3_sse_settings.h and docs/configuration.md).
 *
 * The check hooks refuse what S3 would refuse later: an unknown encryption (S3
 * spells them "AES256" and "aws:kms", case-sensitively), a key id that is not
 * one, and a key id while the encryption is not aws:kms.  That last check reads
 * the s3_sse in effect, so s3_sse must be set first (at server start s3_sse is
 * defined first; in a configuration file, put it above the key id).  Should the
 * two still disagree (s3_sse changed away from aws:kms afterwards), the S3
 * client refuses the pair and the backup fails with the same message: nothing
 * is stored with an encryption other than the one configured.
 */
#include "postgres.h"

#include <string.h>

#include "utils/guc.h"

#include "dest.h"
#include "s3/s3_sse.h"
#include "s3_sse_settings.h"

static char *rb_guc_s3_sse = NULL;
static char *rb_guc_s3_sse_kms_key_id = NULL;

static bool
check_s3_sse(char **newval, void **extra, GucSource source)
{
	if (rb_s3_sse_valid(*newval))
		return true;
	GUC_check_errmsg("invalid S3 server-side encryption \"%s\"", *newval);
	GUC_check_errdetail("S3 knows AES256 (keys managed by S3) and aws:kms (keys in AWS KMS), spelt exactly so.");
	GUC_check_errhint("Use '' (none: the bucket's default), 'AES256' or 'aws:kms'.");
	return false;
}

static bool
check_s3_sse_kms_key_id(char **newval, void **extra, GucSource source)
{
	const char *problem = rb_s3_sse_kms_key_id_problem(*newval);

	if (problem != NULL)
	{
		GUC_check_errmsg("invalid S3 KMS key id");
		GUC_check_errdetail("%s", problem);
		return false;
	}
	if ((*newval)[0] != '\0' &&
		(rb_guc_s3_sse == NULL || strcmp(rb_guc_s3_sse, RB_S3_SSE_KMS) != 0))
	{
		GUC_check_errmsg("ripple_backup.s3_sse_kms_key_id needs ripple_backup.s3_sse = 'aws:kms'");
		GUC_check_errdetail("ripple_backup.s3_sse is \"%s\".", rb_guc_s3_sse ? rb_guc_s3_sse : "");
		GUC_check_errhint("Set ripple_backup.s3_sse to 'aws:kms' first (above this setting in the configuration file).");
		return false;
	}
	return true;
}

void
rb_s3_sse_define_gucs(void)
{
	/* s3_sse first: the key id's check reads it */
	DefineCustomStringVariable("ripple_backup.s3_sse",
							   "Server-side encryption S3 applies to the objects backups store: '', 'AES256' or 'aws:kms'.",
							   "Empty: none asked for (the bucket's default encryption applies).",
							   &rb_guc_s3_sse, "",
							   PGC_SIGHUP, 0, check_s3_sse, NULL, NULL);

	DefineCustomStringVariable("ripple_backup.s3_sse_kms_key_id",
							   "KMS key (id, ARN or alias) for ripple_backup.s3_sse = 'aws:kms'; empty means the account's default key.",
							   NULL,
							   &rb_guc_s3_sse_kms_key_id, "",
							   PGC_SIGHUP, 0, check_s3_sse_kms_key_id, NULL, NULL);
}

void
rb_s3_sse_destination_options(rb_destination_options *opt)
{
	opt->s3_sse = rb_guc_s3_sse[0] ? rb_guc_s3_sse : NULL;
	opt->s3_sse_kms_key_id = rb_guc_s3_sse_kms_key_id[0] ? rb_guc_s3_sse_kms_key_id : NULL;
}
