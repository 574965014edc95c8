//! The node's YAML configuration: schema, defaults, loading and validation.

pub mod host;
pub mod relay;
pub mod template;
mod validate;

use host::{HostConfig, Reachability};
use relay::RelayConfig;
use validate::validate;

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
    /// The certificate of `/tls/ws` (`/wss`) listeners; required when one is listed.
    pub tls: Option<TlsConfig>,
}

/// PEM files of a TLS certificate, relative to the configuration file's folder; certbot writes
/// `/etc/letsencrypt/live/<name>/fullchain.pem` and `privkey.pem`. They are read again when they
/// change (renewal).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// The certificate chain, end entity first (`fullchain.pem`).
    pub cert: PathBuf,
    /// Its private key (`privkey.pem`).
    pub key: PathBuf,
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

/// Identity files, relative to the configuration file's folder.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct IdentityConfig {
    /// Ed25519 keypair in libp2p protobuf encoding (mode 0600).
    pub key_file: PathBuf,
    /// WebRTC certificate in PEM (mode 0600); keeps the `/certhash` stable across restarts.
    pub webrtc_cert_file: PathBuf,
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
            tls: None,
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
                    price_per_prompt_token: m.price_per_prompt_token,
                    max_tokens: m.max_tokens,
                    context_tokens: m.context_tokens,
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
    /// The host's database, resolved against the configuration's folder (`None`: none kept).
    pub database_file: Option<PathBuf>,
    /// Parsed listen addresses.
    pub listen: Vec<Multiaddr>,
    /// Parsed external addresses.
    pub external_addresses: Vec<Multiaddr>,
    /// Parsed bootstrap addresses with their peer ids.
    pub bootstrap_nodes: Vec<(libp2p::PeerId, Multiaddr)>,
    /// The parsed `security` lists.
    pub security: crate::security::PeerLists,
    /// The TLS certificate files (`cert`, `key`), resolved against the configuration's folder.
    pub tls: Option<(PathBuf, PathBuf)>,
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
        let loaded = parse(
            Path::new("/x/c.yaml"),
            &template::default_yaml(&listen, true),
        )
        .unwrap();
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
                "host:\n  max_concurrent_jobs: 4\n  max_jobs_per_peer: 5\n".into(),
                "host.max_jobs_per_peer",
            ),
            (
                "host:\n  max_concurrent_jobs: 4\n  max_jobs_per_ip: 5\n".into(),
                "host.max_jobs_per_ip",
            ),
            ("host:\n  offer_hold_secs: 0\n".into(), "host.offer_hold_secs"),
            ("host:\n  stream_open_secs: 0\n".into(), "host.stream_open_secs"),
            ("host:\n  client_grace_secs: 0\n".into(), "host.client_grace_secs"),
            ("host:\n  max_tokens_ahead: 0\n".into(), "host.max_tokens_ahead"),
            ("host:\n  max_job_secs: 0\n".into(), "host.max_job_secs"),
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
            host::BackendConfig::Openai {
                base_url: "http://127.0.0.1:1".into(),
                model: "llama".into(),
                api_key_env: Some("KEY".into()),
                connect_timeout_secs: 5,
                idle_timeout_secs: 120,
                parallel: None,
                continuation: host::ContinueBy::Replay,
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
