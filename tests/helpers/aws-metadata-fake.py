#!/usr/bin/env python3
"""aws-metadata-fake.py - the AWS credential endpoints a machine offers, faked
for streamkit's tests: the container credentials endpoint and EC2 instance
metadata (IMDSv2).

Usage:
  aws-metadata-fake.py [--container-token TOKEN] [--role ROLE] [--expires-in S]

Python 3 standard library only. Listens on 127.0.0.1, on a port the system
picks; once listening it prints that port alone on the first line of stdout,
flushes it, and writes nothing more there. SIGTERM ends it with status 0.

Container endpoint: GET /container/ANYTHING answers the credentials
  {"AccessKeyId": "ASIACONTAINERKEY", "SecretAccessKey": "container-secret-value",
   "Token": "container-session-token", "Expiration": ...}
  when the Authorization header is TOKEN (or when no --container-token was
  given), and 401 otherwise.

IMDSv2:
  PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds: a new
      session token (400 without the header; a GET there is 405);
  GET /latest/meta-data/iam/security-credentials/       ROLE
  GET /latest/meta-data/iam/security-credentials/ROLE   the credentials
      {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAIMDSKEY",
       "SecretAccessKey": "imds-secret-value", "Token": "imds-session-token",
       "Expiration": ...}
  Every GET without a valid X-aws-ec2-metadata-token answers 401.

Expiration is --expires-in seconds (default 3600) after the request, in
ISO 8601 UTC. Every request is logged on stderr.
"""
import argparse
import datetime
import json
import secrets
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


def expiration(seconds):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "aws-metadata-fake"

    def log_message(self, fmt, *args):
        sys.stderr.write("%s\n" % (fmt % args))

    def answer(self, status, body=b"", ctype="text/plain"):
        if isinstance(body, (dict, str)):
            body = (json.dumps(body) if isinstance(body, dict) else body).encode()
            ctype = "application/json" if ctype == "json" else ctype
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_PUT(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.path != "/latest/api/token":
            return self.answer(404)
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(400)
        token = secrets.token_urlsafe(24)
        self.server.imds_tokens.add(token)
        self.answer(200, token)

    def do_GET(self):
        opts = self.server.opts
        if self.path.startswith("/container/"):
            if opts.container_token is not None and self.headers.get("Authorization") != opts.container_token:
                return self.answer(401)
            return self.answer(200, {
                "AccessKeyId": "ASIACONTAINERKEY",
                "SecretAccessKey": "container-secret-value",
                "Token": "container-session-token",
                "Expiration": expiration(opts.expires_in),
            }, "json")
        if self.path == "/latest/api/token":
            return self.answer(405)
        if self.headers.get("X-aws-ec2-metadata-token") not in self.server.imds_tokens:
            return self.answer(401)
        if self.path == CREDS_PATH:
            return self.answer(200, opts.role)
        if self.path == CREDS_PATH + opts.role:
            return self.answer(200, {
                "Code": "Success",
                "LastUpdated": expiration(0),
                "Type": "AWS-HMAC",
                "AccessKeyId": "ASIAIMDSKEY",
                "SecretAccessKey": "imds-secret-value",
                "Token": "imds-session-token",
                "Expiration": expiration(opts.expires_in),
            }, "json")
        self.answer(404)


def main():
    ap = argparse.ArgumentParser(description="fake AWS container and IMDSv2 credential endpoints")
    ap.add_argument("--container-token")
    ap.add_argument("--role", default="streamkit-test-role")
    ap.add_argument("--expires-in", type=int, default=3600)
    opts = ap.parse_args()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.opts = opts
    server.imds_tokens = set()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(server.server_address[1], flush=True)
    sys.stdout = open("/dev/null", "w")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
