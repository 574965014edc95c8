//! The commented `config.yaml` that `fabstir-node init` writes.

use super::*;

/// The commented configuration file written by `init`, with the given listen addresses and mDNS flag.
pub fn default_yaml(listen: &[String], mdns: bool) -> String {
    let d = NodeConfig::default();
    let r = &d.relay;
    let c = &d.connection;
    let listen: String = listen.iter().map(|a| format!("  - {a}\n")).collect();
    format!(
        "# fabstir-node configuration. Relative paths are relative to this file's folder.
# Unknown keys are rejected, so a typo is an error rather than a silently ignored setting.

identity:
  # Ed25519 keypair (libp2p protobuf encoding); must be mode 0600. Decides the peer id.
  key_file: {key}
  # WebRTC certificate (PEM); must be mode 0600. Decides the /certhash of WebRTC-direct addresses.
  webrtc_cert_file: {cert}

# Addresses to listen on: TCP, WebSocket (/ws), TLS WebSocket (/tls/ws or /wss, for pages served
# over https: e.g. /ip4/0.0.0.0/tcp/443/tls/ws, with tls below) and WebRTC-direct (UDP).
listen:
{listen}
# Addresses peers can reach us at, announced through identify and in relay reservations (e.g. a
# public IP or DNS name: /dns4/relay.example.com/tcp/443/tls/ws). When empty, the listen
# addresses are announced.
external_addresses: []

# The certificate of /tls/ws listeners, PEM files as certbot writes them; read again when they
# change (renewal): new connections get the new certificate, open ones stay. A missing, bad,
# mismatched or expired certificate stops the start (exit 2).
# tls: {{ cert: /etc/letsencrypt/live/relay.example.com/fullchain.pem, key: /etc/letsencrypt/live/relay.example.com/privkey.pem }}

# Peers to dial at start and add to the DHT routing table; each must end with /p2p/<peer id>.
bootstrap_nodes: []

# Circuit relay v2 server. Browsers reserve a slot here to be reachable at /p2p-circuit addresses.
# libp2p's own defaults (2 minutes, 128 KiB per circuit) would cut a token stream, so these are generous.
relay:
  enabled: {relay}
  max_reservations: {mr}
  max_reservations_per_peer: {mrp}
  reservation_duration_secs: {rd}
  max_circuits: {mc}
  max_circuits_per_peer: {mcp}
  max_circuit_duration_secs: {mcd}
  max_circuit_bytes: {mcb}
  # Token buckets: burst at once, then one more every refill_secs; burst 0 turns one off. These are
  # libp2p's defaults. All browsers behind one NAT share the per_ip bucket, so a busy relay may
  # want more.
  reservation_rate:
    per_peer: {{ burst: {rpb}, refill_secs: {rpr} }}
    per_ip: {{ burst: {rib}, refill_secs: {rir} }}
  circuit_rate:
    per_peer: {{ burst: {cpb}, refill_secs: {cpr} }}
    per_ip: {{ burst: {cib}, refill_secs: {cir} }}

# Kademlia DHT in server mode, on the Fabstir protocol name ({kad_proto}).
kad:
  enabled: true
  # Provider records other hosts store with us expire after this long unless renewed.
  provider_record_ttl_secs: {prt}

# mDNS discovery of peers on the local network.
mdns:
  enabled: {mdns}

# Liveness: every connection is pinged; after max_ping_failures failures in a row it is closed
# (a browser tab that vanished over WebRTC-direct would otherwise stay connected forever).
connection:
  idle_timeout_secs: {idle}
  ping_interval_secs: {pi}
  ping_timeout_secs: {pt}
  max_ping_failures: {mpf}

log:
  # tracing filter, e.g. info or fabstir_node=debug,libp2p=info (RUST_LOG overrides it).
  level: info

# LLM host role. With no models this node only relays and bootstraps. Examples:
#   models:
#     - id: demo-1
#       price_per_token: 3
#       max_tokens: 4096
#       # The built-in deterministic generator (labelled demo in node info); 0 = unlimited speed.
#       backend: {{ kind: demo, seed: 1, tokens_per_second: 20 }}
#     - id: llama-3-8b
#       price_per_token: 10
#       # Prompt tokens may be priced apart from generated ones (default 0).
#       price_per_prompt_token: 1
#       max_tokens: 4096
#       # The model's context (prompt + answer), announced so clients can tell what fits.
#       context_tokens: 8192
#       # Any OpenAI-compatible streaming server: llama.cpp's llama-server, llama-cpp-python,
#       # vLLM, Ollama. parallel: generations it runs at once (llama-server's -np); the host says
#       # busy beyond it. connect_timeout_secs (5) bounds connecting, idle_timeout_secs (120) the
#       # wait for the answer to start and for each next part of it. continuation: how an answer
#       # another host began is continued (failover): replay (default; asks again, the answer
#       # must repeat the text received) or prefill (llama-server only: it continues a last
#       # assistant message; llama-cpp-python starts a new answer).
#       backend: {{ kind: openai, base_url: http://127.0.0.1:8080, model: llama-3-8b, api_key_env: OPENAI_API_KEY, parallel: 2, continuation: prefill }}
host:
  models: []
  max_concurrent_jobs: {mcj}
  # direct: clients dial our addresses. relayed: we reserve on our bootstrap relays and advertise
  # only /p2p-circuit addresses (for hosts behind NAT).
  reachability: direct
  compute_type: {ct}
  # A job's tokens are kept this long after it ends, for clients that resume its stream.
  token_retention_secs: {trs}
  # Jobs, their tokens and receipts (SQLite, WAL): a restarted host resumes its jobs from it.
  database_file: {dbf}
  offer_ttl_secs: {ots}
  # A new offer holds a job slot this long; then it is a quote (accepting it when the slots are
  # full is answered busy), so a client that collects offers keeps a slot only briefly.
  offer_hold_secs: {ohs}
  # Our models are announced again as DHT provider records this often.
  advertise_interval_secs: {ais}
  # Our catalog announcement (gossipsub topic fabstir/hosts/1: models, prices, load, addresses)
  # counts this long; it is sent again after a third of it and on every change. 1..600.
  announce_ttl_secs: {ats}
  # Whether this node keeps the network's catalog (subscribes to the topic and serves the
  # catalog to pages). Unset: on a relay or a node without models; a node that only hosts
  # publishes its own announcement without receiving every other host's.
  # keep_catalog: true
  # Limits per request and per client peer; a request over one is refused with a typed reason
  # (prompt_too_large, peer_limit, rate_limited).
  max_prompt_bytes: {mpb}
  # Jobs one peer may run at once. Unset: half of max_concurrent_jobs (at least 1), so that one
  # peer id cannot take every slot (offers held count too).
  # max_jobs_per_peer: 2
  # Jobs the peers connected directly from one IP address may run at once (20 peer ids from one
  # machine get what one would). Unset: as max_jobs_per_peer. Raise it when many users reach this
  # host through one NAT; peers that come through a relay are counted per peer id only.
  # max_jobs_per_ip: 2
  # Jobs nobody reads are stopped: no token stream within stream_open_secs of the start, or none
  # for client_grace_secs after the last one closed (a client back sooner resumes). Generation
  # waits while max_tokens_ahead tokens ahead of the furthest a client read, and a job runs at
  # most max_job_secs (then ends with finishReason length).
  stream_open_secs: {sos}
  client_grace_secs: {cgs}
  max_tokens_ahead: {mta}
  max_job_secs: {mjs}
  # On SIGTERM or SIGINT the node takes no new jobs (and /readyz says not ready), lets running
  # jobs finish for up to shutdown_grace_secs, ends the rest with a recoverable error their
  # clients fail over on, and exits 0. A second signal exits at once.
  shutdown_grace_secs: {sgs}
  # Offer requests per peer: burst at once, then one more every refill_secs.
  request_rate: {{ burst: {rrb}, refill_secs: {rrr} }}

# Which peers may connect at all (checked on every connection, before any protocol).
# allowlist: when not empty, only these peer ids (and our bootstrap nodes) may connect.
# blocklist: these peer ids are refused.
security:
  allowlist: []
  blocklist: []

# Prometheus metrics (connections, bandwidth by transport, relay, DHT, jobs by outcome, tokens,
# time to first token) at http://<listen>/metrics.
metrics:
  enabled: false
  listen: {ml}
",
        key = d.identity.key_file.display(),
        cert = d.identity.webrtc_cert_file.display(),
        relay = r.enabled,
        mr = r.max_reservations,
        mrp = r.max_reservations_per_peer,
        rd = r.reservation_duration_secs,
        mc = r.max_circuits,
        mcp = r.max_circuits_per_peer,
        mcd = r.max_circuit_duration_secs,
        mcb = r.max_circuit_bytes,
        rpb = r.reservation_rate.per_peer.burst,
        rpr = r.reservation_rate.per_peer.refill_secs,
        rib = r.reservation_rate.per_ip.burst,
        rir = r.reservation_rate.per_ip.refill_secs,
        cpb = r.circuit_rate.per_peer.burst,
        cpr = r.circuit_rate.per_peer.refill_secs,
        cib = r.circuit_rate.per_ip.burst,
        cir = r.circuit_rate.per_ip.refill_secs,
        kad_proto = fabstir_protocol::KAD_PROTOCOL,
        idle = c.idle_timeout_secs,
        pi = c.ping_interval_secs,
        pt = c.ping_timeout_secs,
        mpf = c.max_ping_failures,
        prt = d.kad.provider_record_ttl_secs,
        mcj = d.host.max_concurrent_jobs,
        mpb = d.host.max_prompt_bytes,
        ohs = d.host.offer_hold_secs,
        sos = d.host.stream_open_secs,
        cgs = d.host.client_grace_secs,
        mta = d.host.max_tokens_ahead,
        mjs = d.host.max_job_secs,
        sgs = d.host.shutdown_grace_secs,
        rrb = d.host.request_rate.burst,
        rrr = d.host.request_rate.refill_secs,
        ct = d.host.compute_type,
        trs = d.host.token_retention_secs,
        dbf = d
            .host
            .database_file
            .as_ref()
            .map_or("null".into(), |f| f.display().to_string()),
        ots = d.host.offer_ttl_secs,
        ais = d.host.advertise_interval_secs,
        ats = d.host.announce_ttl_secs,
        ml = d.metrics.listen,
    )
}
