/*
 * encrypt_key.c — backup encryption keys (see encrypt_key.h): reading and checking a
 * key file, parsing its text (64 hex digits or base64 of 32 bytes, an optional
 * newline), the key id, new random keys and the ring of keys a decryptor looks up.
 *
 * Every refusal has its own message, which names the file and the fault and never
 * any byte of the file (a key file with a typo still holds most of a key).  Buffers
 * that held key material are wiped with sodium_memzero before they are released.
 *
 * A symbolic link is followed and the checks apply to the file it names (a
 * Kubernetes secret volume presents its files as symbolic links): the file's mode
 * and type are those of the opened file (fstat), so a link swapped between the
 * check and the read cannot slip an unchecked file in.
 */
#include "encrypt_key.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rb_crypto.h"

#define KEY_ID_CONTEXT		"ripple_backup key id v1"
#define KEY_HEX_LEN			(2 * RB_KEY_LEN)	/* 64 */
#define KEY_BASE64_LEN		44	/* standard base64 of 32 bytes, with its one '=' */
/* A key file is at most 64 hex digits and a newline; anything far longer is refused unread. */
#define KEY_FILE_MAX		1024

int
rb_encrypt_init(rb_error *err)
{
	/* sodium_init is thread-safe and idempotent: 0 the first time, 1 afterwards */
	if (sodium_init() < 0)
		return rb_error_set(err, RB_ERR_INTERNAL, "could not initialize libsodium");
	return 0;
}

static bool
is_base64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '+' || c == '/';
}

/*
 * The text has a complete key's worth of characters, then more at offset at: a Windows
 * line ending (CR before the newline) or other text after the key.
 */
static int
trailing_text(const char *what, const unsigned char *s, size_t n, size_t at, rb_error *err)
{
	if (s[at] == '\r' && at + 1 == n)
		return rb_error_set(err, RB_ERR_INVALID,
							"%s ends with a carriage return (a Windows line ending): "
							"after the key it may hold only a newline (\\n)", what);
	return rb_error_set(err, RB_ERR_INVALID,
						"%s has text after the key (at byte offset %zu): "
						"it may hold only the key and a newline", what, at);
}

/*
 * Parses text into key->bytes; what names the text in messages ("key file \"...\"" or
 * "key").  The messages give lengths and offsets only, never the text.
 */
static int
parse_key_text(const char *what, const char *text, size_t len, rb_key *key, rb_error *err)
{
	const unsigned char *s = (const unsigned char *) text;
	size_t		n = len;
	size_t		nhex = 0;
	size_t		nb64 = 0;

	/* one optional trailing newline */
	if (n > 0 && s[n - 1] == '\n')
		n--;
	if (n == 0)
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is empty: it must hold a 256-bit key as 64 hex digits or 44 base64 characters",
							what);

	while (nhex < n && rb_hex_digit((char) s[nhex]) >= 0)
		nhex++;
	if (nhex == n)
	{
		if (n < KEY_HEX_LEN)
			return rb_error_set(err, RB_ERR_INVALID,
								"%s is too short: %zu hex digits, where a 256-bit key has %d",
								what, n, KEY_HEX_LEN);
		if (n > KEY_HEX_LEN)
			return rb_error_set(err, RB_ERR_INVALID,
								"%s is too long: %zu hex digits, where a 256-bit key has %d",
								what, n, KEY_HEX_LEN);
		/* (not rb_hex_decode: the text is not NUL-terminated) */
		for (int i = 0; i < RB_KEY_LEN; i++)
			key->bytes[i] = (unsigned char) (rb_hex_digit((char) s[2 * i]) * 16 +
											 rb_hex_digit((char) s[2 * i + 1]));
		return rb_key_compute_id(key, err);
	}

	/* hex digits then something else: a complete hex key with text after it? */
	if (nhex >= KEY_HEX_LEN)
		return trailing_text(what, s, n, KEY_HEX_LEN, err);

	/* base64, whose characters are a superset of the hex digits, with up to two '=' */
	while (nb64 < n && is_base64_char(s[nb64]))
		nb64++;
	for (int pad = 0; pad < 2 && nb64 < n && s[nb64] == '='; pad++)
		nb64++;
	if (nb64 < n)
	{
		if (nb64 >= KEY_BASE64_LEN)
			return trailing_text(what, s, n, KEY_BASE64_LEN, err);
		if (s[nb64] == '\r' && nb64 + 1 == n)
			return trailing_text(what, s, n, nb64, err);
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is not valid: unexpected character at byte offset %zu "
							"(it must hold 64 hex digits or 44 base64 characters, and a newline)",
							what, nb64);
	}
	if (n < KEY_BASE64_LEN)
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is too short: %zu base64 characters, where a 256-bit key has %d",
							what, n, KEY_BASE64_LEN);
	if (n > KEY_BASE64_LEN)
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is too long: %zu base64 characters, where a 256-bit key has %d",
							what, n, KEY_BASE64_LEN);
	{
		unsigned char decoded[RB_KEY_LEN + 3];
		size_t		dlen = 0;
		const char *end = NULL;
		int			rc;

		rc = sodium_base642bin(decoded, sizeof(decoded), (const char *) s, n, NULL, &dlen,
							   &end, sodium_base64_VARIANT_ORIGINAL);
		if (rc != 0 || end != (const char *) s + n)
		{
			sodium_memzero(decoded, sizeof(decoded));
			return rb_error_set(err, RB_ERR_INVALID,
								"%s is not valid base64 (bad padding or trailing bits)", what);
		}
		if (dlen != RB_KEY_LEN)
		{
			sodium_memzero(decoded, sizeof(decoded));
			return rb_error_set(err, RB_ERR_INVALID,
								"%s is not a 256-bit key: its base64 decodes to %zu bytes, not %d",
								what, dlen, RB_KEY_LEN);
		}
		memcpy(key->bytes, decoded, RB_KEY_LEN);
		sodium_memzero(decoded, sizeof(decoded));
	}
	return rb_key_compute_id(key, err);
}

int
rb_key_parse(const char *text, size_t len, rb_key *key, rb_error *err)
{
	int			rc;

	if (rb_encrypt_init(err) != 0)
		return -1;
	rc = parse_key_text("key", text, len, key, err);
	if (rc != 0)
		rb_key_wipe(key);
	return rc;
}

int
rb_key_load_file(const char *path, rb_key *key, rb_error *err)
{
	char		what[RB_ERROR_MSG_LEN / 2];
	char		buf[KEY_FILE_MAX + 1];
	struct stat st;
	size_t		len = 0;
	int			fd;
	int			rc;

	if (rb_encrypt_init(err) != 0)
		return -1;
	if (path == NULL || path[0] == '\0')
		return rb_error_set(err, RB_ERR_INVALID, "the key file path is empty");
	snprintf(what, sizeof(what), "key file \"%s\"", path);

	/* O_NONBLOCK: a FIFO in place of the file must not hang the open */
	fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
	{
		int			e = errno;

		if (e == ENOENT)
			return rb_error_set(err, RB_ERR_INVALID, "%s does not exist", what);
		if (e == EACCES)
			return rb_error_set(err, RB_ERR_INVALID, "%s is not readable: %s", what, strerror(e));
		return rb_error_set(err, RB_ERR_INVALID, "could not open %s: %s", what, strerror(e));
	}
	if (fstat(fd, &st) != 0)
	{
		int			e = errno;

		close(fd);
		return rb_error_set(err, RB_ERR_INVALID, "could not stat %s: %s", what, strerror(e));
	}
	if (!S_ISREG(st.st_mode))
	{
		close(fd);
		return rb_error_set(err, RB_ERR_INVALID, "%s is %s, not a regular file", what,
							S_ISDIR(st.st_mode) ? "a directory" : "a special file");
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		close(fd);
		return rb_error_set(err, RB_ERR_INVALID,
							"%s has mode %04o: group and others must have no access to it "
							"(chmod 600 it)", what, (unsigned) (st.st_mode & 07777));
	}
	if (st.st_size == 0)
	{
		close(fd);
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is empty: it must hold a 256-bit key as 64 hex digits or 44 base64 characters",
							what);
	}
	if (st.st_size > KEY_FILE_MAX)
	{
		close(fd);
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is too long (%lld bytes): a key file holds 64 hex digits and a newline",
							what, (long long) st.st_size);
	}
	for (;;)
	{
		ssize_t		r = read(fd, buf + len, sizeof(buf) - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
		{
			int			e = errno;

			close(fd);
			sodium_memzero(buf, sizeof(buf));
			return rb_error_set(err, RB_ERR_INVALID, "could not read %s: %s", what, strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t) r;
		if (len == sizeof(buf))
			break;
	}
	close(fd);
	if (len > KEY_FILE_MAX)
	{
		/* it grew after the fstat */
		sodium_memzero(buf, sizeof(buf));
		return rb_error_set(err, RB_ERR_INVALID,
							"%s is too long (over %d bytes): a key file holds 64 hex digits and a newline",
							what, KEY_FILE_MAX);
	}
	rc = parse_key_text(what, buf, len, key, err);
	sodium_memzero(buf, sizeof(buf));
	if (rc != 0)
		rb_key_wipe(key);
	return rc;
}

int
rb_key_compute_id(rb_key *key, rb_error *err)
{
	unsigned char mac[RB_SHA256_LEN];

	if (rb_hmac_sha256(key->bytes, RB_KEY_LEN, KEY_ID_CONTEXT, strlen(KEY_ID_CONTEXT),
					   mac, err) != 0)
		return -1;
	memcpy(key->id, mac, RB_KEY_ID_LEN);
	sodium_memzero(mac, sizeof(mac));
	rb_hex_encode(key->id, RB_KEY_ID_LEN, key->id_hex);
	return 0;
}

int
rb_key_generate(rb_key *key, char out_hex[2 * RB_KEY_LEN + 2], rb_error *err)
{
	if (rb_encrypt_init(err) != 0)
		return -1;
	randombytes_buf(key->bytes, RB_KEY_LEN);
	if (rb_key_compute_id(key, err) != 0)
	{
		rb_key_wipe(key);
		return -1;
	}
	rb_hex_encode(key->bytes, RB_KEY_LEN, out_hex);
	out_hex[KEY_HEX_LEN] = '\n';
	out_hex[KEY_HEX_LEN + 1] = '\0';
	return 0;
}

void
rb_key_wipe(rb_key *key)
{
	if (key != NULL)
		sodium_memzero(key, sizeof(*key));
}

void
rb_keyring_init(rb_keyring *ring)
{
	memset(ring, 0, sizeof(*ring));
}

int
rb_keyring_add(rb_keyring *ring, const rb_key *key, rb_error *err)
{
	if (rb_keyring_find(ring, key->id) != NULL)
		return 0;
	if (ring->nkeys >= RB_KEYRING_MAX)
		return rb_error_set(err, RB_ERR_INVALID,
							"too many encryption keys: at most %d can be configured",
							RB_KEYRING_MAX);
	ring->keys[ring->nkeys++] = *key;
	return 0;
}

int
rb_keyring_add_file(rb_keyring *ring, const char *path, rb_error *err)
{
	rb_key		key;
	int			rc;

	if (rb_key_load_file(path, &key, err) != 0)
		return -1;
	rc = rb_keyring_add(ring, &key, err);
	rb_key_wipe(&key);
	return rc;
}

const rb_key *
rb_keyring_find(const rb_keyring *ring, const unsigned char id[RB_KEY_ID_LEN])
{
	for (int i = 0; i < ring->nkeys; i++)
		if (memcmp(ring->keys[i].id, id, RB_KEY_ID_LEN) == 0)
			return &ring->keys[i];
	return NULL;
}

void
rb_keyring_wipe(rb_keyring *ring)
{
	if (ring != NULL)
		sodium_memzero(ring, sizeof(*ring));
}
