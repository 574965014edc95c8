#!/usr/bin/env python3
"""Writes a copy of a built package whose wasm carries V8's compile hints, for the bench.

usage: scripts/wasm-compile-hints.py PKG DUMP_DIR OUT

PKG is a built package (scripts/build-pkg.sh's pkg/), DUMP_DIR holds the lists of functions V8
compiled at their first call in the bench's measured windows (BENCH_COMPILE_TRACE=1
BENCH_COMPILE_DUMP=DUMP_DIR, the same package), OUT the new package's directory. Every function
in those lists gets compilation priority 0 in a `metadata.code.compilation_priority` section
(V8's encoding of the WebAssembly compilation-hints proposal: per function its index, byte
offset 0, the hint's length, the priority as a LEB128), placed before the code section, where a
streaming compile reads it in time. Chromium 156 reads the section only with
`--js-flags=--wasm-compilation-hints` (off by default) and then compiles those functions when the
module loads instead of at their first call; every engine ignores it otherwise (a custom
section). The README's bench section shows the three steps.
"""

import glob
import json
import os
import shutil
import sys

SECTION = b"metadata.code.compilation_priority"
CODE_SECTION_ID = 10


def leb(n: int) -> bytes:
    """`n` as an unsigned LEB128."""
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def read_leb(data: bytes, at: int) -> tuple[int, int]:
    """The unsigned LEB128 at `at` and the offset after it."""
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, at


def code_section_offset(wasm: bytes) -> int:
    """Where the code section starts (its id byte)."""
    if wasm[:4] != b"\0asm":
        sys.exit("not a wasm module")
    at = 8
    while at < len(wasm):
        size, body = read_leb(wasm, at + 1)
        if wasm[at] == CODE_SECTION_ID:
            return at
        at = body + size
    sys.exit("the module has no code section")


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    pkg, dumps, out = sys.argv[1:]
    functions = set()
    for path in glob.glob(os.path.join(dumps, "*.json")):
        with open(path, encoding="utf-8") as f:
            functions |= {entry["index"] for entry in json.load(f)}
    if not functions:
        sys.exit(f"no compiled functions listed in {dumps}/*.json")
    hint = leb(0)
    body = leb(len(SECTION)) + SECTION + leb(len(functions))
    for index in sorted(functions):
        body += leb(index) + leb(0) + leb(len(hint)) + hint
    section = b"\0" + leb(len(body)) + body
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(pkg, out)
    wasm_path = os.path.join(out, "fabstir_sdk_bg.wasm")
    with open(wasm_path, "rb") as f:
        wasm = f.read()
    at = code_section_offset(wasm)
    with open(wasm_path, "wb") as f:
        f.write(wasm[:at] + section + wasm[at:])
    print(f"{out}: {len(functions)} functions hinted, section {len(section):,} B")


if __name__ == "__main__":
    main()
