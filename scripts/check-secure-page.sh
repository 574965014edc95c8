#!/usr/bin/env bash
# The real browser rules of a page served over https: (issue 13): the package's page is served at
# https://app.fabstir.test:18443 with a certificate for *.fabstir.test from a test CA the suite
# makes, in headless Chromium that maps *.fabstir.test to 127.0.0.1 and trusts that CA (and no
# blanket certificate-error exemption). From there a raw
# ws:// WebSocket is refused by the browser, the SDK refuses a plain /ws address to
# relay.fabstir.test up front (INVALID_CONFIG for a bootstrap node, DIAL_FAILED for dial), and
# WebRTC-direct to the relay works alongside with a job streamed exactly; and a relay that listens
# on /tls/ws with that certificate (relay-tls, started here, bootstrapped from the test relay)
# is joined as /dns4/relay.fabstir.test/tcp/29104/tls/ws and carries a job, and host-t, reachable
# only through relay-tls, advertises circuit addresses through that DNS name and is reached so; a
# relay whose
# certificate is for another name (relay-wrong) fails with DIAL_FAILED while the SDK joins through
# its other bootstrap node. Needs the test network
# (scripts/test-nodes.sh) and the package (scripts/build-pkg.sh). Screenshot:
# artifacts/secure-page.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
source scripts/nodes.sh
source scripts/test-nodes.sh
tools="$FABSTIR_CACHE/e2e"
cp tests/e2e/drive-secure.mjs webdriver.json "$tools/"
site="$(mktemp -d)"
server=""
# The TLS relays started below are this script's own: stopped here, their pid files removed.
trap 'kill $server 2>/dev/null || true; for r in "${NODE_PIDS[@]}"; do kill -TERM "$r" 2>/dev/null || true; done
  rm -f "$FABSTIR_CACHE"/nodes/{relay-tls,relay-wrong,host-t}.pid; rm -rf "$site"' EXIT
cp tests/e2e/secure/* "$site/" && cp -r pkg "$site/pkg"
# A test CA (trusted by Chromium through an NSS database in a HOME of its own, so names are
# checked as on the real web) and certificates it signs: one for *.fabstir.test (the page and
# relay-tls) and one for another name (relay-wrong).
source scripts/test-ca.sh
test_ca "$site"
test_leaf "$site" cert '*.fabstir.test'
test_leaf "$site" wrong 'other.example.test'
mv "$site/cert.key" "$site/key.pem"
home="$site/home"
# relay-tls: a relay listening on /tls/ws with the *.fabstir.test certificate, and relay-wrong
# with the other name's, both joined to the test network.
relay_tcp="$(node_addr relay tcp)"
# relay-tls also listens on TCP (for host-t) and announces its DNS name, as a relay on the real
# web does: /dns4/relay.fabstir.test/tcp/29104/tls/ws.
start_tls_relay() { # NAME PORT CERT KEY [ANOTHER LISTEN ADDRESS] [TOP-LEVEL LINES]
  [ -f "$FABSTIR_CACHE/nodes/$1/config.yaml" ] ||
    "$FABSTIR_NODE_BIN" init --dir "$FABSTIR_CACHE/nodes/$1" --no-mdns >/dev/null
  node_config "$1" <<YAML
listen: [/ip4/127.0.0.1/tcp/$2/tls/ws${5:+, $5}]
bootstrap_nodes: [$relay_tcp]
mdns: { enabled: false }
tls: { cert: $3, key: $4 }
${6:-}
YAML
  node_start "$1"
}
cp "$site/cert.pem" "$site/relay-cert.pem" && cp "$site/key.pem" "$site/relay-key.pem"
start_tls_relay relay-tls 29104 "$site/relay-cert.pem" "$site/relay-key.pem" /ip4/127.0.0.1/tcp/29106 \
  "external_addresses: [/dns4/relay.fabstir.test/tcp/29104/tls/ws]"
start_tls_relay relay-wrong 29105 "$site/wrong.pem" "$site/wrong.key"
tls_id="$(node_addr relay-tls tcp)" && tls_id="${tls_id##*/p2p/}"
# host-t: a host reachable only through relay-tls (it reserves there over TCP), serving demo-tls.
# The circuit addresses it advertises go through the relay's DNS name, and the page reaches it so.
[ -f "$FABSTIR_CACHE/nodes/host-t/config.yaml" ] ||
  "$FABSTIR_NODE_BIN" init --dir "$FABSTIR_CACHE/nodes/host-t" --no-mdns >/dev/null
node_config host-t <<YAML
listen: [/ip4/127.0.0.1/tcp/29107]
bootstrap_nodes: [/ip4/127.0.0.1/tcp/29106/p2p/$tls_id]
mdns: { enabled: false }
relay: { enabled: false }
host:
  reachability: relayed
  models:
    - { id: demo-tls, price_per_token: 1, max_tokens: 4096, backend: { kind: demo, seed: 77, tokens_per_second: 0 } }
YAML
node_start host-t
t_id="$(node_addr host-t tcp)" && t_id="${t_id##*/p2p/}"
dns_circuit="/dns4/relay.fabstir.test/tcp/29104/tls/ws/p2p/$tls_id/p2p-circuit/p2p/$t_id"
node_wait host-t "reachable $dns_circuit"
node_wait host-t "advertised demo-tls"
wrong_id="$(node_addr relay-wrong ws)" && wrong_id="${wrong_id##*/p2p/}"
tls_ws="/dns4/relay.fabstir.test/tcp/29104/tls/ws/p2p/$tls_id"
wrong_ws="/dns4/wrong.fabstir.test/tcp/29105/tls/ws/p2p/$wrong_id"
port=18443
# The page's server; POST /renew replaces relay-tls's certificate files (as certbot's renewal
# does) with the other name's, so the page can see which certificate a new connection gets.
python3 - "$site" "$port" >/dev/null 2>&1 <<'PY' &
import functools, http.server, shutil, ssl, sys
site, port = sys.argv[1], int(sys.argv[2])
class Handler(http.server.SimpleHTTPRequestHandler):
    def do_POST(self):
        if self.path == "/renew":
            shutil.copy(f"{site}/wrong.key", f"{site}/relay-key.pem")
            shutil.copy(f"{site}/wrong.pem", f"{site}/relay-cert.pem")
        self.send_response(204)
        self.end_headers()
handler = functools.partial(Handler, directory=site)
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(f"{site}/cert.pem", f"{site}/key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
server=$!
for _ in $(seq 1 50); do curl -sfk "https://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
prompt="over https"
demo_expectations "$site/expected.json" "$prompt" 32
python3 - "$site/expected.json" "$t_id" "$("$CARGO_TARGET_DIR/debug/fabstir-node" demo-text --seed 77 --prompt "$prompt" --tokens 32)" <<'PY'
import json, sys
path, host, text = sys.argv[1:]
expected = json.load(open(path))
expected["demo-tls"] = {"host": host, "text": text}
json.dump(expected, open(path, "w"))
PY
ws_port="$(sed -E 's|^/ip4/127.0.0.1/tcp/([0-9]+)/ws/.*|\1|' <<<"$FABSTIR_TEST_RELAY_WS")"
ws_dns="/dns4/relay.fabstir.test/tcp/$ws_port/ws/p2p/${FABSTIR_TEST_RELAY_WS##*/p2p/}"
q() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
page="https://app.fabstir.test:$port/?ws=$(q "$ws_dns")&rawWs=$(q "ws://relay.fabstir.test:$ws_port/")&webrtc=$(q "$FABSTIR_TEST_RELAY_WEBRTC")&tlsWs=$(q "$tls_ws")&wrongTls=$(q "$wrong_ws")&dnsCircuit=$(q "$dns_circuit")&prompt=$(q "$prompt")"
mkdir -p artifacts
shot="$PWD/artifacts/secure-page.png"
(cd "$tools" && node drive-secure.mjs "$page" "$home" "$site/expected.json" "$shot")
