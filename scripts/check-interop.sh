#!/usr/bin/env bash
# Interop with a third-party client: a stock js-libp2p peer (tests/interop, Node.js over TCP)
# dials the relayed host-b through the relay circuit and completes identify with it, and looks up
# host-b's provider record of relayed-1 with @libp2p/kad-dht. Needs scripts/test-nodes.sh's nodes up.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tools="$FABSTIR_CACHE/interop"
mkdir -p "$tools"
cp tests/interop/package.json tests/interop/package-lock.json tests/interop/*.mjs "$tools/"
if ! cmp -s tests/interop/package-lock.json "$tools/node_modules/.package-lock.json.installed" 2>/dev/null; then
  (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/interop/package-lock.json "$tools/node_modules/.package-lock.json.installed"
fi
relay_addrs="$("${FABSTIR_NODE_BIN:-$CARGO_TARGET_DIR/debug/fabstir-node}" info --config "$FABSTIR_CACHE/nodes/relay/config.yaml" --json |
  python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)["multiaddrs"]))')"
relay_tcp="$(tr ' ' '\n' <<<"$relay_addrs" | grep -v -e /ws -e /udp/ | head -1)"
(cd "$tools" && node identify.mjs "$relay_tcp" "$FABSTIR_TEST_HOST_B_ID")
# shellcheck disable=SC2086 # one argument per address
(cd "$tools" && node providers.mjs relayed-1 "$FABSTIR_TEST_HOST_B_ID" $relay_addrs)
