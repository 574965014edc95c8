#!/usr/bin/env python3
"""An OpenAI-compatible proxy in front of a real server that cuts every streamed answer short the
way llama-cpp-python does with its default `--interrupt_requests True` when a second request
comes: after N content chunks it sends `data: [DONE]` with no `finish_reason`. The suite runs
one in the test network (scripts/test-nodes.sh) so that a browser test sees a host meet such a
truncation: the job must fail over, never end as if complete. Everything up to the cut is the
real server's own bytes.

Usage: interrupting-proxy.py <listen port> <upstream base URL> <chunks before the cut>"""
import http.client
import http.server
import re
import sys
import urllib.parse

PORT, UPSTREAM, CUT = int(sys.argv[1]), urllib.parse.urlparse(sys.argv[2]), int(sys.argv[3])
# A chunk with content, in llama-server's compact JSON or llama-cpp-python's (a space after ':').
CONTENT = re.compile(rb'"content":\s*"')


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def do_GET(self):
        if self.path == "/health":
            self.reply(200, b'{"status":"ok"}')
        else:
            self.reply(404, b'{"error":{"message":"not found"}}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        upstream = http.client.HTTPConnection(UPSTREAM.hostname, UPSTREAM.port, timeout=60)
        upstream.request("POST", self.path, body, {"Content-Type": "application/json"})
        answer = upstream.getresponse()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.getheader("Content-Type", "text/event-stream"))
        self.end_headers()
        chunks = 0
        try:
            for line in answer:
                if chunks >= CUT:
                    break
                if line.startswith(b"data: ") and CONTENT.search(line):
                    chunks += 1
                self.wfile.write(line)
                self.wfile.flush()
            if chunks >= CUT:
                self.wfile.write(b"data: [DONE]\n\n")
        finally:
            upstream.close()

    def reply(self, status, data):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print(fmt % args, file=sys.stderr, flush=True)


print("ready", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
