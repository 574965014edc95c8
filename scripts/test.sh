#!/usr/bin/env bash
# The whole test suite: installs what it needs, checks formatting and lints for both targets,
# runs the native tests, then the browser tests in headless Chromium, Firefox and WebKitGTK against
# real nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
source scripts/nodes.sh
source scripts/llama.sh
# llama.cpp's server and the tiny model, built once per machine (7-15 minutes the first time).
llama_install
started=$(date +%s)
# Chromium and chromedriver leave a ~100 MB profile folder in the temp folder per session; keep
# them in one place that each run empties, so repeated runs cannot fill the disk.
export TMPDIR="$FABSTIR_CACHE/tmp"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"

log "cargo fmt --check"
cargo fmt --all -- --check

log "layout: no import circle between the files of src/, no source file over 400 lines"
python3 scripts/check-layout.py

log "clippy (native, all targets) and clippy (wasm32)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --lib --tests --examples --target wasm32-unknown-unknown --locked -- -D warnings

log "native tests (protocol, SDK core, node)"
cargo test --workspace --locked

log "fuzzing the wire codec, receipts and catalog records (libFuzzer via cargo-fuzz, 30 s; longer: scripts/fuzz.sh 3600 --save)"
scripts/fuzz.sh 30

log "wasm imports: nothing may come from \"env\""
cargo build --lib --target wasm32-unknown-unknown --locked
scripts/check-wasm-imports.sh "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/fabstir_sdk.wasm"

log "TypeScript types (tsc --strict on tests/ts/example.ts)"
scripts/check-types.sh

log "starting test nodes on 127.0.0.1 (relays, hosts, llama.cpp servers)"
cargo build -p fabstir-node --locked
trap nodes_stop EXIT
source scripts/test-nodes.sh
# The nodes' logs written from here on are this run's (see "node logs" below).
touch "$FABSTIR_CACHE/tmp/nodes-started"
test_nodes_start

log "browser tests (wasm-pack test --headless --chrome, debug build)"
mkdir -p artifacts
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=180 \
  wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver . -- --nocapture \
  2>&1 | tee artifacts/browser-tests.log
# Any panic in the SDK fails the suite, even in a test that passed; the only one allowed is the
# hook test's own deliberate panic (tests/panic_hook.rs).
python3 scripts/check-panics.py artifacts/browser-tests.log

log "receipts: PROTOCOL.md's example and a real host's receipt from the browser tests, verified from the spec alone (Node's crypto)"
node scripts/verify-receipt.mjs --docs-example
envelope="$(grep -oE 'receipt envelope: [A-Za-z0-9+/=]+' artifacts/browser-tests.log | head -1 | cut -d' ' -f3)"
[ -n "$envelope" ] || { echo "no receipt envelope in the browser tests' log" >&2; exit 1; }
node scripts/verify-receipt.mjs "$envelope" >/dev/null

log "browser tests in Firefox ESR (wasm-pack test --headless --firefox, the same tests and nodes)"
WASM_BINDGEN_TEST_WEBDRIVER_JSON="$PWD/webdriver-firefox.json" WASM_BINDGEN_TEST_TIMEOUT=180 \
  wasm-pack test --headless --firefox --geckodriver "$(command -v geckodriver)" . -- --nocapture \
  2>&1 | tee artifacts/browser-tests-firefox.log
python3 scripts/check-panics.py artifacts/browser-tests-firefox.log

log "browser tests in WebKitGTK (the same tests and nodes; wasm-bindgen-test-runner's Safari mode, through scripts/webkit-webdriver.py, on Xvfb)"
source scripts/webkit.sh
webkit_browser_tests

log "interop: a stock js-libp2p peer identifies the relayed host through the circuit"
scripts/check-interop.sh

log "node metrics: the test nodes counted what the browser tests did (Prometheus endpoints)"
python3 scripts/check-metrics.py

log "packaging: npm pack → fresh Vite app → vite build → headless Chromium (playwright-core)"
scripts/check-package.sh

log "https page: app.fabstir.test over TLS in Chromium; ws:// refused by the browser and by the SDK, WebRTC-direct works"
scripts/check-secure-page.sh

log "node logs: no test node panicked (tokio catches a task's panic and only logs it)"
node_logs=$(find "$FABSTIR_CACHE/nodes" -name '*.log' -newer "$FABSTIR_CACHE/tmp/nodes-started")
if grep -l "panicked at" $node_logs; then
  grep -h -A1 "panicked at" $node_logs | sort | uniq -c | sort -rn | head -20 >&2
  exit 1
fi

nodes_stop
log "deploy: the systemd unit verifies, and the node runs and stops the way the unit runs it"
python3 scripts/check-deploy.py "$CARGO_TARGET_DIR/debug/fabstir-node"

log "demo: the README's demo command serves a page that connects"
scripts/check-demo.sh

log "all tests passed in $(( $(date +%s) - started )) s (after setup)"
