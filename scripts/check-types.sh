#!/usr/bin/env bash
# Compiles tests/ts/example.ts with tsc --strict against the .d.ts that wasm-bindgen generates
# for the SDK, so the TypeScript surface (config, events, errors, results) is checked.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
dir="$FABSTIR_CACHE/ts"
mkdir -p "$dir"
cp tests/ts/package.json tests/ts/package-lock.json tests/ts/tsconfig.json tests/ts/example.ts "$dir/"
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
log "TypeScript: example.ts compiles with tsc --strict against the generated types"
