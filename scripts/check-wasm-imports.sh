#!/usr/bin/env bash
# Fails when a wasm module imports anything from the "env" module: native code (a C library,
# a libc call) slipped into the browser build and would fail to instantiate in a page.
set -euo pipefail
wasm="$1"
python3 - "$wasm" <<'PY'
import sys

def leb(data, i):
    result = shift = 0
    while True:
        b = data[i]; i += 1
        result |= (b & 0x7F) << shift; shift += 7
        if not b & 0x80:
            return result, i

data = open(sys.argv[1], "rb").read()
assert data[:4] == b"\0asm", "not a wasm module"
i, modules = 8, {}
while i < len(data):
    section, i = data[i], i + 1
    size, i = leb(data, i)
    end = i + size
    if section == 2:  # import section
        count, j = leb(data, i)
        for _ in range(count):
            n, j = leb(data, j); module = data[j:j + n].decode(); j += n
            n, j = leb(data, j); name = data[j:j + n].decode(); j += n
            kind = data[j]; j += 1
            if kind == 0: _, j = leb(data, j)
            elif kind == 1: j += 1; flags = data[j]; j += 1; _, j = leb(data, j); j = leb(data, j)[1] if flags & 1 else j
            elif kind == 2: flags = data[j]; j += 1; _, j = leb(data, j); j = leb(data, j)[1] if flags & 1 else j
            elif kind == 3: j += 2
            elif kind == 4: j += 1; _, j = leb(data, j)
            modules.setdefault(module, []).append(name)
    i = end
env = modules.get("env", [])
print(f"{sys.argv[1]}: imports from {sorted(modules)}; {sum(map(len, modules.values()))} in all")
if env:
    sys.exit(f"the wasm imports {len(env)} item(s) from \"env\": {env[:10]}")
PY
