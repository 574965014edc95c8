#!/usr/bin/env bash
# Builds the npm package into pkg/: release wasm + wasm-bindgen JS glue (ES module for the web)
# + pkg-template/. Prints the wasm size, raw and gzip.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
log "building the SDK (release, wasm32)"
cargo build --lib --release --target wasm32-unknown-unknown --locked
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/fabstir_sdk.wasm"
scripts/check-wasm-imports.sh "$wasm"
rm -rf pkg && mkdir -p pkg
wasm-bindgen --target web --out-dir pkg --out-name fabstir_sdk "$wasm"
cp pkg-template/* LICENSE pkg/
version="$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)"
sed -i "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" pkg/package.json
size() { local raw gz; raw=$(cat "$@" | wc -c); gz=$(cat "$@" | gzip -9 | wc -c); echo "$raw bytes raw, $gz bytes gzip -9"; }
log "pkg/: fabstir_sdk_bg.wasm $(size pkg/fabstir_sdk_bg.wasm); JS $(size pkg/*.js pkg/snippets/*/*.js)"
