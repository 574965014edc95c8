//! Gossipsub's first stream to a peer waits until the peer is known to speak gossipsub.
//!
//! Upstream cause: libp2p-gossipsub 0.50 opens an outbound stream to every peer the moment a
//! connection is established (it queues our subscriptions for the new peer), whether or not the
//! peer runs gossipsub. A browser page runs none, so on each connection to one of our nodes the
//! page first had to refuse the proposal (one round trip), and the refusal then turned the
//! handler `Disabled`, whose `listen_protocol` becomes `DeniedUpgrade`; the swarm sees the
//! connection's protocols change and libp2p-identify pushes our identify record to the page
//! again. Those messages reached the page right after `start()` and after each host dial, in
//! the way of its first job (each message costs a page ~0.5–3 ms of its main thread).
//!
//! [`Gated`] wraps the gossipsub behaviour. Its handler passes everything through, except that
//! it holds the inner handler's outbound stream request until the remote's protocols are known:
//! - identify lists the gossipsub protocol, or the peer opens a gossipsub stream to us: the
//!   request goes out as before (one identify round trip later than before, between nodes);
//! - identify lists the peer's protocols without it: the inner handler is told the protocol is
//!   unsupported (what the refusal told it before, with no stream opened), and the wrapper keeps
//!   listing the protocol it listed so far, so the connection's protocols do not change and
//!   identify pushes nothing (a stream the peer would still open is accepted and then dropped
//!   by the disabled handler, as gossipsub does with one it does not want);
//! - nothing is learned within [`PATIENCE`] (a peer without identify): the request goes out.

use std::collections::VecDeque;
use std::ops::{Deref, DerefMut};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use futures_timer::Delay;
use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::handler::{ConnectionEvent, DialUpgradeError, ProtocolsChange};
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionHandlerEvent, ConnectionId, FromSwarm,
    NetworkBehaviour, StreamProtocol, StreamUpgradeError, SubstreamProtocol, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

/// How long a held stream request waits for the remote's protocols before it goes out anyway.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A behaviour `B` whose handlers hold their outbound streams until the remote is known to
/// speak `protocol` (see the module comment). It dereferences to `B`.
pub struct Gated<B> {
    inner: B,
    protocol: StreamProtocol,
    patience: Duration,
}

impl<B> Gated<B> {
    /// `inner`, gated on the remote speaking `protocol`, with [`PATIENCE`].
    pub fn new(inner: B, protocol: StreamProtocol) -> Self {
        Self {
            inner,
            protocol,
            patience: PATIENCE,
        }
    }

    /// The same with another patience (zero: nothing is held, as without the gate).
    pub fn with_patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }
}

impl<B> Deref for Gated<B> {
    type Target = B;
    fn deref(&self) -> &B {
        &self.inner
    }
}

impl<B> DerefMut for Gated<B> {
    fn deref_mut(&mut self) -> &mut B {
        &mut self.inner
    }
}

/// What the handler knows of the remote's support for the gated protocol.
enum Remote {
    /// Nothing yet; held requests wait until the delay fires.
    Unknown(Delay),
    /// It speaks it: requests pass.
    Speaks,
    /// It does not: the inner handler was told so.
    Lacks,
}

/// The connection handler of [`Gated`].
pub struct GatedHandler<H: ConnectionHandler> {
    inner: H,
    protocol: StreamProtocol,
    remote: Remote,
    /// Outbound stream requests of the inner handler not yet let out.
    held: VecDeque<SubstreamProtocol<H::OutboundProtocol, H::OutboundOpenInfo>>,
    /// Requests to let out now (the remote was found to speak the protocol, or patience ran out).
    released: VecDeque<SubstreamProtocol<H::OutboundProtocol, H::OutboundOpenInfo>>,
    /// What the handler listened on while the remote was unknown, listed on after it was found
    /// lacking (so the connection's protocols stay the same).
    listened: SubstreamProtocol<H::InboundProtocol, H::InboundOpenInfo>,
}

impl<H> GatedHandler<H>
where
    H: ConnectionHandler,
    H::InboundProtocol: Clone,
    H::InboundOpenInfo: Clone,
{
    /// `inner`, its outbound streams held until the remote is known to speak `protocol` or
    /// `patience` has passed.
    pub fn new(inner: H, protocol: StreamProtocol, patience: Duration) -> Self {
        let listened = inner.listen_protocol();
        Self {
            inner,
            protocol,
            remote: Remote::Unknown(Delay::new(patience)),
            held: VecDeque::new(),
            released: VecDeque::new(),
            listened,
        }
    }

    /// The remote speaks the protocol (or we stop waiting): held requests go out.
    fn release(&mut self) {
        self.remote = Remote::Speaks;
        self.released.append(&mut self.held);
    }

    /// Identify listed the remote's protocols without ours: the inner handler hears, for each
    /// held request, what a refusal would have told it.
    fn lacks(&mut self) {
        self.remote = Remote::Lacks;
        for request in std::mem::take(&mut self.held) {
            self.refuse(request);
        }
    }

    fn refuse(&mut self, request: SubstreamProtocol<H::OutboundProtocol, H::OutboundOpenInfo>) {
        let (_, info) = request.into_upgrade();
        self.inner
            .on_connection_event(ConnectionEvent::DialUpgradeError(DialUpgradeError {
                info,
                error: StreamUpgradeError::NegotiationFailed,
            }));
    }

    fn learn(&mut self, change: &ProtocolsChange<'_>) {
        if !matches!(self.remote, Remote::Unknown(_)) {
            return;
        }
        // The first change identify reports is the remote's whole list.
        if let ProtocolsChange::Added(added) = change {
            let mut added = added.clone();
            if added.any(|p| *p == self.protocol) {
                self.release();
            } else {
                self.lacks();
            }
        }
    }
}

impl<B> NetworkBehaviour for Gated<B>
where
    B: NetworkBehaviour,
    <THandler<B> as ConnectionHandler>::InboundProtocol: Clone,
    <THandler<B> as ConnectionHandler>::InboundOpenInfo: Clone,
{
    type ConnectionHandler = GatedHandler<THandler<B>>;
    type ToSwarm = B::ToSwarm;

    fn handle_pending_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.inner
            .handle_pending_inbound_connection(connection_id, local_addr, remote_addr)
    }

    fn handle_established_inbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        local_addr: &Multiaddr,
        remote_addr: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner
            .handle_established_inbound_connection(connection_id, peer, local_addr, remote_addr)
            .map(|h| GatedHandler::new(h, self.protocol.clone(), self.patience))
    }

    fn handle_pending_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        maybe_peer: Option<PeerId>,
        addresses: &[Multiaddr],
        effective_role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.inner.handle_pending_outbound_connection(
            connection_id,
            maybe_peer,
            addresses,
            effective_role,
        )
    }

    fn handle_established_outbound_connection(
        &mut self,
        connection_id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role_override: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        self.inner
            .handle_established_outbound_connection(
                connection_id,
                peer,
                addr,
                role_override,
                port_use,
            )
            .map(|h| GatedHandler::new(h, self.protocol.clone(), self.patience))
    }

    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event)
    }

    fn on_connection_handler_event(
        &mut self,
        peer_id: PeerId,
        connection_id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.inner
            .on_connection_handler_event(peer_id, connection_id, event)
    }

    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        self.inner.poll(cx)
    }
}

impl<H> ConnectionHandler for GatedHandler<H>
where
    H: ConnectionHandler,
    H::InboundProtocol: Clone,
    H::InboundOpenInfo: Clone,
{
    type FromBehaviour = H::FromBehaviour;
    type ToBehaviour = H::ToBehaviour;
    type InboundProtocol = H::InboundProtocol;
    type OutboundProtocol = H::OutboundProtocol;
    type InboundOpenInfo = H::InboundOpenInfo;
    type OutboundOpenInfo = H::OutboundOpenInfo;

    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
        match self.remote {
            Remote::Lacks => self.listened.clone(),
            _ => self.inner.listen_protocol(),
        }
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
        if let Remote::Unknown(delay) = &mut self.remote {
            if delay.poll_unpin(cx).is_ready() {
                self.release();
            }
        }
        if let Some(protocol) = self.released.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest { protocol });
        }
        loop {
            match self.inner.poll(cx) {
                Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest { protocol }) => {
                    match self.remote {
                        Remote::Speaks => {
                            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                                protocol,
                            })
                        }
                        Remote::Unknown(_) => self.held.push_back(protocol),
                        Remote::Lacks => self.refuse(protocol),
                    }
                }
                other => return other,
            }
        }
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
        match &event {
            ConnectionEvent::RemoteProtocolsChange(change) => self.learn(change),
            // A stream the peer opened to us on this protocol: it speaks it.
            ConnectionEvent::FullyNegotiatedInbound(_) => {
                if matches!(self.remote, Remote::Unknown(_)) {
                    self.release();
                }
            }
            _ => {}
        }
        self.inner.on_connection_event(event)
    }
}
