//! The event loop's handling of swarm events: connections opened and closed, identify, ping,
//! relay reservations and the behaviours' other events.

use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::net::behaviour::BehaviourEvent;
use crate::net::later::{duration, last_busy};
use crate::net::peers::PeerInfo;
use crate::net::rt::now_ms;
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{DialError, SwarmEvent};
use libp2p::{identify, ping, relay, Multiaddr, PeerId};

use super::*;

impl EventLoop {
    pub(super) fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
        match event {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                connection_id,
                endpoint,
                num_established,
                ..
            } => {
                self.successful_connections += 1;
                if let Some((_, reply)) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Ok(peer_id));
                }
                self.forget_dial_stages(peer_id);
                for waiter in self.pending_connects.remove(&peer_id).unwrap_or_default() {
                    let _ = waiter.send(Ok(()));
                }
                if endpoint.is_dialer() {
                    self.remember_address(peer_id, endpoint.get_remote_address());
                }
                self.debug("connection", "debug", || {
                    format!(
                        "connected to {peer_id} at {} ({} connection(s))",
                        endpoint.get_remote_address(),
                        num_established
                    )
                });
                self.on_connected(peer_id, &endpoint, num_established.get());
                self.page_busy();
            }
            SwarmEvent::OutgoingConnectionError {
                connection_id,
                peer_id,
                error,
            } => {
                self.failed_connections += 1;
                self.debug("connection", "warn", || {
                    format!(
                        "dial {} failed: {error}",
                        peer_id.map(|p| p.to_string()).unwrap_or_default()
                    )
                });
                // Keep the addresses this dial tried, so that a later `Connect` can try them
                // again.
                if let (Some(peer), DialError::Transport(tried)) = (peer_id, &error) {
                    let tried: Vec<Multiaddr> = tried.iter().map(|(a, _)| a.clone()).collect();
                    self.remember_candidates(peer, &tried);
                }
                // The next kind of address, if one is left, before the waiters hear of it.
                let retried = peer_id.is_some_and(|p| {
                    !self.swarm.is_connected(&p)
                        && self.pending_connects.contains_key(&p)
                        && self.dial_next_stage(p)
                });
                if let Some(peer) = peer_id.filter(|_| !retried) {
                    self.forget_dial_stages(peer);
                    let waiters = if self.swarm.is_connected(&peer) {
                        Vec::new()
                    } else {
                        self.pending_connects.remove(&peer).unwrap_or_default()
                    };
                    for waiter in waiters {
                        let _ = waiter.send(Err(SdkError::DialFailed {
                            address: format!("/p2p/{peer}"),
                            reason: crate::net::refusal::dial_reason(&error),
                        }));
                    }
                }
                if let Some((address, reply)) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Err(SdkError::DialFailed {
                        address: address.to_string(),
                        reason: crate::net::refusal::dial_reason(&error),
                    }));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established,
                cause,
                ..
            } => {
                self.debug("connection", "debug", || {
                    format!(
                        "connection to {peer_id} closed ({})",
                        cause
                            .as_ref()
                            .map(|c| c.to_string())
                            .unwrap_or_else(|| "by us".into())
                    )
                });
                if num_established == 0 {
                    self.peers.remove(&peer_id);
                    self.emit(SdkEvent::PeerDisconnect {
                        peer_id: peer_id.to_string(),
                        reason: cause.map(|c| c.to_string()),
                    });
                } else if let Some(info) = self.peers.get_mut(&peer_id) {
                    info.connections = num_established;
                }
            }
            SwarmEvent::ListenerClosed {
                listener_id,
                reason,
                ..
            } => {
                let lost: Vec<PeerId> = self
                    .reservations
                    .iter()
                    .filter(|(_, (id, _))| *id == listener_id)
                    .map(|(p, _)| *p)
                    .collect();
                for relay in lost {
                    self.reservations.remove(&relay);
                    self.reserved.remove(&relay);
                    let why = reason
                        .as_ref()
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_else(|| "closed".into());
                    self.emit_error(
                        "RESERVATION_LOST",
                        format!("relay reservation on {relay} ended: {why}"),
                    );
                }
            }
            SwarmEvent::Behaviour(event) => self.on_behaviour_event(event),
            _ => {}
        }
    }

    pub(super) fn on_connected(
        &mut self,
        peer_id: PeerId,
        endpoint: &ConnectedPoint,
        num_established: u32,
    ) {
        self.ever_connected.insert(peer_id);
        if let Some(info) = self.peers.get_mut(&peer_id) {
            info.connections = num_established;
            return;
        }
        let address = endpoint.get_remote_address().clone();
        let info = PeerInfo {
            peer_id: peer_id.to_string(),
            address: address.to_string(),
            transport: crate::config::addresses::kind(&address),
            direction: if endpoint.is_dialer() {
                "outbound"
            } else {
                "inbound"
            },
            connected_at: now_ms(),
            connections: num_established,
            rtt: None,
            agent_version: None,
            protocols: Vec::new(),
            identify_served: false,
        };
        self.emit(SdkEvent::PeerConnect {
            peer_id: info.peer_id.clone(),
            address: info.address.clone(),
            transport: info.transport.into(),
            direction: info.direction.into(),
        });
        self.peers.insert(peer_id, info);
    }

    pub(super) fn on_behaviour_event(&mut self, event: BehaviourEvent) {
        match event {
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                let protocols: Vec<String> = info.protocols.iter().map(|p| p.to_string()).collect();
                if let Some(peer) = self.peers.get_mut(&peer_id) {
                    peer.agent_version = Some(info.agent_version.clone());
                    peer.protocols = protocols.clone();
                }
                if protocols
                    .iter()
                    .any(|p| p == fabstir_protocol::RELAY_HOP_PROTOCOL)
                {
                    self.reserve_later(peer_id);
                }
                self.emit(SdkEvent::PeerIdentify {
                    peer_id: peer_id.to_string(),
                    agent_version: info.agent_version,
                    protocols,
                    listen_addrs: info.listen_addrs.iter().map(|a| a.to_string()).collect(),
                });
            }
            BehaviourEvent::Identify(identify::Event::Sent { peer_id, .. }) => {
                if let Some(peer) = self.peers.get_mut(&peer_id) {
                    peer.identify_served = true;
                }
            }
            BehaviourEvent::Ping(ping::Event {
                peer,
                result: Ok(rtt),
                ..
            }) => {
                if let Some(info) = self.peers.get_mut(&peer) {
                    info.rtt = Some(rtt.as_secs_f64() * 1000.0);
                }
            }
            BehaviourEvent::Relay(relay::client::Event::ReservationReqAccepted {
                relay_peer_id,
                renewal,
                ..
            }) => {
                self.reserved.insert(relay_peer_id);
                self.debug("relay", "info", || {
                    format!("reservation on {relay_peer_id} accepted (renewal: {renewal})")
                });
                if let Some((_, relay_addr)) = self.reservations.get(&relay_peer_id) {
                    let mut address = relay_addr.clone().with(Protocol::P2pCircuit);
                    address.push(Protocol::P2p(*self.swarm.local_peer_id()));
                    self.emit(SdkEvent::RelayReservation {
                        relay_peer_id: relay_peer_id.to_string(),
                        address: address.to_string(),
                        renewal,
                    });
                }
            }
            _ => {}
        }
    }

    /// The configured address of `peer` when it is one of our bootstrap nodes.
    pub(super) fn bootstrap_address(&self, peer: &PeerId) -> Option<Multiaddr> {
        self.config
            .bootstrap_nodes
            .iter()
            .find(|b| b.peer_id == *peer)
            .map(|b| b.address.clone())
    }

    /// Puts off the reservation on `relay` until the page is quiet
    /// ([`crate::net::reserve_later`]).
    fn reserve_later(&mut self, relay: PeerId) {
        self.reserve_later.defer(relay, now_ms());
        self.arm_reserve_timer();
    }

    /// The page is busy (a dial, a connect, a new connection): what waits for it to be quiet
    /// (identify, ping, relay reservations; [`crate::net::later`]) waits on.
    pub(super) fn page_busy(&mut self) {
        crate::net::later::busy(now_ms());
    }

    /// The reservation timer fired: when due, asks the waiting relays that are still connected
    /// for a reservation ([`Self::reserve_on`] asks each once); else waits on.
    pub(super) fn reserve_due(&mut self) {
        self.reserve_timer = None;
        for relay in self.reserve_later.take_due(last_busy(), now_ms()) {
            if self.swarm.is_connected(&relay) {
                self.reserve_on(relay);
            }
        }
        self.arm_reserve_timer();
    }

    /// Sets the reservation timer when reservations wait and none is set. It may fire early
    /// (the page was busy since): [`Self::reserve_due`] then sets it again.
    fn arm_reserve_timer(&mut self) {
        if self.reserve_timer.is_none() {
            if let Some(wait) = self.reserve_later.wait(last_busy(), now_ms()) {
                self.reserve_timer = Some(crate::net::rt::sleep_boxed(duration(wait)));
            }
        }
    }

    /// Asks a bootstrap node that offers the relay hop protocol for a reservation, once.
    pub(super) fn reserve_on(&mut self, relay: PeerId) {
        if self.reservations.contains_key(&relay) {
            return;
        }
        let Some(relay_addr) = self.bootstrap_address(&relay) else {
            return;
        };
        match self
            .swarm
            .listen_on(relay_addr.clone().with(Protocol::P2pCircuit))
        {
            Ok(listener) => {
                self.reservations.insert(relay, (listener, relay_addr));
            }
            Err(e) => self.emit_error(
                "RESERVATION_FAILED",
                format!(
                    "cannot reserve on relay {relay}: {}",
                    crate::net::refusal::transport_text(&e)
                ),
            ),
        }
    }
}
