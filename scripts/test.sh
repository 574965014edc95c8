#!/usr/bin/env bash
# The whole test suite: installs what it needs, checks formatting and lints for both targets,
# runs the native tests, then the browser tests in headless Chromium against real nodes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
source scripts/nodes.sh
started=$(date +%s)

log "cargo fmt --check"
cargo fmt --all -- --check

log "clippy (native, all targets) and clippy (wasm32)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --lib --tests --target wasm32-unknown-unknown --locked -- -D warnings

log "native tests (protocol, SDK core, node)"
cargo test --workspace --locked

log "wasm imports: nothing may come from \"env\""
cargo build --lib --target wasm32-unknown-unknown --locked
scripts/check-wasm-imports.sh "$CARGO_TARGET_DIR/wasm32-unknown-unknown/debug/fabstir_sdk.wasm"

log "TypeScript types (tsc --strict on tests/ts/example.ts)"
scripts/check-types.sh

log "starting test nodes on 127.0.0.1"
cargo build -p fabstir-node --locked
trap nodes_stop EXIT
node_init relay 49101 49102 49103
# Short reservations, so that the browser tests see the SDK renew one.
sed -i 's/^  reservation_duration_secs: .*/  reservation_duration_secs: 8/' "$FABSTIR_CACHE/nodes/relay/config.yaml"
# It also hosts a demo model, which the info browser test reads back. (A config cached before the
# host section existed gets the section appended.)
relay_config="$FABSTIR_CACHE/nodes/relay/config.yaml"
demo_model='{ id: demo-1, price_per_token: 3, max_tokens: 4096, backend: demo }'
if grep -q '^host:' "$relay_config"; then
  sed -i "s/^  models: .*/  models: [$demo_model]/" "$relay_config"
else
  printf '\nhost:\n  models: [%s]\n  max_concurrent_jobs: 4\n' "$demo_model" >>"$relay_config"
fi
node_start relay
export FABSTIR_TEST_RELAY_WS="$(node_addr relay ws)"
export FABSTIR_TEST_RELAY_WEBRTC="$(node_addr relay webrtc)"
# Nothing listens on port 49199: dials there are refused.
export FABSTIR_TEST_UNREACHABLE_WS="/ip4/127.0.0.1/tcp/49199/ws/p2p/${FABSTIR_TEST_RELAY_WS##*/p2p/}"
echo "relay: $FABSTIR_TEST_RELAY_WS" >&2
echo "relay: $FABSTIR_TEST_RELAY_WEBRTC" >&2

log "browser tests (wasm-pack test --headless --chrome, debug build)"
CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=180 \
  wasm-pack test --headless --chrome --chromedriver /usr/bin/chromedriver .

log "demo: the README's demo command serves a page that connects"
nodes_stop
scripts/check-demo.sh

log "all tests passed in $(( $(date +%s) - started )) s (after setup)"
