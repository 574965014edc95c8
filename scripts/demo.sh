#!/usr/bin/env bash
# The demo: builds the package, starts a local relay node on built-in defaults and a host that
# serves demo-1 with the node's built-in demo generator, reachable only through the relay, and
# serves www/ (a chat page that finds the host through the DHT and streams from it). Prints the
# URL; Ctrl-C stops everything.
# With --llama the host also serves tiny-llama from llama.cpp's llama-server (built once per
# machine, 7-15 minutes the first time): a tiny model with random weights, so its answers are
# real model output but meaningless words.
set -euo pipefail
llama=false
[ "${1:-}" = --llama ] && llama=true
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
scripts/build-pkg.sh
cargo build -p fabstir-node --locked
source scripts/nodes.sh
trap nodes_stop EXIT
node_init demo 4001 4002 4003
node_start demo
node_init demo-host 4011 4012 4013
llama_model=""
note=""
if $llama; then
  source scripts/llama.sh
  llama_install
  llama_start demo-llama 4301 2
  llama_model='    - { id: tiny-llama, price_per_token: 1, max_tokens: 1024, context_tokens: 2048, backend: { kind: openai, base_url: "http://127.0.0.1:4301", model: tiny-llama, parallel: 2 } }'
  note="tiny-llama is a tiny model with random weights served by llama.cpp: real model output, meaningless words."
fi
node_config demo-host <<YAML
listen: [/ip4/127.0.0.1/tcp/4011]
bootstrap_nodes: [$(node_addr demo tcp)]
mdns: { enabled: false }
relay: { enabled: false }
host:
  reachability: relayed
  models:
    - { id: demo-1, price_per_token: 2, max_tokens: 4096, backend: { kind: demo, seed: 1, tokens_per_second: 25 } }
$llama_model
YAML
node_start demo-host
node_wait demo-host "advertised demo-1"
rm -rf www/pkg && cp -r pkg www/pkg
python3 - "$note" "$(node_addr demo ws)" "$(node_addr demo webrtc)" > www/nodes.json <<'PY'
import json, sys
print(json.dumps({"bootstrapNodes": sys.argv[2:], "note": sys.argv[1]}))
PY
port="${DEMO_PORT:-8080}"
log "demo ready: open http://127.0.0.1:$port/  (node: $(node_addr demo ws))"
python3 -m http.server "$port" --bind 127.0.0.1 --directory www
