/*
 * cli_pgtools.c — finding and running pg_restore and psql (see cli_pgtools.h).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_pgtools.h"
#include "cli_progress.h"
#include "rb_alloc.h"

static char *
executable_in(const char *dir, const char *name)
{
	rb_buf		p = RB_BUF_INIT;

	if (dir == NULL || dir[0] == '\0')
		return NULL;
	rb_buf_appendf(&p, "%s/%s", dir, name);
	if (access(rb_buf_str(&p), X_OK) == 0)
		return p.data;
	rb_buf_free(&p);
	return NULL;
}

char *
cli_find_pg_program(const char *name, const char *bindir, rb_error *err)
{
	char	   *found;
	char		self[PATH_MAX];
	ssize_t		n;
	const char *path;

	if (bindir != NULL && bindir[0] != '\0')
	{
		found = executable_in(bindir, name);
		if (found == NULL)
			rb_error_set(err, RB_ERR_NOT_FOUND, "program \"%s\" not found in \"%s\"", name, bindir);
		return found;
	}
	if ((found = executable_in(getenv("RIPPLE_BACKUP_PG_BINDIR"), name)) != NULL)
		return found;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
	{
		char	   *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash)
		{
			*slash = '\0';
			if ((found = executable_in(self, name)) != NULL)
				return found;
		}
	}
	path = getenv("PATH");
	if (path != NULL)
	{
		char	   *copy = rb_strdup(path);
		char	   *save = NULL;

		for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save))
			if ((found = executable_in(dir, name)) != NULL)
				break;
		free(copy);
		if (found)
			return found;
	}
	rb_error_set(err, RB_ERR_NOT_FOUND,
				 "program \"%s\" not found beside ripple-backup nor on PATH; use --pg-bindir", name);
	return NULL;
}

int
cli_run_program(const rb_argv *argv, const char *const *env, const char *label,
				rb_buf *out, const rb_hooks *hooks, rb_error *err)
{
	rb_pg_run_options opt;
	cli_progress pg;
	int			rc;

	memset(&opt, 0, sizeof(opt));
	opt.env = env;
	opt.out = out;
	cli_progress_spinner(&pg, label, &opt.tick, &opt.tick_arg);
	rc = rb_pg_run(argv, &opt, hooks, err);
	cli_progress_finish(&pg);
	return rc;
}
