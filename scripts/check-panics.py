#!/usr/bin/env python3
"""Fails when a browser-test log shows a panic of the SDK other than the hook test's own.
Usage: check-panics.py [--filtered] LOG. A whole run must show the hook test's panic exactly
once; a run narrowed to some tests (--filtered) may show it once or not at all.

The panic hook prints "fabstir-sdk panicked: panicked at <file>:<line>:<col>:" and the message on
the next line (src/wasm/mod.rs)."""
import sys

DELIBERATE = "deliberate panic for the hook test"
filtered = "--filtered" in sys.argv[1:]
path = [a for a in sys.argv[1:] if a != "--filtered"][0]
lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
panics = [i for i, line in enumerate(lines) if "fabstir-sdk panicked" in line]
unexpected = [
    i for i in panics
    if not any(DELIBERATE in l for l in lines[i:i + 3])
]
for i in unexpected:
    print("PANIC in the SDK during the browser tests:", file=sys.stderr)
    print("\n".join(lines[i:i + 6]), file=sys.stderr)
if unexpected:
    sys.exit(1)
if len(panics) != 1 and not (filtered and not panics):
    print(f"expected exactly the hook test's deliberate panic, saw {len(panics)} panic(s)", file=sys.stderr)
    sys.exit(1)
print(f"no SDK panics (besides the hook test's deliberate one) in {len(lines)} log lines")
