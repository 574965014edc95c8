#!/usr/bin/env python3
"""WebKitGTK's WebDriver for wasm-bindgen-test-runner, which cannot name the browser itself.

Upstream cause: wasm-bindgen-test-runner 0.2.108's Safari mode (the one that takes a remote
driver, SAFARIDRIVER_REMOTE) opens its session with empty capabilities and reads no
webdriver.json (wasm-bindgen-cli, src/wasm_bindgen_test_runner/headless.rs, `new_session`,
`Driver::Safari`). Apple's safaridriver needs none; Debian's WebKitWebDriver needs the browser
binary named in `webkitgtk:browserOptions`, or it fails the session. So this starts
WebKitWebDriver on a free port and stands in front of it: every request passes through
unchanged, except that a new session gets these capabilities. Nothing else is altered.

Needs an X display (MiniBrowser has no headless mode): run it under `xvfb-run -a`.
Usage: webkit-webdriver.py <listen port>; prints "ready" once the driver answers."""
import http.server
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

PORT = int(sys.argv[1])
CAPABILITIES = {
    "webkitgtk:browserOptions": {
        "binary": "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
        "args": ["--automation"],
    }
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DRIVER_PORT = free_port()
DRIVER = subprocess.Popen(["WebKitWebDriver", f"--port={DRIVER_PORT}", "--host=127.0.0.1"])
UPSTREAM = f"http://127.0.0.1:{DRIVER_PORT}"


class Proxy(http.server.BaseHTTPRequestHandler):
    # The runner keeps its connection open between requests (HTTP/1.1 keep-alive).
    protocol_version = "HTTP/1.1"

    def forward(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if method == "POST" and self.path.rstrip("/") == "/session":
            body = json.dumps({"capabilities": {"alwaysMatch": CAPABILITIES}}).encode()
        request = urllib.request.Request(UPSTREAM + self.path, data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json; charset=utf-8")
        try:
            with urllib.request.urlopen(request, timeout=600) as answer:
                status, payload = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, payload = error.code, error.read()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        self.forward("GET")

    def do_POST(self):
        self.forward("POST")

    def do_DELETE(self):
        self.forward("DELETE")

    def log_message(self, *_):
        pass


for _ in range(100):
    try:
        urllib.request.urlopen(UPSTREAM + "/status", timeout=1).read()
        break
    except OSError:
        time.sleep(0.1)
else:
    DRIVER.kill()
    sys.exit("WebKitWebDriver did not answer within 10 s")

# Stopped with SIGTERM (scripts/test.sh): the driver (and the browser it runs) goes too.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Proxy)
print("ready", flush=True)
try:
    server.serve_forever()
finally:
    DRIVER.kill()
