# Starting and stopping local fabstir-node processes; source it, do not run it.
# Node state (identity, certificate, config) lives under $FABSTIR_CACHE/nodes/<name> and is
# created once, so peer ids and certhashes stay the same from run to run.

# One local test network per machine. The test suite, the bench and the demo start nodes on fixed
# ports (the suite's and the bench's are the same) with their state under $FABSTIR_CACHE, which
# every clone shares, and nodes_stop stops every node whose pid file is there: two of them at
# once break each other. The first to source this holds $FABSTIR_CACHE/network.lock until it
# exits (the scripts it runs inherit it); another waits for it, at most 45 minutes, and says
# which processes hold it.
network_holders() {
  local fd pid held=() lock
  lock="$(realpath "$FABSTIR_CACHE/network.lock")"
  for fd in /proc/[0-9]*/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = "$lock" ] || continue
    pid="${fd#/proc/}"; pid="${pid%%/*}"
    [ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
    held+=("$pid $(cat "/proc/$pid/comm" 2>/dev/null || true)")
  done
  [ "${#held[@]}" -gt 0 ] || { echo "none found"; return; }
  local list
  list="$(printf '%s, ' "${held[@]}")"
  echo "${list%, }"
}
if [ -z "${FABSTIR_NETWORK_LOCKED:-}" ]; then
  mkdir -p "$FABSTIR_CACHE"
  exec {FABSTIR_LOCK_FD}>>"$FABSTIR_CACHE/network.lock"
  if ! flock -n "$FABSTIR_LOCK_FD"; then
    log "waiting for the local test network: another test run, bench or demo on this machine holds it ($(network_holders)); at most 45 minutes"
    flock -w 2700 "$FABSTIR_LOCK_FD" || {
      echo "the local test network was held for 45 minutes by: $(network_holders)" >&2
      return 1
    }
  fi
  export FABSTIR_NETWORK_LOCKED=1
fi

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

# node_start NAME [BINARY] [NETNS]: starts the node (default: fabstir-node) in the background,
# inside network namespace NETNS if given (see netns_up), and waits until it prints "ready".
node_start() {
  local dir="$FABSTIR_CACHE/nodes/$1" out="$FABSTIR_CACHE/nodes/$1.out" bin="${2:-$FABSTIR_NODE_BIN}"
  local cmd=("$bin" start --config "$dir/config.yaml")
  # `ip netns exec` execs the node in place, so $! is the node's own pid.
  [ -n "${3:-}" ] && cmd=(ip netns exec "$3" "${cmd[@]}")
  "${cmd[@]}" >"$out" 2>"$FABSTIR_CACHE/nodes/$1.log" &
  NODE_PIDS+=("$!")
  # For scripts/fault-control.py, which kills and restarts nodes during the fault tests.
  echo "$!" >"$FABSTIR_CACHE/nodes/$1.pid"
  printf '%s\0' "${cmd[@]}" >"$FABSTIR_CACHE/nodes/$1.cmd"
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

# netns_up NAME HOST_ADDR NS_ADDR: a network namespace NAME joined to this host by a veth pair,
# HOST_ADDR (here) and NS_ADDR (there), both /30, with its default route back through here: a
# test host that is not on loopback (Firefox sends WebRTC to no loopback address). Made anew each
# time; nodes_stop removes it. Needs root (as CI is) and iproute2.
NETNS_UP=()
netns_up() {
  local veth="${1:0:10}"
  ip netns del "$1" 2>/dev/null || true
  ip link del "$veth-h" 2>/dev/null || true
  ip netns add "$1"
  NETNS_UP+=("$1")
  ip link add "$veth-h" type veth peer name "$veth-n"
  ip link set "$veth-n" netns "$1"
  ip addr add "$2/30" dev "$veth-h"
  ip link set "$veth-h" up
  ip -n "$1" addr add "$3/30" dev "$veth-n"
  ip -n "$1" link set "$veth-n" up
  ip -n "$1" link set lo up
  ip -n "$1" route add default via "$2"
}

# nodes_stop: stops every node started by node_start (SIGTERM, then waits), and those the fault
# injector restarted (their pid files), then removes the namespaces of netns_up. A node lets its
# running jobs finish for host.shutdown_grace_secs after SIGTERM; one still running after 3 s gets
# a second SIGTERM, which ends it at once.
nodes_stop() {
  local pid file
  for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    local alive=0
    for pid in "${NODE_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${NODE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${NODE_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for file in "$FABSTIR_CACHE"/nodes/*.pid; do
    [ -f "$file" ] || continue
    kill -TERM "$(cat "$file")" 2>/dev/null || true
    rm -f "$file"
  done
  NODE_PIDS=()
  local ns
  for ns in "${NETNS_UP[@]}"; do
    ip netns del "$ns" 2>/dev/null || true
    ip link del "${ns:0:10}-h" 2>/dev/null || true
  done
  NETNS_UP=()
}
