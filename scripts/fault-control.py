#!/usr/bin/env python3
"""The fault injector for the browser fault tests: a tiny HTTP server on 127.0.0.1 that kills and
restarts the test network's node processes on request (a browser test cannot kill a process).

  GET /kill?name=<node> or /kill?peer=<peer id>   SIGKILL the node; answers {"name", "pid"}
  GET /start?name=<node>                          start it again with the same command line and
                                                  wait for "ready" (a model server: for its
                                                  <name>.health URL); answers {"name", "pid", "ms"}
  GET /term?name=<node> or /term?peer=<peer id>   SIGTERM the node (a graceful shutdown), then
                                                  watch its /readyz (from its "metrics" line)
                                                  and its exit; answers {"name", "pid",
                                                  "notReadyMs", "exitedMs", "lines"}: when
                                                  /readyz first answered 503 and when the
                                                  process was gone, in ms after the signal, and
                                                  what it printed after it
  GET /rss?name=<node>                            its resident memory: {"name", "pid", "rssKiB",
                                                  "peakKiB"} (VmRSS, VmHWM of /proc/<pid>/status)

Node state comes from scripts/nodes.sh: <cache>/nodes/<name>.pid, .cmd (the command line, NUL
separated), .out (stdout, with its "peer id" line) and .log. Only loopback is served.
Usage: fault-control.py <nodes folder> <port>"""
import http.server
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

NODES = pathlib.Path(sys.argv[1])
PORT = int(sys.argv[2])
started = []


def name_of_peer(peer):
    for out in NODES.glob("*.out"):
        if f"peer id {peer}" in out.read_text(errors="replace"):
            return out.stem
    return None


def kill(name):
    pid = int((NODES / f"{name}.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.02)
    return {"name": name, "pid": pid}


def gone(pid):
    """Whether the process has exited (a zombie not yet reaped by its parent counts as gone)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def term(name):
    pid = int((NODES / f"{name}.pid").read_text())
    out = NODES / f"{name}.out"
    printed = len(out.read_text(errors="replace").splitlines())
    metrics = next((l.split()[1] for l in out.read_text(errors="replace").splitlines()
                    if l.startswith("metrics http://")), None)
    readyz = metrics and metrics.replace("/metrics", "/readyz")
    began = time.time()
    os.kill(pid, signal.SIGTERM)
    not_ready = exited = None
    while time.time() - began < 60:
        ms = round((time.time() - began) * 1000)
        if readyz and not_ready is None:
            try:
                urllib.request.urlopen(readyz, timeout=1).close()
            except urllib.error.HTTPError as e:
                if e.code == 503:
                    not_ready = ms
            except OSError:
                pass  # not answering: gone, or not yet
        if gone(pid):
            exited = ms
            break
        time.sleep(0.02)
    lines = out.read_text(errors="replace").splitlines()[printed:]
    return {"name": name, "pid": pid, "notReadyMs": not_ready, "exitedMs": exited, "lines": lines}


def rss(name):
    pid = int((NODES / f"{name}.pid").read_text())
    status = pathlib.Path(f"/proc/{pid}/status").read_text()
    field = lambda key: int(next(l for l in status.splitlines() if l.startswith(key)).split()[1])
    return {"name": name, "pid": pid, "rssKiB": field("VmRSS:"), "peakKiB": field("VmHWM:")}


def start(name):
    cmd = (NODES / f"{name}.cmd").read_bytes().split(b"\0")
    cmd = [c.decode() for c in cmd if c]
    out = NODES / f"{name}.out"
    began = time.time()
    proc = subprocess.Popen(cmd, stdout=open(out, "w"), stderr=open(NODES / f"{name}.log", "a"))
    started.append(proc)
    (NODES / f"{name}.pid").write_text(str(proc.pid))
    health = NODES / f"{name}.health"  # a model server: ready when this URL answers 200
    for _ in range(200):
        if health.exists():
            try:
                with urllib.request.urlopen(health.read_text().strip(), timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
        elif "ready" in out.read_text(errors="replace").splitlines():
            break
        time.sleep(0.05)
    return {"name": name, "pid": proc.pid, "ms": round((time.time() - began) * 1000)}


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        name = q.get("name") or (q.get("peer") and name_of_peer(q["peer"]))
        try:
            if not name:
                raise ValueError(f"no such node: {q}")
            if url.path == "/kill":
                body, status = kill(name), 200
            elif url.path == "/start":
                body, status = start(name), 200
            elif url.path == "/term":
                body, status = term(name), 200
            elif url.path == "/rss":
                body, status = rss(name), 200
            else:
                body, status = {"error": f"unknown path {url.path}"}, 404
        except Exception as e:  # answer the test rather than die
            body, status = {"error": str(e)}, 500
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        print(fmt % args, file=sys.stderr, flush=True)


def stop(*_):
    for proc in started:
        proc.kill()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
