/*
 * notify_smtp.c — one e-mail through libcurl's SMTP client, the credentials file
 * and address lists (see notify_smtp.h).
 */
#include "notify_smtp.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "rb_buf.h"

/* --- settings -------------------------------------------------------------------- */

int
rb_smtp_tls_parse(const char *text, rb_smtp_tls *out, rb_error *err)
{
	if (text == NULL || text[0] == '\0' || strcmp(text, "starttls") == 0)
		*out = RB_SMTP_TLS_STARTTLS;
	else if (strcmp(text, "none") == 0)
		*out = RB_SMTP_TLS_NONE;
	else
		return rb_error_set(err, RB_ERR_INVALID,
							"invalid SMTP TLS mode \"%s\": use starttls or none", text);
	return 0;
}

static char *
trim(char *s)
{
	char	   *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

int
rb_smtp_credentials_load(const char *path, rb_smtp_credentials *out, rb_error *err)
{
	const char *what = "SMTP credentials file";
	rb_buf		text = RB_BUF_INIT;
	char	   *line,
			   *next;
	int			lineno = 0;
	int			have_user = 0,
				have_password = 0;

	memset(out, 0, sizeof(*out));
	if (rb_notify_read_secret_file(path, what, &text, err) != 0)
		return -1;
	for (line = text.data; line != NULL; line = next)
	{
		char	   *eq,
				   *key,
				   *value;
		size_t		cap;
		char	   *dest;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		line = trim(line);
		if (line[0] == '\0' || line[0] == '#')
			continue;
		eq = strchr(line, '=');
		if (eq == NULL)
		{
			rb_error_set(err, RB_ERR_INVALID, "%s \"%s\" line %d: expected key = value",
						 what, path, lineno);
			goto fail;
		}
		*eq = '\0';
		key = trim(line);
		value = trim(eq + 1);
		if (strcmp(key, "user") == 0)
		{
			dest = out->user;
			cap = sizeof(out->user);
			have_user = 1;
		}
		else if (strcmp(key, "password") == 0)
		{
			dest = out->password;
			cap = sizeof(out->password);
			have_password = 1;
		}
		else
		{
			rb_error_set(err, RB_ERR_INVALID,
						 "%s \"%s\" line %d: unknown key (expected user or password)",
						 what, path, lineno);
			goto fail;
		}
		if (strlen(value) >= cap)
		{
			rb_error_set(err, RB_ERR_INVALID, "%s \"%s\" line %d: the %s is longer than %zu bytes",
						 what, path, lineno, key, cap - 1);
			goto fail;
		}
		if (value[0] == '\0')
		{
			rb_error_set(err, RB_ERR_INVALID, "%s \"%s\" line %d: the %s is empty",
						 what, path, lineno, key);
			goto fail;
		}
		memcpy(dest, value, strlen(value) + 1);
	}
	if (!have_user || !have_password)
	{
		rb_error_set(err, RB_ERR_AUTH, "%s \"%s\" has no %s line", what, path,
					 !have_user ? "user" : "password");
		goto fail;
	}
	rb_buf_free_secure(&text);
	return 0;

fail:
	rb_buf_free_secure(&text);
	rb_smtp_credentials_clear(out);
	return -1;
}

void
rb_smtp_credentials_clear(rb_smtp_credentials *cred)
{
	OPENSSL_cleanse(cred, sizeof(*cred));
}

/* An address: something@something, no space, control, <, >, comma or quote. */
static int
valid_address(const char *a, size_t len)
{
	const char *at = NULL;

	if (len == 0 || len > 254)
		return 0;
	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) a[i];

		if (c <= 0x20 || c == 0x7F || c == '<' || c == '>' || c == ',' || c == '"')
			return 0;
		if (c == '@')
			at = a + i;
	}
	return at != NULL && at != a && at != a + len - 1;
}

int
rb_address_list_parse(const char *text, rb_address_list *out, rb_error *err)
{
	const char *p = text ? text : "";
	size_t		pos = 0;

	out->addr = NULL;
	out->n = 0;
	for (;;)
	{
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		const char *s = p;

		pos++;
		while (s < end && isspace((unsigned char) *s))
			s++;
		while (end > s && isspace((unsigned char) end[-1]))
			end--;
		if (end > s || comma != NULL)
		{
			char	  **grown;

			if (!valid_address(s, (size_t) (end - s)))
			{
				rb_address_list_free(out);
				return rb_error_set(err, RB_ERR_INVALID,
									"e-mail address %zu of the list is not an address: \"%.*s\"",
									pos, (int) (end - s > 200 ? 200 : end - s), s);
			}
			grown = realloc(out->addr, (out->n + 1) * sizeof(char *));
			if (grown == NULL)
			{
				rb_address_list_free(out);
				return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
			}
			out->addr = grown;
			out->addr[out->n] = strndup(s, (size_t) (end - s));
			if (out->addr[out->n] == NULL)
			{
				rb_address_list_free(out);
				return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
			}
			out->n++;
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	if (out->n == 0)
		return rb_error_set(err, RB_ERR_INVALID, "the list of e-mail addresses is empty");
	return 0;
}

void
rb_address_list_free(rb_address_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->addr[i]);
	free(list->addr);
	list->addr = NULL;
	list->n = 0;
}

int
rb_mail_envelope_address(const char *from, char *out, size_t size, rb_error *err)
{
	const char *s = from ? from : "";
	const char *lt = strrchr(s, '<');
	const char *end;

	if (lt != NULL)
	{
		s = lt + 1;
		end = strchr(s, '>');
		if (end == NULL)
			end = s + strlen(s);
	}
	else
	{
		while (isspace((unsigned char) *s))
			s++;
		end = s + strlen(s);
		while (end > s && isspace((unsigned char) end[-1]))
			end--;
	}
	if (!valid_address(s, (size_t) (end - s)) || (size_t) (end - s) >= size)
		return rb_error_set(err, RB_ERR_INVALID, "the sender \"%.200s\" is not an e-mail address",
							from ? from : "");
	memcpy(out, s, (size_t) (end - s));
	out[end - s] = '\0';
	return 0;
}

/* --- checking the options --------------------------------------------------------- */

static int
is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
		strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

int
rb_smtp_check(const rb_smtp_options *opt, rb_error *err)
{
	CURLU	   *u;
	char	   *scheme = NULL,
			   *host = NULL,
			   *user = NULL,
			   *password = NULL;
	char		addr[256];
	int			rc = 0;

	if (opt->url == NULL || opt->url[0] == '\0')
		return rb_error_set(err, RB_ERR_INVALID, "no SMTP server URL was given");
	u = curl_url();
	if (u == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, opt->url, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
		curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		rc = rb_error_set(err, RB_ERR_INVALID,
						  "invalid SMTP server URL: expected smtp://host:port or smtps://host:port");
	else if (strcmp(scheme, "smtp") != 0 && strcmp(scheme, "smtps") != 0)
		rc = rb_error_set(err, RB_ERR_INVALID,
						  "invalid SMTP server URL scheme \"%s\": use smtp:// or smtps://", scheme);
	else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
			 curl_url_get(u, CURLUPART_PASSWORD, &password, 0) == CURLUE_OK)
		rc = rb_error_set(err, RB_ERR_INVALID,
						  "the SMTP server URL must not contain a user name or password; "
						  "put them in the SMTP credentials file");
	else if (opt->tls == RB_SMTP_TLS_NONE && strcmp(scheme, "smtps") == 0)
		rc = rb_error_set(err, RB_ERR_INVALID,
						  "SMTP TLS mode none contradicts an smtps:// URL (TLS from the start)");
	else if (opt->tls == RB_SMTP_TLS_NONE && opt->credentials != NULL && !is_loopback(host))
		rc = rb_error_set(err, RB_ERR_INVALID,
						  "refusing to send SMTP credentials in plain text to \"%s\": "
						  "SMTP TLS mode none is meant for a test server on this machine", host);
	else if (rb_mail_envelope_address(opt->mail_from, addr, sizeof(addr), err) != 0)
		rc = -1;
	else if (opt->nrcpt == 0 || opt->rcpt == NULL)
		rc = rb_error_set(err, RB_ERR_INVALID, "the e-mail has no recipient");
	else
	{
		for (size_t i = 0; i < opt->nrcpt; i++)
		{
			if (opt->rcpt[i] == NULL || !valid_address(opt->rcpt[i], strlen(opt->rcpt[i])))
			{
				rc = rb_error_set(err, RB_ERR_INVALID, "recipient %zu is not an e-mail address",
								  i + 1);
				break;
			}
		}
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	if (password != NULL)
	{
		OPENSSL_cleanse(password, strlen(password));
		curl_free(password);
	}
	curl_url_cleanup(u);
	return rc;
}

/* --- sending ------------------------------------------------------------------------ */

typedef struct smtp_attempt
{
	const rb_smtp_options *opt;
	const rb_notify_delivery *d;
	const char *message;
	size_t		len;
	size_t		pos;
	const rb_hooks *hooks;
	char		sender[260];
} smtp_attempt;

static size_t
read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	smtp_attempt *a = arg;
	size_t		n = size * nitems;

	if (n > a->len - a->pos)
		n = a->len - a->pos;
	memcpy(buf, a->message + a->pos, n);
	a->pos += n;
	return n;
}

/* Turns a finished transfer's result into an rb_error (no secret in any branch). */
static int
smtp_result(CURL *h, CURLcode rc, const char *errbuf, int timeout_ms, rb_error *err)
{
	long		reply = 0;
	const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
	switch (rc)
	{
		case CURLE_OK:
			return 0;
		case CURLE_COULDNT_CONNECT:
			return rb_error_set(err, RB_ERR_NETWORK, "could not connect to the SMTP server: %s",
								rb_notify_connect_error(h, why));
		case CURLE_COULDNT_RESOLVE_HOST:
			return rb_error_set(err, RB_ERR_NETWORK, "could not connect to the SMTP server: %s", why);
		case CURLE_OPERATION_TIMEDOUT:
			return rb_error_set(err, RB_ERR_NETWORK, "the SMTP server did not answer within %d ms",
								timeout_ms);
		case CURLE_USE_SSL_FAILED:
			return rb_error_set(err, RB_ERR_REMOTE,
								"the SMTP server does not offer STARTTLS, and SMTP TLS mode starttls "
								"requires it: nothing was sent");
		case CURLE_LOGIN_DENIED:
			rb_error_set(err, RB_ERR_AUTH,
						 "the SMTP server refused the credentials (reply code %ld)", reply);
			snprintf(err->remote_code, sizeof(err->remote_code), "%ld", reply);
			return -1;
		case CURLE_PEER_FAILED_VERIFICATION:
			return rb_error_set(err, RB_ERR_REMOTE,
								"the SMTP server's TLS certificate could not be verified: %s", why);
		case CURLE_SSL_CONNECT_ERROR:
			return rb_error_set(err, RB_ERR_NETWORK, "TLS handshake with the SMTP server failed: %s",
								why);
		case CURLE_SEND_ERROR:
		case CURLE_RECV_ERROR:
		case CURLE_WEIRD_SERVER_REPLY:
		case CURLE_GOT_NOTHING:
			if (reply >= 400 && reply <= 599)
			{
				/* MAIL FROM, RCPT TO or DATA refused: 4xx may pass, 5xx will not */
				rb_error_set(err, RB_ERR_REMOTE, "the SMTP server refused the message: %s (reply code %ld)",
							 why, reply);
				snprintf(err->remote_code, sizeof(err->remote_code), "%ld", reply);
				return -1;
			}
			return rb_error_set(err, RB_ERR_NETWORK, "the connection to the SMTP server failed: %s", why);
		default:
			return rb_error_set(err, RB_ERR_NETWORK, "SMTP transfer failed: %s", why);
	}
}

static int
smtp_attempt_once(void *arg, rb_error *err)
{
	smtp_attempt *a = arg;
	const rb_smtp_options *opt = a->opt;
	int			timeout_ms = rb_notify_timeout_ms(a->d);
	CURL	   *h = curl_easy_init();
	struct curl_slist *rcpt = NULL;
	char		errbuf[CURL_ERROR_SIZE] = "";
	char		from[264];
	bool		cancelled = false;
	int			rc = -1;
	CURLcode	res;

	if (h == NULL)
		return rb_error_set(err, RB_ERR_NOMEM, "could not create a curl handle");
	a->pos = 0;
	snprintf(from, sizeof(from), "<%s>", a->sender);
	for (size_t i = 0; i < opt->nrcpt; i++)
	{
		char		r[264];
		struct curl_slist *n;

		snprintf(r, sizeof(r), "<%s>", opt->rcpt[i]);
		n = curl_slist_append(rcpt, r);
		if (n == NULL)
		{
			rb_error_set(err, RB_ERR_NOMEM, "out of memory");
			goto done;
		}
		rcpt = n;
	}
	if (rb_notify_curl_setup(h, opt->url, "smtp,smtps", a->d, errbuf, err) != 0)
		goto done;
	RB_NOTIFY_SETOPT(h, CURLOPT_USE_SSL, (long) (opt->tls == RB_SMTP_TLS_NONE ? CURLUSESSL_NONE : CURLUSESSL_ALL));
	if (opt->credentials != NULL)
	{
		RB_NOTIFY_SETOPT(h, CURLOPT_USERNAME, opt->credentials->user);
		RB_NOTIFY_SETOPT(h, CURLOPT_PASSWORD, opt->credentials->password);
	}
	RB_NOTIFY_SETOPT(h, CURLOPT_MAIL_FROM, from);
	RB_NOTIFY_SETOPT(h, CURLOPT_MAIL_RCPT, rcpt);
	RB_NOTIFY_SETOPT(h, CURLOPT_UPLOAD, 1L);
	RB_NOTIFY_SETOPT(h, CURLOPT_READFUNCTION, read_cb);
	RB_NOTIFY_SETOPT(h, CURLOPT_READDATA, (void *) a);
	RB_NOTIFY_SETOPT(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t) a->len);

	res = (CURLcode) rb_notify_curl_run(h, a->hooks, &cancelled);
	if (cancelled)
		rb_error_set(err, RB_ERR_CANCELLED, "cancelled");
	else
		rc = smtp_result(h, res, errbuf, timeout_ms, err);

done:
	curl_easy_cleanup(h);
	curl_slist_free_all(rcpt);
	return rc;
}

/* Network failures, timeouts and 4xx replies (transient in SMTP) are retried. */
static bool
smtp_retryable(const rb_error *e)
{
	if (rb_retry_should_retry(e))
		return true;
	return e->code == RB_ERR_REMOTE && e->remote_code[0] == '4' && e->remote_code[3] == '\0';
}

int
rb_smtp_send(const rb_smtp_options *opt, const rb_notify_delivery *d,
			 const char *message, size_t len, const rb_hooks *hooks, rb_error *err)
{
	smtp_attempt a;
	char		where[300];
	char		what[340];
	int			rc;

	memset(&a, 0, sizeof(a));
	if (rb_smtp_check(opt, err) != 0)
		return -1;
	if (rb_mail_envelope_address(opt->mail_from, a.sender, sizeof(a.sender), err) != 0)
		return -1;
	a.opt = opt;
	a.d = d;
	a.message = message;
	a.len = len;
	a.hooks = hooks;
	rb_notify_url_for_log(opt->url, where, sizeof(where));
	snprintf(what, sizeof(what), "e-mail through %s", where);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return rb_error_set(err, RB_ERR_INTERNAL, "could not initialise libcurl");
	rc = rb_notify_with_retry(d, what, smtp_attempt_once, smtp_retryable, &a, hooks, err);
	curl_global_cleanup();
	if (rc == 0)
		rb_log(hooks, RB_LOG_INFO, "%s: sent to %zu recipient%s", what, opt->nrcpt,
			   opt->nrcpt == 1 ? "" : "s");
	return rc;
}
