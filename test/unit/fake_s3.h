/*
 * fake_s3.h — a scripted HTTP server on 127.0.0.1 for unit tests of the S3 client's
 * conditional writes (If-None-Match: *), which the S3 test server (s3rver) ignores.
 *
 * One thread answers one request per connection with the next scripted answer
 * (after the last one: 500) and records each request: its request line, whether
 * it carried "If-None-Match: *", and whether that header was signed (listed in
 * the Authorization header's SignedHeaders), and its whole head (request line and
 * headers, for tests that check what was sent and signed).  An answer's ETag can
 * be the MD5 of the request body, as S3 gives a part or a PutObject.  With
 * repeat_last set, a request past the script gets the last scripted answer again.
 *
 *   fake_s3 *f = fake_s3_start();
 *   fake_s3_answer(f, 412, NULL, "<Error><Code>PreconditionFailed</Code>...");
 *   ... opt.endpoint = f->endpoint ...
 *   assert_int_equal(f->nreq, 1); f->req[0].line, f->req[0].if_none_match
 *   fake_s3_stop(f);
 */
#ifndef FAKE_S3_H
#define FAKE_S3_H

#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rb_crypto.h"

#define FAKE_S3_MAX 32
#define FAKE_ETAG_MD5 "@md5"	/* answer's ETag: the MD5 of the request body */

typedef struct fake_answer
{
	int			status;
	const char *etag;			/* NULL = none; FAKE_ETAG_MD5 = MD5 of the body */
	const char *body;			/* NULL = empty */
	long		content_length; /* HEAD: the Content-Length to announce; -1 = body's */
} fake_answer;

typedef struct fake_request
{
	char		line[512];		/* "PUT /bucket/key?x HTTP/1.1" */
	bool		if_none_match;	/* "If-None-Match: *" was sent */
	bool		inm_signed;		/* and if-none-match is in SignedHeaders */
	size_t		body_len;
	char		head[4096];		/* request line and headers, CRLF-separated */
} fake_request;

typedef struct fake_s3
{
	int			fd;
	pthread_t	thread;
	char		endpoint[64];
	pthread_mutex_t mu;
	fake_answer answers[FAKE_S3_MAX];
	int			nanswers;
	fake_request req[FAKE_S3_MAX];
	int			nreq;			/* requests recorded (the first FAKE_S3_MAX) */
	int			ntotal;			/* requests answered */
	bool		repeat_last;	/* past the script: its last answer again, not 500 */
} fake_s3;

static inline void
fake_s3_answer(fake_s3 *f, int status, const char *etag, const char *body)
{
	pthread_mutex_lock(&f->mu);
	f->answers[f->nanswers++] = (fake_answer) {status, etag, body, -1};
	pthread_mutex_unlock(&f->mu);
}

/* A HEAD answer that announces a size (no body is sent). */
static inline void
fake_s3_answer_head(fake_s3 *f, int status, const char *etag, long content_length)
{
	pthread_mutex_lock(&f->mu);
	f->answers[f->nanswers++] = (fake_answer) {status, etag, NULL, content_length};
	pthread_mutex_unlock(&f->mu);
}

/* Does text (its first len bytes) contain needle, ignoring ASCII case? */
static inline bool
fake_contains(const char *text, size_t len, const char *needle)
{
	size_t		nl = strlen(needle);

	for (size_t i = 0; i + nl <= len; i++)
		if (strncasecmp(text + i, needle, nl) == 0)
			return true;
	return false;
}

/* Reads more bytes into *buf (grown as needed); false at EOF or error. */
static inline bool
fake_read_more(int c, char **buf, size_t *cap, size_t *len)
{
	ssize_t		n;

	if (*len + 1 >= *cap)
		*buf = realloc(*buf, *cap *= 2);
	n = read(c, *buf + *len, *cap - *len - 1);
	if (n <= 0)
		return false;
	*len += (size_t) n;
	(*buf)[*len] = '\0';
	return true;
}

/* Reads one request (headers and a Content-Length body); false at EOF or error. */
static inline bool
fake_read_request(int c, char **head, unsigned char **body, size_t *body_len)
{
	size_t		cap = 8192,
				len = 0;
	char	   *buf = malloc(cap);
	char	   *end = NULL;
	long		clen = 0;
	size_t		hlen;

	while (end == NULL)
	{
		if (!fake_read_more(c, &buf, &cap, &len))
		{
			free(buf);
			return false;
		}
		end = strstr(buf, "\r\n\r\n");
	}
	hlen = (size_t) (end - buf) + 4;
	for (char *p = buf; p < end; p = strstr(p, "\r\n") + 2)
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = strtol(p + 15, NULL, 10);
	while (len < hlen + (size_t) clen)
	{
		if (!fake_read_more(c, &buf, &cap, &len))
		{
			free(buf);
			return false;
		}
	}
	*body_len = (size_t) clen;
	*body = malloc(*body_len + 1);
	memcpy(*body, buf + hlen, *body_len);
	buf[hlen - 2] = '\0';
	*head = buf;
	return true;
}

static inline void *
fake_s3_main(void *arg)
{
	fake_s3    *f = arg;

	for (;;)
	{
		int			c = accept(f->fd, NULL, NULL);
		char	   *head;
		unsigned char *body;
		size_t		body_len;
		fake_answer a = {500, NULL, "<Error><Code>InternalError</Code><Message>no scripted answer</Message></Error>", -1};
		fake_request r;
		char		etag[64] = "";
		char		out[2048];
		char	   *auth;
		bool		is_head;
		int			n;

		if (c < 0)
			return NULL;
		if (!fake_read_request(c, &head, &body, &body_len))
		{
			close(c);
			continue;
		}
		memset(&r, 0, sizeof(r));
		snprintf(r.line, sizeof(r.line), "%.*s", (int) strcspn(head, "\r\n"), head);
		r.if_none_match = fake_contains(head, strlen(head), "\r\nIf-None-Match: *\r\n") ||
			fake_contains(head, strlen(head), "\r\nIf-None-Match: *");
		auth = strstr(head, "SignedHeaders=");
		r.inm_signed = auth != NULL && fake_contains(auth, strcspn(auth, ",\r"), "if-none-match");
		r.body_len = body_len;
		snprintf(r.head, sizeof(r.head), "%s", head);
		is_head = strncmp(head, "HEAD ", 5) == 0;

		pthread_mutex_lock(&f->mu);
		if (f->ntotal < f->nanswers)
			a = f->answers[f->ntotal];
		else if (f->repeat_last && f->nanswers > 0)
			a = f->answers[f->nanswers - 1];
		f->ntotal++;
		if (f->nreq < FAKE_S3_MAX)
			f->req[f->nreq++] = r;
		pthread_mutex_unlock(&f->mu);

		if (a.etag && strcmp(a.etag, FAKE_ETAG_MD5) == 0)
		{
			rb_error	e;

			rb_error_clear(&e);
			(void) rb_md5_hex(body, body_len, etag, &e);
		}
		else if (a.etag)
			snprintf(etag, sizeof(etag), "%s", a.etag);
		n = snprintf(out, sizeof(out),
					 "HTTP/1.1 %d X\r\nConnection: close\r\nContent-Length: %ld\r\n%s%s%s"
					 "Last-Modified: Tue, 01 Dec 2026 10:00:00 GMT\r\n\r\n%s",
					 a.status, a.content_length >= 0 ? a.content_length : (long) (a.body ? strlen(a.body) : 0),
					 etag[0] ? "ETag: \"" : "", etag, etag[0] ? "\"\r\n" : "",
					 is_head || a.body == NULL ? "" : a.body);
		if (write(c, out, (size_t) n) < 0)
			perror("fake_s3: write");
		shutdown(c, SHUT_WR);
		close(c);
		free(head);
		free(body);
	}
}

static inline fake_s3 *
fake_s3_start(void)
{
	fake_s3    *f = calloc(1, sizeof(*f));
	struct sockaddr_in sa;
	socklen_t	sl = sizeof(sa);

	pthread_mutex_init(&f->mu, NULL);
	f->fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (f->fd < 0 || bind(f->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(f->fd, 16) < 0 ||
		getsockname(f->fd, (struct sockaddr *) &sa, &sl) < 0)
	{
		perror("fake_s3");
		abort();
	}
	snprintf(f->endpoint, sizeof(f->endpoint), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	pthread_create(&f->thread, NULL, fake_s3_main, f);
	return f;
}

static inline void
fake_s3_stop(fake_s3 *f)
{
	shutdown(f->fd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->fd);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

#define FAKE_PRECONDITION_FAILED \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>PreconditionFailed</Code>" \
	"<Message>At least one of the pre-conditions you specified did not hold</Message>" \
	"<Condition>If-None-Match</Condition></Error>"

#endif							/* FAKE_S3_H */
