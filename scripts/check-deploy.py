#!/usr/bin/env python3
"""Checks deploy/fabstir-node.service: `systemd-analyze verify` accepts it without a word, and the
node runs the way the unit runs it: its ExecStartPre and ExecStart command lines (the binary and
%S put in), a fresh state directory, started twice (the second start keeps the identity and the
init step's refusal to overwrite is ignored as the unit's "-" says), stopped with its KillSignal
well within its TimeoutStopSec, exiting 0.

Usage: check-deploy.py <fabstir-node binary>"""
import os
import pathlib
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time

UNIT = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "fabstir-node.service"
BINARY = os.path.abspath(sys.argv[1])
INSTALLED = "/usr/local/bin/fabstir-node"


def fail(message):
    sys.exit(f"check-deploy: {message}")


text = UNIT.read_text()
with tempfile.TemporaryDirectory() as tmp:
    unit = pathlib.Path(tmp) / "fabstir-node.service"
    unit.write_text(text.replace(INSTALLED, BINARY))
    verify = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    if verify.returncode != 0 or verify.stdout.strip() or verify.stderr.strip():
        fail(f"systemd-analyze verify: exit {verify.returncode}\n{verify.stdout}{verify.stderr}")

settings = {}
for line in text.splitlines():
    m = re.match(r"^([A-Za-z]+)=(.*)$", line)
    if m:
        settings.setdefault(m.group(1), []).append(m.group(2))
kill_signal = getattr(signal, settings["KillSignal"][0])
stop_within = float(settings["TimeoutStopSec"][0])
if settings.get("DynamicUser") != ["yes"] or settings.get("StateDirectory") != ["fabstir-node"]:
    fail("the unit must run as its own user with the state directory fabstir-node")

with tempfile.TemporaryDirectory() as state_root:
    def command(line):
        ignore = line.startswith("-")
        line = line.lstrip("-").replace("%S", state_root).replace(INSTALLED, BINARY)
        return shlex.split(line), ignore

    state = pathlib.Path(state_root) / "fabstir-node"
    state.mkdir(mode=0o700)
    peer_ids = []
    for run in (1, 2):
        for pre in settings["ExecStartPre"]:
            argv, ignore = command(pre)
            done = subprocess.run(argv, cwd=state, capture_output=True, text=True)
            if done.returncode != 0 and not ignore:
                fail(f"ExecStartPre failed: {done.stderr}")
            if run == 1 and done.returncode != 0:
                fail(f"init failed on a fresh state directory: {done.stderr}")
            if run == 2 and done.returncode == 0:
                fail("init overwrote an existing identity")
        for name in ("config.yaml",):
            if not (state / name).exists():
                fail(f"no {name} in the state directory after ExecStartPre")
        secret = [p for p in state.iterdir() if p.suffix in (".key", ".pem")]
        if not secret or any(p.stat().st_mode & 0o077 for p in secret):
            fail(f"identity files missing or readable by others: {[oct(p.stat().st_mode) for p in secret]}")
        argv, _ = command(settings["ExecStart"][0])
        node = subprocess.Popen(argv, cwd=state, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        lines = []
        deadline = time.time() + 30
        for line in node.stdout:
            lines.append(line.strip())
            if line.strip() == "ready":
                break
            if time.time() > deadline:
                break
        if "ready" not in lines:
            node.kill()
            fail(f"the node did not get ready: {lines} {node.stderr.read()}")
        peer = next(l.split()[-1] for l in lines if " peer id " in l)
        peer_ids.append(peer)
        began = time.time()
        node.send_signal(kill_signal)
        try:
            code = node.wait(timeout=stop_within)
        except subprocess.TimeoutExpired:
            node.kill()
            fail(f"not stopped within TimeoutStopSec ({stop_within} s)")
        took = time.time() - began
        if code != 0:
            fail(f"exit {code} after {settings['KillSignal'][0]}: {node.stderr.read()}")
        print(f"run {run}: ready as {peer}, stopped by {settings['KillSignal'][0]} in {took:.2f} s, exit 0")
    if peer_ids[0] != peer_ids[1]:
        fail(f"the identity changed across restarts: {peer_ids}")
print("deploy/fabstir-node.service: systemd-analyze verify clean; runs, keeps its identity, stops cleanly")
