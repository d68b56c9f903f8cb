/*
 * cmd_keygen.c — "ripple-backup keygen": a new random 256-bit backup encryption key,
 * as the text of a key file (64 lowercase hex digits and a newline; the format is in
 * docs/encryption-format.md).  Without -o the text goes to stdout, for
 * "ripple-backup keygen > key && chmod 600 key"; with -o FILE the file is created
 * with mode 0600, and an existing file is never replaced (replacing a key loses every
 * backup encrypted with it).  The key id goes to stderr (unless --quiet), never the
 * key.  Needs no destination.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_commands.h"
#include "cli_exit.h"
#include "cli_report.h"
#include "encrypt_key.h"
#include "rb_file.h"

/* Creates path (O_EXCL, mode 0600) holding text; CLI exit code. */
static int
write_new_key_file(const char *path, const char *text)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	int			e;

	if (fd < 0)
	{
		e = errno;
		cli_error("could not create key file \"%s\": %s", path, strerror(e));
		if (e == EEXIST)
			cli_hint("keygen never replaces a file: a replaced key loses every backup encrypted with it.");
		return CLI_EXIT_ERROR;
	}
	/* exactly 0600 whatever the umask left */
	if (fchmod(fd, 0600) != 0 || rb_write_all(fd, text, strlen(text)) != 0 || fsync(fd) != 0)
	{
		e = errno;
		close(fd);
		unlink(path);
		cli_error("could not write key file \"%s\": %s", path, strerror(e));
		return CLI_EXIT_ERROR;
	}
	if (close(fd) != 0)
	{
		e = errno;
		unlink(path);
		cli_error("could not write key file \"%s\": %s", path, strerror(e));
		return CLI_EXIT_ERROR;
	}
	return CLI_EXIT_OK;
}

int
cli_cmd_keygen(const cli_args *args)
{
	rb_key		key;
	char		text[2 * RB_KEY_LEN + 2];
	rb_error	err = {0};
	int			rc;

	if (rb_key_generate(&key, text, &err) != 0)
		return cli_fail(&err);
	if (args->output != NULL)
		rc = write_new_key_file(args->output, text);
	else if (rb_write_all(STDOUT_FILENO, text, strlen(text)) != 0)
	{
		cli_error("could not write the key to standard output: %s", strerror(errno));
		rc = CLI_EXIT_ERROR;
	}
	else
		rc = CLI_EXIT_OK;
	if (rc == CLI_EXIT_OK)
	{
		if (args->output != NULL)
			cli_info("wrote key file \"%s\" (mode 0600), key id %s", args->output, key.id_hex);
		else
			cli_info("key id %s", key.id_hex);
	}
	sodium_memzero(text, sizeof(text));
	rb_key_wipe(&key);
	return rc;
}
