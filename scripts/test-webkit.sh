#!/usr/bin/env bash
# The browser tests in WebKitGTK (the engine under Safari), against a fresh test network: not yet
# part of scripts/test.sh, because some of them still fail there now and then (README, Browsers).
# The same tests as in Chromium and Firefox, through wasm-bindgen-test-runner's Safari mode and
# scripts/webkit-webdriver.py, with MiniBrowser on a virtual X display. Run scripts/test.sh once
# first (it installs the browsers, Xvfb and the tools this uses).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/nodes.sh
source scripts/llama.sh
export TMPDIR="$FABSTIR_CACHE/tmp"
mkdir -p "$TMPDIR" artifacts
cargo build -p fabstir-node --locked
trap nodes_stop EXIT
source scripts/test-nodes.sh
test_nodes_start

log "browser tests in WebKitGTK (wasm-bindgen-test-runner's Safari mode, through scripts/webkit-webdriver.py, on Xvfb)"
# Its own process group (setsid), so that stopping it stops Xvfb, the driver and the browser.
# The network lock's descriptor is not handed on: a process that outlived this run would hold it.
setsid xvfb-run -a python3 scripts/webkit-webdriver.py 29390 \
  >"$FABSTIR_CACHE/nodes/webkit-driver.out" 2>"$FABSTIR_CACHE/nodes/webkit-driver.log" {FABSTIR_LOCK_FD}>&- &
webkit_driver=$!
trap 'kill -TERM -- "-$webkit_driver" 2>/dev/null || true; nodes_stop' EXIT
node_wait webkit-driver ready
SAFARIDRIVER_REMOTE=http://127.0.0.1:29390 WASM_BINDGEN_TEST_TIMEOUT=180 WASM_BINDGEN_TEST_ONLY_WEB=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
  cargo test --target wasm32-unknown-unknown --locked --no-fail-fast "$@" -- --nocapture \
  2>&1 | tee artifacts/browser-tests-webkit.log
python3 scripts/check-panics.py artifacts/browser-tests-webkit.log
