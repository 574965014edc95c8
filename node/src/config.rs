//! The node's YAML configuration: schema, defaults, loading and validation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use libp2p::Multiaddr;
use serde::{Deserialize, Serialize};

use crate::error::NodeError;

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// Where the identity key and the WebRTC certificate live.
    pub identity: IdentityConfig,
    /// Multiaddrs to listen on (TCP, `/ws` WebSocket, `/webrtc-direct` UDP).
    pub listen: Vec<String>,
    /// Addresses announced to peers in addition to the listen addresses.
    pub external_addresses: Vec<String>,
    /// Peers to dial at start and add to the DHT routing table (`/p2p/<id>` required).
    pub bootstrap_nodes: Vec<String>,
    /// Circuit relay v2 server settings.
    pub relay: RelayConfig,
    /// Kademlia DHT settings.
    pub kad: KadConfig,
    /// mDNS local discovery settings.
    pub mdns: MdnsConfig,
    /// Connection liveness settings.
    pub connection: ConnectionConfig,
    /// Logging settings.
    pub log: LogConfig,
    /// The LLM host role: models served and job limits.
    pub host: HostConfig,
    /// The Prometheus metrics endpoint.
    pub metrics: MetricsConfig,
    /// Which peers may connect.
    pub security: crate::security::SecurityConfig,
}

/// The Prometheus metrics endpoint (`GET /metrics`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsConfig {
    /// Whether to serve it.
    pub enabled: bool,
    /// The TCP address to serve it on, e.g. `127.0.0.1:9464`.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig {
            enabled: false,
            listen: "127.0.0.1:9464".into(),
        }
    }
}

/// The LLM host role. With no models the node is a relay/bootstrap node only.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// Models served.
    pub models: Vec<HostedModel>,
    /// Jobs run (or offered) at once.
    pub max_concurrent_jobs: u32,
    /// `direct` (peers dial our own addresses) or `relayed` (only through our bootstrap relays).
    pub reachability: Reachability,
    /// What we compute on, reported in node info (e.g. `cpu`, `gpu`).
    pub compute_type: String,
    /// How long a finished job's tokens are kept for clients that resume its stream.
    pub token_retention_secs: u64,
    /// How long an offer stays open for the client to accept it.
    pub offer_ttl_secs: u64,
    /// How often our models are announced again as DHT provider records.
    pub advertise_interval_secs: u64,
    /// The longest prompt accepted, in bytes (at most the protocol's 32 KiB).
    pub max_prompt_bytes: usize,
    /// Jobs one peer may run (or hold offers for) at once.
    pub max_jobs_per_peer: u32,
    /// How fast one peer may ask for offers (a token bucket; `burst: 0` turns it off).
    pub request_rate: RateLimit,
}

/// How clients reach a host.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Reachability {
    /// Clients dial our listen (or external) addresses.
    Direct,
    /// We reserve on our bootstrap relays and advertise only `/p2p-circuit` addresses.
    Relayed,
}

/// One served model.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HostedModel {
    /// The model id clients ask for.
    pub id: String,
    /// Price per generated token, in the network's smallest price unit.
    pub price_per_token: u64,
    /// The most tokens one job may generate.
    pub max_tokens: u32,
    /// What generates the tokens.
    pub backend: BackendConfig,
}

/// What generates a model's tokens.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackendConfig {
    /// The built-in deterministic generator (`fabstir_protocol::demo`), for demos and tests.
    Demo {
        /// Mixed with each prompt; the same seed and prompt always give the same text.
        #[serde(default)]
        seed: u64,
        /// Tokens generated per second; 0 means as fast as possible.
        #[serde(default = "default_tokens_per_second")]
        tokens_per_second: f64,
    },
    /// An OpenAI-compatible server's streaming `POST {base_url}/v1/chat/completions`.
    Openai {
        /// e.g. `http://127.0.0.1:8080` (llama.cpp server), `http://127.0.0.1:11434` (Ollama).
        base_url: String,
        /// The model name the server knows.
        model: String,
        /// The environment variable holding the API key, sent as a bearer token; none when unset.
        #[serde(default)]
        api_key_env: Option<String>,
        /// Seconds to wait for the server's answer to start.
        #[serde(default = "default_backend_timeout")]
        connect_timeout_secs: u64,
    },
}

fn default_tokens_per_second() -> f64 {
    20.0
}

fn default_backend_timeout() -> u64 {
    30
}

impl BackendConfig {
    /// The kind reported in node info.
    pub fn kind(&self) -> fabstir_protocol::messages::BackendKind {
        use fabstir_protocol::messages::BackendKind;
        match self {
            BackendConfig::Demo { .. } => BackendKind::Demo,
            BackendConfig::Openai { .. } => BackendKind::Openai,
        }
    }
}

/// Identity files, relative to the configuration file's folder.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Ed25519 keypair in libp2p protobuf encoding (mode 0600).
    pub key_file: PathBuf,
    /// WebRTC certificate in PEM (mode 0600); keeps the `/certhash` stable across restarts.
    pub webrtc_cert_file: PathBuf,
}

/// Circuit relay v2 server limits.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RelayConfig {
    /// Whether this node relays for others.
    pub enabled: bool,
    /// Reservations held at once, all peers together.
    pub max_reservations: usize,
    /// Reservations held at once by one peer.
    pub max_reservations_per_peer: usize,
    /// How long a reservation lasts before the client must renew it.
    pub reservation_duration_secs: u64,
    /// Circuits relayed at once, all peers together.
    pub max_circuits: usize,
    /// Circuits relayed at once for one peer.
    pub max_circuits_per_peer: usize,
    /// How long one circuit may stay open.
    pub max_circuit_duration_secs: u64,
    /// How many bytes one circuit may carry, each direction.
    pub max_circuit_bytes: u64,
    /// Rate limits on reservations (token buckets per peer and per IP address).
    pub reservation_rate: RateLimits,
    /// Rate limits on circuits opened, by their source (per peer and per IP address).
    pub circuit_rate: RateLimits,
}

/// Token-bucket rate limits, per peer and per IP address (libp2p's defaults when omitted).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimits {
    /// Per peer id.
    pub per_peer: RateLimit,
    /// Per IP address (all peers behind one NAT share it).
    pub per_ip: RateLimit,
}

/// A token bucket: `burst` at once, then one more every `refill_secs`. `burst: 0` turns it off.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed at once.
    pub burst: u32,
    /// Seconds until one more is allowed.
    pub refill_secs: u64,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::libp2p_default()
    }
}

impl RateLimits {
    /// libp2p's defaults: per peer 30, then one every 2 minutes; per IP 60, then one a minute.
    fn libp2p_default() -> Self {
        RateLimits {
            per_peer: RateLimit {
                burst: 30,
                refill_secs: 120,
            },
            per_ip: RateLimit {
                burst: 60,
                refill_secs: 60,
            },
        }
    }
}

/// Kademlia settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KadConfig {
    /// Whether to run the DHT (in server mode).
    pub enabled: bool,
    /// How long provider records others store with us stay valid without being renewed.
    pub provider_record_ttl_secs: u64,
}

/// mDNS settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MdnsConfig {
    /// Whether to discover peers on the local network with mDNS.
    pub enabled: bool,
}

/// Connection liveness settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ConnectionConfig {
    /// A connection with no open streams is closed after this long.
    pub idle_timeout_secs: u64,
    /// How often to ping each connection.
    pub ping_interval_secs: u64,
    /// How long a ping may take before it fails.
    pub ping_timeout_secs: u64,
    /// Consecutive failed pings after which the connection is closed.
    pub max_ping_failures: u32,
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `fabstir_node=debug,libp2p=info`; `RUST_LOG` wins.
    pub level: String,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            identity: IdentityConfig::default(),
            listen: vec![
                "/ip4/0.0.0.0/tcp/4001".into(),
                "/ip4/0.0.0.0/tcp/4002/ws".into(),
                "/ip4/0.0.0.0/udp/4003/webrtc-direct".into(),
            ],
            external_addresses: Vec::new(),
            bootstrap_nodes: Vec::new(),
            relay: RelayConfig::default(),
            kad: KadConfig::default(),
            mdns: MdnsConfig::default(),
            connection: ConnectionConfig::default(),
            log: LogConfig::default(),
            host: HostConfig::default(),
            metrics: MetricsConfig::default(),
            security: crate::security::SecurityConfig::default(),
        }
    }
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            key_file: "identity.key".into(),
            webrtc_cert_file: "webrtc.pem".into(),
        }
    }
}

impl Default for RelayConfig {
    fn default() -> Self {
        RelayConfig {
            enabled: true,
            max_reservations: 1024,
            max_reservations_per_peer: 4,
            reservation_duration_secs: 3600,
            max_circuits: 256,
            max_circuits_per_peer: 16,
            max_circuit_duration_secs: 24 * 3600,
            max_circuit_bytes: 16 << 30,
            reservation_rate: RateLimits::libp2p_default(),
            circuit_rate: RateLimits::libp2p_default(),
        }
    }
}

impl Default for ConnectionConfig {
    fn default() -> Self {
        ConnectionConfig {
            idle_timeout_secs: 600,
            ping_interval_secs: 15,
            ping_timeout_secs: 10,
            max_ping_failures: 2,
        }
    }
}

impl Default for KadConfig {
    fn default() -> Self {
        KadConfig {
            enabled: true,
            provider_record_ttl_secs: 1800,
        }
    }
}

impl Default for MdnsConfig {
    fn default() -> Self {
        MdnsConfig { enabled: true }
    }
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            models: Vec::new(),
            max_concurrent_jobs: 4,
            reachability: Reachability::Direct,
            compute_type: "cpu".into(),
            token_retention_secs: 600,
            offer_ttl_secs: 30,
            advertise_interval_secs: 300,
            max_prompt_bytes: fabstir_protocol::messages::MAX_PROMPT_LEN,
            max_jobs_per_peer: 4,
            request_rate: RateLimit {
                burst: 20,
                refill_secs: 1,
            },
        }
    }
}

impl NodeConfig {
    /// What the info protocol reports about this node, with its current load and counters.
    pub fn node_info(
        &self,
        current_load: u32,
        stats: fabstir_protocol::messages::HostStats,
    ) -> fabstir_protocol::messages::NodeInfo {
        use fabstir_protocol::messages::{ModelInfo, NodeInfo};
        NodeInfo {
            version: env!("CARGO_PKG_VERSION").into(),
            models: self
                .host
                .models
                .iter()
                .map(|m| ModelInfo {
                    id: m.id.clone(),
                    price_per_token: m.price_per_token,
                    max_tokens: m.max_tokens,
                    backend: m.backend.kind(),
                })
                .collect(),
            max_concurrent_jobs: self.host.max_concurrent_jobs,
            current_load,
            compute_type: self.host.compute_type.clone(),
            stats,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
        }
    }
}

/// A configuration that passed validation, with paths resolved and addresses parsed.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The configuration as written.
    pub raw: NodeConfig,
    /// The identity key file, resolved against the configuration's folder.
    pub key_file: PathBuf,
    /// The WebRTC certificate file, resolved against the configuration's folder.
    pub webrtc_cert_file: PathBuf,
    /// Parsed listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Parsed external addresses.
    pub external_addresses: Vec<Multiaddr>,
    /// Parsed bootstrap addresses with their peer ids.
    pub bootstrap_nodes: Vec<(libp2p::PeerId, Multiaddr)>,
    /// The parsed `security` lists.
    pub security: crate::security::PeerLists,
}

impl LoadedConfig {
    /// How often to ping each connection.
    pub fn ping_interval(&self) -> Duration {
        Duration::from_secs(self.raw.connection.ping_interval_secs)
    }
}

/// Reads, parses and validates the configuration file at `path`.
pub fn load(path: &Path) -> Result<LoadedConfig, NodeError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| config_error(path, "file", e.to_string()))?;
    parse(path, &text)
}

/// Parses and validates configuration text; `path` names the file in errors and anchors relative paths.
pub fn parse(path: &Path, text: &str) -> Result<LoadedConfig, NodeError> {
    let raw: NodeConfig = if text.trim().is_empty() {
        NodeConfig::default()
    } else {
        let de = serde_yaml::Deserializer::from_str(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let field = e.path().to_string();
            let field = if field == "." {
                "file".to_string()
            } else {
                field
            };
            config_error(path, &field, e.into_inner().to_string())
        })?
    };
    validate(path, raw)
}

fn validate(path: &Path, raw: NodeConfig) -> Result<LoadedConfig, NodeError> {
    let err = |field: &str, message: String| config_error(path, field, message);
    if raw.listen.is_empty() {
        return Err(err(
            "listen",
            "at least one listen address is required".into(),
        ));
    }
    let listen = parse_addrs(path, "listen", &raw.listen)?;
    let external_addresses = parse_addrs(path, "external_addresses", &raw.external_addresses)?;
    let mut bootstrap_nodes = Vec::new();
    for (i, addr) in parse_addrs(path, "bootstrap_nodes", &raw.bootstrap_nodes)?
        .into_iter()
        .enumerate()
    {
        let Some(peer) = peer_id_of(&addr) else {
            return Err(err(
                &format!("bootstrap_nodes[{i}]"),
                format!("{addr} must end with /p2p/<peer id>"),
            ));
        };
        bootstrap_nodes.push((peer, addr));
    }
    let c = &raw.connection;
    for (field, value) in [
        ("connection.ping_interval_secs", c.ping_interval_secs),
        ("connection.ping_timeout_secs", c.ping_timeout_secs),
        ("connection.idle_timeout_secs", c.idle_timeout_secs),
        (
            "connection.max_ping_failures",
            u64::from(c.max_ping_failures),
        ),
    ] {
        if value == 0 {
            return Err(err(field, "must be greater than 0".into()));
        }
    }
    let r = &raw.relay;
    for (field, value) in [
        ("relay.max_reservations", r.max_reservations as u64),
        (
            "relay.max_reservations_per_peer",
            r.max_reservations_per_peer as u64,
        ),
        (
            "relay.reservation_duration_secs",
            r.reservation_duration_secs,
        ),
        ("relay.max_circuits", r.max_circuits as u64),
        (
            "relay.max_circuits_per_peer",
            r.max_circuits_per_peer as u64,
        ),
        (
            "relay.max_circuit_duration_secs",
            r.max_circuit_duration_secs,
        ),
        ("relay.max_circuit_bytes", r.max_circuit_bytes),
    ] {
        if value == 0 {
            return Err(err(field, "must be greater than 0".into()));
        }
    }
    for (field, limit) in [
        (
            "relay.reservation_rate.per_peer",
            r.reservation_rate.per_peer,
        ),
        ("relay.reservation_rate.per_ip", r.reservation_rate.per_ip),
        ("relay.circuit_rate.per_peer", r.circuit_rate.per_peer),
        ("relay.circuit_rate.per_ip", r.circuit_rate.per_ip),
        ("host.request_rate", raw.host.request_rate),
    ] {
        if limit.burst > 0 && limit.refill_secs == 0 {
            return Err(err(
                &format!("{field}.refill_secs"),
                "must be greater than 0 when burst is set".into(),
            ));
        }
    }
    // libp2p-relay's reservation rate limiters count every renewal like a new reservation, and
    // a reserving peer renews after 3/4 of the duration: a bucket that refills more slowly drains,
    // and then the relay refuses that peer's renewals (ResourceLimitExceeded) and it drops off.
    let renews_every = r.reservation_duration_secs - r.reservation_duration_secs / 4;
    for (field, limit) in [
        (
            "relay.reservation_rate.per_peer",
            r.reservation_rate.per_peer,
        ),
        ("relay.reservation_rate.per_ip", r.reservation_rate.per_ip),
    ] {
        if r.enabled && limit.burst > 0 && limit.refill_secs > renews_every {
            return Err(err(
                &format!("{field}.refill_secs"),
                format!(
                    "{} s is longer than the {renews_every} s between renewals of one \
                     reservation (3/4 of relay.reservation_duration_secs {}): every renewal \
                     counts against this bucket, so a relayed peer would be refused once its \
                     burst of {} is used up; make it at most {renews_every}, raise the duration, \
                     or turn the bucket off with burst 0",
                    limit.refill_secs, r.reservation_duration_secs, limit.burst
                ),
            ));
        }
    }
    let h = &raw.host;
    if !(1..=fabstir_protocol::messages::MAX_PROMPT_LEN).contains(&h.max_prompt_bytes) {
        return Err(err(
            "host.max_prompt_bytes",
            format!(
                "must be 1 to {}, got {}",
                fabstir_protocol::messages::MAX_PROMPT_LEN,
                h.max_prompt_bytes
            ),
        ));
    }
    if h.max_jobs_per_peer == 0 {
        return Err(err(
            "host.max_jobs_per_peer",
            "must be greater than 0".into(),
        ));
    }
    let security = crate::security::PeerLists::parse(path, &raw.security)?;
    for (i, model) in raw.host.models.iter().enumerate() {
        use fabstir_protocol::messages::{MAX_MODEL_ID_LEN, MAX_TOKENS_LIMIT};
        let field = |name: &str| format!("host.models[{i}].{name}");
        if model.id.is_empty() || model.id.len() > MAX_MODEL_ID_LEN {
            return Err(err(
                &field("id"),
                format!("must be 1 to {MAX_MODEL_ID_LEN} bytes"),
            ));
        }
        if !(1..=MAX_TOKENS_LIMIT).contains(&model.max_tokens) {
            return Err(err(
                &field("max_tokens"),
                format!("must be 1 to {MAX_TOKENS_LIMIT}, got {}", model.max_tokens),
            ));
        }
        if raw.host.models[..i].iter().any(|m| m.id == model.id) {
            return Err(err(&field("id"), format!("{:?} is listed twice", model.id)));
        }
        match &model.backend {
            BackendConfig::Demo {
                tokens_per_second, ..
            } => {
                if !(tokens_per_second.is_finite() && *tokens_per_second >= 0.0) {
                    return Err(err(
                        &field("backend.tokens_per_second"),
                        format!("must be 0 (unlimited) or more, got {tokens_per_second}"),
                    ));
                }
            }
            BackendConfig::Openai {
                base_url,
                connect_timeout_secs,
                ..
            } => {
                if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
                    return Err(err(
                        &field("backend.base_url"),
                        format!("must start with http:// or https://, got {base_url:?}"),
                    ));
                }
                if *connect_timeout_secs == 0 {
                    return Err(err(
                        &field("backend.connect_timeout_secs"),
                        "must be greater than 0".into(),
                    ));
                }
            }
        }
    }
    let h = &raw.host;
    for (field, value) in [
        ("host.token_retention_secs", h.token_retention_secs),
        ("host.offer_ttl_secs", h.offer_ttl_secs),
        ("host.advertise_interval_secs", h.advertise_interval_secs),
        (
            "kad.provider_record_ttl_secs",
            raw.kad.provider_record_ttl_secs,
        ),
    ] {
        if value == 0 {
            return Err(err(field, "must be greater than 0".into()));
        }
    }
    if let Err(e) = raw.metrics.listen.parse::<std::net::SocketAddr>() {
        return Err(err(
            "metrics.listen",
            format!("{:?} is not an ip:port address: {e}", raw.metrics.listen),
        ));
    }
    if h.reachability == Reachability::Relayed && raw.bootstrap_nodes.is_empty() {
        return Err(err(
            "host.reachability",
            "relayed needs at least one bootstrap node to reserve on".into(),
        ));
    }
    if raw.host.max_concurrent_jobs == 0 {
        return Err(err(
            "host.max_concurrent_jobs",
            "must be greater than 0".into(),
        ));
    }
    if raw
        .log
        .level
        .parse::<tracing_subscriber::EnvFilter>()
        .is_err()
    {
        return Err(err(
            "log.level",
            format!("{:?} is not a valid log filter", raw.log.level),
        ));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok(LoadedConfig {
        key_file: dir.join(&raw.identity.key_file),
        webrtc_cert_file: dir.join(&raw.identity.webrtc_cert_file),
        listen,
        external_addresses,
        bootstrap_nodes,
        security,
        raw,
    })
}

fn parse_addrs(path: &Path, field: &str, addrs: &[String]) -> Result<Vec<Multiaddr>, NodeError> {
    addrs
        .iter()
        .enumerate()
        .map(|(i, a)| {
            a.parse::<Multiaddr>().map_err(|e| {
                config_error(
                    path,
                    &format!("{field}[{i}]"),
                    format!("invalid multiaddr {a:?}: {e}"),
                )
            })
        })
        .collect()
}

/// The peer id at the end of a `/p2p/<id>` multiaddr, if any.
pub fn peer_id_of(addr: &Multiaddr) -> Option<libp2p::PeerId> {
    match addr.iter().last() {
        Some(libp2p::multiaddr::Protocol::P2p(id)) => Some(id),
        _ => None,
    }
}

fn config_error(path: &Path, field: &str, message: String) -> NodeError {
    NodeError::Config {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    }
}

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

# Addresses to listen on: TCP, WebSocket (/ws) and WebRTC-direct (UDP).
listen:
{listen}
# Addresses peers can reach us at, announced through identify and in relay reservations (e.g. a
# public IP or DNS name). When empty, the listen addresses are announced.
external_addresses: []

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
#       max_tokens: 4096
#       # Any OpenAI-compatible streaming server: llama.cpp server, vLLM, Ollama, exo.
#       backend: {{ kind: openai, base_url: http://127.0.0.1:8080, model: llama-3-8b, api_key_env: OPENAI_API_KEY }}
host:
  models: []
  max_concurrent_jobs: {mcj}
  # direct: clients dial our addresses. relayed: we reserve on our bootstrap relays and advertise
  # only /p2p-circuit addresses (for hosts behind NAT).
  reachability: direct
  compute_type: {ct}
  # A job's tokens are kept this long after it ends, for clients that resume its stream.
  token_retention_secs: {trs}
  offer_ttl_secs: {ots}
  # Our models are announced again as DHT provider records this often.
  advertise_interval_secs: {ais}
  # Limits per request and per client peer; a request over one is refused with a typed reason
  # (prompt_too_large, peer_limit, rate_limited).
  max_prompt_bytes: {mpb}
  max_jobs_per_peer: {mjp}
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
        mjp = d.host.max_jobs_per_peer,
        rrb = d.host.request_rate.burst,
        rrr = d.host.request_rate.refill_secs,
        ct = d.host.compute_type,
        trs = d.host.token_retention_secs,
        ots = d.host.offer_ttl_secs,
        ais = d.host.advertise_interval_secs,
        ml = d.metrics.listen,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(text: &str) -> String {
        match parse(Path::new("c.yaml"), text) {
            Err(NodeError::Config { field, .. }) => field,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn generated_default_parses_to_the_defaults() {
        let listen = NodeConfig::default().listen;
        let loaded = parse(Path::new("/x/c.yaml"), &default_yaml(&listen, true)).unwrap();
        assert_eq!(loaded.raw, NodeConfig::default());
        assert_eq!(loaded.key_file, Path::new("/x/identity.key"));
        assert_eq!(loaded.listen.len(), 3);
    }

    #[test]
    fn unknown_keys_are_named() {
        assert_eq!(field_of("relay:\n  max_circuit: 3\n"), "relay.max_circuit");
        assert_eq!(field_of("bogus: 1\n"), "bogus");
    }

    #[test]
    fn wrong_types_and_values_are_named() {
        assert_eq!(
            field_of("relay:\n  max_circuits: lots\n"),
            "relay.max_circuits"
        );
        assert_eq!(
            field_of("listen: [\"/ip4/1.2.3.4/tcp/1\", \"not-an-addr\"]\n"),
            "listen[1]"
        );
        assert_eq!(
            field_of("connection:\n  ping_interval_secs: 0\n"),
            "connection.ping_interval_secs"
        );
        assert_eq!(
            field_of("bootstrap_nodes: [\"/ip4/127.0.0.1/tcp/1\"]\n"),
            "bootstrap_nodes[0]"
        );
        assert_eq!(field_of("listen: []\n"), "listen");
        assert_eq!(field_of("log:\n  level: \"[\"\n"), "log.level");
        let model = |extra: &str| {
            format!("host:\n  max_concurrent_jobs: 1\n  models:\n    - {{ id: m, price_per_token: 1, max_tokens: 10, backend: {{ kind: demo{extra} }} }}\n")
        };
        assert!(parse(Path::new("c.yaml"), &model("")).is_ok());
        // serde reports unknown keys inside the tagged backend at the backend (the message names x).
        assert_eq!(field_of(&model(", x: 1")), "host.models[0].backend");
        assert_eq!(
            field_of(&model(", tokens_per_second: -1")),
            "host.models[0].backend.tokens_per_second"
        );
        assert_eq!(
            field_of(&model("").replace("kind: demo", "kind: magic")),
            "host.models[0].backend.kind"
        );
        assert_eq!(
            field_of(&model("").replace("kind: demo", "kind: openai, model: x, base_url: ftp://x")),
            "host.models[0].backend.base_url"
        );
        assert_eq!(
            field_of(&model("").replace("max_tokens: 10", "max_tokens: 0")),
            "host.models[0].max_tokens"
        );
        assert_eq!(
            field_of(&model("").replace("max_concurrent_jobs: 1", "max_concurrent_jobs: 0")),
            "host.max_concurrent_jobs"
        );
        assert_eq!(
            field_of("host:\n  reachability: relayed\n"),
            "host.reachability"
        );
        assert_eq!(
            field_of("host:\n  token_retention_secs: 0\n"),
            "host.token_retention_secs"
        );
        assert_eq!(
            field_of("metrics:\n  listen: localhost\n"),
            "metrics.listen"
        );
    }

    /// Every field of the file, each with a bad value, is named in the error (a table, so a new
    /// field without a row here is easy to spot in review).
    #[test]
    fn every_field_has_its_bad_value_named() {
        let demo = "backend: { kind: demo, seed: 1, tokens_per_second: 0 }";
        let model = |m: &str| format!("host:\n  models:\n    - {{ {m} }}\n");
        let ok_model = |extra: &str| {
            model(&format!(
                "id: m, price_per_token: 1, max_tokens: 10, {demo}{extra}"
            ))
        };
        let openai = |b: &str| {
            model(&format!("id: m, price_per_token: 1, max_tokens: 10, backend: {{ kind: openai, base_url: \"http://x\", model: x{b} }}"))
        };
        let cases: Vec<(String, &str)> = vec![
            ("identity:\n  key_file: [1]\n".into(), "identity.key_file"),
            (
                "identity:\n  webrtc_cert_file: {}\n".into(),
                "identity.webrtc_cert_file",
            ),
            ("listen: []\n".into(), "listen"),
            (
                "external_addresses: [\"x\"]\n".into(),
                "external_addresses[0]",
            ),
            (
                "bootstrap_nodes: [\"/ip4/1.2.3.4/tcp/1\"]\n".into(),
                "bootstrap_nodes[0]",
            ),
            ("relay:\n  enabled: maybe\n".into(), "relay.enabled"),
            (
                "relay:\n  max_reservations: 0\n".into(),
                "relay.max_reservations",
            ),
            (
                "relay:\n  max_reservations_per_peer: 0\n".into(),
                "relay.max_reservations_per_peer",
            ),
            (
                "relay:\n  reservation_duration_secs: 0\n".into(),
                "relay.reservation_duration_secs",
            ),
            ("relay:\n  max_circuits: 0\n".into(), "relay.max_circuits"),
            (
                "relay:\n  max_circuits_per_peer: 0\n".into(),
                "relay.max_circuits_per_peer",
            ),
            (
                "relay:\n  max_circuit_duration_secs: 0\n".into(),
                "relay.max_circuit_duration_secs",
            ),
            (
                "relay:\n  max_circuit_bytes: 0\n".into(),
                "relay.max_circuit_bytes",
            ),
            (
                "relay:\n  reservation_rate:\n    per_peer: { burst: 1, refill_secs: 0 }\n".into(),
                "relay.reservation_rate.per_peer.refill_secs",
            ),
            (
                "relay:\n  reservation_rate:\n    per_ip: { burst: -1, refill_secs: 1 }\n".into(),
                "relay.reservation_rate.per_ip.burst",
            ),
            // Renewals every 6 s would drain a bucket refilled every 120 s (libp2p's default).
            (
                "relay:\n  reservation_duration_secs: 8\n".into(),
                "relay.reservation_rate.per_peer.refill_secs",
            ),
            (
                "relay:\n  reservation_duration_secs: 8\n  reservation_rate:\n    per_peer: { burst: 0, refill_secs: 1 }\n    per_ip: { burst: 5, refill_secs: 7 }\n".into(),
                "relay.reservation_rate.per_ip.refill_secs",
            ),
            (
                "relay:\n  circuit_rate:\n    per_peer: { burst: 1, refill_secs: 0 }\n".into(),
                "relay.circuit_rate.per_peer.refill_secs",
            ),
            (
                "relay:\n  circuit_rate:\n    per_ip: { burst: 1, refill_secs: 0 }\n".into(),
                "relay.circuit_rate.per_ip.refill_secs",
            ),
            ("kad:\n  enabled: 2\n".into(), "kad.enabled"),
            (
                "kad:\n  provider_record_ttl_secs: x\n".into(),
                "kad.provider_record_ttl_secs",
            ),
            ("mdns:\n  enabled: []\n".into(), "mdns.enabled"),
            (
                "connection:\n  idle_timeout_secs: 0\n".into(),
                "connection.idle_timeout_secs",
            ),
            (
                "connection:\n  ping_interval_secs: 0\n".into(),
                "connection.ping_interval_secs",
            ),
            (
                "connection:\n  ping_timeout_secs: 0\n".into(),
                "connection.ping_timeout_secs",
            ),
            (
                "connection:\n  max_ping_failures: 0\n".into(),
                "connection.max_ping_failures",
            ),
            ("log:\n  level: \"[\"\n".into(), "log.level"),
            (
                ok_model("").replace("id: m", "id: \"\""),
                "host.models[0].id",
            ),
            (
                ok_model("").replace("price_per_token: 1", "price_per_token: -1"),
                "host.models[0].price_per_token",
            ),
            (
                ok_model("").replace("max_tokens: 10", "max_tokens: 0"),
                "host.models[0].max_tokens",
            ),
            (
                ok_model("").replace("kind: demo", "kind: magic"),
                "host.models[0].backend.kind",
            ),
            // serde reports a wrong type inside the tagged backend at the backend (the message
            // names the value).
            (
                ok_model("").replace("seed: 1", "seed: x"),
                "host.models[0].backend",
            ),
            (
                ok_model("").replace("tokens_per_second: 0", "tokens_per_second: -1"),
                "host.models[0].backend.tokens_per_second",
            ),
            (
                openai("").replace("http://x", "ftp://x"),
                "host.models[0].backend.base_url",
            ),
            (
                openai("").replace("model: x", "model: []"),
                "host.models[0].backend",
            ),
            (openai(", api_key_env: []"), "host.models[0].backend"),
            (
                openai(", connect_timeout_secs: 0"),
                "host.models[0].backend.connect_timeout_secs",
            ),
            (
                "host:\n  max_concurrent_jobs: 0\n".into(),
                "host.max_concurrent_jobs",
            ),
            (
                "host:\n  reachability: sideways\n".into(),
                "host.reachability",
            ),
            ("host:\n  compute_type: [1]\n".into(), "host.compute_type"),
            (
                "host:\n  token_retention_secs: 0\n".into(),
                "host.token_retention_secs",
            ),
            ("host:\n  offer_ttl_secs: 0\n".into(), "host.offer_ttl_secs"),
            (
                "host:\n  advertise_interval_secs: 0\n".into(),
                "host.advertise_interval_secs",
            ),
            (
                "host:\n  max_prompt_bytes: 40000\n".into(),
                "host.max_prompt_bytes",
            ),
            (
                "host:\n  max_jobs_per_peer: 0\n".into(),
                "host.max_jobs_per_peer",
            ),
            (
                "host:\n  request_rate: { burst: 3, refill_secs: 0 }\n".into(),
                "host.request_rate.refill_secs",
            ),
            ("metrics:\n  enabled: sure\n".into(), "metrics.enabled"),
            ("metrics:\n  listen: localhost\n".into(), "metrics.listen"),
            (
                "security:\n  allowlist: [\"x\"]\n".into(),
                "security.allowlist[0]",
            ),
            (
                "security:\n  blocklist: [1]\n".into(),
                "security.blocklist[0]",
            ),
        ];
        for (text, field) in cases {
            let got = field_of(&text);
            assert!(
                got.starts_with(field),
                "{text}: named {got:?}, expected {field:?}"
            );
        }
    }

    #[test]
    fn reservation_buckets_must_keep_up_with_renewals() {
        // Short reservations are fine when the buckets refill at least as fast as one peer
        // renews (every 3/4 of the duration), or are off.
        for text in [
            "relay:\n  reservation_duration_secs: 8\n  reservation_rate:\n    per_peer: { burst: 0, refill_secs: 1 }\n    per_ip: { burst: 0, refill_secs: 1 }\n",
            "relay:\n  reservation_duration_secs: 8\n  reservation_rate:\n    per_peer: { burst: 3, refill_secs: 6 }\n    per_ip: { burst: 3, refill_secs: 6 }\n",
            "relay:\n  enabled: false\n  reservation_duration_secs: 8\n",
        ] {
            parse(Path::new("c.yaml"), text).unwrap_or_else(|e| panic!("{text}: {e}"));
        }
        let e = parse(
            Path::new("c.yaml"),
            "relay:\n  reservation_duration_secs: 8\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("120 s is longer than the 6 s between renewals"),
            "{e}"
        );
    }

    #[test]
    fn openai_backend_parses() {
        let text = "host:\n  models:\n    - { id: m, price_per_token: 1, max_tokens: 10, backend: { kind: openai, base_url: \"http://127.0.0.1:1\", model: llama, api_key_env: KEY } }\n";
        let loaded = parse(Path::new("c.yaml"), text).unwrap();
        assert_eq!(
            loaded.raw.host.models[0].backend,
            BackendConfig::Openai {
                base_url: "http://127.0.0.1:1".into(),
                model: "llama".into(),
                api_key_env: Some("KEY".into()),
                connect_timeout_secs: 30,
            }
        );
    }

    #[test]
    fn bad_yaml_is_a_config_error() {
        assert!(matches!(
            parse(Path::new("c.yaml"), "relay: [\n"),
            Err(NodeError::Config { .. })
        ));
    }
}
