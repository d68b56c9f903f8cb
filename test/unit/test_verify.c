/*
 * test_verify.c — unit tests of src/core/verify.c, verify_archive.c,
 * verify_fetch.c and verify_toc.c: level names, identifier quoting, counting
 * TABLE DATA entries in pg_restore --list output, the comparison of an
 * archive's per-table counts with its metadata's, the split of a table of
 * contents for an unprivileged restore, the CREATE SCHEMA and CREATE EXTENSION
 * statements rebuilt from a dump's names, the one streaming read (verdicts,
 * progress, decompression into a descriptor, the parser, cancellation; the
 * decrypt stage: an encrypted object decrypts with its key from the ring, and
 * without it, flipped, or truncated at a chunk boundary it fails to decrypt
 * while its checksum is still judged), and the
 * checksum level against a file:// destination in a temporary directory (a good
 * object, one flipped byte, a short object, a missing and a disagreeing
 * metadata object).
 */
#define _GNU_SOURCE				/* memmem */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "backup_metadata.h"
#include "encrypt_stream.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "pg_client.h"
#include "verify.h"
#include "verify_archive.h"
#include "verify_fetch.h"
#include "verify_toc.h"

static void
test_levels(void **state)
{
	rb_verify_level l;
	rb_error	err;

	(void) state;
	rb_error_clear(&err);
	assert_int_equal(rb_verify_level_parse("checksum", &l, &err), 0);
	assert_int_equal(l, RB_VERIFY_CHECKSUM);
	assert_int_equal(rb_verify_level_parse("restore", &l, &err), 0);
	assert_int_equal(l, RB_VERIFY_RESTORE);
	assert_string_equal(rb_verify_level_name(RB_VERIFY_ARCHIVE), "archive");
	assert_int_equal(rb_verify_level_parse("Checksum", &l, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_string_equal(err.msg, "invalid verify level \"Checksum\": must be checksum, archive or restore");
	assert_int_equal(rb_verify_level_parse(NULL, &l, &err), -1);
}

static void
test_quote_ident(void **state)
{
	char	   *q;

	(void) state;
	q = rb_pg_quote_ident("Orders");
	assert_string_equal(q, "\"Orders\"");
	free(q);
	q = rb_pg_quote_ident("a \"b\".c");
	assert_string_equal(q, "\"a \"\"b\"\".c\"");
	free(q);
	q = rb_pg_quote_ident("");
	assert_string_equal(q, "\"\"");
	free(q);
}

static void
test_count_table_data(void **state)
{
	const char *listing =
		";\n; Archive created at 2026-11-26 04:00:00 UTC\n;\n"
		"215; 1259 16385 TABLE public accounts postgres\n"
		"216; 1259 16390 TABLE sales Orders postgres\n"
		"3340; 0 16385 TABLE DATA public accounts postgres\n"
		"3341; 0 16390 TABLE DATA sales Orders postgres\n"
		"3342; 0 16393 TABLE DATA public my table postgres\n"
		"3190; 2606 16394 CONSTRAINT sales Orders Orders_pkey postgres\n";
	int			entries;

	(void) state;
	assert_int_equal(rb_verify_count_table_data(listing, &entries), 3);
	assert_int_equal(entries, 6);
	assert_int_equal(rb_verify_count_table_data("", &entries), 0);
	assert_int_equal(entries, 0);
	/* a table named "TABLE DATA x" in a TABLE entry is no data entry */
	assert_int_equal(rb_verify_count_table_data("1; 1259 1 TABLE public TABLE DATA x postgres", &entries), 0);
	assert_int_equal(entries, 1);
}

static void
test_compare_counts(void **state)
{
	rb_table_counts e = RB_TABLE_COUNTS_INIT;
	rb_table_counts f = RB_TABLE_COUNTS_INIT;
	rb_buf		report = RB_BUF_INIT;

	(void) state;
	rb_table_counts_add(&e, "public", "a", 10);
	rb_table_counts_add(&e, "my.schema", "b", 3);
	rb_table_counts_add(&f, "my.schema", "b", 3);
	rb_table_counts_add(&f, "public", "a", 10);
	assert_int_equal(rb_verify_compare_counts(&e, &f, &report), 0);
	assert_int_equal(report.len, 0);

	rb_table_counts_add(&f, "public", "extra", 1);
	f.items[1].rows = 11;
	assert_int_equal(rb_verify_compare_counts(&e, &f, &report), 2);
	assert_non_null(strstr(rb_buf_str(&report), "table public.a has 11 rows in the archive, the metadata says 10"));
	assert_non_null(strstr(rb_buf_str(&report), "table public.extra is in the archive but not in the metadata"));
	rb_buf_reset(&report);
	assert_int_equal(rb_verify_compare_counts(&f, &e, &report), 2);
	assert_non_null(strstr(rb_buf_str(&report), "table public.extra is in the metadata but not in the archive"));
	/* without a report: the number of differences only */
	assert_int_equal(rb_verify_compare_counts(&f, &e, NULL), 2);
	rb_buf_free(&report);
	rb_table_counts_free(&e);
	rb_table_counts_free(&f);
}

/* ---- the table of contents of an unprivileged restore ------------------------ */

static void
test_toc_plan(void **state)
{
	const char *listing =
		";\n; Archive created at 2026-11-26 04:00:00 UTC\n;\n"
		"5; 2615 16385 SCHEMA - ext mallory\n"
		"6; 2615 16386 SCHEMA - ripple_backup postgres\n"
		"2; 3079 16387 EXTENSION - pgcrypto \n"
		"3400; 0 0 COMMENT - EXTENSION pgcrypto \n"
		"3; 3079 16388 EXTENSION - ripple_backup \n"
		"3401; 0 0 COMMENT - EXTENSION ripple_backup \n"
		"215; 1259 16390 TABLE public accounts mallory\n"
		"216; 1259 16391 TABLE ripple_backup backups postgres\n"
		"217; 1255 16392 FUNCTION public et_fn() mallory\n"
		"3340; 0 16390 TABLE DATA public accounts mallory\n"
		"3341; 0 16391 TABLE DATA ripple_backup backups postgres\n"
		"3450; 3466 16500 EVENT TRIGGER - et postgres\n"
		"3451; 0 0 COMMENT - EVENT TRIGGER et postgres\n"
		"3452; 0 0 COMMENT - SCHEMA ext mallory\n"
		"3453; 1259 16393 TABLE public event_log mallory";	/* no newline at the end */
	rb_verify_toc_plan plan;

	(void) state;
	rb_verify_toc_plan_make(listing, "ripple_backup", &plan);
	assert_string_equal(plan.schemas, "5; 2615 16385 SCHEMA - ext mallory\n");
	assert_int_equal(plan.n_schemas, 1);
	assert_string_equal(plan.extensions, "2; 3079 16387 EXTENSION - pgcrypto \n");
	assert_int_equal(plan.n_extensions, 1);
	assert_string_equal(plan.rest,
						"215; 1259 16390 TABLE public accounts mallory\n"
						"217; 1255 16392 FUNCTION public et_fn() mallory\n"
						"3340; 0 16390 TABLE DATA public accounts mallory\n"
						"3452; 0 0 COMMENT - SCHEMA ext mallory\n"
						"3453; 1259 16393 TABLE public event_log mallory\n");
	assert_int_equal(plan.n_rest, 5);
	assert_int_equal(plan.own_entries, 5);
	assert_int_equal(plan.event_triggers, 1);
	assert_int_equal(plan.extension_comments, 1);
	rb_verify_toc_plan_free(&plan);

	rb_verify_toc_plan_make("", "ripple_backup", &plan);
	assert_string_equal(plan.schemas, "");
	assert_string_equal(plan.extensions, "");
	assert_string_equal(plan.rest, "");
	assert_int_equal(plan.n_rest, 0);
	rb_verify_toc_plan_free(&plan);
}

static void
test_server_sql(void **state)
{
	const char *dump =
		"--\n-- PostgreSQL database dump\n--\n"
		"SET statement_timeout = 0;\n"
		"CREATE SCHEMA ext;\n"
		"CREATE SCHEMA \"My \"\"odd\"\" schema\";\n"
		"CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA ext;\n"
		"COMMENT ON EXTENSION pgcrypto IS 'cryptographic functions';\n"
		"CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA \"My \"\"odd\"\" schema\";\n"
		"CREATE EXTENSION IF NOT EXISTS plpgsql WITH SCHEMA pg_catalog;";
	rb_error	err;
	char	   *sql;
	int			ns;
	int			ne;

	(void) state;
	rb_error_clear(&err);
	sql = rb_verify_server_sql(dump, "ripple_backup_restore", &ns, &ne, &err);
	assert_non_null(sql);
	assert_int_equal(ns, 2);
	assert_int_equal(ne, 3);
	assert_string_equal(sql,
						"CREATE SCHEMA IF NOT EXISTS \"ext\" AUTHORIZATION \"ripple_backup_restore\";\n"
						"CREATE SCHEMA IF NOT EXISTS \"My \"\"odd\"\" schema\" AUTHORIZATION \"ripple_backup_restore\";\n"
						"CREATE EXTENSION IF NOT EXISTS \"pgcrypto\" WITH SCHEMA \"ext\";\n"
						"CREATE EXTENSION IF NOT EXISTS \"uuid-ossp\" WITH SCHEMA \"My \"\"odd\"\" schema\";\n"
						"CREATE EXTENSION IF NOT EXISTS \"plpgsql\" WITH SCHEMA \"pg_catalog\";\n");
	free(sql);

	/* a quoted name holding a newline and a statement's text is one name */
	sql = rb_verify_server_sql("CREATE SCHEMA \"x\nCREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public;\n\";\n",
							   "r", &ns, &ne, &err);
	assert_non_null(sql);
	assert_int_equal(ns, 1);
	assert_int_equal(ne, 0);
	assert_string_equal(sql, "CREATE SCHEMA IF NOT EXISTS \"x\nCREATE EXTENSION IF NOT EXISTS dblink WITH SCHEMA public;\n\""
						" AUTHORIZATION \"r\";\n");
	free(sql);

	sql = rb_verify_server_sql("SET x = 1;\n", "r", &ns, &ne, &err);
	assert_string_equal(sql, "");
	assert_int_equal(ns + ne, 0);
	free(sql);

	/* anything but the names is refused, never passed on */
	assert_null(rb_verify_server_sql("CREATE EXTENSION IF NOT EXISTS a WITH SCHEMA b; DROP ROLE x;\n", "r", &ns, &ne, &err));
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	assert_string_equal(err.msg, "unexpected statement in the archive's schema and extension entries: "
						"CREATE EXTENSION IF NOT EXISTS a WITH SCHEMA b; DROP ROLE x;");
	assert_null(rb_verify_server_sql("CREATE SCHEMA a AUTHORIZATION postgres;\n", "r", &ns, &ne, &err));
	assert_null(rb_verify_server_sql("CREATE SCHEMA a; GRANT ALL ON SCHEMA a TO PUBLIC;\n", "r", &ns, &ne, &err));
	assert_null(rb_verify_server_sql("CREATE EXTENSION a;\n", "r", &ns, &ne, &err));
	assert_null(rb_verify_server_sql("CREATE EXTENSION IF NOT EXISTS \"a WITH SCHEMA b;\n", "r", &ns, &ne, &err));
	assert_null(rb_verify_server_sql("CREATE EXTENSION IF NOT EXISTS A WITH SCHEMA b;\n", "r", &ns, &ne, &err));
	assert_null(rb_verify_server_sql("CREATE EXTENSION IF NOT EXISTS \"\" WITH SCHEMA b;\n", "r", &ns, &ne, &err));
}

/* ---- checksum level on a file:// destination -------------------------------- */

typedef struct fixture
{
	char		dir[64];
	char		url[96];
	char		sha[65];
	size_t		size;
} fixture;

static const char payload[] = "not really a dump, but bytes whose hash is known";

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
write_metadata(fixture *fx, const char *sha, uint64_t size)
{
	rb_backup_metadata m;
	rb_buf		json = RB_BUF_INIT;
	char		path[128];

	rb_backup_metadata_init(&m);
	m.format_version = 1;
	m.backup_id = 7;
	strcpy(m.timestamp, "2026-11-26T04:00:00Z");
	rb_metadata_set_str(&m.dbname, "app");
	rb_metadata_set_str(&m.backup_type, "manual");
	m.size_bytes = size;
	strcpy(m.sha256, sha);
	rb_metadata_set_str(&m.compression, "none");
	rb_metadata_set_str(&m.pg_dump_format, "custom");
	rb_metadata_set_str(&m.server_version, "15.0");
	rb_metadata_set_str(&m.extension_version, "0.1.0");
	rb_metadata_set_str(&m.object_key, "b.dump");
	rb_table_counts_add(&m.table_counts, "public", "t", 3);
	rb_backup_metadata_to_json(&m, &json);
	snprintf(path, sizeof(path), "%s/b.dump.metadata.json", fx->dir);
	write_file(path, rb_buf_str(&json), json.len);
	rb_buf_free(&json);
	rb_backup_metadata_free(&m);
}

static int
setup(void **state)
{
	fixture    *fx = calloc(1, sizeof(fixture));
	char		path[128];
	rb_error	err;

	strcpy(fx->dir, "/tmp/rb_test_verify_XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(fx->url, sizeof(fx->url), "file://%s", fx->dir);
	fx->size = sizeof(payload) - 1;
	rb_error_clear(&err);
	if (rb_sha256_hex(payload, fx->size, fx->sha, &err) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/b.dump", fx->dir);
	write_file(path, payload, fx->size);
	write_metadata(fx, fx->sha, fx->size);
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	fixture    *fx = *state;
	char		path[128];

	snprintf(path, sizeof(path), "%s/b.dump", fx->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.dump.metadata.json", fx->dir);
	unlink(path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Runs the checksum level with the fixture's catalog values; returns rc. */
static int
check(fixture *fx, uint64_t size, const char *sha, rb_error *err)
{
	rb_destination *d;
	rb_verify_result res;
	int			rc;

	rb_error_clear(err);
	d = rb_destination_open(fx->url, NULL, NULL, err);
	assert_non_null(d);
	rb_verify_result_init(&res);
	rc = rb_verify_checksum(d, "b.dump", NULL, size, sha, &res, NULL, err);
	if (rc == 0)
	{
		assert_true(res.checksum_ok);
		assert_string_equal(res.sha256, fx->sha);
		assert_int_equal(res.stored_bytes, fx->size);
		assert_int_equal(res.meta.backup_id, 7);
		assert_int_equal(res.meta.table_counts.n, 1);
	}
	rb_verify_result_free(&res);
	rb_destination_close(d);
	return rc;
}

/* ---- the one streaming read (verify_fetch.c) ------------------------------------ */

static uint64_t last_progress;
static int	progress_calls;

static void
on_progress(void *arg, uint64_t stored)
{
	(void) arg;
	last_progress = stored;
	progress_calls++;
}

static bool
cancel_now(void *arg)
{
	(void) arg;
	return true;
}

static void
test_fetch(void **state)
{
	fixture    *fx = *state;
	rb_destination *d;
	rb_fetch_options opt;
	rb_fetch_result res;
	rb_archive_parser *parser;
	rb_hooks	hooks;
	rb_error	err;
	char		out_path[128];
	char		got[sizeof(payload)];
	int			fd;

	rb_error_clear(&err);
	d = rb_destination_open(fx->url, NULL, NULL, &err);
	assert_non_null(d);

	/* hash only: size and SHA-256 judged, progress reported, nothing decompressed */
	memset(&opt, 0, sizeof(opt));
	opt.expected_size = fx->size;
	opt.expected_sha256 = fx->sha;
	opt.out_fd = -1;
	opt.progress = on_progress;
	progress_calls = 0;
	assert_int_equal(rb_verify_fetch(d, "b.dump", &opt, &res, NULL, &err), 0);
	assert_true(res.size_ok);
	assert_true(res.sha256_ok);
	assert_false(res.decompressed);
	assert_string_equal(res.sha256, fx->sha);
	assert_int_equal(res.stored_bytes, fx->size);
	assert_int_equal(res.archive_bytes, 0);
	assert_true(progress_calls > 0);
	assert_int_equal(last_progress, fx->size);

	/* wrong expectations are verdicts, not errors */
	opt.expected_size = fx->size + 1;
	opt.expected_sha256 = "00";
	assert_int_equal(rb_verify_fetch(d, "b.dump", &opt, &res, NULL, &err), 0);
	assert_false(res.size_ok);
	assert_false(res.sha256_ok);

	/* decompressed ("none") into a descriptor and through the parser, which refuses it */
	snprintf(out_path, sizeof(out_path), "%s/out", fx->dir);
	fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	parser = rb_archive_parser_new();
	opt.expected_size = fx->size;
	opt.expected_sha256 = fx->sha;
	opt.compression = "none";
	opt.out_fd = fd;
	opt.out_name = out_path;
	opt.parser = parser;
	assert_int_equal(rb_verify_fetch(d, "b.dump", &opt, &res, NULL, &err), 0);
	assert_true(res.size_ok && res.sha256_ok && res.decompressed);
	assert_false(res.parsed);
	assert_true(res.parse_err.msg[0] != '\0');
	assert_int_equal(res.archive_bytes, fx->size);
	assert_int_equal(pread(fd, got, sizeof(got), 0), (ssize_t) fx->size);
	assert_memory_equal(got, payload, fx->size);
	rb_archive_parser_free(parser);
	close(fd);
	unlink(out_path);

	/* not zstd: a stream that does not decompress is read to its end all the same */
	opt.parser = NULL;
	opt.out_fd = -1;
	opt.compression = "zstd";
	fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	opt.out_fd = fd;
	assert_int_equal(rb_verify_fetch(d, "b.dump", &opt, &res, NULL, &err), 0);
	assert_true(res.sha256_ok);
	assert_false(res.decompressed);
	assert_int_equal(res.decompress_err.code, RB_ERR_INTEGRITY);
	close(fd);
	unlink(out_path);

	/* the cancel hook is polled at every chunk; a missing object is not found */
	memset(&hooks, 0, sizeof(hooks));
	hooks.cancel = cancel_now;
	opt.out_fd = -1;
	opt.activity = "download";
	assert_int_equal(rb_verify_fetch(d, "b.dump", &opt, &res, &hooks, &err), -1);
	assert_int_equal(err.code, RB_ERR_CANCELLED);
	assert_int_equal(rb_verify_fetch(d, "nothing.dump", &opt, &res, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_NOT_FOUND);
	rb_destination_close(d);
}

/* the encryptor's output collected in memory */
static int
to_buf(void *arg, const void *data, size_t len, rb_error *err)
{
	(void) err;
	rb_buf_append((rb_buf *) arg, data, len);
	return 0;
}

/* Stores data as "e.dump"; returns its hex SHA-256 in sha. */
static void
store(fixture *fx, const void *data, size_t len, char sha[65])
{
	char		path[128];
	rb_error	err;

	snprintf(path, sizeof(path), "%s/e.dump", fx->dir);
	write_file(path, data, len);
	rb_error_clear(&err);
	assert_int_equal(rb_sha256_hex(data, len, sha, &err), 0);
}

/* Reads e.dump with the ring, the decrypted stream into a file; returns its result. */
static void
fetch_encrypted(fixture *fx, const char *sha, uint64_t size, const rb_keyring *ring,
				rb_fetch_result *res, rb_buf *plain)
{
	rb_destination *d;
	rb_fetch_options opt;
	rb_error	err;
	char		out_path[128];
	char		chunk[4096];
	ssize_t		n;
	int			fd;

	rb_error_clear(&err);
	d = rb_destination_open(fx->url, NULL, NULL, &err);
	assert_non_null(d);
	snprintf(out_path, sizeof(out_path), "%s/plain", fx->dir);
	fd = open(out_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	memset(&opt, 0, sizeof(opt));
	opt.expected_size = size;
	opt.expected_sha256 = sha;
	opt.compression = "none";
	opt.encryption = RB_ENCRYPT_ALGORITHM_NAME;
	opt.keyring = ring;
	opt.out_fd = fd;
	opt.out_name = out_path;
	assert_int_equal(rb_verify_fetch(d, "e.dump", &opt, res, NULL, &err), 0);
	rb_buf_reset(plain);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		rb_buf_append(plain, chunk, (size_t) n);
	close(fd);
	unlink(out_path);
	rb_destination_close(d);
}

static void
test_fetch_encrypted(void **state)
{
	fixture    *fx = *state;
	rb_key		key,
				other;
	rb_keyring	ring,
				wrong;
	rb_encryptor *e;
	rb_buf		enc = RB_BUF_INIT;
	rb_buf		plain = RB_BUF_INIT;
	rb_buf		text = RB_BUF_INIT;
	rb_fetch_result res;
	rb_error	err;
	char		hex[2 * RB_KEY_LEN + 2];
	char		sha[65];
	char		path[128];
	const size_t chunk = 64;

	rb_error_clear(&err);
	assert_int_equal(rb_key_generate(&key, hex, &err), 0);
	assert_int_equal(rb_key_generate(&other, hex, &err), 0);
	/* several chunks and a partial last one */
	for (int i = 0; i < 50; i++)
		rb_buf_appendf(&text, "row %d of the plaintext archive;", i);
	e = rb_encryptor_new_chunked(&key, chunk, to_buf, &enc, &err);
	assert_non_null(e);
	assert_int_equal(rb_encryptor_write(e, text.data, text.len, &err), 0);
	assert_int_equal(rb_encryptor_finish(e, &err), 0);
	rb_encryptor_free(e);
	assert_null(memmem(enc.data, enc.len, "plaintext", 9));
	store(fx, enc.data, enc.len, sha);
	rb_keyring_init(&ring);
	assert_int_equal(rb_keyring_add(&ring, &other, &err), 0);
	assert_int_equal(rb_keyring_add(&ring, &key, &err), 0);
	rb_keyring_init(&wrong);
	assert_int_equal(rb_keyring_add(&wrong, &other, &err), 0);

	/* the key of the ring whose id the header names decrypts it */
	fetch_encrypted(fx, sha, enc.len, &ring, &res, &plain);
	assert_true(res.size_ok && res.sha256_ok);
	assert_false(res.decrypt_failed);
	assert_true(res.decompressed);
	assert_string_equal(res.key_id, key.id_hex);
	assert_int_equal(plain.len, text.len);
	assert_memory_equal(plain.data, text.data, text.len);
	assert_int_equal(res.archive_bytes, text.len);

	/* without the key: fails to decrypt, names the key id; the checksum still passes */
	fetch_encrypted(fx, sha, enc.len, &wrong, &res, &plain);
	assert_true(res.sha256_ok);
	assert_true(res.decrypt_failed);
	assert_false(res.decompressed);
	assert_int_equal(res.decrypt_err.code, RB_ERR_AUTH);
	assert_non_null(strstr(res.decrypt_err.msg, key.id_hex));
	assert_int_equal(plain.len, 0);
	fetch_encrypted(fx, sha, enc.len, NULL, &res, &plain);
	assert_true(res.decrypt_failed);
	assert_int_equal(res.decrypt_err.code, RB_ERR_AUTH);

	/* one flipped bit in the last chunk: does not authenticate */
	enc.data[enc.len - 3] ^= 0x01;
	store(fx, enc.data, enc.len, sha);
	fetch_encrypted(fx, sha, enc.len, &ring, &res, &plain);
	assert_true(res.sha256_ok);
	assert_true(res.decrypt_failed);
	assert_int_equal(res.decrypt_err.code, RB_ERR_INTEGRITY);
	enc.data[enc.len - 3] ^= 0x01;

	/* truncated exactly at a chunk boundary: no final chunk */
	store(fx, enc.data, RB_ENCRYPT_HEADER_LEN + 2 * (chunk + RB_ENCRYPT_OVERHEAD), sha);
	fetch_encrypted(fx, sha, RB_ENCRYPT_HEADER_LEN + 2 * (chunk + RB_ENCRYPT_OVERHEAD), &ring,
					&res, &plain);
	assert_true(res.sha256_ok);
	assert_true(res.decrypt_failed);
	assert_int_equal(res.decrypt_err.code, RB_ERR_INTEGRITY);
	assert_false(res.decompressed);

	/* an unknown algorithm is refused before anything is read */
	{
		rb_destination *d = rb_destination_open(fx->url, NULL, NULL, &err);
		rb_fetch_options opt;

		memset(&opt, 0, sizeof(opt));
		opt.compression = "none";
		opt.encryption = "rot13";
		opt.out_fd = 2;
		assert_int_equal(rb_verify_fetch(d, "e.dump", &opt, &res, NULL, &err), -1);
		assert_int_equal(err.code, RB_ERR_INVALID);
		rb_destination_close(d);
	}

	snprintf(path, sizeof(path), "%s/e.dump", fx->dir);
	unlink(path);
	rb_keyring_wipe(&ring);
	rb_keyring_wipe(&wrong);
	rb_key_wipe(&key);
	rb_key_wipe(&other);
	rb_buf_free(&enc);
	rb_buf_free(&plain);
	rb_buf_free(&text);
}

static void
test_checksum_good(void **state)
{
	fixture    *fx = *state;
	rb_error	err;

	assert_int_equal(check(fx, fx->size, fx->sha, &err), 0);
}

static void
test_checksum_flipped_byte(void **state)
{
	fixture    *fx = *state;
	rb_error	err;
	char		path[128];
	char		expected[512];

	snprintf(path, sizeof(path), "%s/b.dump", fx->dir);
	for (size_t off = 0; off < fx->size; off += 11)
	{
		char		copy[sizeof(payload)];

		memcpy(copy, payload, sizeof(payload));
		copy[off] ^= 0x20;
		write_file(path, copy, fx->size);
		assert_int_equal(check(fx, fx->size, fx->sha, &err), -1);
		assert_int_equal(err.code, RB_ERR_INTEGRITY);
		snprintf(expected, sizeof(expected), "checksum mismatch for file://%s/b.dump: expected %s, found ",
				 fx->dir, fx->sha);
		assert_memory_equal(err.msg, expected, strlen(expected));
		assert_int_equal(strlen(err.msg), strlen(expected) + 64);
	}
	/* one byte short */
	write_file(path, payload, fx->size - 1);
	assert_int_equal(check(fx, fx->size, fx->sha, &err), -1);
	snprintf(expected, sizeof(expected), "size mismatch for file://%s/b.dump: expected %zu bytes, found %zu",
			 fx->dir, fx->size, fx->size - 1);
	assert_string_equal(err.msg, expected);
	write_file(path, payload, fx->size);
	assert_int_equal(check(fx, fx->size, fx->sha, &err), 0);
}

static void
test_metadata_problems(void **state)
{
	fixture    *fx = *state;
	rb_error	err;
	char		path[128];
	char		expected[512];
	char		other[65];

	/* the catalog disagrees with the metadata */
	strcpy(other, fx->sha);
	other[0] = other[0] == 'a' ? 'b' : 'a';
	assert_int_equal(check(fx, fx->size, other, &err), -1);
	snprintf(expected, sizeof(expected),
			 "metadata of file://%s/b.dump disagrees with the catalog: sha256 %s, expected %s",
			 fx->dir, fx->sha, other);
	assert_string_equal(err.msg, expected);
	assert_int_equal(check(fx, fx->size + 1, fx->sha, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);

	/* malformed metadata */
	snprintf(path, sizeof(path), "%s/b.dump.metadata.json", fx->dir);
	write_file(path, "{\"format_version\": 1", 20);
	assert_int_equal(check(fx, fx->size, fx->sha, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	assert_non_null(strstr(err.msg, "b.dump.metadata.json\" is invalid: "));

	/* missing metadata */
	unlink(path);
	assert_int_equal(check(fx, fx->size, fx->sha, &err), -1);
	assert_int_equal(err.code, RB_ERR_INTEGRITY);
	snprintf(expected, sizeof(expected), "metadata object \"file://%s/b.dump.metadata.json\" is missing", fx->dir);
	assert_string_equal(err.msg, expected);
	write_metadata(fx, fx->sha, fx->size);
	assert_int_equal(check(fx, fx->size, fx->sha, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_quote_ident),
		cmocka_unit_test(test_count_table_data),
		cmocka_unit_test(test_compare_counts),
		cmocka_unit_test(test_toc_plan),
		cmocka_unit_test(test_server_sql),
		cmocka_unit_test_setup_teardown(test_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_encrypted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksum_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_checksum_flipped_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metadata_problems, setup, teardown),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
