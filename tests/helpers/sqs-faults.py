#!/usr/bin/env python3
"""sqs-faults.py PORT RULE... - an HTTP proxy on 127.0.0.1 to an SQS server
on 127.0.0.1:PORT (tests/helpers/sqs-server.js) that answers some calls
itself, as SQS does when it throttles, fails, or finds a receipt stale.

Each RULE is ACTION:FAULT:COUNT, ACTION an X-Amz-Target's action
(ReceiveMessage, DeleteMessageBatch, ...), and the first COUNT calls of
ACTION get FAULT instead of the server's answer:

  500           HTTP 500, __type InternalError
  throttle      HTTP 400, __type ThrottlingException
  over-limit    HTTP 403, __type OverLimit (too many messages in flight)
  bad-receipt   HTTP 200, every entry of the batch failed with
                ReceiptHandleIsInvalid (SenderFault), nothing forwarded:
                as SQS answers a delete or a visibility change whose
                receipt went stale

Every call is logged to ./faults.log as "ACTION forwarded" or
"ACTION FAULT", and a receive's ReceiveRequestAttemptId after, if any. Prints its port first; SIGTERM ends it. Python 3 standard
library only."""
import http.client
import http.server
import json
import signal
import sys
import threading

upstream = int(sys.argv[1])
rules = {}
for rule in sys.argv[2:]:
    action, fault, count = rule.split(":")
    if fault not in ("500", "throttle", "over-limit", "bad-receipt"):
        sys.exit("sqs-faults.py: unknown fault %s" % fault)
    rules.setdefault(action, []).append([fault, int(count)])
lock = threading.Lock()


def fault_for(action):
    with lock:
        for r in rules.get(action, []):
            if r[1] > 0:
                r[1] -= 1
                return r[0]
    return None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        action = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
        fault = fault_for(action)
        try:
            attempt = json.loads(body).get("ReceiveRequestAttemptId")
        except ValueError:
            attempt = None
        with lock, open("faults.log", "a") as log:
            log.write("%s %s%s\n" % (action, fault or "forwarded", " " + attempt if attempt else ""))
        if fault is None:
            return self.forward(body)
        if fault == "bad-receipt":
            entries = json.loads(body).get("Entries", [])
            self.answer(200, {"Successful": [], "Failed": [
                {"Id": e["Id"], "Code": "ReceiptHandleIsInvalid", "SenderFault": True,
                 "Message": "The receipt handle has expired."} for e in entries]})
        elif fault == "throttle":
            self.answer(400, {"__type": "com.amazonaws.sqs#ThrottlingException", "message": "Rate exceeded"})
        elif fault == "over-limit":
            self.answer(403, {"__type": "com.amazonaws.sqs#OverLimit",
                              "message": "The maximum number of in flight messages is reached"})
        else:
            self.answer(500, {"__type": "com.amazonaws.sqs#InternalError", "message": "We encountered an internal error."})

    def forward(self, body):
        conn = http.client.HTTPConnection("127.0.0.1", upstream, timeout=60)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request("POST", self.path, body, headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    def answer(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print(server.server_address[1], flush=True)
server.serve_forever()
