//! The SDK configuration object: schema, defaults and validation.
//!
//! JavaScript passes a plain object; the binding layer hands it as a JSON value to
//! [`SdkConfig::from_json`], so every error names the offending field by its path.

pub mod addresses;
pub mod identity;
pub mod multiaddr_text;
pub mod resilience;
pub mod security;
pub mod strict;

use std::time::Duration;

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};
use serde::Deserialize;

use crate::error::SdkError;

/// The configuration object as JavaScript writes it (`new FabstirSDK(config)`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SdkConfig {
    /// Only `"production"`: every feature talks to the real network. There is no mock mode.
    #[serde(default)]
    pub mode: Mode,
    /// `true`: log every SDK event to the console and emit `p2p:debug` events for every
    /// subsystem; `{ subsystems: [...] }`: only for those.
    #[serde(default)]
    pub debug: DebugSetting,
    /// Which key (peer id) the SDK uses, and whether it and the SDK's memory persist.
    #[serde(default)]
    pub identity: crate::config::identity::IdentityConfig,
    /// Peer-to-peer settings.
    pub p2p_config: P2pConfig,
}

/// `debug`: a flag or a list of subsystems.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum DebugSetting {
    /// All subsystems (true) or none (false).
    Flag(bool),
    /// Only these subsystems.
    Subsystems(DebugSubsystems),
}

impl Default for DebugSetting {
    fn default() -> Self {
        DebugSetting::Flag(false)
    }
}

/// `debug: { subsystems: [...] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugSubsystems {
    /// Names from [`SUBSYSTEMS`].
    pub subsystems: Vec<String>,
}

/// The subsystems that emit `p2p:debug` events.
pub const SUBSYSTEMS: &[&str] = &[
    "connection",
    "relay",
    "dht",
    "discovery",
    "negotiation",
    "stream",
    "security",
    "reliability",
];

/// The SDK's operating mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Real peer-to-peer networking.
    #[default]
    Production,
}

/// `p2pConfig`: how the SDK joins the network.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct P2pConfig {
    /// Multiaddrs of bootstrap/relay nodes, each ending in `/p2p/<peer id>`; at least one.
    pub bootstrap_nodes: Vec<String>,
    /// Use DHT lookups, done for the page by its bootstrap nodes.
    #[serde(default = "yes", rename = "enableDHT")]
    pub enable_dht: bool,
    /// Accepted for compatibility; a browser cannot multicast, so mDNS is reported as unavailable.
    #[serde(default = "yes", rename = "enableMDNS")]
    pub enable_mdns: bool,
    /// Extra addresses to listen on; in a browser only `/p2p-circuit` relay addresses.
    #[serde(default)]
    pub listen_addresses: Vec<String>,
    /// Milliseconds one dial attempt may take.
    #[serde(default = "default_dial_timeout")]
    pub dial_timeout: u64,
    /// Milliseconds one request (e.g. a ping) may take.
    #[serde(default = "default_request_timeout")]
    pub request_timeout: u64,
    /// Retries after the first failed dial of a bootstrap node.
    #[serde(default = "default_max_retries")]
    pub max_retries: u32,
    /// Milliseconds before the first retry; doubles for each further retry.
    #[serde(default = "default_retry_delay")]
    pub retry_delay: u64,
    /// Milliseconds a `discoverNodes` answer is reused for the same model (0: never).
    #[serde(default = "default_discovery_cache_ttl")]
    pub discovery_cache_ttl: u64,
    /// Milliseconds a token stream may stay silent before the job fails with `TIMEOUT`.
    #[serde(default = "default_stream_stall_timeout")]
    pub stream_stall_timeout: u64,
    /// Which hosts may be used: `allowlist`, `blocklist` (and `authenticate`, taken out by the
    /// binding).
    #[serde(default)]
    pub security: crate::config::security::SecurityConfig,
    /// When a failing host is blacklisted, and for how long.
    #[serde(default)]
    pub reliability: crate::config::resilience::ReliabilityConfig,
    /// How a job whose host fails mid-stream is recovered.
    #[serde(default)]
    pub failover: crate::config::resilience::FailoverConfig,
}

fn yes() -> bool {
    true
}
fn default_dial_timeout() -> u64 {
    30_000
}
fn default_request_timeout() -> u64 {
    60_000
}
fn default_max_retries() -> u32 {
    3
}
fn default_retry_delay() -> u64 {
    1_000
}
fn default_discovery_cache_ttl() -> u64 {
    30_000
}
fn default_stream_stall_timeout() -> u64 {
    30_000
}

/// Upper bounds that keep a typo (e.g. seconds given as minutes) from hanging a page.
const MAX_TIMEOUT_MS: u64 = 10 * 60 * 1000;
const MAX_RETRY_DELAY_MS: u64 = 60 * 1000;
const MAX_RETRIES: u32 = 20;
const MAX_CACHE_TTL_MS: u64 = 60 * 60 * 1000;
const MAX_BOOTSTRAP_NODES: usize = 64;

/// A bootstrap node: its peer id and the address to dial.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapNode {
    /// The node's peer id, from the address's `/p2p/` part.
    pub peer_id: PeerId,
    /// The full address, including `/p2p/<peer id>`.
    pub address: Multiaddr,
}

/// A configuration that passed validation, in the types the core works with.
#[derive(Debug, Clone)]
pub struct ValidConfig {
    /// Log events to the console.
    pub debug: bool,
    /// Subsystems that emit `p2p:debug` events.
    pub debug_subsystems: Vec<&'static str>,
    /// Where to join.
    pub bootstrap_nodes: Vec<BootstrapNode>,
    /// Use DHT lookups (done by the bootstrap nodes).
    pub enable_dht: bool,
    /// mDNS was asked for (it is never available in a browser).
    pub enable_mdns: bool,
    /// Extra listen addresses.
    pub listen_addresses: Vec<Multiaddr>,
    /// Limit for one dial attempt.
    pub dial_timeout: Duration,
    /// Limit for one request.
    pub request_timeout: Duration,
    /// Retries after a failed bootstrap dial.
    pub max_retries: u32,
    /// Base delay between retries.
    pub retry_delay: Duration,
    /// How long discovery answers are reused.
    pub discovery_cache_ttl: Duration,
    /// How long a token stream may stay silent.
    pub stream_stall_timeout: Duration,
    /// Which hosts may be used for jobs, and which peers are refused.
    pub security: crate::config::security::PeerPolicy,
    /// The circuit breaker's settings.
    pub reliability: crate::config::resilience::ReliabilityConfig,
    /// Recovery of failed streams.
    pub failover: crate::config::resilience::FailoverConfig,
    /// The key to use and whether to persist it.
    pub identity: crate::config::identity::Identity,
}

impl ValidConfig {
    /// Whether `p2p:debug` events of `subsystem` are enabled; callers build the message (and
    /// the event) only then.
    pub fn debugs(&self, subsystem: &'static str) -> bool {
        self.debug_subsystems.contains(&subsystem)
    }
}

impl SdkConfig {
    /// Deserializes and validates a configuration; errors name the field by its path.
    pub fn from_json(value: &serde_json::Value) -> Result<ValidConfig, SdkError> {
        let text = serde_json::to_string_pretty(value)
            .map_err(|e| SdkError::config("config", e.to_string()))?;
        SdkConfig::from_pretty_json(&text)
    }

    /// [`SdkConfig::from_json`] for pretty JSON text (see [`strict::from_pretty`]).
    pub fn from_pretty_json(text: &str) -> Result<ValidConfig, SdkError> {
        let config: SdkConfig = strict::from_pretty(text).map_err(|e| {
            let field = if e.path.is_empty() {
                "config".to_string()
            } else {
                e.path
            };
            SdkError::config(field, e.message)
        })?;
        config.validate()
    }

    /// Checks values and parses addresses.
    pub fn validate(self) -> Result<ValidConfig, SdkError> {
        let p = self.p2p_config;
        if p.bootstrap_nodes.is_empty() {
            return Err(SdkError::config(
                "p2pConfig.bootstrapNodes",
                "at least one bootstrap node is required",
            ));
        }
        if p.bootstrap_nodes.len() > MAX_BOOTSTRAP_NODES {
            return Err(SdkError::config(
                "p2pConfig.bootstrapNodes",
                format!(
                    "at most {MAX_BOOTSTRAP_NODES} bootstrap nodes, got {}",
                    p.bootstrap_nodes.len()
                ),
            ));
        }
        let mut bootstrap_nodes = Vec::with_capacity(p.bootstrap_nodes.len());
        for (i, text) in p.bootstrap_nodes.iter().enumerate() {
            let field = format!("p2pConfig.bootstrapNodes[{i}]");
            let address = parse_multiaddr(&field, text)?;
            let Some(peer_id) = last_peer_id(&address) else {
                return Err(SdkError::config(
                    field,
                    format!("{text:?} must end with /p2p/<peer id>"),
                ));
            };
            if !crate::config::addresses::can_dial(&address) {
                return Err(SdkError::config(
                    field,
                    format!(
                        "{text:?} uses no transport {}",
                        crate::config::addresses::DIALABLE
                    ),
                ));
            }
            bootstrap_nodes.push(BootstrapNode { peer_id, address });
        }
        let mut listen_addresses = Vec::with_capacity(p.listen_addresses.len());
        for (i, text) in p.listen_addresses.iter().enumerate() {
            let field = format!("p2pConfig.listenAddresses[{i}]");
            let address = parse_multiaddr(&field, text)?;
            if !crate::config::addresses::can_listen(&address) {
                return Err(SdkError::config(
                    field,
                    format!(
                        "{text:?} cannot be listened on {}",
                        crate::config::addresses::LISTENABLE
                    ),
                ));
            }
            listen_addresses.push(address);
        }
        let debug_subsystems: Vec<&'static str> = match &self.debug {
            DebugSetting::Flag(false) => Vec::new(),
            DebugSetting::Flag(true) => SUBSYSTEMS.to_vec(),
            DebugSetting::Subsystems(d) => {
                let mut out = Vec::new();
                for (i, name) in d.subsystems.iter().enumerate() {
                    let Some(known) = SUBSYSTEMS.iter().find(|s| *s == name) else {
                        return Err(SdkError::config(
                            format!("debug.subsystems[{i}]"),
                            format!(
                                "unknown subsystem {name:?}; known: {}",
                                SUBSYSTEMS.join(", ")
                            ),
                        ));
                    };
                    out.push(*known);
                }
                out
            }
        };
        let boot: Vec<PeerId> = bootstrap_nodes.iter().map(|b| b.peer_id).collect();
        let security = p.security.validate(&boot)?;
        Ok(ValidConfig {
            identity: self.identity.validate()?,
            security,
            reliability: p.reliability.validate()?,
            failover: p.failover.validate()?,
            debug: !debug_subsystems.is_empty(),
            debug_subsystems,
            bootstrap_nodes,
            enable_dht: p.enable_dht,
            enable_mdns: p.enable_mdns,
            listen_addresses,
            dial_timeout: millis("p2pConfig.dialTimeout", p.dial_timeout, 1, MAX_TIMEOUT_MS)?,
            request_timeout: millis(
                "p2pConfig.requestTimeout",
                p.request_timeout,
                1,
                MAX_TIMEOUT_MS,
            )?,
            max_retries: in_range("p2pConfig.maxRetries", p.max_retries, 0, MAX_RETRIES)?,
            retry_delay: millis("p2pConfig.retryDelay", p.retry_delay, 0, MAX_RETRY_DELAY_MS)?,
            discovery_cache_ttl: millis(
                "p2pConfig.discoveryCacheTtl",
                p.discovery_cache_ttl,
                0,
                MAX_CACHE_TTL_MS,
            )?,
            stream_stall_timeout: millis(
                "p2pConfig.streamStallTimeout",
                p.stream_stall_timeout,
                1,
                MAX_TIMEOUT_MS,
            )?,
        })
    }
}

fn parse_multiaddr(field: &str, text: &str) -> Result<Multiaddr, SdkError> {
    multiaddr_text::parse(text)
        .map_err(|e| SdkError::config(field, format!("{text:?} is not a multiaddr: {e}")))
}

/// The peer id of the final `/p2p/` component, if the address ends with one.
pub fn last_peer_id(address: &Multiaddr) -> Option<PeerId> {
    match address.iter().last() {
        Some(Protocol::P2p(id)) => Some(id),
        _ => None,
    }
}

fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    field: &str,
    value: T,
    min: T,
    max: T,
) -> Result<T, SdkError> {
    if value < min || value > max {
        return Err(SdkError::config(
            field,
            format!("must be between {min} and {max}, got {value}"),
        ));
    }
    Ok(value)
}

fn millis(field: &str, value: u64, min: u64, max: u64) -> Result<Duration, SdkError> {
    in_range(field, value, min, max).map(Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEER: &str = "12D3KooWGEi7W5k2iNKu2zGVAaeJsV5SwcriWyVm8MUwpva74p11";

    fn parse(json: serde_json::Value) -> Result<ValidConfig, SdkError> {
        SdkConfig::from_json(&json)
    }

    fn with_p2p(extra: serde_json::Value) -> serde_json::Value {
        let mut p2p = serde_json::json!({ "bootstrapNodes": [format!("/ip4/127.0.0.1/tcp/1/ws/p2p/{PEER}")] });
        if let (Some(p), Some(e)) = (p2p.as_object_mut(), extra.as_object()) {
            p.extend(e.clone());
        }
        serde_json::json!({ "p2pConfig": p2p })
    }

    fn field_of(json: serde_json::Value) -> String {
        match parse(json) {
            Err(SdkError::InvalidConfig { field, .. }) => field,
            other => panic!("expected INVALID_CONFIG, got {other:?}"),
        }
    }

    /// Every field of the config, each with a bad value: `INVALID_CONFIG` naming that field.
    #[test]
    fn every_field_has_its_bad_value_named() {
        use serde_json::json;
        let p2p = |extra| with_p2p(extra);
        let top = |key: &str, value| {
            let mut c = with_p2p(json!({}));
            c[key] = value;
            c
        };
        let cases = [
            (top("mode", json!("mock")), "mode"),
            (top("debug", json!("yes")), "debug"),
            (
                top("debug", json!({ "subsystems": ["disk"] })),
                "debug.subsystems[0]",
            ),
            (top("verbose", json!(true)), "verbose"),
            (
                top("identity", json!({ "persist": "yes" })),
                "identity.persist",
            ),
            (top("identity", json!({ "keep": true })), "identity"),
            (top("identity", json!({ "key": "AAAA" })), "identity.key"),
            (json!({}), "config"),
            (
                json!({ "p2pConfig": { "bootstrapNodes": [] } }),
                "p2pConfig.bootstrapNodes",
            ),
            (
                json!({ "p2pConfig": { "bootstrapNodes": ["nope"] } }),
                "p2pConfig.bootstrapNodes[0]",
            ),
            (
                json!({ "p2pConfig": { "bootstrapNodes": ["/ip4/127.0.0.1/tcp/1/ws"] } }),
                "p2pConfig.bootstrapNodes[0]",
            ),
            (p2p(json!({ "enableDHT": "yes" })), "p2pConfig.enableDHT"),
            (p2p(json!({ "enableMDNS": 1 })), "p2pConfig.enableMDNS"),
            (
                p2p(json!({ "listenAddresses": ["not-an-address"] })),
                "p2pConfig.listenAddresses[0]",
            ),
            (p2p(json!({ "dialTimeout": 0 })), "p2pConfig.dialTimeout"),
            (
                p2p(json!({ "requestTimeout": 600_001 })),
                "p2pConfig.requestTimeout",
            ),
            (p2p(json!({ "maxRetries": 21 })), "p2pConfig.maxRetries"),
            (p2p(json!({ "retryDelay": -1 })), "p2pConfig.retryDelay"),
            (
                p2p(json!({ "discoveryCacheTtl": 3_600_001 })),
                "p2pConfig.discoveryCacheTtl",
            ),
            (
                p2p(json!({ "streamStallTimeout": 0 })),
                "p2pConfig.streamStallTimeout",
            ),
            (p2p(json!({ "sekurity": {} })), "p2pConfig"),
            (
                p2p(json!({ "security": { "allowlist": ["x"] } })),
                "p2pConfig.security.allowlist[0]",
            ),
            (
                p2p(json!({ "security": { "blocklist": [PEER] } })),
                "p2pConfig.security.blocklist[0]",
            ),
            (
                p2p(json!({ "security": { "blockList": [] } })),
                "p2pConfig.security",
            ),
            (
                p2p(json!({ "reliability": { "failureThreshold": 0 } })),
                "p2pConfig.reliability.failureThreshold",
            ),
            (
                p2p(json!({ "reliability": { "blacklistDuration": 3_600_001 } })),
                "p2pConfig.reliability.blacklistDuration",
            ),
            (
                p2p(json!({ "reliability": { "threshold": 2 } })),
                "p2pConfig.reliability",
            ),
            (
                p2p(json!({ "failover": { "enabled": "no" } })),
                "p2pConfig.failover.enabled",
            ),
            (
                p2p(json!({ "failover": { "resumeWithin": 60_001 } })),
                "p2pConfig.failover.resumeWithin",
            ),
            (
                p2p(json!({ "failover": { "maxFailovers": 11 } })),
                "p2pConfig.failover.maxFailovers",
            ),
        ];
        for (config, field) in cases {
            let got = field_of(config.clone());
            assert!(
                got.starts_with(field),
                "{config}: named {got:?}, expected {field:?}"
            );
        }
    }

    #[test]
    fn defaults_match_the_documented_values() {
        let c = parse(with_p2p(serde_json::json!({}))).unwrap();
        assert!(c.enable_dht && c.enable_mdns && !c.debug);
        assert!(c.debug_subsystems.is_empty());
        assert!(!c.identity.persist && c.identity.key.is_none());
        assert_eq!(c.dial_timeout, Duration::from_secs(30));
        assert_eq!(c.request_timeout, Duration::from_secs(60));
        assert_eq!(c.max_retries, 3);
        assert_eq!(c.retry_delay, Duration::from_secs(1));
        assert_eq!(c.bootstrap_nodes[0].peer_id.to_string(), PEER);
    }

    #[test]
    fn every_bad_value_names_its_field() {
        use serde_json::json;
        assert_eq!(field_of(json!({})), "config");
        assert_eq!(
            field_of(json!({ "p2pConfig": { "bootstrapNodes": [] } })),
            "p2pConfig.bootstrapNodes"
        );
        assert_eq!(
            field_of(json!({ "p2pConfig": { "bootstrapNodes": ["nope"] } })),
            "p2pConfig.bootstrapNodes[0]"
        );
        assert_eq!(
            field_of(json!({ "p2pConfig": { "bootstrapNodes": ["/ip4/127.0.0.1/tcp/1/ws"] } })),
            "p2pConfig.bootstrapNodes[0]"
        );
        assert_eq!(field_of(json!({ "mode": "mock", "p2pConfig": {} })), "mode");
        assert_eq!(
            field_of(json!({ "debug": "yes", "p2pConfig": {} })),
            "debug"
        );
        assert_eq!(
            field_of(
                with_p2p(json!({}))
                    .as_object()
                    .cloned()
                    .map(|mut o| {
                        o.insert("debug".into(), json!({ "subsystems": ["dht", "gossip"] }));
                        serde_json::Value::Object(o)
                    })
                    .unwrap()
            ),
            "debug.subsystems[1]"
        );
        assert_eq!(field_of(json!({ "extra": 1, "p2pConfig": {} })), "extra");
        assert_eq!(field_of(with_p2p(json!({ "bogus": 1 }))), "p2pConfig.bogus");
        assert_eq!(
            field_of(with_p2p(json!({ "enableDHT": 1 }))),
            "p2pConfig.enableDHT"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "enableMDNS": "no" }))),
            "p2pConfig.enableMDNS"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "dialTimeout": 0 }))),
            "p2pConfig.dialTimeout"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "dialTimeout": -5 }))),
            "p2pConfig.dialTimeout"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "requestTimeout": 1e12 }))),
            "p2pConfig.requestTimeout"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "maxRetries": 21 }))),
            "p2pConfig.maxRetries"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "retryDelay": 60001 }))),
            "p2pConfig.retryDelay"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "discoveryCacheTtl": 3_600_001 }))),
            "p2pConfig.discoveryCacheTtl"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "streamStallTimeout": 0 }))),
            "p2pConfig.streamStallTimeout"
        );
        assert_eq!(
            field_of(with_p2p(json!({ "listenAddresses": ["x"] }))),
            "p2pConfig.listenAddresses[0]"
        );
    }

    #[test]
    fn unknown_key_message_names_the_key() {
        let err = parse(with_p2p(serde_json::json!({ "dialTimout": 5 })))
            .unwrap_err()
            .to_string();
        assert!(err.contains("dialTimout"), "{err}");
    }
}
