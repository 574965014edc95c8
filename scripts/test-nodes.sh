# The test network on 127.0.0.1; source it after env.sh and nodes.sh, then call test_nodes_start.
# Its ports are below 32768, outside Linux's ephemeral range (32768-60999): a port in that range
# can be taken by any outgoing TCP connection or browser UDP socket while its node is down (the
# fault tests kill and restart nodes), and the node would then not start again.
#   relay   29101 tcp, 29102 ws, 29103 webrtc-direct: relay, bootstrap and DHT server, no models.
#   host-a  29111-29113: hosts demo-1 at 5 per token, directly reachable (DHT server).
#           (direct-1 on host-a and relayed-1 on host-b, unpaced, are for the benchmarks.)
#   hostile 29131-29132: fabstir-hostile, whose token streams misbehave on purpose (one model per
#           misbehaviour: hostile-malformed, -oversized, -order, -endless, -stall, -slowloris,
#           -total, -garbage, -receipt-tokens/-output/-client/-key; and hostile-overprice
#           and -overprice-shared, whose terms claim 5 per token where the record says 1 (host-b
#           serves -overprice-shared too, honestly, at 2); see
#           node/src/bin/fabstir-hostile.rs); its catalog protocol hands out
#           host-a's demo-1 record altered (price 5 -> 1, not signed again).
#   host-c 29151-29152, host-d 29161-29162: both serve demo-fo (seed 33, 300 tokens/s, price 2),
#           replicas for the failover test, which kills one mid-stream through the fault
#           injector (scripts/fault-control.py, 127.0.0.1:29190), and for the SIGTERM tests
#           (shutdown grace 5 s; metrics with /readyz on 29159 and 29169).
#   relay-2 29171-29173: a second relay (bootstrapped from the first) that the relay-restart
#           fault test kills and restarts, so the other tests' relay is never disturbed.
#   host-e 29141 tcp only: relayed like host-b; load-1 at 1 (seed 44, at most 5 jobs per client
#           peer), which host-b (100 job slots) also serves at 2: the load test's 100 jobs fill both.
#           Its per-IP share is the default (5), which its 4 pages' 20 jobs pass only because
#           peers through a relay are not counted per IP.
#   host-f 29181-29182: limited-1 with small per-peer limits (1 KiB prompts, 2 jobs per peer, 5
#           requests then 1 a minute) for the over-limit tests.
#   relay-ns 10.213.77.2, ports 29195-29197: a relay like the first, in a network namespace of
#           ours (scripts/nodes.sh netns_up; this host is 10.213.77.1), so that a browser reaches
#           WebRTC-direct off loopback: Firefox sends WebRTC to no loopback address.
#   llama-1 29301: llama.cpp's own llama-server (scripts/llama.sh) with the tiny model, one slot
#           (so its answers are deterministic); llama-2 29302: another, which a test stops.
#   llama-py 29306: llama-cpp-python's server (`python -m llama_cpp.server`, scripts/llama.sh)
#           over the same llama.cpp build and model, one generation at a time.
#   host-g 29201-29202: tiny-llama (openai backend on llama-1, price 2, prompt price 1, parallel
#           1, context 2048), tiny-llama-2 (on llama-2), tiny-llama-py (on llama-py, the same
#           prices and context) and demo-g, directly reachable.
#   host-h 29211 tcp only: tiny-llama on llama-1 too, at price 1 (so the cheapest), reachable only
#           through the relay; the failover test kills it mid-answer.
#   cut-proxy 29303: scripts/interrupting-proxy.py in front of llama-1, cutting every answer after
#           20 chunks with [DONE] and no finish_reason (llama-cpp-python's interruption); host-h
#           serves tiny-llama-cut through it at 1, host-g on llama-1 itself at 2. llama-server
#           backends continue another host's answer by prefill (`continuation: prefill`).
#   cut-proxy-py 29307: the same in front of llama-py; host-h serves tiny-llama-py-cut through
#           it at 1, host-g on llama-py itself at 2, continuing by replay (the default).
#   text-ws 29304: scripts/bad-websocket-server.py, a WebSocket server that sends a text frame
#           (libp2p's WebSocket is binary frames only): a page must refuse it, saying why.
#   overrun-ws 29305: the same server sending one 5 MiB binary frame, more than a page holds
#           unread: refused, saying why.
#   guard-allow 29241-29242, guard-block 29251-29252: direct hosts whose security lists name the
#           test pages' own keys (page-allowed and page-blocked: identities made by `fabstir-node
#           init` that no node runs; the browser tests import them as `identity.key`):
#           guard-allow admits only page-allowed (guarded-allow, seed 91), guard-block refuses
#           page-blocked (guarded-block, seed 92).
#   (Prometheus metrics: relay 29109, host-a 29119, host-b 29129, host-c 29159, host-d 29169,
#   host-g 29209.)
#   host-b  29121 tcp only: hosts demo-1 at 3 and demo-slow at 1 per token, reachable only
#           through the relay (it advertises /p2p-circuit addresses and no direct ones).
#   host-i 29221 tcp only and host-j 29231-29232: relay-2's own hosts (they bootstrap from
#           relay-2 alone, so the relay's catalog has them only through gossip): host-i relayed
#           through relay-2 (cat-a at 4 paced 20 tokens/s, cat-b at 6; announcements live 4 s, for
#           the catalog test that stops and starts it), host-j direct (cat-b at 5, cat-c at 2).
# Exports the addresses the browser tests are compiled with (FABSTIR_TEST_*).

# cut_proxy NAME PORT UPSTREAM: scripts/interrupting-proxy.py on PORT in front of UPSTREAM,
# cutting every answer after 20 chunks, stopped with the nodes.
cut_proxy() {
  python3 scripts/interrupting-proxy.py "$2" "$3" 20 \
    >"$FABSTIR_CACHE/nodes/$1.out" 2>"$FABSTIR_CACHE/nodes/$1.log" &
  NODE_PIDS+=("$!")
}

test_nodes_start() {
  node_init relay 29101 29102 29103
  node_init host-a 29111 29112 29113
  node_init host-b 29121 29122 29123
  node_init hostile 29131 29132 29133
  node_init host-c 29151 29152 29153
  node_init relay-2 29171 29172 29173
  node_init host-e 29141 29142 29143
  node_init host-f 29181 29182 29183
  node_init host-d 29161 29162 29163
  node_init relay-ns 29195 29196 29197
  node_init host-g 29201 29202 29203
  node_init host-h 29211 29212 29213
  node_init host-i 29221 29222 29223
  node_init host-j 29231 29232 29233
  node_init guard-allow 29241 29242 29243
  node_init guard-block 29251 29252 29253
  node_init page-allowed 29261 29262 29263
  node_init page-blocked 29271 29272 29273
  local page_allowed page_blocked
  page_allowed="$(node_addr page-allowed tcp)" page_allowed="${page_allowed##*/p2p/}"
  page_blocked="$(node_addr page-blocked tcp)" page_blocked="${page_blocked##*/p2p/}"
  node_config relay <<YAML
listen: [/ip4/127.0.0.1/tcp/29101, /ip4/127.0.0.1/tcp/29102/ws, /ip4/127.0.0.1/udp/29103/webrtc-direct]
mdns: { enabled: false }
# Short reservations, so that the browser tests see the SDK renew one. libp2p's relay counts every
# renewal against the reservation buckets, and with 8 s reservations each relayed host renews
# every 6 s: at libp2p's default per-peer bucket (30, then one every 2 minutes) host-b and host-e
# were refused after ~3 minutes and dropped off the relay mid-suite (the node now refuses that
# config). So both reservation buckets are off; every test browser comes from 127.0.0.1, so the
# per-IP circuit bucket (meant for many users behind one address) is off too.
relay:
  reservation_duration_secs: 8
  reservation_rate: { per_peer: { burst: 0, refill_secs: 1 }, per_ip: { burst: 0, refill_secs: 1 } }
  circuit_rate: { per_ip: { burst: 0, refill_secs: 1 } }
metrics: { enabled: true, listen: "127.0.0.1:29109" }
YAML
  node_start relay
  local relay_tcp
  relay_tcp="$(node_addr relay tcp)"
  # host_config NAME LISTEN REACHABILITY [TOP-LEVEL LINES]: a host that bootstraps from the relay;
  # its `host:` settings and models (indented) come on stdin.
  host_config() {
    { printf 'listen: [%s]\nbootstrap_nodes: [%s]\nmdns: { enabled: false }\nrelay: { enabled: false }\n' "$2" "${bootstrap:-$relay_tcp}"
      [ -n "${4:-}" ] && printf '%s\n' "$4"
      printf 'host:\n  reachability: %s\n' "$3"
      cat; } | node_config "$1"
  }
  # The tests and benchmarks run many jobs at once from one page: no per-peer limits here. A
  # page's token stream may open late while the load test saturates the 2 cores (a Firefox run
  # saw host-e's event loop silent for 8 s and a job abandoned at the default 10 s): every host
  # here (host-b and host-e below too) gives it 30 s.
  local no_peer_limits="  max_concurrent_jobs: 64
  max_jobs_per_peer: 64
  stream_open_secs: 30
  request_rate: { burst: 0, refill_secs: 1 }"
  host_config host-a "/ip4/127.0.0.1/tcp/29111, /ip4/127.0.0.1/tcp/29112/ws, /ip4/127.0.0.1/udp/29113/webrtc-direct" \
    direct 'metrics: { enabled: true, listen: "127.0.0.1:29119" }' <<YAML
$no_peer_limits
  models:
    - { id: demo-1, price_per_token: 5, max_tokens: 4096, backend: { kind: demo, seed: 11, tokens_per_second: 0 } }
    - { id: direct-1, price_per_token: 1, max_tokens: 65536, backend: { kind: demo, seed: 11, tokens_per_second: 0 } }
YAML
  # host-b takes what host-e cannot of the load test's 100 simultaneous jobs (host-e: 5 per page,
  # 20 in all). A job holds its slot until its page has read it (generation waits for its reader),
  # and one page reads ~2,000 tokens/s in all, so all 100 jobs hold slots at once: host-b has room
  # for 80 and more.
  host_config host-b "/ip4/127.0.0.1/tcp/29121" relayed 'metrics: { enabled: true, listen: "127.0.0.1:29129" }' <<YAML
  max_concurrent_jobs: 100
  max_jobs_per_peer: 100
  stream_open_secs: 30
  request_rate: { burst: 0, refill_secs: 1 }
  models:
    - { id: demo-1, price_per_token: 3, max_tokens: 4096, backend: { kind: demo, seed: 22, tokens_per_second: 0 } }
    - { id: relayed-1, price_per_token: 1, max_tokens: 65536, backend: { kind: demo, seed: 22, tokens_per_second: 0 } }
    - { id: demo-slow, price_per_token: 1, max_tokens: 60000, backend: { kind: demo, seed: 22, tokens_per_second: 200 } }
    - { id: load-1, price_per_token: 2, max_tokens: 4096, backend: { kind: demo, seed: 44, tokens_per_second: 500 } }
    # hostile-overprice-shared's honest host: the hostile one (1 per token in its record) starts
    # a job at 5, so a page's job goes on to this one.
    - { id: hostile-overprice-shared, price_per_token: 2, max_tokens: 4096, backend: { kind: demo, seed: 22, tokens_per_second: 0 } }
YAML
  host_config host-e "/ip4/127.0.0.1/tcp/29141" relayed <<YAML
  max_concurrent_jobs: 64
  max_jobs_per_peer: 5
  stream_open_secs: 30
  request_rate: { burst: 0, refill_secs: 1 }
  models:
    - { id: load-1, price_per_token: 1, max_tokens: 4096, backend: { kind: demo, seed: 44, tokens_per_second: 500 } }
YAML
  host_config host-f "/ip4/127.0.0.1/tcp/29181, /ip4/127.0.0.1/tcp/29182/ws" direct <<YAML
  max_concurrent_jobs: 8
  max_prompt_bytes: 1024
  max_jobs_per_peer: 2
  # Every test page comes from 127.0.0.1: the per-IP share (native abuse test) is not this one's.
  max_jobs_per_ip: 8
  request_rate: { burst: 5, refill_secs: 60 }
  models:
    - { id: limited-1, price_per_token: 1, max_tokens: 4096, backend: { kind: demo, seed: 55, tokens_per_second: 50 } }
YAML
  # fabstir-hostile's models, one per misbehaviour (hostile-MODE).
  local mode hostile_modes="malformed oversized order endless stall slowloris total garbage receipt-tokens receipt-output receipt-client receipt-key overprice overprice-shared"
  {
    # It keeps the catalog (which it hands out altered) though it only hosts.
    printf '%s\n  keep_catalog: true\n  models:\n' "$no_peer_limits"
    for mode in $hostile_modes; do
      echo "    - { id: hostile-$mode, price_per_token: 1, max_tokens: 4096, backend: { kind: demo, seed: 1, tokens_per_second: 0 } }"
    done
  } | host_config hostile "/ip4/127.0.0.1/tcp/29131, /ip4/127.0.0.1/tcp/29132/ws" direct
  local replica port
  for replica in c d; do
    port=$([ "$replica" = c ] && echo 2915 || echo 2916)
    host_config "host-$replica" "/ip4/127.0.0.1/tcp/${port}1, /ip4/127.0.0.1/tcp/${port}2/ws" direct \
      "metrics: { enabled: true, listen: \"127.0.0.1:${port}9\" }" <<YAML
$no_peer_limits
  shutdown_grace_secs: 5
  models:
    - { id: demo-fo, price_per_token: 2, max_tokens: 4096, backend: { kind: demo, seed: 33, tokens_per_second: 300 } }
YAML
  done
  # Both hosts of tiny-llama front the same one-slot server: parallel 1 makes the host answer busy
  # rather than queue a second job behind the first. A small lead over the reader keeps a
  # killed host's answer mid-way.
  local llama_model="tiny-llama, max_tokens: 1900, context_tokens: 2048"
  # llama-server continues a last assistant message (prefill); llama-cpp-python starts a new
  # answer, so its hosts continue another host's answer by asking again (replay, the default).
  local llama_backend="kind: openai, base_url: \"http://127.0.0.1:29301\", model: tiny-llama, parallel: 1, continuation: prefill"
  local py_backend="kind: openai, base_url: \"http://127.0.0.1:29306\", model: tiny-llama, parallel: 1"
  host_config host-g "/ip4/127.0.0.1/tcp/29201, /ip4/127.0.0.1/tcp/29202/ws" direct \
    'metrics: { enabled: true, listen: "127.0.0.1:29209" }' <<YAML
$no_peer_limits
  max_tokens_ahead: 32
  models:
    - { id: $llama_model, price_per_token: 2, price_per_prompt_token: 1, backend: { $llama_backend } }
    - { id: tiny-llama-2, price_per_token: 2, max_tokens: 1000, backend: { kind: openai, base_url: "http://127.0.0.1:29302", model: tiny-llama, continuation: prefill } }
    - { id: demo-g, price_per_token: 1, max_tokens: 1000, backend: { kind: demo, seed: 66, tokens_per_second: 0 } }
    - { id: tiny-llama-py, max_tokens: 1900, context_tokens: 2048, price_per_token: 2, price_per_prompt_token: 1, backend: { $py_backend } }
    - { id: tiny-llama-py-cut, price_per_token: 2, max_tokens: 1000, backend: { $py_backend } }
    - { id: tiny-llama-cut, price_per_token: 2, max_tokens: 1000, backend: { $llama_backend } }
YAML
  host_config host-h "/ip4/127.0.0.1/tcp/29211" relayed <<YAML
$no_peer_limits
  max_tokens_ahead: 32
  models:
    - { id: $llama_model, price_per_token: 1, price_per_prompt_token: 1, backend: { $llama_backend } }
    - { id: tiny-llama-cut, price_per_token: 1, max_tokens: 1000, backend: { kind: openai, base_url: "http://127.0.0.1:29303", model: tiny-llama, continuation: prefill } }
    - { id: tiny-llama-py-cut, price_per_token: 1, max_tokens: 1000, backend: { kind: openai, base_url: "http://127.0.0.1:29307", model: tiny-llama } }
YAML
  node_config relay-2 <<YAML
listen: [/ip4/127.0.0.1/tcp/29171, /ip4/127.0.0.1/tcp/29172/ws]
bootstrap_nodes: [$relay_tcp]
mdns: { enabled: false }
YAML
  node_start relay-2
  local bootstrap
  bootstrap="$(node_addr relay-2 tcp)"
  host_config host-i "/ip4/127.0.0.1/tcp/29221" relayed <<YAML
$no_peer_limits
  announce_ttl_secs: 4
  models:
    - { id: cat-a, price_per_token: 4, max_tokens: 4096, backend: { kind: demo, seed: 77, tokens_per_second: 20 } }
    - { id: cat-b, price_per_token: 6, max_tokens: 4096, backend: { kind: demo, seed: 77, tokens_per_second: 0 } }
YAML
  host_config host-j "/ip4/127.0.0.1/tcp/29231, /ip4/127.0.0.1/tcp/29232/ws" direct <<YAML
$no_peer_limits
  models:
    - { id: cat-b, price_per_token: 5, max_tokens: 4096, backend: { kind: demo, seed: 88, tokens_per_second: 0 } }
    - { id: cat-c, price_per_token: 2, max_tokens: 4096, backend: { kind: demo, seed: 88, tokens_per_second: 0 } }
YAML
  bootstrap=""
  node_start host-i
  node_start host-j
  host_config guard-allow "/ip4/127.0.0.1/tcp/29241, /ip4/127.0.0.1/tcp/29242/ws" direct \
    "security: { allowlist: [$page_allowed] }" <<YAML
$no_peer_limits
  models:
    - { id: guarded-allow, price_per_token: 1, max_tokens: 4096, backend: { kind: demo, seed: 91, tokens_per_second: 0 } }
YAML
  host_config guard-block "/ip4/127.0.0.1/tcp/29251, /ip4/127.0.0.1/tcp/29252/ws" direct \
    "security: { blocklist: [$page_blocked] }" <<YAML
$no_peer_limits
  models:
    - { id: guarded-block, price_per_token: 1, max_tokens: 4096, backend: { kind: demo, seed: 92, tokens_per_second: 0 } }
YAML
  node_start guard-allow
  node_start guard-block
  netns_up fabstir-ns 10.213.77.1 10.213.77.2
  node_config relay-ns <<YAML
listen: [/ip4/10.213.77.2/tcp/29195, /ip4/10.213.77.2/tcp/29196/ws, /ip4/10.213.77.2/udp/29197/webrtc-direct]
mdns: { enabled: false }
YAML
  node_start relay-ns "" fabstir-ns
  node_start host-a
  node_start host-b
  node_start host-c
  node_start host-d
  node_start host-e
  node_start host-f
  node_start hostile "$(dirname "$FABSTIR_NODE_BIN")/fabstir-hostile"
  llama_start llama-1 29301 1
  llama_start llama-2 29302 1
  llama_py_start llama-py 29306
  cut_proxy cut-proxy 29303 http://127.0.0.1:29301
  cut_proxy cut-proxy-py 29307 http://127.0.0.1:29306
  node_start host-g
  node_start host-h
  # Discovery tests need the provider records in the DHT before they run.
  node_wait host-a "advertised demo-1"
  node_wait host-b "advertised demo-1"
  node_wait host-b "advertised demo-slow"
  node_wait host-a "advertised direct-1"
  node_wait host-b "advertised relayed-1"
  node_wait host-b "advertised load-1"
  node_wait host-b "advertised hostile-overprice-shared"
  node_wait host-e "advertised load-1"
  node_wait host-f "advertised limited-1"
  node_wait host-c "advertised demo-fo"
  node_wait host-d "advertised demo-fo"
  node_wait host-g "advertised tiny-llama"
  node_wait host-h "advertised tiny-llama"
  node_wait host-g "advertised tiny-llama-cut"
  node_wait host-g "advertised tiny-llama-py"
  node_wait host-g "advertised tiny-llama-py-cut"
  node_wait host-h "advertised tiny-llama-py-cut"
  node_wait host-h "advertised tiny-llama-cut"
  node_wait host-i "advertised cat-a"
  node_wait host-j "advertised cat-c"
  node_wait guard-allow "advertised guarded-allow"
  node_wait guard-block "advertised guarded-block"
  python3 scripts/bad-websocket-server.py 29304 text \
    >"$FABSTIR_CACHE/nodes/text-ws.out" 2>"$FABSTIR_CACHE/nodes/text-ws.log" &
  NODE_PIDS+=("$!")
  python3 scripts/bad-websocket-server.py 29305 overrun \
    >"$FABSTIR_CACHE/nodes/overrun-ws.out" 2>"$FABSTIR_CACHE/nodes/overrun-ws.log" &
  NODE_PIDS+=("$!")
  node_wait text-ws ready
  node_wait overrun-ws ready
  python3 scripts/fault-control.py "$FABSTIR_CACHE/nodes" 29190 >"$FABSTIR_CACHE/nodes/fault-control.out" 2>"$FABSTIR_CACHE/nodes/fault-control.log" &
  NODE_PIDS+=("$!")
  for _ in $(seq 1 50); do grep -qx ready "$FABSTIR_CACHE/nodes/fault-control.out" 2>/dev/null && break; sleep 0.1; done
  for mode in $hostile_modes; do
    node_wait hostile "advertised hostile-$mode"
  done
  export FABSTIR_TEST_RELAY_WS="$(node_addr relay ws)"
  export FABSTIR_TEST_RELAY_WEBRTC="$(node_addr relay webrtc)"
  export FABSTIR_TEST_NS_RELAY_WEBRTC="$(node_addr relay-ns webrtc)"
  # Nothing listens on port 29199: dials there are refused.
  export FABSTIR_TEST_UNREACHABLE_WS="/ip4/127.0.0.1/tcp/29199/ws/p2p/${FABSTIR_TEST_RELAY_WS##*/p2p/}"
  # A WebSocket peer that sends a text frame (any peer id: the handshake never gets that far).
  export FABSTIR_TEST_TEXT_WS="/ip4/127.0.0.1/tcp/29304/ws/p2p/${FABSTIR_TEST_RELAY_WS##*/p2p/}"
  # One that sends 5 MiB in one frame (the same).
  export FABSTIR_TEST_OVERRUN_WS="/ip4/127.0.0.1/tcp/29305/ws/p2p/${FABSTIR_TEST_RELAY_WS##*/p2p/}"
  export FABSTIR_TEST_HOST_A_WS="$(node_addr host-a ws)"
  export FABSTIR_TEST_RELAY2_WS="$(node_addr relay-2 ws)"
  export FABSTIR_TEST_HOSTILE_WS="$(node_addr hostile ws)"
  export FABSTIR_TEST_HOST_G_ID="$(node_addr host-g tcp)"
  FABSTIR_TEST_HOST_G_ID="${FABSTIR_TEST_HOST_G_ID##*/p2p/}"
  export FABSTIR_TEST_HOST_H_ID="$(node_addr host-h tcp)"
  FABSTIR_TEST_HOST_H_ID="${FABSTIR_TEST_HOST_H_ID##*/p2p/}"
  export FABSTIR_TEST_HOST_I_ID="$(node_addr host-i tcp)"
  FABSTIR_TEST_HOST_I_ID="${FABSTIR_TEST_HOST_I_ID##*/p2p/}"
  export FABSTIR_TEST_HOST_B_ID="$(node_addr host-b tcp)"
  FABSTIR_TEST_HOST_B_ID="${FABSTIR_TEST_HOST_B_ID##*/p2p/}"
  export FABSTIR_TEST_PAGE_ALLOWED_ID="$page_allowed"
  FABSTIR_TEST_PAGE_ALLOWED_KEY="$(base64 -w0 "$FABSTIR_CACHE/nodes/page-allowed/identity.key")"
  FABSTIR_TEST_PAGE_BLOCKED_KEY="$(base64 -w0 "$FABSTIR_CACHE/nodes/page-blocked/identity.key")"
  export FABSTIR_TEST_PAGE_ALLOWED_KEY FABSTIR_TEST_PAGE_BLOCKED_KEY
  echo "relay:  $FABSTIR_TEST_RELAY_WS" >&2
  echo "host-a: $FABSTIR_TEST_HOST_A_WS" >&2
  echo "host-b: $FABSTIR_TEST_HOST_B_ID (relayed)" >&2
}

# demo_expectations FILE PROMPT TOKENS: writes {host id: text} for the two hosts of demo-1, the
# exact text each streams for PROMPT (host-b, seed 22, is the cheaper; host-a, seed 11, serves
# when host-b does not answer in time). For the checks that drive a page against the network.
demo_expectations() {
  local node="$CARGO_TARGET_DIR/debug/fabstir-node"
  local b_text a_text
  b_text="$("$node" demo-text --seed 22 --prompt "$2" --tokens "$3")"
  a_text="$("$node" demo-text --seed 11 --prompt "$2" --tokens "$3")"
  python3 - "$1" "$FABSTIR_TEST_HOST_B_ID" "$b_text" "${FABSTIR_TEST_HOST_A_WS##*/p2p/}" "$a_text" <<'PY'
import json, sys
out, b, b_text, a, a_text = sys.argv[1:]
json.dump({b: b_text, a: a_text}, open(out, "w"))
PY
}
