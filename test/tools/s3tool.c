/*
 * s3tool.c — a small command-line driver of the S3 client (src/core/s3/s3_client.h,
 * s3_upload.h) for the TAP tests and the upload benchmark.
 *
 *   s3tool [options] put KEY FILE          PutObject of a file read into memory
 *   s3tool [options] upload KEY            streaming multipart upload of stdin
 *   s3tool [options] get KEY [--range A-B] GetObject to stdout (B may be empty)
 *   s3tool [options] head KEY              prints size=, etag=, last_modified=, mtime=
 *   s3tool [options] list [PREFIX]         prints "KEY SIZE" per object
 *   s3tool [options] delete KEY...         DeleteObject (one key) or DeleteObjects
 *   s3tool [options] put-many PREFIX N     PutObject of N small keys PREFIX00000...
 *                                          (content: the key), through one client
 *   s3tool [options] breaker-state         prints the state kept in --breaker-file
 *
 * Options: --endpoint URL --region R --bucket B --path-style | --uri-style S
 *   --part-size N[K|M|G] (smaller than 5 MiB allowed here, for tests) --in-flight N
 *   --max-attempts N --base-delay S --max-delay S --jitter F --connect-timeout S
 *   --low-speed-time S --request-timeout S (0 = the default, -1 = none)
 *   --operation-timeout S --insecure --ca-file F --credentials-file F --profile P
 *   --sse AES256|aws:kms --sse-kms-key-id ID (server-side encryption of new objects)
 *   --breaker-threshold N --breaker-open-ms N --breaker-file F (the breaker lives in
 *   that file, locked with flock, as the extension keeps it in shared memory)
 *   --page-size N (list) --batch (delete: always DeleteObjects) --if-absent (put,
 *   upload: a conditional write with If-None-Match: *, exit 6 when refused) -v (log
 *   lines and request counts on stderr).
 * Credentials: --credentials-file/--profile, else AWS_ACCESS_KEY_ID etc.
 * Exits 0 on success; otherwise prints the error on stderr and exits 1 (2 for usage,
 * 3 when the error is RB_ERR_CIRCUIT_OPEN, 4 for RB_ERR_NOT_FOUND, 5 cancelled, 6 for
 * RB_ERR_EXISTS).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "s3/s3_credentials.h"
#include "s3/s3_breaker.h"
#include "rb_error.h"
#include "s3/s3_retry.h"
#include "s3/s3_client.h"
#include "s3/s3_upload.h"

static volatile sig_atomic_t got_signal = 0;
static bool verbose = false;

static void
on_signal(int sig)
{
	(void) sig;
	got_signal = 1;
}

static void
log_line(void *arg, rb_log_level level, const char *line)
{
	static const char *const names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

	(void) arg;
	if (level == RB_LOG_DEBUG && !verbose)
		return;
	fprintf(stderr, "%s: %s\n", names[level], line);
}

static bool
cancel_requested(void *arg)
{
	(void) arg;
	return got_signal != 0;
}

/* --- the breaker kept in a file ---------------------------------------------------- */

typedef struct breaker_file
{
	int			fd;
	rb_breaker	b;
} breaker_file;

static void
bf_lock(void *arg)
{
	breaker_file *bf = arg;

	if (flock(bf->fd, LOCK_EX) != 0 ||
		pread(bf->fd, &bf->b, sizeof(bf->b), 0) != (ssize_t) sizeof(bf->b))
	{
		fprintf(stderr, "s3tool: cannot read the breaker file: %s\n", strerror(errno));
		exit(1);
	}
}

static void
bf_unlock(void *arg)
{
	breaker_file *bf = arg;

	if (pwrite(bf->fd, &bf->b, sizeof(bf->b), 0) != (ssize_t) sizeof(bf->b))
	{
		fprintf(stderr, "s3tool: cannot write the breaker file: %s\n", strerror(errno));
		exit(1);
	}
	flock(bf->fd, LOCK_UN);
}

static int64_t
wall_ms(void *arg)
{
	struct timespec ts;

	(void) arg;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
bf_open(breaker_file *bf, const char *path, int threshold, int64_t open_ms)
{
	struct stat st;

	bf->fd = open(path, O_RDWR | O_CREAT, 0600);
	if (bf->fd < 0 || fstat(bf->fd, &st) != 0)
	{
		fprintf(stderr, "s3tool: cannot open breaker file \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	flock(bf->fd, LOCK_EX);
	if (st.st_size != (off_t) sizeof(rb_breaker))
	{
		rb_breaker_init(&bf->b, threshold, open_ms);
		if (pwrite(bf->fd, &bf->b, sizeof(bf->b), 0) != (ssize_t) sizeof(bf->b))
		{
			flock(bf->fd, LOCK_UN);
			return -1;
		}
	}
	flock(bf->fd, LOCK_UN);
	return 0;
}

/* --- helpers --------------------------------------------------------------------- */

static int
usage(void)
{
	fprintf(stderr,
			"usage: s3tool [options] put KEY FILE | put-many PREFIX N | upload KEY | get KEY [--range A-B] | head KEY |\n"
			"              list [PREFIX] | delete KEY... | breaker-state\n");
	return 2;
}

static size_t
parse_size(const char *s)
{
	char	   *end;
	double		v = strtod(s, &end);

	switch (*end)
	{
		case 'k': case 'K': v *= 1024; break;
		case 'm': case 'M': v *= 1024 * 1024; break;
		case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
		default: break;
	}
	return (size_t) v;
}

static int
fail(const rb_error *err)
{
	fprintf(stderr, "s3tool: %s\n", err->msg);
	switch (err->code)
	{
		case RB_ERR_CIRCUIT_OPEN: return 3;
		case RB_ERR_NOT_FOUND: return 4;
		case RB_ERR_CANCELLED: return 5;
		case RB_ERR_EXISTS: return 6;
		default: return 1;
	}
}

static int
stdout_write(void *arg, const void *data, size_t len, rb_error *err)
{
	(void) arg;
	if (fwrite(data, 1, len, stdout) != len)
		return rb_error_set(err, RB_ERR_IO, "could not write to standard output: %s", strerror(errno));
	return 0;
}

static int
list_print(void *arg, const rb_s3_object_info *o, rb_error *err)
{
	(void) arg;
	(void) err;
	printf("%s %llu\n", o->key, (unsigned long long) o->size);
	return 0;
}

static void
delete_error(void *arg, const char *key, const char *code, const char *message)
{
	(void) arg;
	fprintf(stderr, "s3tool: not deleted: %s: %s: %s\n", key, code, message);
}

static int
read_file(const char *path, unsigned char **data, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	size_t		cap = 1 << 20;
	size_t		n = 0;

	if (f == NULL)
	{
		fprintf(stderr, "s3tool: cannot open \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	*data = malloc(cap);
	for (;;)
	{
		size_t		r;

		if (n == cap)
		{
			cap *= 2;
			*data = realloc(*data, cap);
		}
		r = fread(*data + n, 1, cap - n, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	*len = n;
	return 0;
}

int
main(int argc, char **argv)
{
	rb_s3_options opt;
	rb_retry_policy retry = rb_retry_policy_default();
	rb_aws_credentials *cred = calloc(1, sizeof(rb_aws_credentials));
	rb_hooks	hooks = {log_line, cancel_requested, NULL, NULL, NULL};
	rb_error	err;
	const char *credentials_file = NULL;
	const char *profile = NULL;
	const char *breaker_path = NULL;
	const char *range = NULL;
	breaker_file bf;
	int			page_size = 0;
	bool		batch = false;
	bool		if_absent = false;
	rb_s3_client *c = NULL;
	int			i;
	int			rc = 0;
	const char *cmd;
	struct sigaction sa;

	memset(&opt, 0, sizeof(opt));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	rb_error_clear(&err);
	opt.bucket = "test";
	opt.region = "us-east-1";

	for (i = 1; i < argc && argv[i][0] == '-'; i++)
	{
		const char *a = argv[i];
		const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
#define NEEDV() do { if (v == NULL) return usage(); i++; } while (0)

		if (strcmp(a, "--endpoint") == 0) { NEEDV(); opt.endpoint = v; }
		else if (strcmp(a, "--region") == 0) { NEEDV(); opt.region = v; }
		else if (strcmp(a, "--bucket") == 0) { NEEDV(); opt.bucket = v; }
		else if (strcmp(a, "--path-style") == 0) opt.uri_style = RB_S3_URI_PATH;
		else if (strcmp(a, "--uri-style") == 0)
		{
			NEEDV();
			if (rb_s3_uri_style_parse(v, &opt.uri_style, &err) < 0)
				return fail(&err);
		}
		else if (strcmp(a, "--part-size") == 0) { NEEDV(); opt.part_size = parse_size(v); opt.allow_small_parts = true; }
		else if (strcmp(a, "--in-flight") == 0) { NEEDV(); opt.parts_in_flight = atoi(v); }
		else if (strcmp(a, "--max-attempts") == 0) { NEEDV(); retry.max_attempts = atoi(v); }
		else if (strcmp(a, "--base-delay") == 0) { NEEDV(); retry.base_delay_s = atof(v); }
		else if (strcmp(a, "--max-delay") == 0) { NEEDV(); retry.max_delay_s = atof(v); }
		else if (strcmp(a, "--jitter") == 0) { NEEDV(); retry.jitter = atof(v); }
		else if (strcmp(a, "--connect-timeout") == 0) { NEEDV(); opt.connect_timeout_s = atol(v); }
		else if (strcmp(a, "--low-speed-time") == 0) { NEEDV(); opt.low_speed_time_s = atol(v); }
		else if (strcmp(a, "--request-timeout") == 0) { NEEDV(); opt.request_timeout_ms = (int64_t) (atof(v) * 1000); }
		else if (strcmp(a, "--operation-timeout") == 0) { NEEDV(); opt.operation_timeout_ms = (int64_t) (atof(v) * 1000); }
		else if (strcmp(a, "--insecure") == 0) opt.tls_insecure = true;
		else if (strcmp(a, "--ca-file") == 0) { NEEDV(); opt.ca_file = v; }
		else if (strcmp(a, "--sse") == 0) { NEEDV(); opt.sse = v; }
		else if (strcmp(a, "--sse-kms-key-id") == 0) { NEEDV(); opt.sse_kms_key_id = v; }
		else if (strcmp(a, "--credentials-file") == 0) { NEEDV(); credentials_file = v; }
		else if (strcmp(a, "--profile") == 0) { NEEDV(); profile = v; }
		else if (strcmp(a, "--breaker-threshold") == 0) { NEEDV(); opt.breaker_threshold = atoi(v); }
		else if (strcmp(a, "--breaker-open-ms") == 0) { NEEDV(); opt.breaker_open_ms = atoll(v); }
		else if (strcmp(a, "--breaker-file") == 0) { NEEDV(); breaker_path = v; }
		else if (strcmp(a, "--page-size") == 0) { NEEDV(); page_size = atoi(v); }
		else if (strcmp(a, "--batch") == 0) batch = true;
		else if (strcmp(a, "--if-absent") == 0) if_absent = true;
		else if (strcmp(a, "-v") == 0) verbose = true;
		else return usage();
#undef NEEDV
	}
	if (i >= argc)
		return usage();
	cmd = argv[i++];

	if (breaker_path)
	{
		if (bf_open(&bf, breaker_path,
					opt.breaker_threshold ? opt.breaker_threshold : RB_BREAKER_DEFAULT_THRESHOLD,
					opt.breaker_open_ms ? opt.breaker_open_ms : RB_BREAKER_DEFAULT_OPEN_INTERVAL_MS) < 0)
			return 1;
		if (strcmp(cmd, "breaker-state") == 0)
		{
			bf_lock(&bf);
			printf("state=%s consecutive_failures=%d times_opened=%llu rejected=%llu\n",
				   rb_breaker_state_name(&bf.b), bf.b.consecutive_failures,
				   (unsigned long long) bf.b.times_opened, (unsigned long long) bf.b.rejected);
			bf_unlock(&bf);
			close(bf.fd);
			return 0;
		}
		opt.breaker = &bf.b;
		opt.breaker_lock = bf_lock;
		opt.breaker_unlock = bf_unlock;
		opt.breaker_lock_arg = &bf;
		opt.clock = wall_ms;
	}
	else if (strcmp(cmd, "breaker-state") == 0)
		return usage();

	if (rb_aws_credentials_load(credentials_file, profile, cred, &hooks, &err) < 0)
		return fail(&err);
	opt.credentials = cred;
	opt.retry = &retry;
	c = rb_s3_client_new(&opt, &hooks, &err);
	rb_aws_credentials_clear(cred);
	free(cred);
	if (c == NULL)
		return fail(&err);

	if (strcmp(cmd, "put") == 0 && argc - i == 2)
	{
		unsigned char *data = NULL;
		size_t		len = 0;

		if (read_file(argv[i + 1], &data, &len) < 0)
			rc = 1;
		else if ((if_absent ? rb_s3_put_object_if_absent(c, argv[i], data, len, NULL, &err)
				  : rb_s3_put_object(c, argv[i], data, len, NULL, &err)) < 0)
			rc = fail(&err);
		free(data);
	}
	else if (strcmp(cmd, "put-many") == 0 && argc - i == 2)
	{
		int			n = atoi(argv[i + 1]);
		char		key[RB_S3_MAX_KEY_LEN + 1];

		for (int k = 0; k < n && rc == 0; k++)
		{
			snprintf(key, sizeof(key), "%s%05d", argv[i], k);
			if (rb_s3_put_object(c, key, key, strlen(key), "text/plain", &err) < 0)
				rc = fail(&err);
		}
	}
	else if (strcmp(cmd, "upload") == 0 && argc - i == 1)
	{
		rb_s3_upload *w = if_absent ? rb_s3_upload_begin_if_absent(c, argv[i], NULL, &err)
			: rb_s3_upload_begin(c, argv[i], NULL, &err);
		size_t		bufsize = 1 << 20;
		unsigned char *buf = malloc(bufsize);

		if (w == NULL)
			rc = fail(&err);
		int			inflight = 0;

		while (rc == 0)
		{
			struct pollfd pfd = {0, POLLIN, 0};
			ssize_t		n;

			/* While stdin is idle, keep the parts in flight moving. */
			if (inflight > 0 && poll(&pfd, 1, 0) == 0)
			{
				inflight = rb_s3_upload_pump(w, 20, &err);
				if (inflight < 0)
					rc = fail(&err);
				continue;
			}
			n = read(0, buf, bufsize);

			if (n < 0 && errno == EINTR)
			{
				if (got_signal)
				{
					/* let the client notice and report the cancellation */
					if (rb_s3_upload_write(w, buf, 0, &err) < 0)
						rc = fail(&err);
				}
				continue;
			}
			if (n < 0)
			{
				fprintf(stderr, "s3tool: read error on standard input: %s\n", strerror(errno));
				rc = 1;
				break;
			}
			if (n == 0)
				break;
			if (rb_s3_upload_write(w, buf, (size_t) n, &err) < 0)
				rc = fail(&err);
			else
				inflight = rb_s3_upload_pump(w, 0, &err);
			if (inflight < 0)
				rc = fail(&err);
		}
		free(buf);
		if (w && rc == 0 && got_signal)
		{
			rb_error_set(&err, RB_ERR_CANCELLED, "cancelled");
			rc = fail(&err);
		}
		if (w && rc != 0)
			rb_s3_upload_abort(w);
		else if (w)
		{
			rb_s3_upload_result res;
			size_t		peak = rb_s3_upload_buffer_peak(w);

			if (rb_s3_upload_finish(w, &res, &err) < 0)
				rc = fail(&err);
			else
				printf("size=%llu parts=%d multipart=%d etag=%s buffer_peak=%zu\n",
					   (unsigned long long) res.size, res.parts, res.multipart ? 1 : 0, res.etag, peak);
		}
	}
	else if (strcmp(cmd, "get") == 0 && (argc - i == 1 || (argc - i == 3 && strcmp(argv[i + 1], "--range") == 0)))
	{
		long long	first = -1;
		long long	last = -1;

		if (argc - i == 3)
		{
			char	   *end;

			range = argv[i + 2];
			first = strtoll(range, &end, 10);
			if (*end != '-')
				return usage();
			if (end[1])
				last = strtoll(end + 1, NULL, 10);
		}
		if (rb_s3_get_object(c, argv[i], first, last, stdout_write, NULL, &err) < 0)
			rc = fail(&err);
		fflush(stdout);
	}
	else if (strcmp(cmd, "head") == 0 && argc - i == 1)
	{
		rb_s3_object_info info;

		if (rb_s3_head_object(c, argv[i], &info, &err) < 0)
			rc = fail(&err);
		else
			printf("size=%llu etag=%s last_modified=%s mtime=%lld\n", (unsigned long long) info.size,
				   info.etag, info.last_modified, (long long) info.mtime);
	}
	else if (strcmp(cmd, "list") == 0 && argc - i <= 1)
	{
		if (rb_s3_list_objects(c, argc - i == 1 ? argv[i] : NULL, page_size, list_print, NULL, &err) < 0)
			rc = fail(&err);
	}
	else if (strcmp(cmd, "delete") == 0 && argc - i >= 1)
	{
		if (argc - i == 1 && !batch)
		{
			if (rb_s3_delete_object(c, argv[i], &err) < 0)
				rc = fail(&err);
		}
		else
		{
			size_t		nfailed = 0;

			if (rb_s3_delete_objects(c, (const char *const *) (argv + i), (size_t) (argc - i),
									 delete_error, NULL, &nfailed, &err) < 0)
				rc = fail(&err);
		}
	}
	else
		rc = usage();

	if (verbose)
	{
		rb_s3_stats st;

		rb_s3_client_stats(c, &st);
		fprintf(stderr, "s3tool: requests=%llu retries=%llu bytes_sent=%llu bytes_received=%llu\n",
				(unsigned long long) st.requests, (unsigned long long) st.retries,
				(unsigned long long) st.bytes_sent, (unsigned long long) st.bytes_received);
	}
	rb_s3_client_free(c);
	if (breaker_path)
		close(bf.fd);
	return rc;
}
