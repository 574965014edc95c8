//! The SDK's libp2p behaviour: relay client, identify, ping, Kademlia client and raw streams.
//! (The `NetworkBehaviour` derive generates an undocumented `BehaviourEvent` enum, hence the allow.)
#![allow(missing_docs)]

use libp2p::identity::Keypair;
use libp2p::kad::store::MemoryStore;
use libp2p::swarm::behaviour::toggle::Toggle;
use libp2p::swarm::NetworkBehaviour;
use libp2p::{identify, kad, ping, relay, StreamProtocol};

use crate::config::ValidConfig;

/// Everything the SDK speaks.
#[derive(NetworkBehaviour)]
pub struct Behaviour {
    /// Circuit relay v2 client: reservations on relays, dialing through them.
    pub relay: relay::client::Behaviour,
    /// Identify: who peers are, which protocols they speak.
    pub identify: identify::Behaviour,
    /// Keep-alive pings; a peer that stops answering is noticed.
    pub ping: ping::Behaviour,
    /// Kademlia DHT in client mode on the Fabstir protocol name (absent with `enableDHT: false`).
    pub kad: Toggle<kad::Behaviour<MemoryStore>>,
    /// Streams opened on demand (e.g. `ping(peerId)`).
    pub stream: libp2p_stream::Behaviour,
    /// Refuses connections to and from `p2pConfig.security.blocklist` peers.
    pub blocked: libp2p::allow_block_list::Behaviour<libp2p::allow_block_list::BlockedPeers>,
}

impl Behaviour {
    /// Creates the behaviour for `key` and `config`.
    pub fn new(key: &Keypair, relay: relay::client::Behaviour, config: &ValidConfig) -> Self {
        let peer_id = key.public().to_peer_id();
        let kad = config.enable_dht.then(|| {
            let protocol = StreamProtocol::new(fabstir_protocol::KAD_PROTOCOL);
            let mut kad_config = kad::Config::new(protocol);
            // A lookup may not outlast the caller's patience.
            kad_config.set_query_timeout(config.request_timeout);
            let mut kad =
                kad::Behaviour::with_config(peer_id, MemoryStore::new(peer_id), kad_config);
            kad.set_mode(Some(kad::Mode::Client));
            kad
        });
        let agent = fabstir_protocol::agent_version("fabstir-sdk", env!("CARGO_PKG_VERSION"));
        Behaviour {
            relay,
            identify: identify::Behaviour::new(
                identify::Config::new(
                    fabstir_protocol::IDENTIFY_PROTOCOL_VERSION.into(),
                    key.public(),
                )
                .with_agent_version(agent),
            ),
            ping: ping::Behaviour::new(
                ping::Config::new()
                    .with_interval(fabstir_protocol::KEEPALIVE_PING_INTERVAL)
                    .with_timeout(fabstir_protocol::KEEPALIVE_PING_TIMEOUT),
            ),
            kad: kad.into(),
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
