/*
 * notify_test_util.h — what the unit tests of the notification senders share: a
 * scratch directory (created by the group setup, removed by its teardown), a
 * file written there with a given mode (the secret-file rules depend on it), and
 * a loopback port nothing listens on.  Include after <cmocka.h>.
 */
#ifndef NOTIFY_TEST_UTIL_H
#define NOTIFY_TEST_UTIL_H

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char scratch_dir[] = "/tmp/test_notify_XXXXXX";

static int
scratch_setup(void **state)
{
	(void) state;
	return mkdtemp(scratch_dir) ? 0 : -1;
}

static int
scratch_teardown(void **state)
{
	char		cmd[128];

	(void) state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", scratch_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes text to scratch_dir/name with mode; returns the path (static storage). */
static const char *
write_file(const char *name, const char *text, mode_t mode)
{
	static char path[256];
	FILE	   *f;

	snprintf(path, sizeof(path), "%s/%s", scratch_dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

/* A loopback port nothing listens on: bound by the kernel's choice, then closed. */
static int
closed_port(void)
{
	int			fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a;
	socklen_t	len = sizeof(a);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

#endif							/* NOTIFY_TEST_UTIL_H */
