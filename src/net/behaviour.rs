//! The SDK's libp2p behaviour: relay client, identify, ping and raw streams. There is no
//! Kademlia client: the page's bootstrap nodes look the DHT up for it (delegated routing over
//! `/fabstir/catalog/1.0.0`, see `crate::market::delegated`).
//! (The `NetworkBehaviour` derive generates an undocumented `BehaviourEvent` enum, hence the allow.)
#![allow(missing_docs)]

use libp2p::identity::Keypair;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, ping, relay};

use crate::config::ValidConfig;
use crate::net::later::{later, Later};

/// Everything the SDK speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Circuit relay v2 client: reservations on relays, dialing through them.
    pub relay: relay::client::Behaviour,
    /// Identify: who peers are, which protocols they speak (asked once the page is quiet).
    pub identify: Later<identify::Behaviour>,
    /// Keep-alive pings; a peer that stops answering is noticed (from when the page is quiet).
    pub ping: Later<ping::Behaviour>,
    /// Streams opened on demand (e.g. `ping(peerId)`).
    pub stream: libp2p_stream::Behaviour,
    /// Refuses connections to and from `p2pConfig.security.blocklist` peers.
    pub blocked: libp2p::allow_block_list::Behaviour<libp2p::allow_block_list::BlockedPeers>,
}

impl Behaviour {
    /// Creates the behaviour for `key` and `config`.
    pub fn new(key: &Keypair, relay: relay::client::Behaviour, config: &ValidConfig) -> Self {
        let agent = fabstir_protocol::agent_version("fabstir-sdk", env!("CARGO_PKG_VERSION"));
        Behaviour {
            relay,
            identify: later(identify::Behaviour::new(
                identify::Config::new(
                    fabstir_protocol::IDENTIFY_PROTOCOL_VERSION.into(),
                    key.public(),
                )
                .with_agent_version(agent),
            )),
            ping: later(ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(fabstir_protocol::KEEPALIVE_PING_INTERVAL)
                    .with_timeout(fabstir_protocol::KEEPALIVE_PING_TIMEOUT),
            )),
            stream: libp2p_stream::Behaviour::new(),
            blocked: {
                let mut blocked = libp2p::allow_block_list::Behaviour::default();
                for peer in &config.security.block {
                    blocked.block_peer(*peer);
                }
                blocked
            },
        }
    }
}
