/*
 * encrypt_tool.c — runs src/core's streaming encryptor or decryptor over stdin and
 * stdout, for TAP tests (the format document's independent decryptor reads what this
 * writes) and the throughput benchmark.
 *
 *   encrypt_tool encrypt KEYFILE < plain > object
 *   encrypt_tool decrypt KEYFILE [KEYFILE...] < object > plain
 *
 * Exits 0, or prints "error: <message>" on stderr and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encrypt_stream.h"
#include "rb_file.h"

#define BLOCK (1024 * 1024)

static int
write_stdout(void *arg, const void *data, size_t len, rb_error *err)
{
	(void) arg;
	if (rb_write_all(STDOUT_FILENO, data, len) != 0)
		return rb_error_set(err, RB_ERR_IO, "could not write to stdout");
	return 0;
}

static int
die(const rb_error *err)
{
	fprintf(stderr, "error: %s\n", err->msg);
	return 1;
}

int
main(int argc, char **argv)
{
	static unsigned char buf[BLOCK];
	rb_error	err = {0};
	rb_keyring	ring;
	rb_encryptor *e = NULL;
	rb_decryptor *d = NULL;
	int			enc;
	ssize_t		n;

	if (argc < 3 || (strcmp(argv[1], "encrypt") != 0 && strcmp(argv[1], "decrypt") != 0) ||
		(strcmp(argv[1], "encrypt") == 0 && argc != 3))
	{
		fprintf(stderr, "usage: encrypt_tool encrypt KEYFILE | decrypt KEYFILE...\n");
		return 2;
	}
	enc = strcmp(argv[1], "encrypt") == 0;
	rb_keyring_init(&ring);
	for (int i = 2; i < argc; i++)
		if (rb_keyring_add_file(&ring, argv[i], &err) != 0)
			return die(&err);
	if (enc)
		e = rb_encryptor_new(&ring.keys[0], write_stdout, NULL, &err);
	else
		d = rb_decryptor_new(&ring, write_stdout, NULL, &err);
	if (e == NULL && d == NULL)
		return die(&err);
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		if ((enc ? rb_encryptor_write(e, buf, (size_t) n, &err)
			 : rb_decryptor_write(d, buf, (size_t) n, &err)) != 0)
			return die(&err);
	if (n < 0)
	{
		rb_error_set(&err, RB_ERR_IO, "could not read stdin");
		return die(&err);
	}
	if ((enc ? rb_encryptor_finish(e, &err) : rb_decryptor_finish(d, &err)) != 0)
		return die(&err);
	rb_encryptor_free(e);
	rb_decryptor_free(d);
	rb_keyring_wipe(&ring);
	return 0;
}
