#!/usr/bin/python3
"""http_receiver.py — a small HTTP server for the notification tests: it stands in
for a webhook receiver (Slack, Mattermost, a GitHub-style endpoint) and for a
healthchecks.io-style heartbeat service.

  http_receiver.py --port PORT --log FILE

Every request is appended to FILE as one JSON line: method, path, headers (names
lowercased) and body (decoded as UTF-8, invalid bytes replaced), then answered:
  /hang/...        waits 30 s before answering (a receiver that hangs)
  /status/NNN/...  answers with status NNN
  anything else    answers 200 "OK"
Standard library only (Debian's python3)."""
import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        }
        with LOCK:
            with open(self.server.log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        status = 200
        parts = self.path.split("/")
        if len(parts) > 1 and parts[1] == "hang":
            time.sleep(30)
        elif len(parts) > 2 and parts[1] == "status" and parts[2].isdigit():
            status = int(parts[2])
        reply = b"OK" if status == 200 else b"refused by the test receiver"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = _handle
    do_POST = _handle

    def log_message(self, fmt, *args):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--log", required=True)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.log_path = args.log
    server.serve_forever()


if __name__ == "__main__":
    main()
