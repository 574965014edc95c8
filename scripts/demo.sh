#!/usr/bin/env bash
# The demo: builds the package, starts a local fabstir-node on built-in defaults and serves
# www/ (which connects to it from the browser). Prints the URL; Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
scripts/build-pkg.sh
cargo build -p fabstir-node --locked
source scripts/nodes.sh
trap nodes_stop EXIT
node_init demo 4001 4002 4003
node_start demo
rm -rf www/pkg && cp -r pkg www/pkg
python3 - "$(node_addr demo ws)" "$(node_addr demo webrtc)" > www/nodes.json <<'PY'
import json, sys
print(json.dumps({"bootstrapNodes": sys.argv[1:]}))
PY
port="${DEMO_PORT:-8080}"
log "demo ready: open http://127.0.0.1:$port/  (node: $(node_addr demo ws))"
python3 -m http.server "$port" --bind 127.0.0.1 --directory www
