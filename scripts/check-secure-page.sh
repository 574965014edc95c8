#!/usr/bin/env bash
# The real browser rules of a page served over https: (issue 13): the package's page is served at
# https://app.fabstir.test:18443 with a certificate for *.fabstir.test from a test CA the suite
# makes, in headless Chromium that maps *.fabstir.test to 127.0.0.1 and trusts that CA (and no
# blanket certificate-error exemption). From there a raw
# ws:// WebSocket is refused by the browser, the SDK refuses a plain /ws address to
# relay.fabstir.test up front (INVALID_CONFIG for a bootstrap node, DIAL_FAILED for dial), and
# WebRTC-direct to the relay works alongside with a job streamed exactly; and a relay that listens
# on /tls/ws with that certificate (relay-tls, started here, bootstrapped from the test relay)
# is joined as /dns4/relay.fabstir.test/tcp/29104/tls/ws and carries a job; a relay whose
# certificate is for another name (relay-wrong) fails with DIAL_FAILED while the SDK joins through
# its other bootstrap node. Needs the test network
# (scripts/test-nodes.sh) and the package (scripts/build-pkg.sh). Screenshot:
# artifacts/secure-page.png.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
tools="$FABSTIR_CACHE/e2e"
cp tests/e2e/drive-secure.mjs webdriver.json "$tools/"
site="$(mktemp -d)"
server=""
relays=()
trap 'kill $server 2>/dev/null || true; for r in "${relays[@]}"; do kill -TERM "$r" 2>/dev/null || true; done; rm -rf "$site"' EXIT
cp tests/e2e/secure/* "$site/" && cp -r pkg "$site/pkg"
# A test CA, and certificates it signs (two days, P-256): one for *.fabstir.test (the page and
# relay-tls) and one for another name (relay-wrong). Chromium trusts that CA through an NSS
# database in a HOME of its own (certutil), so names are checked as on the real web.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -keyout "$site/ca.key" -out "$site/ca.pem" -subj "/CN=fabstir test CA" \
  -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() {
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$site/$1.key" \
    -out "$site/$1.csr" -subj "/CN=$2" 2>/dev/null
  printf 'subjectAltName=DNS:%s\nbasicConstraints=CA:false\nextendedKeyUsage=serverAuth\n' "$2" >"$site/$1.ext"
  openssl x509 -req -in "$site/$1.csr" -CA "$site/ca.pem" -CAkey "$site/ca.key" -CAcreateserial \
    -days 2 -out "$site/$1.pem" -extfile "$site/$1.ext" 2>/dev/null
}
leaf cert '*.fabstir.test'
leaf wrong 'other.example.test'
mv "$site/cert.key" "$site/key.pem"
home="$site/home"
mkdir -p "$home/.pki/nssdb"
certutil -d "sql:$home/.pki/nssdb" -N --empty-password
certutil -d "sql:$home/.pki/nssdb" -A -n fabstir-test-ca -t "C,," -i "$site/ca.pem"
# relay-tls: a relay listening on /tls/ws with the *.fabstir.test certificate, and relay-wrong
# with the other name's, both joined to the test network.
nodes="$FABSTIR_CACHE/nodes"
node="$CARGO_TARGET_DIR/debug/fabstir-node"
relay_tcp="$("$node" info --config "$nodes/relay/config.yaml" --json | python3 -c 'import json, sys; print(next(a for a in json.load(sys.stdin)["multiaddrs"] if "/ws" not in a and "/udp/" not in a))')"
start_tls_relay() { # NAME PORT CERT KEY: starts it and prints its peer id
  [ -f "$nodes/$1/config.yaml" ] || "$node" init --dir "$nodes/$1" --no-mdns >/dev/null
  printf 'listen: [/ip4/127.0.0.1/tcp/%s/tls/ws]\nbootstrap_nodes: [%s]\nmdns: { enabled: false }\ntls: { cert: %s, key: %s }\n' \
    "$2" "$relay_tcp" "$3" "$4" >"$nodes/$1/config.yaml"
  "$node" start --config "$nodes/$1/config.yaml" >"$nodes/$1.out" 2>"$nodes/$1.log" &
  relays+=("$!")
  for _ in $(seq 1 100); do grep -qx ready "$nodes/$1.out" && break; sleep 0.1; done
  grep -qx ready "$nodes/$1.out" || { cat "$nodes/$1.log" >&2; echo "$1 did not start" >&2; return 1; }
}
cp "$site/cert.pem" "$site/relay-cert.pem" && cp "$site/key.pem" "$site/relay-key.pem"
start_tls_relay relay-tls 29104 "$site/relay-cert.pem" "$site/relay-key.pem"
start_tls_relay relay-wrong 29105 "$site/wrong.pem" "$site/wrong.key"
peer_of_node() { grep -o 'peer id [A-Za-z0-9]*' "$nodes/$1.out" | cut -d' ' -f3; }
tls_ws="/dns4/relay.fabstir.test/tcp/29104/tls/ws/p2p/$(peer_of_node relay-tls)"
wrong_ws="/dns4/wrong.fabstir.test/tcp/29105/tls/ws/p2p/$(peer_of_node relay-wrong)"
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
demo_text() { "$CARGO_TARGET_DIR/debug/fabstir-node" demo-text --seed "$1" --prompt "$prompt" --tokens 32; }
python3 - "$site/expected.json" "$FABSTIR_TEST_HOST_B_ID" "$(demo_text 22)" "${FABSTIR_TEST_HOST_A_WS##*/p2p/}" "$(demo_text 11)" <<'PY'
import json, sys
out, b, b_text, a, a_text = sys.argv[1:]
json.dump({b: b_text, a: a_text}, open(out, "w"))
PY
ws_port="$(sed -E 's|^/ip4/127.0.0.1/tcp/([0-9]+)/ws/.*|\1|' <<<"$FABSTIR_TEST_RELAY_WS")"
ws_dns="/dns4/relay.fabstir.test/tcp/$ws_port/ws/p2p/${FABSTIR_TEST_RELAY_WS##*/p2p/}"
q() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }
page="https://app.fabstir.test:$port/?ws=$(q "$ws_dns")&rawWs=$(q "ws://relay.fabstir.test:$ws_port/")&webrtc=$(q "$FABSTIR_TEST_RELAY_WEBRTC")&tlsWs=$(q "$tls_ws")&wrongTls=$(q "$wrong_ws")&prompt=$(q "$prompt")"
mkdir -p artifacts
shot="$PWD/artifacts/secure-page.png"
(cd "$tools" && node drive-secure.mjs "$page" "$home" "$site/expected.json" "$shot")
