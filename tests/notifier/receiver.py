#!/usr/bin/python3
"""receiver.py: a real HTTP endpoint for the notifier's tests.

Listens on 127.0.0.1:PORT and appends every request it receives, as one JSON
line (path, headers, body, time, the status it answered), to LOG, flushed at
once so the test can read it while the server runs. What it answers depends
on the path, so one receiver plays every kind of endpoint:

  /ok/...                  200 "ok"
  /status/<code>/...       always <code> (500, 400, 410, 404 ...)
  /fail/<n>/<code>/...     <code> for the first n requests to this path, then 200
  /throttle/<n>/<s>/...    429 with "Retry-After: <s>" for the first n, then 200
  /redirect/...            302 to /ok/redirected (which must never be called)
  /hang/...                no answer for 30 s
  /slow/<ms>/...           200 after <ms> milliseconds
  /slackapi/<mode>/<method>  Slack's Web API as documented: ok answers 200
                           {"ok":true,"channel":...,"ts":"<unique>"}; ratelimited/<n>
                           answers 429 + Retry-After: 1 + {"ok":false,"error":
                           "ratelimited"} to the first n requests, then ok; any other
                           mode (invalid_auth, channel_not_found, ...) answers 200
                           {"ok":false,"error":"<mode>"}; a request without
                           "Authorization: Bearer xoxb-..." gets not_authed

usage: receiver.py PORT LOG
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
COUNTS = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def _record(self, body, status):
        entry = {
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "time": time.time(),
            "status": status,
        }
        with LOCK:
            with open(LOG, "a") as f:
                f.write(json.dumps(entry) + "\n")
                f.flush()

    def _answer(self, status, headers=None, text=b"ok"):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(text)))
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(text)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length) if length else b""
        parts = self.path.split("?")[0].strip("/").split("/")
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            seen = COUNTS[self.path]
        status, headers = 200, {}
        kind = parts[0] if parts else ""
        if kind == "status":
            status = int(parts[1])
        elif kind == "fail" and seen <= int(parts[1]):
            status = int(parts[2])
        elif kind == "throttle" and seen <= int(parts[1]):
            status, headers = 429, {"Retry-After": parts[2]}
        elif kind == "redirect":
            status = 302
            headers = {"Location": "http://127.0.0.1:%d/ok/redirected" % PORT}
        elif kind == "hang":
            self._record(body, 0)
            time.sleep(30)
            return
        elif kind == "slow":
            time.sleep(int(parts[1]) / 1000.0)
        elif kind == "slackapi":
            self._slack(body, parts, seen)
            return
        self._record(body, status)
        self._answer(status, headers)

    def _slack(self, body, parts, seen):
        mode = parts[1] if len(parts) > 1 else "ok"
        status, headers = 200, {}
        if not self.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            answer = {"ok": False, "error": "not_authed"}
        elif mode == "ratelimited" and seen <= int(parts[2]):
            status, headers = 429, {"Retry-After": "1"}
            answer = {"ok": False, "error": "ratelimited"}
        elif mode in ("ok", "ratelimited"):
            try:
                channel = json.loads(body or b"{}").get("channel", "")
            except ValueError:
                channel = ""
            with LOCK:
                COUNTS["ts"] = COUNTS.get("ts", 0) + 1
                ts = "1700000000.%06d" % COUNTS["ts"]
            answer = {"ok": True, "channel": channel, "ts": ts}
        else:
            answer = {"ok": False, "error": mode}
        self._record(body, status)
        text = json.dumps(answer).encode()
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(text)))
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.end_headers()
        self.wfile.write(text)


if __name__ == "__main__":
    PORT = int(sys.argv[1])
    LOG = sys.argv[2]
    ThreadingHTTPServer.allow_reuse_address = True
    ThreadingHTTPServer.daemon_threads = True
    # a test may open hundreds of connections at once (test_notifier_stop)
    ThreadingHTTPServer.request_queue_size = 512
    server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    server.serve_forever()
