#!/usr/bin/env bash
# Compiles tests/ts/example.ts with tsc --strict against the .d.ts that wasm-bindgen generates
# for the SDK, so the TypeScript surface (config, events, errors, results) is checked; and
# tests/ts/openai-compat.ts against the real `openai` package's types.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
dir="$FABSTIR_CACHE/ts"
mkdir -p "$dir"
cp tests/ts/package.json tests/ts/package-lock.json tests/ts/tsconfig.json tests/ts/example.ts \
  tests/ts/openai-compat.ts tests/ts/must-fail.ts "$dir/"
if ! cmp -s tests/ts/package-lock.json "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/ts/package-lock.json "$dir/node_modules/.package-lock.json.installed"
fi
cargo build --lib --target wasm32-unknown-unknown --locked
wasm-bindgen --target web --out-dir "$dir/pkg" --out-name fabstir_sdk \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/fabstir_sdk.wasm"
if grep -nE '(:|<|\()\s*any\b' "$dir/pkg/fabstir_sdk.d.ts" | grep -v 'readonly\|InitInput\|__wbg\|memory' ; then
  echo "the public .d.ts uses 'any' (listed above)" >&2; exit 1
fi
(cd "$dir" && node_modules/.bin/tsc -p tsconfig.json)
log "TypeScript: example.ts compiles with tsc --strict against the generated types, and openai-compat.ts proves our chat types assignable to and from the openai package's"
# must-fail.ts: every line marked @expect-error must fail to compile, and no other line.
set +e
errors="$(cd "$dir" && node_modules/.bin/tsc --strict --noEmit --target ES2022 --module ES2022 \
  --moduleResolution bundler --lib ES2022,DOM,ESNext.Disposable must-fail.ts)"
set -e
python3 - "$dir/must-fail.ts" "$errors" <<'PY'
import re, sys
source, output = open(sys.argv[1]).read().splitlines(), sys.argv[2]
expected = {i + 1 for i, line in enumerate(source) if "@expect-error" in line}
failed = {int(n) for n in re.findall(r"must-fail\.ts\((\d+),\d+\): error", output)}
if expected != failed:
    print(output)
    sys.exit(f"must-fail.ts: lines {sorted(expected - failed)} compiled but must not; "
             f"lines {sorted(failed - expected)} failed but must not")
print(f"must-fail.ts: all {len(expected)} misuses are type errors")
PY
