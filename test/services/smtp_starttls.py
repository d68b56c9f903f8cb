#!/usr/bin/python3
"""smtp_starttls.py — an SMTP server that offers and requires STARTTLS, for the
notification tests (maildev offers no STARTTLS on plain SMTP).  Built on Debian's
python3-aiosmtpd.

  smtp_starttls.py --port PORT --cert CRT --key KEY --log FILE [--user U --password P]

Commands other than EHLO, NOOP, QUIT and STARTTLS are refused until STARTTLS;
with --user, AUTH (PLAIN or LOGIN) is required and offered only over TLS.  Each
message accepted is appended to FILE as one JSON line: mail_from, rcpt_tos, tls
(whether the session was encrypted), authenticated, content (UTF-8, replaced)."""
import argparse
import json
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

LOCK = threading.Lock()


class Handler:
    def __init__(self, log_path):
        self.log_path = log_path

    async def handle_DATA(self, server, session, envelope):
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "authenticated": bool(session.authenticated),
            "content": envelope.content.decode("utf-8", "replace"),
        }
        with LOCK:
            with open(self.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        return "250 OK"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    args = ap.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(args.cert, args.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and args.user is not None and
              auth_data.login.decode() == args.user and
              auth_data.password.decode() == args.password)
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Handler(args.log), hostname="127.0.0.1", port=args.port,
        tls_context=ctx, require_starttls=True,
        authenticator=authenticator, auth_required=args.user is not None,
        auth_require_tls=True)
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
