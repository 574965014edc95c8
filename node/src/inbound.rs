//! Inbound streams of the node's own protocols, handed from each connection to the task that
//! serves the protocol (`crate::serve`), through a queue.
//!
//! Upstream cause: libp2p-stream 0.5.0-alpha hands each inbound stream over through a futures
//! channel of capacity 0 (one slot: `Shared` holds one sender per protocol) and drops any stream
//! that arrives while that slot is taken (`shared.rs`, "Channel is full, dropping inbound
//! stream"; rust-libp2p issue 5651). Streams of one protocol that arrive together, from one
//! connection or from several, lost all but the first: of 24 catalog asks sent at once by one
//! page, a relay answered 3. This behaviour does the same hand-over with a queue of [`QUEUE`]
//! streams per protocol, so a burst waits its turn; the serving loop still bounds how many run
//! and wait and drops (and counts) the rest. This behaviour only accepts: the few streams the node
//! opens itself (its catalog asks on joining, `crate::catalog::sync`) go through libp2p-stream,
//! whose outbound side has no such slot.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::channel::mpsc;
use libp2p::core::transport::PortUse;
use libp2p::core::upgrade::DeniedUpgrade;
use libp2p::core::{Endpoint, InboundUpgrade, UpgradeInfo};
use libp2p::swarm::handler::{ConnectionEvent, FullyNegotiatedInbound};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
    NetworkBehaviour, Stream, StreamProtocol, SubstreamProtocol, THandler, THandlerInEvent,
    THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};
use prometheus_client::metrics::counter::Counter;

/// Streams of one protocol that may wait to be taken by its serving task; one more is dropped.
pub const QUEUE: usize = 256;

/// The inbound streams of one protocol, in arrival order, with the peer that opened each.
pub type Incoming = mpsc::Receiver<(PeerId, Stream)>;

/// Each served protocol's queue, with the counter of streams dropped because it was full, by
/// protocol.
/// (Generic over the stream only for the tests: a `Stream` is made by libp2p alone.)
type Map<S = Stream> = HashMap<StreamProtocol, (mpsc::Sender<(PeerId, S)>, Counter)>;
type Queues<S = Stream> = Arc<Mutex<Map<S>>>;

/// The protocol is already served (each protocol has one [`Incoming`]).
#[derive(Debug, thiserror::Error)]
#[error("{0} is already served")]
pub struct AlreadyServed(pub StreamProtocol);

/// The behaviour: answers the protocols given to [`Listener::accept`] on every connection.
#[derive(Default)]
pub struct Behaviour {
    queues: Queues,
}

/// Where the serving tasks take their protocols' streams from.
#[derive(Clone)]
pub struct Listener {
    queues: Queues,
}

impl Behaviour {
    /// A behaviour that serves no protocol yet.
    pub fn new() -> Self {
        Self::default()
    }

    fn handler(&self, peer: PeerId) -> Handler {
        Handler {
            peer,
            queues: self.queues.clone(),
        }
    }

    /// A handle to accept protocols with (from any task).
    pub fn listener(&self) -> Listener {
        Listener {
            queues: self.queues.clone(),
        }
    }
}

impl Listener {
    /// Starts answering `protocol` on every connection; its streams arrive on the returned
    /// [`Incoming`], and `dropped` counts those that found its queue full. Dropping the
    /// [`Incoming`] stops the protocol (peers are then told it is not spoken).
    pub fn accept(
        &self,
        protocol: StreamProtocol,
        dropped: Counter,
    ) -> Result<Incoming, AlreadyServed> {
        let mut queues = lock(&self.queues);
        queues.retain(|_, (sender, _)| !sender.is_closed());
        if queues.contains_key(&protocol) {
            return Err(AlreadyServed(protocol));
        }
        let (sender, receiver) = mpsc::channel(QUEUE);
        queues.insert(protocol, (sender, dropped));
        Ok(receiver)
    }
}

fn lock<S>(queues: &Queues<S>) -> std::sync::MutexGuard<'_, Map<S>> {
    // Nothing panics while holding the lock; a poisoned map is still a whole map.
    queues
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Queues `stream` for its protocol's serving task; drops it (the peer sees a reset) when the
/// queue is full (counted) or the protocol is no longer served.
fn hand_over<S>(queues: &Queues<S>, peer: PeerId, stream: S, protocol: StreamProtocol) {
    let mut queues = lock(queues);
    let Some((sender, dropped)) = queues.get_mut(&protocol) else {
        tracing::debug!(%peer, %protocol, "protocol no longer served; dropping a stream");
        return;
    };
    if let Err(e) = sender.try_send((peer, stream)) {
        if e.is_full() {
            dropped.inc();
        } else {
            queues.remove(&protocol);
        }
        tracing::debug!(%peer, %protocol, full = e.is_full(), "dropping an inbound stream");
    }
}

impl NetworkBehaviour for Behaviour {
    type ConnectionHandler = Handler;
    type ToSwarm = Infallible;

    fn handle_established_inbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer))
    }

    fn handle_established_outbound_connection(
        &mut self,
        _: ConnectionId,
        peer: PeerId,
        _: &Multiaddr,
        _: Endpoint,
        _: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        Ok(self.handler(peer))
    }

    fn on_swarm_event(&mut self, _: FromSwarm) {}

    fn on_connection_handler_event(
        &mut self,
        _: PeerId,
        _: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        match event {}
    }

    fn poll(&mut self, _: &mut Context<'_>) -> Poll<ToSwarm<Infallible, THandlerInEvent<Self>>> {
        Poll::Pending
    }
}

/// One connection's side: offers the served protocols, hands each negotiated stream over.
pub struct Handler {
    peer: PeerId,
    queues: Queues,
}

impl ConnectionHandler for Handler {
    type FromBehaviour = Infallible;
    type ToBehaviour = Infallible;
    type InboundProtocol = Served;
    type OutboundProtocol = DeniedUpgrade;
    type InboundOpenInfo = ();
    type OutboundOpenInfo = Infallible;

    fn listen_protocol(&self) -> SubstreamProtocol<Served, ()> {
        let queues = lock(&self.queues);
        let served = queues
            .iter()
            .filter(|(_, (sender, _))| !sender.is_closed())
            .map(|(protocol, _)| protocol.clone())
            .collect();
        SubstreamProtocol::new(Served(served), ())
    }

    fn poll(
        &mut self,
        _: &mut Context<'_>,
    ) -> Poll<ConnectionHandlerEvent<DeniedUpgrade, Infallible, Infallible>> {
        Poll::Pending
    }

    fn on_behaviour_event(&mut self, event: Infallible) {
        match event {}
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<Served, DeniedUpgrade, (), Infallible>,
    ) {
        if let ConnectionEvent::FullyNegotiatedInbound(FullyNegotiatedInbound {
            protocol: (stream, protocol),
            ..
        }) = event
        {
            hand_over(&self.queues, self.peer, stream, protocol);
        }
    }
}

/// The protocols served when a stream was negotiated; the stream comes out with its protocol.
pub struct Served(Vec<StreamProtocol>);

impl UpgradeInfo for Served {
    type Info = StreamProtocol;
    type InfoIter = std::vec::IntoIter<StreamProtocol>;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.clone().into_iter()
    }
}

impl InboundUpgrade<Stream> for Served {
    type Output = (Stream, StreamProtocol);
    type Error = Infallible;
    type Future = std::future::Ready<Result<Self::Output, Infallible>>;

    fn upgrade_inbound(self, stream: Stream, protocol: StreamProtocol) -> Self::Future {
        std::future::ready(Ok((stream, protocol)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts_and_a_closed_one_is_forgotten() {
        let queues: Queues<u32> = Arc::default();
        let protocol = StreamProtocol::new("/fabstir/test/1.0.0");
        let (sender, mut receiver) = mpsc::channel(1);
        let dropped = Counter::default();
        lock(&queues).insert(protocol.clone(), (sender, dropped.clone()));
        let peer = PeerId::random();
        // A channel of capacity 1 with one sender holds 2 (futures' mpsc: capacity + senders).
        for n in 0..5 {
            hand_over(&queues, peer, n, protocol.clone());
        }
        assert_eq!(dropped.get(), 3);
        assert_eq!(receiver.try_recv().ok(), Some((peer, 0)));
        assert_eq!(receiver.try_recv().ok(), Some((peer, 1)));
        hand_over(&queues, peer, 5, protocol.clone());
        assert_eq!(receiver.try_recv().ok(), Some((peer, 5)));
        drop(receiver);
        hand_over(&queues, peer, 6, protocol.clone());
        assert_eq!(
            dropped.get(),
            3,
            "a stream for a protocol no longer served is not counted"
        );
        assert!(lock(&queues).is_empty());
    }
}
