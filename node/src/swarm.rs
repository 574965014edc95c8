//! The node's libp2p behaviour and swarm construction (TCP, WebSocket and WebRTC-direct).
//! (The `NetworkBehaviour` derive generates an undocumented `BehaviourEvent` enum, hence the allow.)
#![allow(missing_docs)]

use std::time::Duration;

use fabstir_protocol::coalesce::Coalescing;
use libp2p::core::muxing::StreamMuxerBox;
use libp2p::core::Transport;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, kad, mdns, noise, ping, relay, tcp, yamux, StreamProtocol, Swarm};

use crate::config::host::Reachability;
use crate::config::LoadedConfig;
use crate::error::NodeError;
use crate::first_flight::{AfterHandshake, FirstFlight};
use crate::identity::Identity;

/// Everything the node speaks, with each connection's handlers in one heap allocation
/// (see [`crate::wrap::boxed`]); it dereferences to [`Behaviours`].
pub type Behaviour = crate::wrap::boxed::Boxed<Behaviours>;

/// The events of [`Behaviour`], one variant per behaviour.
pub type BehaviourEvent = BehavioursEvent;

/// The behaviours the node runs.
#[derive(NetworkBehaviour)]
pub struct Behaviours {
    /// Circuit relay v2 server (absent when `relay.enabled` is false).
    pub relay: Toggle<crate::wrap::relay_guard::GuardedRelay>,
    /// Circuit relay v2 client: reservations on our relays when `host.reachability` is relayed.
    pub relay_client: relay::client::Behaviour,
    /// Identify: tells peers who we are and what we speak, learns the same of them.
    pub identify: crate::wrap::page_later::PageLater<crate::wrap::observed::Identify>,
    /// Ping: liveness of every connection.
    pub ping: crate::wrap::page_later::PageLater<ping::Behaviour>,
    /// Kademlia DHT in server mode on the Fabstir protocol name.
    pub kad: Toggle<kad::Behaviour<MemoryStore>>,
    /// mDNS local discovery.
    pub mdns: Toggle<mdns::tokio::Behaviour>,
    /// Streams of Fabstir protocols, answered outside the swarm task (e.g. `/fabstir/ping/1.0.0`).
    pub inbound: crate::inbound::Behaviour,
    /// Streams the node opens (accepting none): its catalog asks of its bootstrap nodes on
    /// joining, when it keeps a catalog (see [`crate::catalog::sync`]).
    pub outbound: Toggle<libp2p_stream::Behaviour>,
    /// Gossipsub on the catalog topic: host announcements (see [`crate::catalog`]).
    pub gossipsub: crate::catalog::gate::Gated<libp2p::gossipsub::Behaviour>,
    /// Refuses connections of `security.blocklist` peers.
    pub blocked: libp2p::allow_block_list::Behaviour<libp2p::allow_block_list::BlockedPeers>,
    /// When `security.allowlist` is set, refuses every other peer (bootstrap nodes excepted).
    pub allowed:
        Toggle<libp2p::allow_block_list::Behaviour<libp2p::allow_block_list::AllowedPeers>>,
}

/// The relay server limits from the configuration.
pub fn relay_config(config: &LoadedConfig) -> relay::Config {
    use std::num::NonZeroU32;
    let r = &config.raw.relay;
    let mut c = relay::Config {
        max_reservations: r.max_reservations,
        max_reservations_per_peer: r.max_reservations_per_peer,
        reservation_duration: Duration::from_secs(r.reservation_duration_secs),
        max_circuits: r.max_circuits,
        max_circuits_per_peer: r.max_circuits_per_peer,
        max_circuit_duration: Duration::from_secs(r.max_circuit_duration_secs),
        max_circuit_bytes: r.max_circuit_bytes,
        reservation_rate_limiters: Vec::new(),
        circuit_src_rate_limiters: Vec::new(),
    };
    let bucket = |l: crate::config::relay::RateLimit| {
        NonZeroU32::new(l.burst).map(|n| (n, Duration::from_secs(l.refill_secs)))
    };
    if let Some((n, d)) = bucket(r.reservation_rate.per_peer) {
        c = c.reservation_rate_per_peer(n, d);
    }
    if let Some((n, d)) = bucket(r.reservation_rate.per_ip) {
        c = c.reservation_rate_per_ip(n, d);
    }
    if let Some((n, d)) = bucket(r.circuit_rate.per_peer) {
        c = c.circuit_src_per_peer(n, d);
    }
    if let Some((n, d)) = bucket(r.circuit_rate.per_ip) {
        c = c.circuit_src_per_ip(n, d);
    }
    c
}

/// yamux, its frames of one pass of the connection's task sealed and sent together (see
/// [`fabstir_protocol::coalesce`]).
fn muxer() -> Coalescing<yamux::Config> {
    Coalescing(yamux::Config::default())
}

/// A WebSocket transport's connections (`/ws`, `/tls/ws`: what pages dial) secured with `noise`
/// and multiplexed: each ends with a closing handshake ([`crate::ws_close`]) and its first
/// answers, below Noise and above it, leave as one message each ([`crate::first_flight`]). One
/// pipeline for both, so that `tests/first_flight.rs` over `/ws` checks `/tls/ws`'s as well.
fn page_connections<T, S>(
    websocket: T,
    noise: noise::Config,
) -> libp2p::core::transport::Boxed<(libp2p::PeerId, StreamMuxerBox)>
where
    T: Transport<Output = S> + Send + Unpin + 'static,
    T::Dial: Send + 'static,
    T::ListenerUpgrade: Send + 'static,
    T::Error: Send + Sync + 'static,
    S: futures::AsyncRead + futures::AsyncWrite + Unpin + Send + 'static,
{
    websocket
        .map(|stream, _| FirstFlight::new(crate::ws_close::Lingering::new(stream)))
        .upgrade(libp2p::core::upgrade::Version::V1Lazy)
        .authenticate(AfterHandshake(noise))
        .multiplex(muxer())
        .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer)))
        .boxed()
}

/// Builds the swarm: transports (bandwidth counted into `registry`), behaviours and connection
/// settings from `config`.
pub async fn build(
    config: &LoadedConfig,
    identity: &Identity,
    registry: &mut prometheus_client::registry::Registry,
) -> Result<Swarm<Behaviour>, NodeError> {
    let net = |e: &dyn std::fmt::Display| NodeError::Network(e.to_string());
    let certificate = identity.certificate.clone();
    let c = &config.raw.connection;
    let ping_config = ping::Config::new()
        .with_interval(Duration::from_secs(c.ping_interval_secs))
        .with_timeout(Duration::from_secs(c.ping_timeout_secs));
    let idle = Duration::from_secs(c.idle_timeout_secs);
    // `/tls/ws` listeners: the certificate is checked now (a bad one stops the start, exit 2).
    let tls = match &config.tls {
        None => None,
        Some((cert, key)) => {
            let reloading =
                crate::tls::Reloading::new(cert, key).map_err(|e| NodeError::Startup {
                    field: e.field.to_string(),
                    message: e.reason,
                })?;
            let transport =
                crate::tls::TlsWs::new(std::sync::Arc::new(reloading)).map_err(|message| {
                    NodeError::Startup {
                        field: "tls".into(),
                        message,
                    }
                })?;
            Some(transport)
        }
    };

    let swarm = libp2p::SwarmBuilder::with_existing_identity(identity.keypair.clone())
        .with_tokio()
        .with_tcp(tcp::Config::default().nodelay(true), noise::Config::new, muxer)
        .map_err(|e| net(&e))?
        .with_other_transport(|key| {
            libp2p_webrtc::tokio::Transport::new(key.clone(), certificate)
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
        })
        .map_err(|e| net(&e))?
        .with_other_transport(|key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
            let noise = noise::Config::new(key)?;
            let tls = match tls {
                Some(t) => libp2p::core::transport::OptionalTransport::some(t),
                None => libp2p::core::transport::OptionalTransport::none(),
            };
            Ok(page_connections(tls, noise))
        })
        .map_err(|e| net(&e))?
        // `/ws`: libp2p-websocket as the builder's `with_websocket` sets it up, its DNS names
        // resolved by `with_dns` around it.
        .with_other_transport(|key| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
            let tcp = tcp::tokio::Transport::new(tcp::Config::default().nodelay(true));
            Ok(page_connections(
                libp2p::websocket::Config::new(tcp),
                noise::Config::new(key)?,
            ))
        })
        .map_err(|e| net(&e))?
        .with_dns()
        .map_err(|e| net(&e))?
        // Circuits (a relayed host's side of a page's connection): the first answers above
        // Noise leave as one message (crate::first_flight).
        .with_relay_client(
            |key: &libp2p::identity::Keypair| noise::Config::new(key).map(AfterHandshake),
            muxer,
        )
        .map_err(|e| net(&e))?
        .with_bandwidth_metrics(registry)
        .with_behaviour(|key, relay_client| {
            let peer_id = key.public().to_peer_id();
            let relay = config.raw.relay.enabled.then(|| {
                crate::wrap::relay_guard::guarded(relay::Behaviour::new(peer_id, relay_config(config)))
            });
            let kad = config.raw.kad.enabled.then(|| {
                let protocol = StreamProtocol::new(fabstir_protocol::KAD_PROTOCOL);
                let mut kad_config = kad::Config::new(protocol);
                kad_config
                    .set_provider_record_ttl(Some(Duration::from_secs(config.raw.kad.provider_record_ttl_secs)))
                    // We renew our own records on `host.advertise_interval_secs` (see advertise.rs).
                    .set_provider_publication_interval(None);
                let mut kad = kad::Behaviour::with_config(peer_id, MemoryStore::new(peer_id), kad_config);
                // A relayed host cannot be dialed directly, so it must not enter others' routing
                // tables: it queries and announces as a client.
                let mode = match config.raw.host.reachability {
                    Reachability::Direct => kad::Mode::Server,
                    Reachability::Relayed => kad::Mode::Client,
                };
                kad.set_mode(Some(mode));
                kad
            });
            let mdns = if config.raw.mdns.enabled {
                match mdns::tokio::Behaviour::new(mdns::Config::default(), peer_id) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        tracing::warn!(error = %e, "mDNS unavailable on this machine; continuing without it");
                        None
                    }
                }
            } else {
                None
            };
            let agent = fabstir_protocol::agent_version("fabstir-node", env!("CARGO_PKG_VERSION"));
            let bootstrap: Vec<libp2p::PeerId> = config.bootstrap_nodes.iter().map(|(p, _)| *p).collect();
            let (blocked, allowed) = config.security.behaviours(&bootstrap);
            let keep_catalog = config.raw.host.keeps_catalog(config.raw.relay.enabled);
            let gossipsub = crate::catalog::behaviour(key, keep_catalog)?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(crate::wrap::boxed::boxed(Behaviours {
                blocked,
                allowed,
                relay: relay.into(),
                relay_client,
                identify: crate::wrap::page_later::page_later(crate::wrap::observed::identify(identify::Behaviour::new(
                    identify::Config::new(fabstir_protocol::IDENTIFY_PROTOCOL_VERSION.into(), key.public())
                        .with_agent_version(agent),
                ))),
                ping: crate::wrap::page_later::page_later(ping::Behaviour::new(ping_config)),
                kad: kad.into(),
                mdns: mdns.into(),
                inbound: crate::inbound::Behaviour::new(),
                outbound: keep_catalog.then(libp2p_stream::Behaviour::new).into(),
                gossipsub,
            }))
        })
        .map_err(|e| net(&e))?
        .with_swarm_config(|cfg| cfg.with_idle_connection_timeout(idle))
        .build();
    Ok(swarm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relay_limits_come_from_the_config() {
        let text = "relay:\n  max_reservations: 7\n  max_reservations_per_peer: 2\n  reservation_duration_secs: 900\n  max_circuits: 5\n  max_circuits_per_peer: 3\n  max_circuit_duration_secs: 600\n  max_circuit_bytes: 1000000\n";
        let loaded = crate::config::parse(std::path::Path::new("c.yaml"), text).unwrap();
        let r = relay_config(&loaded);
        assert_eq!((r.max_reservations, r.max_reservations_per_peer), (7, 2));
        assert_eq!(r.reservation_duration, Duration::from_secs(900));
        assert_eq!((r.max_circuits, r.max_circuits_per_peer), (5, 3));
        assert_eq!(r.max_circuit_duration, Duration::from_secs(600));
        assert_eq!(r.max_circuit_bytes, 1_000_000);
    }

    #[test]
    fn rate_limits_come_from_the_config_and_burst_zero_turns_them_off() {
        let r = relay_config(&crate::config::parse(std::path::Path::new("c.yaml"), "").unwrap());
        assert_eq!(
            (
                r.reservation_rate_limiters.len(),
                r.circuit_src_rate_limiters.len()
            ),
            (2, 2)
        );
        let text = "relay:\n  circuit_rate:\n    per_peer: { burst: 0, refill_secs: 1 }\n    per_ip: { burst: 0, refill_secs: 1 }\n";
        let r = relay_config(&crate::config::parse(std::path::Path::new("c.yaml"), text).unwrap());
        assert_eq!(
            (
                r.reservation_rate_limiters.len(),
                r.circuit_src_rate_limiters.len()
            ),
            (2, 0)
        );
        let bad = "relay:\n  circuit_rate:\n    per_peer: { burst: 5, refill_secs: 0 }\n    per_ip: { burst: 0, refill_secs: 1 }\n";
        assert!(crate::config::parse(std::path::Path::new("c.yaml"), bad).is_err());
    }

    #[test]
    fn default_relay_limits_outlast_a_long_token_stream() {
        let r = relay_config(&crate::config::parse(std::path::Path::new("c.yaml"), "").unwrap());
        assert!(r.max_circuit_duration >= Duration::from_secs(3600));
        assert!(r.max_circuit_bytes >= 1 << 30);
    }
}
