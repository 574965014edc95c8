//! The event loop: the one owner of the Swarm. Handles talk to it through [`Command`]s; its
//! command handling, Kademlia side and swarm events live in the files beside this one.

mod commands;
mod swarm_events;

use std::collections::{HashMap, HashSet};

use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use libp2p::core::transport::ListenerId;
use libp2p::swarm::ConnectionId;
use libp2p::{Multiaddr, PeerId, Swarm};

use crate::config::ValidConfig;
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::net::behaviour::Behaviour;
use crate::net::peers::{P2pMetrics, PeerInfo};
use crate::net::reserve_later::ReserveLater;
use crate::net::rt::{now_ms, Sleep};

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
    /// Makes sure we are connected to `peer`, dialing the addresses we learned for it.
    Connect {
        /// The peer.
        peer: PeerId,
        /// The answer.
        reply: oneshot::Sender<Result<(), SdkError>>,
    },
    /// Remembers addresses of `peer` (from the network catalog or a bootstrap node's DHT
    /// lookup) for dialing it by peer id.
    LearnAddresses {
        /// The peer.
        peer: PeerId,
        /// Its addresses.
        addresses: Vec<Multiaddr>,
        /// Answered once remembered.
        reply: oneshot::Sender<()>,
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
    /// Addresses we reached peers at (outbound connections), for reconnecting later.
    address_book: HashMap<PeerId, Vec<Multiaddr>>,
    /// Callers waiting for a connection to a peer being dialed.
    pending_connects: HashMap<PeerId, Vec<oneshot::Sender<Result<(), SdkError>>>>,
    /// Address stages still to dial, in order, for `Connect`s whose current stage may fail
    /// ([`crate::net::dial_order`]).
    dial_stages: Vec<(PeerId, Vec<Multiaddr>)>,
    /// The relays whose reservation waits for the page to be quiet
    /// ([`crate::net::reserve_later`]); asked when due, if still connected.
    reserve_later: ReserveLater,
    /// Wakes the loop when `reserve_later` is due.
    reserve_timer: Option<Sleep>,
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
            pending_connects: HashMap::new(),
            dial_stages: Vec::new(),
            reserve_later: ReserveLater::default(),
            reserve_timer: None,
        }
    }

    /// Runs the loop until a `Stop` command or until every [`crate::Client`] is dropped.
    pub async fn run(mut self) {
        for address in self.config.listen_addresses.clone() {
            if let Err(e) = self.swarm.listen_on(address.clone()) {
                let why = crate::net::refusal::transport_text(&e);
                self.emit_error(
                    "LISTEN_FAILED",
                    format!("cannot listen on {address}: {why}"),
                );
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
                () = reserve_timer(&mut self.reserve_timer).fuse() => self.reserve_due(),
            }
        }
    }

    pub(super) fn shut_down(&mut self) {
        let peers: Vec<PeerId> = self.swarm.connected_peers().copied().collect();
        for peer in peers {
            let _ = self.swarm.disconnect_peer_id(peer);
        }
        for (_, (_, reply)) in self.pending_dials.drain() {
            let _ = reply.send(Err(SdkError::Stopped));
        }
        self.dial_stages.clear();
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

    pub(super) fn emit(&mut self, event: SdkEvent) {
        if self.events.try_send(event).is_err() {
            self.dropped_events = self.dropped_events.saturating_add(1);
        }
    }

    /// Emits `p2p:debug` when `subsystem` is enabled; `message` is only built then.
    pub(super) fn debug(
        &mut self,
        subsystem: &'static str,
        level: &'static str,
        message: impl FnOnce() -> String,
    ) {
        if self.config.debugs(subsystem) {
            self.emit(SdkEvent::Debug {
                subsystem,
                level,
                message: message(),
            });
        }
    }

    pub(super) fn emit_error(&mut self, code: &str, message: String) {
        tracing::warn!(code, %message);
        self.emit(SdkEvent::Error {
            code: code.into(),
            message,
        });
    }
}

/// Waits for the reservation timer; forever when none is set.
async fn reserve_timer(timer: &mut Option<Sleep>) {
    match timer {
        Some(sleep) => sleep.await,
        None => futures::future::pending().await,
    }
}
