#!/usr/bin/env python3
"""An endless JIRA search for bench/faults.sh: every page announces a total
of 10^9 issues and holds what was asked for (maxResults, at most 1,000), each
issue about 1 KB. Listens on 127.0.0.1 at a free port, printed on stdout."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TOTAL = 10**9
FILL = "x" * 1000


class Search(BaseHTTPRequestHandler):
    def do_GET(self):
        q = parse_qs(urlparse(self.path).query)
        start = int(q.get("startAt", ["0"])[0])
        size = min(int(q.get("maxResults", ["50"])[0]), 1000)
        issues = [
            {"key": "MOB-%d" % i, "fields": {"summary": "item %d %s" % (i, FILL)}}
            for i in range(start, min(start + size, TOTAL))
        ]
        body = json.dumps(
            {"startAt": start, "maxResults": size, "total": TOTAL, "issues": issues}
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Search)
print(server.server_address[1], flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
