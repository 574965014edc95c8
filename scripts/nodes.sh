# Starting and stopping local fabstir-node processes; source it, do not run it.
# Node state (identity, certificate, config) lives under $FABSTIR_CACHE/nodes/<name> and is
# created once, so peer ids and certhashes stay the same from run to run.

# The benchmarks set FABSTIR_NODE_BIN to the release build.
FABSTIR_NODE_BIN="${FABSTIR_NODE_BIN:-$CARGO_TARGET_DIR/debug/fabstir-node}"
NODE_PIDS=()

# node_init NAME TCP_PORT WS_PORT WEBRTC_PORT: creates the node's state once.
node_init() {
  local dir="$FABSTIR_CACHE/nodes/$1"
  if [ ! -f "$dir/config.yaml" ]; then
    "$FABSTIR_NODE_BIN" init --dir "$dir" --no-mdns \
      --listen "/ip4/127.0.0.1/tcp/$2" --listen "/ip4/127.0.0.1/tcp/$3/ws" \
      --listen "/ip4/127.0.0.1/udp/$4/webrtc-direct" >/dev/null
  fi
}

# node_config NAME: replaces the node's config.yaml with stdin (its identity files stay), so a
# test's settings never depend on a config cached by an older run.
node_config() {
  cat >"$FABSTIR_CACHE/nodes/$1/config.yaml"
}

# node_wait NAME LINE: waits (up to 30 s) until the node prints LINE on stdout.
node_wait() {
  local out="$FABSTIR_CACHE/nodes/$1.out"
  for _ in $(seq 1 300); do
    if grep -qx "$2" "$out"; then return 0; fi
    sleep 0.1
  done
  echo "fabstir-node $1 did not print '$2' within 30 s:" >&2; cat "$FABSTIR_CACHE/nodes/$1.log" >&2; return 1
}

# node_start NAME [BINARY]: starts the node (default: fabstir-node) in the background and waits
# until it prints "ready".
node_start() {
  local dir="$FABSTIR_CACHE/nodes/$1" out="$FABSTIR_CACHE/nodes/$1.out" bin="${2:-$FABSTIR_NODE_BIN}"
  "$bin" start --config "$dir/config.yaml" >"$out" 2>"$FABSTIR_CACHE/nodes/$1.log" &
  NODE_PIDS+=("$!")
  # For scripts/fault-control.py, which kills and restarts nodes during the fault tests.
  echo "$!" >"$FABSTIR_CACHE/nodes/$1.pid"
  printf '%s\0' "$bin" start --config "$dir/config.yaml" >"$FABSTIR_CACHE/nodes/$1.cmd"
  for _ in $(seq 1 200); do
    if grep -qx ready "$out"; then return 0; fi
    if ! kill -0 "$!" 2>/dev/null; then
      echo "fabstir-node $1 exited early:" >&2; cat "$FABSTIR_CACHE/nodes/$1.log" >&2; return 1
    fi
    sleep 0.1
  done
  echo "fabstir-node $1 not ready after 20 s" >&2; return 1
}

# node_addr NAME KIND: the node's dialable address of KIND (ws, webrtc or tcp).
node_addr() {
  "$FABSTIR_NODE_BIN" info --config "$FABSTIR_CACHE/nodes/$1/config.yaml" --json | python3 -c '
import json, sys
kind = sys.argv[1]
for a in json.load(sys.stdin)["multiaddrs"]:
    if (kind == "ws" and "/ws/" in a) or (kind == "webrtc" and "/webrtc-direct/" in a) \
       or (kind == "tcp" and "/ws/" not in a and "/udp/" not in a):
        print(a); break
' "$2"
}

# nodes_stop: stops every node started by node_start (SIGTERM, then waits), and those the fault
# injector restarted (their pid files).
nodes_stop() {
  local pid file
  for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for file in "$FABSTIR_CACHE"/nodes/*.pid; do
    [ -f "$file" ] || continue
    kill -TERM "$(cat "$file")" 2>/dev/null || true
    rm -f "$file"
  done
  NODE_PIDS=()
}
