#!/usr/bin/env bash
# Runs the README's demo command, loads the page in headless Chromium and checks that it
# connected to the local node (status "connected" and the node listed as a peer).
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
profile="$(mktemp -d)"
# The same Chromium flags as the browser tests: one list, in webdriver.json.
mapfile -t flags < <(python3 -c 'import json, sys; print("\n".join(json.load(open(sys.argv[1]))["goog:chromeOptions"]["args"]))' webdriver.json)
dom="$(timeout 90 /usr/bin/chromium "${flags[@]}" --user-data-dir="$profile" \
  --virtual-time-budget=20000 --dump-dom "http://127.0.0.1:$port/" 2>/dev/null)"
rm -rf "$profile"
grep -q 'data-state="connected"' <<<"$dom" || { echo "demo page did not connect:" >&2; grep -o 'id="status".\{0,200\}' <<<"$dom" >&2; exit 1; }
grep -q "<td>$node_peer</td><td>websocket</td>" <<<"$dom" || { echo "demo page does not list node $node_peer" >&2; exit 1; }
log "demo page connected to $node_peer in headless Chromium"
