#!/usr/bin/env python3
"""Drives headless Chromium through chromedriver's WebDriver HTTP API (no extra packages):
opens the demo page with ?autorun=1 and waits, in real time, until its job is done or failed.
Prints the page's state as JSON: status, jobState, jobStats, hosts (rows), output length.

usage: check-demo-page.py URL [TIMEOUT_SECONDS] [SCREENSHOT_PNG]"""
import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request

url = sys.argv[1]
limit = float(sys.argv[2]) if len(sys.argv) > 2 else 120
screenshot = sys.argv[3] if len(sys.argv) > 3 else None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


port = free_port()
driver = subprocess.Popen(["/usr/bin/chromedriver", f"--port={port}"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
base = f"http://127.0.0.1:{port}"


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.load(r)["value"]


STATE = """return {
  status: document.getElementById('status').dataset.state,
  jobState: document.getElementById('job-state').dataset.state,
  jobText: document.getElementById('job-state').textContent,
  jobStats: document.getElementById('job-stats').textContent,
  hosts: [...document.querySelectorAll('#hosts tr')].map(r => [...r.cells].map(c => c.textContent)),
  outputLength: document.getElementById('output').textContent.length,
  metrics: [...document.querySelectorAll('#metrics tr')].map(r => [...r.cells].map(c => c.textContent)),
  networkModels: document.getElementById('network-models').textContent,
  catalogHosts: [...document.querySelectorAll('#catalog-hosts tr')].map(r => [...r.cells].map(c => c.textContent)),
};"""

try:
    for _ in range(100):
        try:
            call("GET", "/status")
            break
        except OSError:
            time.sleep(0.1)
    with open("webdriver.json") as f:
        caps = json.load(f)
    session = call("POST", "/session", {"capabilities": {"alwaysMatch": {"browserName": "chrome", **caps}}})
    sid = session["sessionId"]
    try:
        call("POST", f"/session/{sid}/url", {"url": url})
        deadline = time.time() + limit
        while True:
            state = call("POST", f"/session/{sid}/execute/sync", {"script": STATE, "args": []})
            if state["jobState"] in ("done", "error") or state["status"] == "error" or time.time() > deadline:
                break
            time.sleep(0.5)
        if screenshot:
            call("POST", f"/session/{sid}/window/rect", {"width": 1100, "height": 1400})
            png = call("GET", f"/session/{sid}/screenshot")
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(png))
        print(json.dumps(state))
    finally:
        call("DELETE", f"/session/{sid}")
finally:
    driver.terminate()
    driver.wait()
