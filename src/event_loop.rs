//! The event loop: the one owner of the Swarm. Handles talk to it through [`Command`]s.

use std::collections::{HashMap, HashSet};

use futures::channel::{mpsc, oneshot};
use futures::StreamExt;
use libp2p::core::transport::ListenerId;
use libp2p::core::ConnectedPoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::dial_opts::{DialOpts, PeerCondition};
use libp2p::swarm::{ConnectionId, DialError, SwarmEvent};
use libp2p::{identify, kad, ping, relay, Multiaddr, PeerId, Swarm};

use crate::behaviour::{Behaviour, BehaviourEvent};
use crate::config::{last_peer_id, ValidConfig};
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::peers::{P2pMetrics, PeerInfo};
use crate::rt::now_ms;

/// A request to the event loop; each carries the channel its answer goes back on.
#[derive(Debug)]
pub enum Command {
    /// Dial an address; answers with the peer id once connected.
    Dial {
        /// Where to dial.
        address: Multiaddr,
        /// Dial even when already connected to the peer (to test this very address).
        always: bool,
        /// The answer.
        reply: oneshot::Sender<Result<PeerId, SdkError>>,
    },
    /// Whether we have a connection to a peer.
    IsConnected {
        /// The peer.
        peer: PeerId,
        /// The answer.
        reply: oneshot::Sender<bool>,
    },
    /// The connected peers.
    Peers {
        /// The answer.
        reply: oneshot::Sender<Vec<PeerInfo>>,
    },
    /// Our listen addresses, each ending in `/p2p/<our id>`.
    ListenAddresses {
        /// The answer.
        reply: oneshot::Sender<Vec<String>>,
    },
    /// Connection counters.
    Metrics {
        /// The answer.
        reply: oneshot::Sender<P2pMetrics>,
    },
    /// Asks the DHT which peers provide `key`, dialing each one found (while the query still
    /// knows their addresses); answers with the provider peer ids.
    FindProviders {
        /// The provider key.
        key: Vec<u8>,
        /// The answer.
        reply: oneshot::Sender<Result<Vec<PeerId>, SdkError>>,
    },
    /// Makes sure we are connected to `peer`, dialing the addresses we learned for it.
    Connect {
        /// The peer.
        peer: PeerId,
        /// The answer.
        reply: oneshot::Sender<Result<(), SdkError>>,
    },
    /// Asks the DHT for the peers closest to a random key; answers with how many peers answered.
    DhtCheck {
        /// The answer.
        reply: oneshot::Sender<Result<u32, SdkError>>,
    },
    /// Closes every connection to `peer`.
    Disconnect {
        /// The peer.
        peer: PeerId,
        /// The answer: whether we were connected.
        reply: oneshot::Sender<bool>,
    },
    /// Close everything and end the loop.
    Stop {
        /// Answered once the loop has let go of the Swarm.
        reply: oneshot::Sender<()>,
    },
}

/// Owns the Swarm and all connection state; runs until stopped or until every handle is gone.
pub struct EventLoop {
    swarm: Swarm<Behaviour>,
    commands: mpsc::Receiver<Command>,
    events: mpsc::Sender<SdkEvent>,
    config: ValidConfig,
    start_time: f64,
    pending_dials: HashMap<ConnectionId, (Multiaddr, oneshot::Sender<Result<PeerId, SdkError>>)>,
    peers: HashMap<PeerId, PeerInfo>,
    ever_connected: HashSet<PeerId>,
    /// Relay reservations we asked for: relay peer → (listener, relay address).
    reservations: HashMap<PeerId, (ListenerId, Multiaddr)>,
    failed_connections: u32,
    successful_connections: u32,
    dropped_events: u32,
    /// Relays whose reservation for us is in force.
    reserved: HashSet<PeerId>,
    dht_checks: HashMap<kad::QueryId, oneshot::Sender<Result<u32, SdkError>>>,
    /// Addresses we reached peers at (outbound connections), for reconnecting later.
    address_book: HashMap<PeerId, Vec<Multiaddr>>,
    provider_queries: HashMap<kad::QueryId, ProviderQuery>,
    /// Callers waiting for a connection to a peer being dialed.
    pending_connects: HashMap<PeerId, Vec<oneshot::Sender<Result<(), SdkError>>>>,
}

/// A DHT provider lookup in progress.
struct ProviderQuery {
    providers: Vec<PeerId>,
    reply: oneshot::Sender<Result<Vec<PeerId>, SdkError>>,
}

/// Addresses remembered per peer (newest first); older ones are forgotten.
const MAX_ADDRESSES_PER_PEER: usize = 8;
/// Peers whose addresses are remembered; beyond this the book is cleared of unconnected peers.
const MAX_ADDRESS_BOOK_PEERS: usize = 1024;

impl EventLoop {
    pub(crate) fn new(
        swarm: Swarm<Behaviour>,
        commands: mpsc::Receiver<Command>,
        events: mpsc::Sender<SdkEvent>,
        config: ValidConfig,
    ) -> Self {
        EventLoop {
            swarm,
            commands,
            events,
            config,
            start_time: now_ms(),
            pending_dials: HashMap::new(),
            peers: HashMap::new(),
            ever_connected: HashSet::new(),
            reservations: HashMap::new(),
            failed_connections: 0,
            successful_connections: 0,
            dropped_events: 0,
            address_book: HashMap::new(),
            reserved: HashSet::new(),
            dht_checks: HashMap::new(),
            provider_queries: HashMap::new(),
            pending_connects: HashMap::new(),
        }
    }

    /// Runs the loop until a `Stop` command or until every [`crate::Client`] is dropped.
    pub async fn run(mut self) {
        for address in self.config.listen_addresses.clone() {
            if let Err(e) = self.swarm.listen_on(address.clone()) {
                self.emit_error("LISTEN_FAILED", format!("cannot listen on {address}: {e}"));
            }
        }
        loop {
            futures::select! {
                event = self.swarm.select_next_some() => self.on_swarm_event(event),
                command = self.commands.next() => match command {
                    Some(Command::Stop { reply }) => {
                        self.shut_down();
                        let _ = reply.send(());
                        return;
                    }
                    Some(command) => self.on_command(command),
                    None => {
                        self.shut_down();
                        return;
                    }
                },
            }
        }
    }

    fn shut_down(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        for (_, (_, reply)) in self.pending_dials.drain() {
            let _ = reply.send(Err(SdkError::Stopped));
        }
        for (_, q) in self.provider_queries.drain() {
            let _ = q.reply.send(Err(SdkError::Stopped));
        }
        for (_, reply) in self.dht_checks.drain() {
            let _ = reply.send(Err(SdkError::Stopped));
        }
        for (_, waiters) in self.pending_connects.drain() {
            for w in waiters {
                let _ = w.send(Err(SdkError::Stopped));
            }
        }
        self.emit(SdkEvent::Stopped {
            peer_id: self.swarm.local_peer_id().to_string(),
            uptime: now_ms() - self.start_time,
        });
    }

    fn emit(&mut self, event: SdkEvent) {
        if self.events.try_send(event).is_err() {
            self.dropped_events = self.dropped_events.saturating_add(1);
        }
    }

    /// Emits `p2p:debug` when `subsystem` is enabled; `message` is only built then.
    fn debug(
        &mut self,
        subsystem: &'static str,
        level: &'static str,
        message: impl FnOnce() -> String,
    ) {
        if let Some(event) = self.config.debug_event(subsystem, level, message) {
            self.emit(event);
        }
    }

    fn emit_error(&mut self, code: &str, message: String) {
        tracing::warn!(code, %message);
        self.emit(SdkEvent::Error {
            code: code.into(),
            message,
        });
    }

    fn on_command(&mut self, command: Command) {
        match command {
            Command::Dial {
                address,
                always,
                reply,
            } => self.dial(address, always, reply),
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
                });
            }
            Command::FindProviders { key, reply } => self.find_providers(key, reply),
            Command::Connect { peer, reply } => self.connect(peer, reply),
            Command::DhtCheck { reply } => match self.swarm.behaviour_mut().kad.as_mut() {
                Some(kad) => {
                    let query = kad.get_closest_peers(PeerId::random());
                    self.dht_checks.insert(query, reply);
                }
                None => {
                    let _ = reply.send(Err(SdkError::Internal(
                        "the DHT is disabled (p2pConfig.enableDHT is false)".into(),
                    )));
                }
            },
            Command::Disconnect { peer, reply } => {
                let _ = reply.send(self.swarm.disconnect_peer_id(peer).is_ok());
            }
            Command::Stop { .. } => {}
        }
    }

    fn find_providers(
        &mut self,
        key: Vec<u8>,
        reply: oneshot::Sender<Result<Vec<PeerId>, SdkError>>,
    ) {
        let Some(kad) = self.swarm.behaviour_mut().kad.as_mut() else {
            let _ = reply.send(Err(SdkError::NoNodesAvailable {
                model_id: String::from_utf8_lossy(&key).into_owned(),
                reason: "the DHT is disabled (p2pConfig.enableDHT is false)".into(),
            }));
            return;
        };
        let query = kad.get_providers(kad::RecordKey::new(&key));
        self.provider_queries.insert(
            query,
            ProviderQuery {
                providers: Vec::new(),
                reply,
            },
        );
    }

    fn dht_peers(&mut self) -> u32 {
        self.swarm
            .behaviour_mut()
            .kad
            .as_mut()
            .map(|k| k.kbuckets().map(|b| b.num_entries() as u32).sum())
            .unwrap_or(0)
    }

    fn on_kad_event(&mut self, event: kad::Event) {
        if let kad::Event::OutboundQueryProgressed {
            id,
            result: kad::QueryResult::GetClosestPeers(result),
            stats,
            ..
        } = &event
        {
            if let Some(reply) = self.dht_checks.remove(id) {
                let answered = stats.num_successes();
                let _ = reply.send(match result {
                    Ok(_) => Ok(answered),
                    Err(e) if answered > 0 => {
                        tracing::debug!(error = %e, "DHT check ended early");
                        Ok(answered)
                    }
                    Err(e) => Err(SdkError::Timeout {
                        operation: format!("DHT lookup ({e})"),
                        after_ms: self.config.request_timeout.as_millis() as u64,
                    }),
                });
            }
            return;
        }
        let kad::Event::OutboundQueryProgressed {
            id,
            result: kad::QueryResult::GetProviders(result),
            step,
            ..
        } = event
        else {
            return;
        };
        let me = *self.swarm.local_peer_id();
        self.debug("dht", "debug", || {
            format!("provider lookup progressed: {result:?}")
        });
        let finished = match result {
            Ok(kad::GetProvidersOk::FoundProviders { providers, .. }) => {
                for peer in providers {
                    if peer == me {
                        continue;
                    }
                    if let Some(q) = self.provider_queries.get_mut(&id) {
                        if !q.providers.contains(&peer) {
                            q.providers.push(peer);
                        }
                    }
                    // Dial now: Kademlia hands out a provider's addresses only while its
                    // query runs. A failure here is retried by `Connect` with what we learned.
                    let opts = DialOpts::peer_id(peer)
                        .condition(PeerCondition::DisconnectedAndNotDialing)
                        .build();
                    if let Err(e) = self.swarm.dial(opts) {
                        tracing::debug!(%peer, error = %e, "cannot dial provider");
                    }
                }
                // The walk goes on to every server close to the key: one server may hold only
                // some of the providers (each provider announces to the servers its own lookup
                // found), so ending at the first answers can miss a live host.
                step.last
            }
            Ok(kad::GetProvidersOk::FinishedWithNoAdditionalRecord { .. }) => true,
            Err(e) => {
                tracing::debug!(error = %e, "provider lookup ended with an error");
                true
            }
        };
        if finished {
            if let Some(q) = self.provider_queries.remove(&id) {
                let _ = q.reply.send(Ok(q.providers));
            }
        }
    }

    fn connect(&mut self, peer: PeerId, reply: oneshot::Sender<Result<(), SdkError>>) {
        if self.swarm.is_connected(&peer) {
            let _ = reply.send(Ok(()));
            return;
        }
        let addresses = self.address_book.get(&peer).cloned().unwrap_or_default();
        let opts = DialOpts::peer_id(peer)
            .addresses(addresses)
            .extend_addresses_through_behaviour()
            .condition(PeerCondition::DisconnectedAndNotDialing)
            .build();
        match self.swarm.dial(opts) {
            Ok(()) | Err(DialError::DialPeerConditionFalse(_)) => {
                self.pending_connects.entry(peer).or_default().push(reply);
            }
            Err(e) => {
                let _ = reply.send(Err(SdkError::DialFailed {
                    address: format!("/p2p/{peer}"),
                    reason: e.to_string(),
                }));
            }
        }
    }

    fn remember_address(&mut self, peer: PeerId, address: &Multiaddr) {
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
    fn remember_candidates(&mut self, peer: PeerId, addresses: &[Multiaddr]) {
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

    fn listen_addresses(&self) -> Vec<String> {
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

    fn dial(
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
                    reason: e.to_string(),
                }));
            }
        }
    }

    fn on_swarm_event(&mut self, event: SwarmEvent<BehaviourEvent>) {
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
                // Kademlia hands out a provider's addresses only while its lookup runs: keep the
                // ones this dial tried, so that a later `Connect` can try them again.
                if let (Some(peer), DialError::Transport(tried)) = (peer_id, &error) {
                    let tried: Vec<Multiaddr> = tried.iter().map(|(a, _)| a.clone()).collect();
                    self.remember_candidates(peer, &tried);
                }
                if let Some(peer) = peer_id.filter(|p| !self.swarm.is_connected(p)) {
                    for waiter in self.pending_connects.remove(&peer).unwrap_or_default() {
                        let _ = waiter.send(Err(SdkError::DialFailed {
                            address: format!("/p2p/{peer}"),
                            reason: error.to_string(),
                        }));
                    }
                }
                if let Some((address, reply)) = self.pending_dials.remove(&connection_id) {
                    let _ = reply.send(Err(SdkError::DialFailed {
                        address: address.to_string(),
                        reason: error.to_string(),
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

    fn on_connected(&mut self, peer_id: PeerId, endpoint: &ConnectedPoint, num_established: u32) {
        self.ever_connected.insert(peer_id);
        if let Some(info) = self.peers.get_mut(&peer_id) {
            info.connections = num_established;
            return;
        }
        let address = endpoint.get_remote_address().clone();
        let bootstrap = self.bootstrap_address(&peer_id);
        if let (Some(addr), Some(kad)) = (bootstrap, self.swarm.behaviour_mut().kad.as_mut()) {
            kad.add_address(&peer_id, addr);
        }
        let info = PeerInfo {
            peer_id: peer_id.to_string(),
            address: address.to_string(),
            transport: crate::transport::kind(&address),
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

    fn on_behaviour_event(&mut self, event: BehaviourEvent) {
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
                    self.reserve_on(peer_id);
                }
                self.emit(SdkEvent::PeerIdentify {
                    peer_id: peer_id.to_string(),
                    agent_version: info.agent_version,
                    protocols,
                    listen_addrs: info.listen_addrs.iter().map(|a| a.to_string()).collect(),
                });
            }
            BehaviourEvent::Kad(event) => self.on_kad_event(event),
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
    fn bootstrap_address(&self, peer: &PeerId) -> Option<Multiaddr> {
        self.config
            .bootstrap_nodes
            .iter()
            .find(|b| b.peer_id == *peer)
            .map(|b| b.address.clone())
    }

    /// Asks a bootstrap node that offers the relay hop protocol for a reservation, once.
    fn reserve_on(&mut self, relay: PeerId) {
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
                format!("cannot reserve on relay {relay}: {e}"),
            ),
        }
    }
}
