#!/usr/bin/env python3
"""sqs-fake.py STATUS TYPE [QUERY-ERROR] - answers every request with STATUS
and a JSON error body of __type TYPE that echoes the request's Authorization and
X-Amz-Security-Token headers (as a careless server might), and logs each
request's path and headers to ./fake.log. Prints its port first. For
tests of what lib/sqs_api.c sends and of what it does with such answers;
local-aws-sqs ignores signatures."""
import http.server, json, signal, sys

status = int(sys.argv[1])
error_type = sys.argv[2]
query_error = sys.argv[3] if len(sys.argv) > 3 else None


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open("fake.log", "a") as log:
            log.write("PATH %s\n" % self.path)
            for k, v in self.headers.items():
                log.write("%s: %s\n" % (k, v))
            log.write("BODY %s\n" % body.decode())
        echo = "%s %s" % (self.headers.get("Authorization"), self.headers.get("X-Amz-Security-Token"))
        out = json.dumps({"__type": error_type,
                          "message": "refused: " + echo}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        if query_error:
            self.send_header("x-amzn-query-error", query_error)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
print(server.server_address[1], flush=True)
server.serve_forever()
