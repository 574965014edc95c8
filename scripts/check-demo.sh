#!/usr/bin/env bash
# Runs the README's demo command, loads the page in headless Chromium with ?autorun=1 and checks
# that it connected to the local relay, listed the demo host live from the network catalog
# (catalog:update), found it (catalog, or the DHT) and streamed a whole job from it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
port="${DEMO_PORT:-18080}"
out="$FABSTIR_CACHE/demo-check.log"
DEMO_PORT="$port" setsid scripts/demo.sh >"$out" 2>&1 &
demo=$!
trap 'kill -TERM -- -$demo 2>/dev/null || true; wait $demo 2>/dev/null || true' EXIT
started=$(date +%s)
until grep -q "demo ready" "$out"; do
  if ! kill -0 "$demo" 2>/dev/null; then cat "$out" >&2; echo "demo command exited early" >&2; exit 1; fi
  if (( $(date +%s) - started > 1200 )); then echo "demo not ready after 20 min" >&2; exit 1; fi
  sleep 1
done
log "demo ready after $(( $(date +%s) - started )) s"
node_peer="$(grep -o 'p2p/12D3[A-Za-z0-9]*' "$out" | tail -1 | cut -d/ -f2)"
mkdir -p artifacts
state="$(timeout 180 python3 scripts/check-demo-page.py "http://127.0.0.1:$port/?autorun=1" 120 artifacts/demo.png)"
field() { python3 -c 'import json, sys; v = json.loads(sys.argv[1]); print(json.dumps(v[sys.argv[2]]) if not isinstance(v[sys.argv[2]], str) else v[sys.argv[2]])' "$state" "$1"; }
host_peer="$("$CARGO_TARGET_DIR/debug/fabstir-node" info --config "$FABSTIR_CACHE/nodes/demo-host/config.yaml" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["peerId"])')"
[ "$(field status)" = connected ] || { echo "demo page did not connect: $state" >&2; exit 1; }
[ "$(field jobState)" = done ] || { echo "demo job did not finish: $state" >&2; exit 1; }
grep -q "\"$host_peer\", \"demo-1\", \"2\", \"[0-9.]* ms\", \"[0-9]*%\", \"relay circuit\"" <<<"$(field hosts)" || { echo "demo page did not find host $host_peer through the relay: $state" >&2; exit 1; }
grep -q 'demo-1 (1 host, 2 per token' <<<"$(field networkModels)" || { echo "demo page's network models: $(field networkModels)" >&2; exit 1; }
# The live host table (catalog:update): the demo host's signed record, through the relay.
grep -q "\"$host_peer\", \"demo-1 (2, demo generator)[^\"]*\", \"[0-9]* / [0-9]*\", \"relay circuit\"" <<<"$(field catalogHosts)" || { echo "demo page's live host table: $(field catalogHosts)" >&2; exit 1; }
stats="$(field jobStats)"
grep -q '^120 tokens' <<<"$stats" || { echo "demo job stats: $stats" >&2; exit 1; }
grep -q '"Jobs (ok / failed / cancelled)", "1 / 0 / 0"' <<<"$(field metrics)" || { echo "demo metrics: $(field metrics)" >&2; exit 1; }
# An honest relay's catalog: no host record refused.
grep -q '"Catalog records refused (of them forged)", "0 (0)"' <<<"$(field metrics)" || { echo "demo metrics: $(field metrics)" >&2; exit 1; }
log "demo page connected to $node_peer, listed $(field networkModels), found host $host_peer (catalog or DHT) and streamed: $stats (screenshot: artifacts/demo.png)"
