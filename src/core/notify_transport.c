/*
 * notify_transport.c — attempts and retries, the cancel-polling libcurl loop, URLs
 * for log lines and secret files, shared by the notification senders (see
 * notify_transport.h).
 */
#include "notify_transport.h"
#include "rb_time.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#define POLL_MS 200

rb_retry_policy
rb_notify_retry_policy(void)
{
	rb_retry_policy p = rb_retry_policy_default();

	p.max_attempts = RB_NOTIFY_DEFAULT_ATTEMPTS;
	return p;
}

int
rb_notify_read_secret_file(const char *path, const char *what, rb_buf *out, rb_error *err)
{
	int			fd;
	struct stat st;
	char		chunk[4096];
	ssize_t		n;

	if (path == NULL || path[0] == '\0')
		return rb_error_set(err, RB_ERR_INVALID, "no %s was given", what);
	/* O_NONBLOCK: a FIFO put in the file's place must not hang the caller */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
	{
		int			e = errno;

		return rb_error_set(err, e == ENOENT ? RB_ERR_NOT_FOUND : RB_ERR_IO,
							"could not open %s \"%s\": %s", what, path, strerror(e));
	}
	if (fstat(fd, &st) != 0)
	{
		int			e = errno;

		close(fd);
		return rb_error_set(err, RB_ERR_IO, "could not stat %s \"%s\": %s", what, path,
							strerror(e));
	}
	if (!S_ISREG(st.st_mode))
	{
		close(fd);
		return rb_error_set(err, RB_ERR_IO, "%s \"%s\" is not a regular file", what, path);
	}
	if (st.st_uid != geteuid() && st.st_uid != 0)
	{
		close(fd);
		return rb_error_set(err, RB_ERR_AUTH,
							"%s \"%s\" is owned by user id %u, not by the user reading it (%u)",
							what, path, (unsigned) st.st_uid, (unsigned) geteuid());
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		close(fd);
		return rb_error_set(err, RB_ERR_AUTH,
							"%s \"%s\" is accessible by other users (mode %04o); chmod 600 it",
							what, path, (unsigned) (st.st_mode & 07777));
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0)
	{
		if (n < 0)
		{
			int			e = errno;

			if (e == EINTR)
				continue;
			close(fd);
			OPENSSL_cleanse(chunk, sizeof(chunk));
			return rb_error_set(err, RB_ERR_IO, "could not read %s \"%s\": %s", what, path,
								strerror(e));
		}
		if (out->len + (size_t) n > RB_NOTIFY_MAX_SECRET_FILE)
		{
			close(fd);
			OPENSSL_cleanse(chunk, sizeof(chunk));
			return rb_error_set(err, RB_ERR_IO, "%s \"%s\" is larger than %d bytes", what,
								path, RB_NOTIFY_MAX_SECRET_FILE);
		}
		rb_buf_append(out, chunk, (size_t) n);
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fd);
	if (out->data == NULL)
		rb_buf_reserve(out, 1);
	return 0;
}

void
rb_notify_url_for_log(const char *url, char *out, size_t size)
{
	CURLU	   *u = curl_url();
	char	   *scheme = NULL,
			   *host = NULL,
			   *port = NULL;

	if (u == NULL || url == NULL ||
		curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		snprintf(out, size, "(invalid URL)");
	else if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
		snprintf(out, size, "%s://%s:%s", scheme, host, port);
	else
		snprintf(out, size, "%s://%s", scheme, host);
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

int
rb_notify_with_retry(const rb_notify_delivery *d, const char *what,
					 rb_notify_attempt_fn attempt, rb_notify_retryable_fn retryable,
					 void *arg, const rb_hooks *hooks, rb_error *err)
{
	rb_retry_policy policy = d && d->retry ? *d->retry : rb_notify_retry_policy();
	uint64_t	rng = (uint64_t) rb_now_ms() ^ ((uint64_t) getpid() << 32);
	rb_error	e;
	int			n;

	if (rb_retry_policy_validate(&policy, err) != 0)
		return -1;
	if (retryable == NULL)
		retryable = rb_retry_should_retry;
	for (n = 1;; n++)
	{
		double		delay;

		rb_error_clear(&e);
		if (rb_cancelled(hooks))
		{
			rb_error_set(&e, RB_ERR_CANCELLED, "cancelled");
			break;
		}
		if (attempt(arg, &e) == 0)
			return 0;
		if (e.code == RB_ERR_CANCELLED || n >= policy.max_attempts || !retryable(&e))
			break;
		delay = rb_retry_delay(&policy, n, &rng);
		rb_log(hooks, RB_LOG_WARNING, "%s: attempt %d of %d failed: %s; retrying in %.1f s",
			   what, n, policy.max_attempts, e.msg, delay);
		if (!rb_sleep_polling(delay, hooks))
		{
			rb_error_set(&e, RB_ERR_CANCELLED, "cancelled");
			break;
		}
	}
	if (err != NULL)
	{
		*err = e;
		if (n > 1)
			rb_error_prefix(err, "%s (attempt %d of %d): ", what, n, policy.max_attempts);
		else
			rb_error_prefix(err, "%s: ", what);
	}
	return -1;
}

int
rb_notify_curl_run(void *curl, const rb_hooks *hooks, bool *cancelled)
{
	CURLM	   *m = curl_multi_init();
	CURLcode	result = CURLE_GOT_NOTHING;	/* unless libcurl reports the end */
	int			running = 1;
	bool		done = false;

	*cancelled = false;
	if (m == NULL)
		return CURLE_OUT_OF_MEMORY;
	if (curl_multi_add_handle(m, curl) != CURLM_OK)
	{
		curl_multi_cleanup(m);
		return CURLE_OUT_OF_MEMORY;
	}
	while (!done)
	{
		CURLMsg    *msg;
		int			left;

		if (curl_multi_perform(m, &running) != CURLM_OK)
		{
			result = CURLE_OUT_OF_MEMORY;
			break;
		}
		while ((msg = curl_multi_info_read(m, &left)) != NULL)
		{
			if (msg->msg == CURLMSG_DONE)
			{
				result = msg->data.result;
				done = true;
			}
		}
		if (done || running == 0)
			break;
		if (rb_cancelled(hooks))
		{
			*cancelled = true;
			result = CURLE_ABORTED_BY_CALLBACK;
			break;
		}
		curl_multi_poll(m, NULL, 0, POLL_MS, NULL);
	}
	curl_multi_remove_handle(m, curl);
	curl_multi_cleanup(m);
	return (int) result;
}

const char *
rb_notify_connect_error(void *curl, const char *fallback)
{
	long		os_errno = 0;

	if (curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK && os_errno != 0)
		return strerror((int) os_errno);
	return fallback;
}

int
rb_notify_timeout_ms(const rb_notify_delivery *d)
{
	return d && d->timeout_ms > 0 ? d->timeout_ms : RB_NOTIFY_DEFAULT_TIMEOUT_MS;
}

int
rb_notify_curl_setup(void *curl, const char *url, const char *protocols,
					 const rb_notify_delivery *d, char *errbuf, rb_error *err)
{
	long		timeout_ms = (long) rb_notify_timeout_ms(d);

	errbuf[0] = '\0';
	RB_NOTIFY_SETOPT(curl, CURLOPT_URL, url);
	RB_NOTIFY_SETOPT(curl, CURLOPT_PROTOCOLS_STR, protocols);
	RB_NOTIFY_SETOPT(curl, CURLOPT_NOSIGNAL, 1L);
	RB_NOTIFY_SETOPT(curl, CURLOPT_ERRORBUFFER, errbuf);
	RB_NOTIFY_SETOPT(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
	RB_NOTIFY_SETOPT(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
	if (d && d->ca_file && d->ca_file[0])
		RB_NOTIFY_SETOPT(curl, CURLOPT_CAINFO, d->ca_file);
	return 0;

done:
	return -1;
}
