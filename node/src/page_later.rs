//! The node's own identify and ping on a page's connection wait [`WAIT`] after it is made.
//!
//! libp2p-identify 0.48 and libp2p-ping 0.47 open a stream to the peer the moment a connection
//! is established. To a page those are two protocol proposals, a ping and their confirmations
//! (about five messages) on its one thread, right when a page that submitted a job at once is
//! setting it up: its catalog question to its relay, or its dial of the job's host and the
//! job's start. The page puts its own identify and ping off until it is quiet (the SDK's
//! `net::later`); this is the node's half.
//!
//! [`PageLater`] wraps a behaviour: on an inbound connection that came in on a listener pages
//! use ([`from_a_page`]: WebSocket, or a relay circuit), its handler is not
//! polled for [`WAIT`], so it opens no stream until then; streams the peer opens wait for it
//! too. Other connections (nodes dial each other over TCP) are not held. A node that dials in
//! over WebSocket waits too: its identify (and gossipsub, which waits for identify,
//! `catalog::gate`) starts [`WAIT`] later.
//!
//! Measured with the SDK holding its own half, headless Chromium 156 on loopback, the bench's
//! fresh page submitting a job at once, medians of 15, three rounds each: the first token came
//! after 39-44 / 40-43 ms (direct / relayed host) without this, 33-37 / 35-40 ms with it.

use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use futures_timer::Delay;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::handler::ConnectionEvent;
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
    NetworkBehaviour, SubstreamProtocol, THandler, THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// How long the node's identify and ping of a page's connection wait after it is made (longer
/// than a first job's setup on loopback, ~40 ms, and over a slow link, ~100 ms).
pub const WAIT: Duration = Duration::from_millis(300);

/// Whether a connection that came in on our listener address `local` is held as a page's:
/// pages reach nodes over WebSocket (plain or TLS), and relayed hosts through a relay circuit.
///
/// Pages also come over WebRTC-direct; those connections are not held. The node's identify
/// stream, opened right after the connection is secured, is what the suite checks our
/// WebRTC-direct transport keeps (`tests/browser.rs`,
/// `server_initiated_stream_on_fresh_webrtc_direct_connection`: libp2p-webrtc-websys lost such
/// streams); and a page dials a host's WebSocket addresses before its WebRTC-direct ones (the
/// SDK's `net::dial_order`).
pub fn from_a_page(local: &Multiaddr) -> bool {
    local
        .iter()
        .any(|p| matches!(p, Protocol::Ws(_) | Protocol::Wss(_) | Protocol::P2pCircuit))
}

/// A behaviour `B` whose handlers on pages' connections start [`WAIT`] late (see the module
/// comment).
pub struct PageLater<B>(pub B);

/// The connection handler of [`PageLater`].
pub struct Paused<H> {
    inner: H,
    /// Until when it is not polled; `None` once it runs (or from the start, for a node's).
    until: Option<Delay>,
}

impl<B: NetworkBehaviour> NetworkBehaviour for PageLater<B> {
    type ConnectionHandler = Paused<THandler<B>>;
    type ToSwarm = B::ToSwarm;

    fn handle_pending_inbound_connection(
        &mut self,
        id: ConnectionId,
        local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.0.handle_pending_inbound_connection(id, local, remote)
    }

    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let until = from_a_page(local).then(|| Delay::new(WAIT));
        self.0
            .handle_established_inbound_connection(id, peer, local, remote)
            .map(|inner| Paused { inner, until })
    }

    fn handle_pending_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: Option<PeerId>,
        addresses: &[Multiaddr],
        role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.0
            .handle_pending_outbound_connection(id, peer, addresses, role)
    }

    fn handle_established_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.0
            .handle_established_outbound_connection(id, peer, addr, role, port_use)
            .map(|inner| Paused { inner, until: None })
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.0.on_swarm_event(event)
    }

    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.0.on_connection_handler_event(peer, id, event)
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        self.0.poll(cx)
    }
}

impl<H: ConnectionHandler> ConnectionHandler for Paused<H> {
    type FromBehaviour = H::FromBehaviour;
    type ToBehaviour = H::ToBehaviour;
    type InboundProtocol = H::InboundProtocol;
    type OutboundProtocol = H::OutboundProtocol;
    type InboundOpenInfo = H::InboundOpenInfo;
    type OutboundOpenInfo = H::OutboundOpenInfo;

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
        self.inner.listen_protocol()
    }

    fn connection_keep_alive(&self) -> bool {
        self.inner.connection_keep_alive()
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<
        ConnectionHandlerEvent<Self::OutboundProtocol, Self::OutboundOpenInfo, Self::ToBehaviour>,
    > {
        if let Some(until) = &mut self.until {
            if until.poll_unpin(cx).is_pending() {
                return Poll::Pending;
            }
            self.until = None;
        }
        self.inner.poll(cx)
    }

    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::ToBehaviour>> {
        self.inner.poll_close(cx)
    }

    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        self.inner.on_behaviour_event(event)
    }

    fn on_connection_event(
        &mut self,
        event: ConnectionEvent<
            Self::InboundProtocol,
            Self::OutboundProtocol,
            Self::InboundOpenInfo,
            Self::OutboundOpenInfo,
        >,
    ) {
        self.inner.on_connection_event(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_held_are_those_over_websocket_or_a_circuit() {
        let page = |a: &str| from_a_page(&a.parse().unwrap());
        assert!(page("/ip4/127.0.0.1/tcp/4001/ws"));
        assert!(page("/ip4/127.0.0.1/tcp/443/tls/ws"));
        assert!(!page("/ip4/127.0.0.1/udp/4002/webrtc-direct"));
        assert!(page(
            "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWRNTXFeyBwEEG58UoVipFDH3MnUURbWtvHLg8KdL56akH/p2p-circuit"
        ));
        assert!(!page("/ip4/127.0.0.1/tcp/4001"));
        assert!(!page("/ip4/127.0.0.1/udp/4003/quic-v1"));
    }
}
