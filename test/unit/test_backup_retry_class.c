/*
 * test_backup_retry_class.c — unit tests of which backup failures are retried
 * as a whole (src/core/backup_retry_class.c): storage unreachable, 5xx, breaker
 * open, timeouts and pg_dump refused for a full or starting server are
 * transient; refused credentials, a missing bucket or database, bad settings,
 * a data error, a cancel, backup_timeout and a stream larger than 10,000
 * parts are permanent; which pg_dump failures are a connection refused for a
 * reason that passes (retried inside the backup by starting pg_dump again).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "backup_retry_class.h"

static void
test_transient(void **state)
{
	(void) state;
	assert_true(rb_backup_failure_is_transient("PUT s3://test/x: Connection refused (gave up after 6 attempts)"));
	assert_true(rb_backup_failure_is_transient("PUT s3://test/x: could not connect to endpoint http://127.0.0.1:1: Connection refused (gave up after 6 attempts)"));
	assert_true(rb_backup_failure_is_transient("PUT s3://b/k: 503 SlowDown: Please reduce your request rate."));
	assert_true(rb_backup_failure_is_transient("PUT s3://b/k: 500 Internal Server Error (gave up after 6 attempts)"));
	assert_true(rb_backup_failure_is_transient("PUT s3://b/k: 429 Too Many Requests"));
	assert_true(rb_backup_failure_is_transient("circuit breaker open for http://127.0.0.1:9000 after 5 consecutive failures; failing fast (next trial in 3.0 s)"));
	assert_true(rb_backup_failure_is_transient("HEAD s3://test/x: timed out: no success within the request deadline of 5 s"));
	assert_true(rb_backup_failure_is_transient("pg_dump failed: pg_dump: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  sorry, too many clients already"));
	assert_true(rb_backup_failure_is_transient("pg_dump: error: connection to server failed: FATAL:  the database system is starting up"));
	assert_true(rb_backup_failure_is_transient("FATAL:  the database system is shutting down"));
	assert_true(rb_backup_failure_is_transient("FATAL:  the database system is in recovery mode"));
}

static void
test_permanent(void **state)
{
	(void) state;
	assert_false(rb_backup_failure_is_transient(NULL));
	assert_false(rb_backup_failure_is_transient(""));
	assert_false(rb_backup_failure_is_transient("PUT s3://b/k: 403 AccessDenied: Access Denied"));
	assert_false(rb_backup_failure_is_transient("PUT s3://b/k: 403 SignatureDoesNotMatch: The request signature we calculated does not match"));
	assert_false(rb_backup_failure_is_transient("PUT s3://b/k: 403 InvalidAccessKeyId: The AWS Access Key Id you provided does not exist in our records."));
	assert_false(rb_backup_failure_is_transient("PUT s3://nobucket/k: 404 NoSuchBucket: The specified bucket does not exist"));
	/* a refused credential wins over a transient phrase in the same text */
	assert_false(rb_backup_failure_is_transient("PUT s3://b/k: 403 AccessDenied: Access Denied (last error: Connection refused)"));
	assert_false(rb_backup_failure_is_transient("database \"nope\" does not exist or does not accept connections"));
	assert_false(rb_backup_failure_is_transient("no destination configured: set ripple_backup.destination"));
	assert_false(rb_backup_failure_is_transient("pg_dump failed: pg_dump: error: query failed: ERROR:  could not read block 0 in file \"base/1/2\""));
	assert_false(rb_backup_failure_is_transient("backup canceled by the user"));
	assert_false(rb_backup_failure_is_transient("backup did not finish within ripple_backup.backup_timeout (60 s); nothing was stored"));
	/* a refused key file stays refused, even when the fault reads like a timeout */
	assert_false(rb_backup_failure_is_transient("ripple_backup.encryption_key_file refused, nothing is stored unencrypted: could not read key file \"/k\": Connection timed out"));
	assert_false(rb_backup_failure_is_transient("PUT s3://b/k: 400 BadRequest: nope"));
	/* more data than 10,000 equal parts hold: the same again would fail again */
	assert_false(rb_backup_failure_is_transient("PUT s3://b/k: the stream is larger than 10000 parts of 16 MiB (167772160000 bytes): every part but the last must have the same size, chosen at the start from the database's size; set ripple_backup.s3_part_size to at least 32MB and take the backup again"));
	/* a name that does not resolve, a certificate that does not verify: not passing failures */
	assert_false(rb_backup_failure_is_transient("HEAD s3://b/k: could not resolve host \"s3.example.com\" of endpoint https://s3.example.com (gave up after 2 attempts)"));
	assert_false(rb_backup_failure_is_transient("HEAD s3://b/k: could not verify the TLS certificate of endpoint https://127.0.0.1:9000: SSL certificate problem: self-signed certificate in certificate chain"));
}

/* Which pg_dump failures the pipeline retries at once by starting pg_dump again. */
static void
test_connect_refusal(void **state)
{
	(void) state;
	assert_string_equal(rb_connect_refusal_reason("pg_dump exited with code 1: pg_dump: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  sorry, too many clients already"),
						"too many clients");
	assert_string_equal(rb_connect_refusal_reason("pg_dump: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  remaining connection slots are reserved for non-replication superuser connections"),
						"remaining connection slots are reserved");
	assert_string_equal(rb_connect_refusal_reason("FATAL:  the database system is starting up"),
						"the database system is starting up");
	assert_string_equal(rb_connect_refusal_reason("FATAL:  the database system is shutting down"),
						"the database system is shutting down");
	assert_string_equal(rb_connect_refusal_reason("FATAL:  the database system is in recovery mode"),
						"the database system is in recovery mode");
	assert_string_equal(rb_connect_refusal_reason("FATAL:  the database system is not yet accepting connections"),
						"the database system is not yet accepting connections");
	/* not a refusal that passes: a missing database, a password, a data error */
	assert_null(rb_connect_refusal_reason(NULL));
	assert_null(rb_connect_refusal_reason("pg_dump: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  database \"nope\" does not exist"));
	assert_null(rb_connect_refusal_reason("pg_dump: error: connection to server failed: fe_sendauth: no password supplied"));
	assert_null(rb_connect_refusal_reason("pg_dump: error: query failed: ERROR:  could not read block 0 in file \"base/1/2\""));
	assert_null(rb_connect_refusal_reason("PUT s3://b/k: Connection refused"));
	/* the same words in names that pg_dump quotes are no refusal */
	assert_null(rb_connect_refusal_reason("pg_dump exited with code 1: pg_dump: error: query failed: ERROR:  canceling statement due to lock timeout\n"
										  "pg_dump: detail: Query was: LOCK TABLE public.\"too many clients\" IN ACCESS SHARE MODE"));
	assert_null(rb_connect_refusal_reason("pg_dump exited with code 1: pg_dump: error: query failed: ERROR:  permission denied for table failed: FATAL:  sorry, too many clients already"));
	assert_null(rb_connect_refusal_reason("pg_dump exited with code 1: pg_dump: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  database \"the database system is starting up\" does not exist"));
	assert_null(rb_connect_refusal_reason("pg_dump exited with code 1: pg_dump: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  database \"x\nFATAL:  the database system is starting up\n\" does not exist"));
	assert_null(rb_connect_refusal_reason("pg_dump exited with code 1: pg_dump: error: connection to server on socket \"/tmp/.s.PGSQL.5432\" failed: FATAL:  sorry, too many clients already in \"x\""));
	/* a second host's line after the first's: the first line decides */
	assert_string_equal(rb_connect_refusal_reason("pg_dump exited with code 1: pg_dump: error: connection to server at \"h1\" (10.0.0.1), port 5432 failed: FATAL:  the database system is shutting down\n"
												  "connection to server at \"h2\" (10.0.0.2), port 5432 failed: Connection refused"),
						"the database system is shutting down");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transient),
		cmocka_unit_test(test_permanent),
		cmocka_unit_test(test_connect_refusal),
	};

	return cmocka_run_group_tests_name("backup_retry_class", tests, NULL, NULL);
}
