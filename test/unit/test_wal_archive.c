/*
 * test_wal_archive.c — unit tests of src/core's WAL archiving (wal_archive.c,
 * stream_store.c) against a file:// destination: which names are WAL files and
 * their timelines, the key layout, a stored file that decompresses to itself with
 * both SHA-256s in its metadata, the same file again (already archived, nothing
 * rewritten), other content under the name (RB_ERR_EXISTS naming both checksums,
 * nothing overwritten), an object whose metadata an interrupted attempt never
 * wrote (read back to compare, then the metadata written), and an encrypted
 * object that decrypts to the file.  The TAP test 110 runs the module itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <unistd.h>

#include "backup_compress.h"
#include "dest.h"
#include "encrypt_stream.h"
#include "rb_buf.h"
#include "rb_crypto.h"
#include "wal_archive.h"

static char root[256];
static char url[300];
static char walfile[300];

#define SEG "000000010000000000000003"
#define INC "5f0c2a9e7b1d4c36"

static void
write_file(const char *path, size_t n, unsigned seed)
{
	FILE	   *f = fopen(path, "wb");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
	{
		seed = seed * 1103515245u + 12345u;
		fputc((i % 7) ? 0 : (int) (seed >> 24), f);	/* compressible, like WAL */
	}
	fclose(f);
}

static int
setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/rb_wal_test_XXXXXX");
	if (mkdtemp(root) == NULL)
		return -1;
	snprintf(url, sizeof(url), "file://%s/dest", root);
	snprintf(walfile, sizeof(walfile), "%s/%s", root, SEG);
	write_file(walfile, 1024 * 1024 + 17, 7);
	return 0;
}

static int
teardown(void **state)
{
	char		cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static int
collect(void *arg, const void *data, size_t len, rb_error *err)
{
	rb_buf_append((rb_buf *) arg, data, len);
	return 0;
}

static int
to_decompressor(void *arg, const void *data, size_t len, rb_error *err)
{
	return rb_decompressor_write((rb_decompressor *) arg, data, len, err);
}

static void
sha_file(const char *path, char out[65])
{
	rb_buf		b = RB_BUF_INIT;
	FILE	   *f = fopen(path, "rb");
	char		buf[4096];
	size_t		n;
	rb_error	err;

	assert_non_null(f);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		rb_buf_append(&b, buf, n);
	fclose(f);
	assert_int_equal(rb_sha256_hex(b.data, b.len, out, &err), 0);
	rb_buf_free(&b);
}

static void
test_names(void **state)
{
	uint32_t	tli = 0;
	rb_error	err;
	char	   *k;

	assert_int_equal(rb_wal_file_timeline(SEG, &tli, &err), 0);
	assert_int_equal(tli, 1);
	assert_int_equal(rb_wal_file_timeline("0000000A0000000000000003.partial", &tli, &err), 0);
	assert_int_equal(tli, 10);
	assert_int_equal(rb_wal_file_timeline("00000002.history", &tli, &err), 0);
	assert_int_equal(tli, 2);
	assert_true(rb_wal_file_is_history("00000002.history"));
	assert_false(rb_wal_file_is_history(SEG));
	assert_int_equal(rb_wal_file_timeline("000000010000000000000003.00000028.backup", &tli, &err), 0);
	assert_int_equal(rb_wal_file_timeline("00000001000000000000000G", &tli, &err), -1);
	assert_int_equal(err.code, RB_ERR_INVALID);
	assert_int_equal(rb_wal_file_timeline("../etc/passwd", &tli, &err), -1);
	assert_int_equal(rb_wal_file_timeline("00000002.history.tmp", &tli, &err), -1);
	k = rb_wal_object_key(7441293000111222333ULL, INC, 2, "00000002.history");
	assert_string_equal(k, "7441293000111222333/" INC "/wal/00000002/00000002.history.zst");
	free(k);
}

static rb_wal_archive_params
params(rb_destination *d, const char *name, const char *path)
{
	rb_wal_archive_params p;

	memset(&p, 0, sizeof(p));
	p.dest = d;
	p.system_identifier = 42;
	p.incarnation = INC;
	p.file_name = name;
	p.path = path;
	p.compression_level = -1;
	return p;
}

static void
test_store_and_rules(void **state)
{
	rb_error	err;
	rb_destination *d = rb_destination_open(url, NULL, NULL, &err);
	rb_wal_archive_params p = params(d, SEG, walfile);
	rb_wal_archive_result r;
	rb_buf		obj = RB_BUF_INIT,
				plain = RB_BUF_INIT,
				meta = RB_BUF_INIT;
	rb_decompressor *dz;
	char		sha[65],
				objsha[65],
				other[300],
				othersha[65];
	const char *key = "42/" INC "/wal/00000001/" SEG ".zst";

	assert_non_null(d);
	sha_file(walfile, sha);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(r.outcome, RB_WAL_STORED);
	assert_string_equal(r.original_sha256, sha);
	assert_int_equal(r.original_bytes, 1024 * 1024 + 17);
	assert_true(r.stored_bytes > 0 && r.stored_bytes < r.original_bytes);

	/* the object decompresses to the file; the metadata has both SHA-256s */
	assert_int_equal(rb_destination_get(d, key, 0, 0, collect, &obj, &err), 0);
	assert_int_equal(obj.len, r.stored_bytes);
	assert_int_equal(rb_sha256_hex(obj.data, obj.len, objsha, &err), 0);
	assert_string_equal(objsha, r.stored_sha256);
	dz = rb_decompressor_new(RB_COMPRESS_ZSTD, collect, &plain, &err);
	assert_int_equal(rb_decompressor_write(dz, obj.data, obj.len, &err), 0);
	assert_int_equal(rb_decompressor_finish(dz, &err), 0);
	rb_decompressor_free(dz);
	assert_int_equal(plain.len, r.original_bytes);
	{
		char		psha[65];

		assert_int_equal(rb_sha256_hex(plain.data, plain.len, psha, &err), 0);
		assert_string_equal(psha, sha);
	}
	assert_int_equal(rb_destination_get(d, "42/" INC "/wal/00000001/" SEG ".zst.metadata.json", 0, 0,
										collect, &meta, &err), 0);
	rb_buf_append_char(&meta, '\0');
	assert_non_null(strstr(meta.data, sha));
	assert_non_null(strstr(meta.data, objsha));
	assert_non_null(strstr(meta.data, "\"encryption\":null"));

	/* the same file again: already archived */
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(r.outcome, RB_WAL_ALREADY_ARCHIVED);

	/* other content under the name: refused, naming both checksums, nothing replaced */
	snprintf(other, sizeof(other), "%s/other", root);
	write_file(other, 4096, 99);
	sha_file(other, othersha);
	p.path = other;
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), -1);
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_non_null(strstr(err.msg, sha));
	assert_non_null(strstr(err.msg, othersha));
	assert_non_null(strstr(err.msg, "different content"));
	{
		rb_buf		again = RB_BUF_INIT;

		assert_int_equal(rb_destination_get(d, key, 0, 0, collect, &again, &err), 0);
		assert_int_equal(again.len, obj.len);
		assert_memory_equal(again.data, obj.data, obj.len);
		rb_buf_free(&again);
	}

	/* the metadata lost (an attempt stopped between the two writes): read back */
	assert_int_equal(rb_destination_delete(d, "42/" INC "/wal/00000001/" SEG ".zst.metadata.json", &err), 0);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), -1);	/* still other content */
	assert_int_equal(err.code, RB_ERR_EXISTS);
	assert_non_null(strstr(err.msg, sha));
	p.path = walfile;
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(r.outcome, RB_WAL_ALREADY_ARCHIVED);
	assert_int_equal(rb_destination_head(d, "42/" INC "/wal/00000001/" SEG ".zst.metadata.json", NULL, NULL, &err), 0);

	rb_buf_free(&obj);
	rb_buf_free(&plain);
	rb_buf_free(&meta);
	rb_destination_close(d);
}

static void
test_encrypted(void **state)
{
	rb_error	err;
	rb_destination *d = rb_destination_open(url, NULL, NULL, &err);
	rb_key		key;
	char		hex[2 * RB_KEY_LEN + 2];
	rb_keyring	ring;
	rb_wal_archive_params p = params(d, "00000001000000000000000A", walfile);
	rb_wal_archive_result r;
	rb_buf		obj = RB_BUF_INIT,
				plain = RB_BUF_INIT;
	rb_decompressor *dz;
	rb_decryptor *dec;
	char		sha[65],
				psha[65];

	assert_int_equal(rb_key_generate(&key, hex, &err), 0);
	p.encryption_key = &key;
	sha_file(walfile, sha);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(rb_destination_get(d, "42/" INC "/wal/00000001/00000001000000000000000A.zst", 0, 0,
										collect, &obj, &err), 0);
	assert_true(rb_encrypt_detect(obj.data, obj.len));
	rb_keyring_init(&ring);
	assert_int_equal(rb_keyring_add(&ring, &key, &err), 0);
	dz = rb_decompressor_new(RB_COMPRESS_ZSTD, collect, &plain, &err);
	dec = rb_decryptor_new(&ring, to_decompressor, dz, &err);
	assert_non_null(dec);
	assert_int_equal(rb_decryptor_write(dec, obj.data, obj.len, &err), 0);
	assert_int_equal(rb_decryptor_finish(dec, &err), 0);
	assert_int_equal(rb_decompressor_finish(dz, &err), 0);
	assert_int_equal(rb_sha256_hex(plain.data, plain.len, psha, &err), 0);
	assert_string_equal(psha, sha);
	/* the same file again, the metadata gone: decrypted to compare */
	assert_int_equal(rb_destination_delete(d, "42/" INC "/wal/00000001/00000001000000000000000A.zst.metadata.json", &err), 0);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(r.outcome, RB_WAL_ALREADY_ARCHIVED);

	rb_decryptor_free(dec);
	rb_decompressor_free(dz);
	rb_keyring_wipe(&ring);
	rb_key_wipe(&key);
	rb_buf_free(&obj);
	rb_buf_free(&plain);
	rb_destination_close(d);
}

/*
 * Uploads cut short (a store that keeps a PUT's bytes as they arrive, as the S3
 * test server does when the archiver is killed mid-request): an empty metadata
 * object beside the right object is rewritten; a truncated or empty object with
 * no metadata is stored again; neither is "different content".
 */
static void
test_cut_short(void **state)
{
	rb_error	err;
	rb_destination *d = rb_destination_open(url, NULL, NULL, &err);
	rb_wal_archive_params p = params(d, "000000010000000000000004", walfile);
	rb_wal_archive_result r;
	rb_buf		obj = RB_BUF_INIT,
				again = RB_BUF_INIT,
				meta = RB_BUF_INIT;
	char		sha[65];
	const char *key = "42/" INC "/wal/00000001/000000010000000000000004.zst";
	const char *mkey = "42/" INC "/wal/00000001/000000010000000000000004.zst.metadata.json";

	assert_non_null(d);
	sha_file(walfile, sha);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(rb_destination_get(d, key, 0, 0, collect, &obj, &err), 0);

	/* an empty metadata object: the object is read back, the metadata rewritten */
	assert_int_equal(rb_destination_put_small(d, mkey, "", 0, &err), 0);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(r.outcome, RB_WAL_ALREADY_ARCHIVED);
	assert_int_equal(rb_destination_get(d, mkey, 0, 0, collect, &meta, &err), 0);
	rb_buf_append_char(&meta, '\0');
	assert_non_null(strstr(meta.data, sha));

	/* half the object and no metadata: stored again, whole */
	assert_int_equal(rb_destination_delete(d, mkey, &err), 0);
	assert_int_equal(rb_destination_put_small(d, key, obj.data, obj.len / 2, &err), 0);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(r.outcome, RB_WAL_STORED);
	assert_string_equal(r.original_sha256, sha);
	assert_int_equal(rb_destination_get(d, key, 0, 0, collect, &again, &err), 0);
	assert_int_equal(again.len, obj.len);
	assert_int_equal(rb_destination_head(d, mkey, NULL, NULL, &err), 0);

	/* an empty object and an empty metadata object: stored again */
	assert_int_equal(rb_destination_put_small(d, key, "", 0, &err), 0);
	assert_int_equal(rb_destination_put_small(d, mkey, "", 0, &err), 0);
	assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), 0);
	assert_int_equal(r.outcome, RB_WAL_STORED);

	/* a whole object of other content, its metadata empty: still different content */
	{
		char		other[300];

		snprintf(other, sizeof(other), "%s/other4", root);
		write_file(other, 4096, 5);
		assert_int_equal(rb_destination_put_small(d, mkey, "", 0, &err), 0);
		p.path = other;
		assert_int_equal(rb_wal_archive_file(&p, &r, NULL, &err), -1);
		assert_int_equal(err.code, RB_ERR_EXISTS);
		assert_non_null(strstr(err.msg, "different content"));
		assert_non_null(strstr(err.msg, sha));
	}

	rb_buf_free(&obj);
	rb_buf_free(&again);
	rb_buf_free(&meta);
	rb_destination_close(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_store_and_rules),
		cmocka_unit_test(test_encrypted),
		cmocka_unit_test(test_cut_short),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
