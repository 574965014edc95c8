#!/usr/bin/env bash
# The real browser rules of a page served over https: (issue 13): the package's page is served at
# https://app.fabstir.test:18443 with a certificate the suite makes for *.fabstir.test, in headless
# Chromium that maps *.fabstir.test to 127.0.0.1 and trusts only that certificate. From there a raw
# ws:// WebSocket is refused by the browser, the SDK refuses a plain /ws address to
# relay.fabstir.test up front (INVALID_CONFIG for a bootstrap node, DIAL_FAILED for dial), and
# WebRTC-direct to the relay works alongside with a job streamed exactly; and a relay that listens
# on /tls/ws with that certificate (relay-tls, started here, bootstrapped from the test relay)
# is joined as /dns4/relay.fabstir.test/tcp/29104/tls/ws and carries a job. Needs the test network
# (scripts/test-nodes.sh) and the package (scripts/build-pkg.sh). Screenshot:
# artifacts/secure-page.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tools="$FABSTIR_CACHE/e2e"
cp tests/e2e/drive-secure.mjs webdriver.json "$tools/"
site="$(mktemp -d)"
server=""
relay_tls=""
trap 'kill $server 2>/dev/null || true; [ -n "$relay_tls" ] && kill -TERM $relay_tls 2>/dev/null; rm -rf "$site"' EXIT
cp tests/e2e/secure/* "$site/" && cp -r pkg "$site/pkg"
# A certificate for *.fabstir.test (two days, P-256), and the base64 SHA-256 of its public key
# (SPKI), the one thing Chromium is told to trust.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$site/key.pem" -out "$site/cert.pem" -subj "/CN=*.fabstir.test" \
  -addext "subjectAltName=DNS:*.fabstir.test" 2>/dev/null
spki="$(openssl x509 -in "$site/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der \
  | openssl dgst -sha256 -binary | base64)"
# relay-tls: a relay listening on /tls/ws with that certificate, joined to the test network.
nodes="$FABSTIR_CACHE/nodes"
node="$CARGO_TARGET_DIR/debug/fabstir-node"
[ -f "$nodes/relay-tls/config.yaml" ] || "$node" init --dir "$nodes/relay-tls" --no-mdns >/dev/null
relay_tcp="$("$node" info --config "$nodes/relay/config.yaml" --json | python3 -c 'import json, sys; print(next(a for a in json.load(sys.stdin)["multiaddrs"] if "/ws" not in a and "/udp/" not in a))')"
cat >"$nodes/relay-tls/config.yaml" <<YAML
listen: [/ip4/127.0.0.1/tcp/29104/tls/ws]
bootstrap_nodes: [$relay_tcp]
mdns: { enabled: false }
tls: { cert: $site/cert.pem, key: $site/key.pem }
YAML
"$node" start --config "$nodes/relay-tls/config.yaml" >"$nodes/relay-tls.out" 2>"$nodes/relay-tls.log" &
relay_tls=$!
for _ in $(seq 1 100); do grep -qx ready "$nodes/relay-tls.out" && break; sleep 0.1; done
grep -qx ready "$nodes/relay-tls.out" || { cat "$nodes/relay-tls.log" >&2; echo "relay-tls did not start" >&2; exit 1; }
relay_tls_id="$(grep -o 'peer id [A-Za-z0-9]*' "$nodes/relay-tls.out" | cut -d' ' -f3)"
tls_ws="/dns4/relay.fabstir.test/tcp/29104/tls/ws/p2p/$relay_tls_id"
port=18443
python3 - "$site" "$port" >/dev/null 2>&1 <<'PY' &
import functools, http.server, ssl, sys
site, port = sys.argv[1], int(sys.argv[2])
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=site)
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(f"{site}/cert.pem", f"{site}/key.pem")
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
PY
server=$!
for _ in $(seq 1 50); do curl -sfk "https://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
prompt="over https"
demo_text() { "$CARGO_TARGET_DIR/debug/fabstir-node" demo-text --seed "$1" --prompt "$prompt" --tokens 32; }
python3 - "$site/expected.json" "$FABSTIR_TEST_HOST_B_ID" "$(demo_text 22)" "${FABSTIR_TEST_HOST_A_WS##*/p2p/}" "$(demo_text 11)" <<'PY'
import json, sys
out, b, b_text, a, a_text = sys.argv[1:]
json.dump({b: b_text, a: a_text}, open(out, "w"))
PY
ws_port="$(sed -E 's|^/ip4/127.0.0.1/tcp/([0-9]+)/ws/.*|\1|' <<<"$FABSTIR_TEST_RELAY_WS")"
ws_dns="/dns4/relay.fabstir.test/tcp/$ws_port/ws/p2p/${FABSTIR_TEST_RELAY_WS##*/p2p/}"
q() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
page="https://app.fabstir.test:$port/?ws=$(q "$ws_dns")&rawWs=$(q "ws://relay.fabstir.test:$ws_port/")&webrtc=$(q "$FABSTIR_TEST_RELAY_WEBRTC")&tlsWs=$(q "$tls_ws")&prompt=$(q "$prompt")"
mkdir -p artifacts
shot="$PWD/artifacts/secure-page.png"
(cd "$tools" && node drive-secure.mjs "$page" "$spki" "$site/expected.json" "$shot")
