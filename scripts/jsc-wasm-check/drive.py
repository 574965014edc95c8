#!/usr/bin/env python3
"""drive.py <driver port> <url>: opens the url in a new WebDriver session, waits (up to 10 min)
for the page's window.result, prints it as one JSON line and ends the session."""
import json
import sys
import time
import urllib.request

PORT, URL = sys.argv[1], sys.argv[2]


def call(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read() or b"{}")


session = call("POST", "/session", {"capabilities": {}})["value"]["sessionId"]
try:
    call("POST", f"/session/{session}/url", {"url": URL})
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        result = call("POST", f"/session/{session}/execute/sync",
                      {"script": "return window.result ?? null", "args": []})["value"]
        if result:
            print(json.dumps(result))
            break
        time.sleep(0.5)
    else:
        sys.exit(f"no result from {URL} in 10 minutes")
finally:
    call("DELETE", f"/session/{session}")
