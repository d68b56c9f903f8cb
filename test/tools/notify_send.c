/*
 * notify_send.c — a small command-line driver of the notification library
 * (src/core/notify_event.h, notify_smtp.h, notify_http.h) for the TAP tests and
 * for a DBA checking a mail server, a webhook or a heartbeat by hand.
 *
 *   notify_send render mail|json|slack [event] [--from A --to LIST]   prints it
 *   notify_send mail --url smtp://HOST:PORT [--tls starttls|none] [--ca-file F]
 *               [--credentials-file F] --from ADDR --to LIST [event] [delivery]
 *   notify_send webhook --url URL [--format json|slack] [--secret-file F] [event] [delivery]
 * mail and webhook go through notify_channel.h, as the server sends them.
 *   notify_send heartbeat --url URL --signal start|success|fail [--error TEXT] [delivery]
 *
 * event:    --event NAME (backup.succeeded, backup.failed, ...; default
 *           backup.succeeded) --db NAME --host NAME (default: this host's name)
 *           --backup-id ID --label L --location URL --error TEXT --detail TEXT
 *           --hint TEXT --timestamp UNIX; the other facts (size, rows, tables, times)
 *           are a fixed sample so that every rendering has something to show.
 * delivery: --timeout-ms N (default 10000) --attempts N (default 3) --base-delay S
 *           --notify-on failure|always|never (mail, webhook: prints "not sent" and
 *           exits 0 when the event is filtered out)
 * -v prints debug log lines.  Log lines go to stderr.
 * Exits 0 when sent (or rendered), 1 with the error on stderr, 2 for usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "notify_channel.h"
#include "notify_event.h"
#include "notify_http.h"
#include "notify_smtp.h"
#include "rb_buf.h"
#include "rb_error.h"

static volatile sig_atomic_t got_signal = 0;
static int	verbose = 0;

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

static void
usage(void)
{
	fprintf(stderr,
			"usage: notify_send render mail|json|slack [options]\n"
			"       notify_send mail --url smtp://HOST:PORT [--tls starttls|none] [--ca-file F]\n"
			"                   [--credentials-file F] --from ADDR --to LIST [options]\n"
			"       notify_send webhook --url URL [--format json|slack] [--secret-file F] [options]\n"
			"       notify_send heartbeat --url URL --signal start|success|fail [--error TEXT] [options]\n"
			"options: --event NAME --db NAME --host NAME --backup-id ID --label L --location URL\n"
			"         --error TEXT --detail TEXT --hint TEXT --timestamp UNIX\n"
			"         --timeout-ms N --attempts N --base-delay S --notify-on WHEN -v\n");
	exit(2);
}

static int
fail(const rb_error *err)
{
	fprintf(stderr, "notify_send: %s\n", err->msg);
	return 1;
}

int
main(int argc, char **argv)
{
	enum
	{
		O_URL = 256, O_TLS, O_CA, O_CRED, O_FROM, O_TO, O_FORMAT, O_SECRET, O_SIGNAL,
		O_EVENT, O_DB, O_HOST, O_ID, O_LABEL, O_LOCATION, O_ERROR, O_DETAIL, O_HINT,
		O_TIMESTAMP, O_TIMEOUT, O_ATTEMPTS, O_BASE_DELAY, O_NOTIFY_ON
	};
	static const struct option longopts[] = {
		{"url", required_argument, NULL, O_URL}, {"tls", required_argument, NULL, O_TLS},
		{"ca-file", required_argument, NULL, O_CA},
		{"credentials-file", required_argument, NULL, O_CRED},
		{"from", required_argument, NULL, O_FROM}, {"to", required_argument, NULL, O_TO},
		{"format", required_argument, NULL, O_FORMAT},
		{"secret-file", required_argument, NULL, O_SECRET},
		{"signal", required_argument, NULL, O_SIGNAL},
		{"event", required_argument, NULL, O_EVENT}, {"db", required_argument, NULL, O_DB},
		{"host", required_argument, NULL, O_HOST}, {"backup-id", required_argument, NULL, O_ID},
		{"label", required_argument, NULL, O_LABEL},
		{"location", required_argument, NULL, O_LOCATION},
		{"error", required_argument, NULL, O_ERROR}, {"detail", required_argument, NULL, O_DETAIL},
		{"hint", required_argument, NULL, O_HINT},
		{"timestamp", required_argument, NULL, O_TIMESTAMP},
		{"timeout-ms", required_argument, NULL, O_TIMEOUT},
		{"attempts", required_argument, NULL, O_ATTEMPTS},
		{"base-delay", required_argument, NULL, O_BASE_DELAY},
		{"notify-on", required_argument, NULL, O_NOTIFY_ON},
		{NULL, 0, NULL, 0}
	};
	static const rb_notify_table sample_tables[] = {
		{"public.pgbench_accounts", 2000000}, {"public.pgbench_history", 41023},
		{"public.pgbench_tellers", 200},
	};
	const char *url = NULL, *tls = NULL, *ca_file = NULL, *cred_file = NULL, *from = NULL,
			   *to = NULL, *format = "json", *secret_file = NULL, *signal_name = NULL,
			   *event = "backup.succeeded";
	rb_hooks	hooks = {log_line, cancel_requested, NULL, NULL, NULL};
	rb_retry_policy policy = rb_notify_retry_policy();
	rb_notify_delivery d = {0, &policy, NULL};
	rb_notify_settings settings;
	const char *notify_on = NULL;
	rb_notify_event ev;
	rb_notify_kind kind;
	rb_error	err;
	rb_buf		out = RB_BUF_INIT;
	char		hostname[256] = "";
	const char *cmd;
	int			c,
				rc = 0;

	rb_error_clear(&err);
	memset(&settings, 0, sizeof(settings));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (argc < 2)
		usage();
	cmd = argv[1];
	optind = 2;
	rb_notify_event_init(&ev, RB_NOTIFY_BACKUP_SUCCEEDED);
	(void) gethostname(hostname, sizeof(hostname) - 1);
	ev.host = hostname;
	ev.dbname = "app";
	ev.backup_id = "20261203T084352Z-app-0001";
	ev.label = "nightly";
	ev.location = "s3://backups/app/20261203T084352Z-app-0001.dump";
	while ((c = getopt_long(argc, argv, "v", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 'v': verbose = 1; break;
			case O_URL: url = optarg; break;
			case O_TLS: tls = optarg; break;
			case O_CA: ca_file = optarg; break;
			case O_CRED: cred_file = optarg; break;
			case O_FROM: from = optarg; break;
			case O_TO: to = optarg; break;
			case O_FORMAT: format = optarg; break;
			case O_SECRET: secret_file = optarg; break;
			case O_SIGNAL: signal_name = optarg; break;
			case O_EVENT: event = optarg; break;
			case O_DB: ev.dbname = optarg; break;
			case O_HOST: ev.host = optarg; break;
			case O_ID: ev.backup_id = optarg; break;
			case O_LABEL: ev.label = optarg; break;
			case O_LOCATION: ev.location = optarg; break;
			case O_ERROR: ev.error = optarg; break;
			case O_DETAIL: ev.detail = optarg; break;
			case O_HINT: ev.hint = optarg; break;
			case O_TIMESTAMP: ev.timestamp = atoll(optarg); break;
			case O_TIMEOUT: d.timeout_ms = atoi(optarg); break;
			case O_ATTEMPTS: policy.max_attempts = atoi(optarg); break;
			case O_BASE_DELAY: policy.base_delay_s = atof(optarg); break;
			case O_NOTIFY_ON: notify_on = optarg; break;
			default: usage();
		}
	}
	if (optind != argc && strcmp(cmd, "render") != 0)
		usage();

	/* the event: its kind and a fixed sample of the facts a run would report */
	if (rb_notify_kind_parse(event, &kind, &err) != 0)
		return fail(&err);
	ev.kind = kind;
	if (ev.timestamp < 0)
		ev.timestamp = (int64_t) time(NULL);
	ev.started_at = ev.timestamp - 13;
	ev.duration_s = 12.6;
	if (rb_notify_kind_is_failure(kind))
	{
		ev.status = "failed";
		ev.last_success_at = ev.timestamp - 26 * 3600;
		ev.last_success_age_s = 26 * 3600;
		if (ev.error == NULL)
			ev.error = "pg_dump failed: connection to server was lost";
		if (kind == RB_NOTIFY_RPO_BREACHED)
			ev.rpo_target_s = 25 * 3600;
	}
	else
	{
		ev.status = "succeeded";
		ev.size_bytes = 5872025;
		ev.compression_ratio = 36.4;
		ev.rows_total = 2041223;
		ev.tables_total = 4;
		ev.largest_tables = sample_tables;
		ev.nlargest_tables = 3;
		ev.verification = "verified";
		if (kind == RB_NOTIFY_DRILL_SUCCEEDED)
			ev.restore_s = 41.5;
	}

	d.ca_file = ca_file;		/* the heartbeat's; the e-mail's is smtp_ca_file */
	settings.smtp_url = settings.webhook_url = url;
	settings.smtp_tls = tls;
	settings.smtp_ca_file = ca_file;
	settings.smtp_credentials_file = cred_file;
	settings.mail_from = from;
	settings.mail_to = to;
	settings.webhook_secret_file = secret_file;
	settings.webhook_format = format;
	settings.timeout_ms = d.timeout_ms;
	settings.retry = &policy;
	if ((strcmp(cmd, "mail") == 0 || strcmp(cmd, "webhook") == 0) && notify_on != NULL)
	{
		rb_notify_on on;

		if (rb_notify_on_parse(notify_on, &on, &err) != 0)
			return fail(&err);
		if (!rb_notify_wanted(on, kind))
		{
			printf("not sent (notify_on = %s)\n", notify_on);
			return 0;
		}
	}

	if (strcmp(cmd, "render") == 0)
	{
		const char *what = optind < argc ? argv[optind] : "mail";

		if (strcmp(what, "json") == 0)
			rb_notify_render_json(&ev, &out);
		else if (strcmp(what, "slack") == 0)
			rb_notify_render_slack(&ev, &out);
		else if (strcmp(what, "mail") == 0)
		{
			rb_address_list rcpt = {NULL, 0};
			rb_mail_envelope env = {from ? from : "ripple_backup@localhost", NULL, 0, -1, NULL};

			if (rb_address_list_parse(to ? to : "dba@localhost", &rcpt, &err) != 0)
				return fail(&err);
			env.to = (const char *const *) rcpt.addr;
			env.nto = rcpt.n;
			if (rb_notify_render_mail(&ev, &env, &out, &err) != 0)
				rc = fail(&err);
			rb_address_list_free(&rcpt);
		}
		else
			usage();
		if (rc == 0)
			fwrite(out.data, 1, out.len, stdout);
	}
	else if (strcmp(cmd, "mail") == 0)
	{
		if (rb_notify_send_email(&settings, &ev, &hooks, &err) != 0)
			rc = fail(&err);
		else
			printf("sent\n");
	}
	else if (strcmp(cmd, "webhook") == 0)
	{
		if (rb_notify_send_webhook(&settings, &ev, &hooks, &err) != 0)
			rc = fail(&err);
		else
			printf("sent\n");
	}
	else if (strcmp(cmd, "heartbeat") == 0)
	{
		rb_heartbeat_signal sig;

		if (rb_heartbeat_signal_parse(signal_name, &sig, &err) != 0)
			rc = fail(&err);
		else if (rb_heartbeat_send(url, sig, ev.error, &d, &hooks, &err) != 0)
			rc = fail(&err);
		else
			printf("sent\n");
	}
	else
		usage();
	rb_buf_free(&out);
	return rc;
}
