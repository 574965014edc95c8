#!/usr/bin/env bash
# Builds the npm package into pkg/: release wasm + wasm-bindgen JS glue (ES module for the web)
# + pkg-template/, the JavaScript minified. Prints the wasm size, raw and gzip.
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
# The JavaScript ships minified (esbuild, pinned in scripts/minify/package-lock.json), as a
# page's bundler would ship it: 12.9 -> 7.2 KB gzip. Names are kept (`--keep-names`), so classes
# and errors read the same in a stack trace; the .d.ts files document the API.
minify="$FABSTIR_CACHE/minify"
mkdir -p "$minify"
cp scripts/minify/package.json scripts/minify/package-lock.json "$minify/"
if ! cmp -s scripts/minify/package-lock.json "$minify/node_modules/.package-lock.json.installed" 2>/dev/null; then
  (cd "$minify" && npm ci --no-audit --no-fund --loglevel=error)
  cp scripts/minify/package-lock.json "$minify/node_modules/.package-lock.json.installed"
fi
# Every JavaScript file, snippets at any depth (src/wasm/memory/idb.js sits deep below snippets/).
find pkg -name '*.js' | while read -r js; do
  "$minify/node_modules/.bin/esbuild" "$js" --minify --keep-names --format=esm --target=es2020 --log-level=warning \
    --outfile="$js.min" --allow-overwrite
  mv "$js.min" "$js"
done
version="$(awk -F'"' '/^version = / { print $2; exit }' Cargo.toml)"
sed -i "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" pkg/package.json
size() { local raw gz; raw=$(cat "$@" | wc -c); gz=$(cat "$@" | gzip -9 | wc -c); echo "$raw bytes raw, $gz bytes gzip -9"; }
log "pkg/: fabstir_sdk_bg.wasm $(size pkg/fabstir_sdk_bg.wasm); JS $(size pkg/*.js pkg/snippets/*/*.js)"
