//! The event loop's handling of commands from the handles: dials, connects, the address book,
//! listen addresses and the other queries.

use crate::config::last_peer_id;
use crate::error::SdkError;
use crate::net::peers::P2pMetrics;
use crate::net::rt::now_ms;
use futures::channel::oneshot;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::DialError;
use libp2p::{Multiaddr, PeerId};

use super::*;

impl EventLoop {
    pub(super) fn on_command(&mut self, command: Command) {
        match command {
            Command::Dial {
                address,
                always,
                reply,
            } => {
                self.page_busy();
                self.dial(address, always, reply)
            }
            Command::IsConnected { peer, reply } => {
                let _ = reply.send(self.swarm.is_connected(&peer));
            }
            Command::Peers { reply } => {
                let _ = reply.send(self.peers.values().cloned().collect());
            }
            Command::ListenAddresses { reply } => {
                let _ = reply.send(self.listen_addresses());
            }
            Command::Metrics { reply } => {
                let now = now_ms();
                let _ = reply.send(P2pMetrics {
                    total_peers: self.ever_connected.len() as u32,
                    connected_peers: self.peers.len() as u32,
                    listen_addresses: self.listen_addresses(),
                    start_time: self.start_time,
                    uptime: now - self.start_time,
                    failed_connections: self.failed_connections,
                    successful_connections: self.successful_connections,
                    dropped_events: self.dropped_events,
                    relay_reservations: self.reserved.len() as u32,
                    bootstrap_connected: self
                        .config
                        .bootstrap_nodes
                        .iter()
                        .filter(|b| self.swarm.is_connected(&b.peer_id))
                        .count() as u32,
                    dht_peers: self.dht_peers(),
                    catalog_records_refused: 0,
                    catalog_records_forged: 0,
                });
            }
            Command::Connect { peer, reply } => {
                self.page_busy();
                self.connect(peer, reply)
            }
            Command::LearnAddresses {
                peer,
                addresses,
                reply,
            } => {
                self.page_busy();
                self.remember_candidates(peer, &addresses);
                let _ = reply.send(());
            }
            Command::Disconnect { peer, reply } => {
                let _ = reply.send(self.swarm.disconnect_peer_id(peer).is_ok());
            }
            Command::Stop { .. } => {}
        }
    }

    /// Connected bootstrap nodes that look the DHT up for us: they speak the catalog protocol
    /// and run the Fabstir DHT (identify says both); none when `enableDHT` is false.
    fn dht_peers(&self) -> u32 {
        if !self.config.enable_dht {
            return 0;
        }
        let speaks = |info: &PeerInfo, protocol: &str| info.protocols.iter().any(|p| p == protocol);
        self.config
            .bootstrap_nodes
            .iter()
            .filter_map(|b| self.peers.get(&b.peer_id))
            .filter(|info| {
                speaks(info, fabstir_protocol::catalog::PROTOCOL)
                    && speaks(info, fabstir_protocol::KAD_PROTOCOL)
            })
            .count() as u32
    }

    pub(super) fn connect(&mut self, peer: PeerId, reply: oneshot::Sender<Result<(), SdkError>>) {
        if self.swarm.is_connected(&peer) {
            let _ = reply.send(Ok(()));
            return;
        }
        let addresses = self.address_book.get(&peer).cloned().unwrap_or_default();
        let mut stages = crate::net::dial_order::stages(addresses);
        let first = if stages.is_empty() {
            Vec::new()
        } else {
            stages.remove(0)
        };
        match self.dial_stage(peer, first, stages.is_empty()) {
            Ok(()) => {
                self.dial_stages
                    .extend(stages.into_iter().map(|stage| (peer, stage)));
                self.pending_connects.entry(peer).or_default().push(reply);
            }
            Err(DialError::DialPeerConditionFalse(_)) => {
                self.pending_connects.entry(peer).or_default().push(reply);
            }
            Err(e) => {
                let _ = reply.send(Err(SdkError::DialFailed {
                    address: format!("/p2p/{peer}"),
                    reason: crate::net::refusal::dial_reason(&e),
                }));
            }
        }
    }

    /// Dials one stage of `peer`'s addresses ([`crate::net::dial_order`]); the `last` one also
    /// takes the addresses the behaviours know.
    fn dial_stage(
        &mut self,
        peer: PeerId,
        addresses: Vec<Multiaddr>,
        last: bool,
    ) -> Result<(), DialError> {
        let opts = DialOpts::peer_id(peer).addresses(addresses);
        let opts = if last {
            opts.extend_addresses_through_behaviour()
        } else {
            opts
        };
        self.swarm.dial(
            opts.condition(PeerCondition::DisconnectedAndNotDialing)
                .build(),
        )
    }

    /// After a failed dial of `peer`: dials its next stage of addresses, if one is left.
    /// Whether a dial is under way again.
    pub(super) fn dial_next_stage(&mut self, peer: PeerId) -> bool {
        let Some(at) = self.dial_stages.iter().position(|(p, _)| *p == peer) else {
            return false;
        };
        let (_, next) = self.dial_stages.remove(at);
        let last = !self.dial_stages.iter().any(|(p, _)| *p == peer);
        match self.dial_stage(peer, next, last) {
            Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => true,
            Err(_) => {
                self.forget_dial_stages(peer);
                false
            }
        }
    }

    /// Drops the address stages still to dial for `peer`.
    pub(super) fn forget_dial_stages(&mut self, peer: PeerId) {
        self.dial_stages.retain(|(p, _)| *p != peer);
    }

    pub(super) fn remember_address(&mut self, peer: PeerId, address: &Multiaddr) {
        if self.address_book.len() >= MAX_ADDRESS_BOOK_PEERS {
            let swarm = &self.swarm;
            self.address_book.retain(|p, _| swarm.is_connected(p));
        }
        let known = self.address_book.entry(peer).or_default();
        known.retain(|a| a != address);
        known.insert(0, address.clone());
        known.truncate(MAX_ADDRESSES_PER_PEER);
    }

    /// Adds addresses not yet known for `peer` after the ones that worked before.
    pub(super) fn remember_candidates(&mut self, peer: PeerId, addresses: &[Multiaddr]) {
        if self.address_book.len() >= MAX_ADDRESS_BOOK_PEERS {
            let swarm = &self.swarm;
            self.address_book.retain(|p, _| swarm.is_connected(p));
        }
        let known = self.address_book.entry(peer).or_default();
        for address in addresses {
            if !known.contains(address) {
                known.push(address.clone());
            }
        }
        known.truncate(MAX_ADDRESSES_PER_PEER);
    }

    pub(super) fn listen_addresses(&self) -> Vec<String> {
        let me = *self.swarm.local_peer_id();
        self.swarm
            .listeners()
            .map(|a| {
                let mut a = a.clone();
                if last_peer_id(&a) != Some(me) {
                    a.push(Protocol::P2p(me));
                }
                a.to_string()
            })
            .collect()
    }

    pub(super) fn dial(
        &mut self,
        address: Multiaddr,
        always: bool,
        reply: oneshot::Sender<Result<PeerId, SdkError>>,
    ) {
        let condition = if always {
            PeerCondition::Always
        } else {
            PeerCondition::Disconnected
        };
        let opts = match last_peer_id(&address) {
            Some(peer) => DialOpts::peer_id(peer)
                .addresses(vec![address.clone()])
                .condition(condition)
                .build(),
            None => DialOpts::unknown_peer_id().address(address.clone()).build(),
        };
        let connection_id = opts.connection_id();
        match self.swarm.dial(opts) {
            Ok(()) => {
                self.pending_dials.insert(connection_id, (address, reply));
            }
            Err(DialError::DialPeerConditionFalse(_)) => {
                // Already connected: the peer id is the one in the address.
                let result = last_peer_id(&address)
                    .ok_or_else(|| SdkError::Internal("dial condition without peer".into()));
                let _ = reply.send(result);
            }
            Err(e) => {
                self.failed_connections += 1;
                let _ = reply.send(Err(SdkError::DialFailed {
                    address: address.to_string(),
                    reason: crate::net::refusal::dial_reason(&e),
                }));
            }
        }
    }
}
