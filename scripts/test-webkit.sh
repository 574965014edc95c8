#!/usr/bin/env bash
# The browser tests in WebKitGTK only (scripts/test.sh runs them after Chromium's and Firefox's),
# against a fresh test network; arguments go to `cargo test` (e.g. `--test identity`). Run
# scripts/test.sh once first: it installs the browsers, Xvfb and the tools this uses.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/nodes.sh
source scripts/llama.sh
source scripts/webkit.sh
export TMPDIR="$FABSTIR_CACHE/tmp"
mkdir -p "$TMPDIR" artifacts
cargo build -p fabstir-node --locked
trap nodes_stop EXIT
source scripts/test-nodes.sh
test_nodes_start

log "browser tests in WebKitGTK (wasm-bindgen-test-runner's Safari mode, through scripts/webkit-webdriver.py, on Xvfb)"
webkit_browser_tests "$@"
