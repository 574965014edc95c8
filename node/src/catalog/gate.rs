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
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use futures_timer::Delay;
use libp2p::swarm::handler::{ConnectionEvent, DialUpgradeError, ProtocolsChange};
use libp2p::swarm::{
    ConnectionHandler, ConnectionHandlerEvent, NetworkBehaviour, StreamProtocol,
    StreamUpgradeError, SubstreamProtocol, THandler,
};
use libp2p::Multiaddr;

use crate::wrap::handler::{EventOf, Hooked, Hooks, Inline, PolledOf};
use crate::wrap::{Change, Wrap};

/// How long a held stream request waits for the remote's protocols before it goes out anyway.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A behaviour `B` whose handlers hold their outbound streams until the remote is known to
/// speak the gate's protocol (see the module comment). It dereferences to `B`.
pub type Gated<B> = Wrap<B, Gate>;

/// `inner`, gated on the remote speaking `protocol`, with [`PATIENCE`].
pub fn gated<B: NetworkBehaviour>(inner: B, protocol: StreamProtocol) -> Gated<B> {
    Wrap::new(
        inner,
        Gate {
            protocol,
            patience: PATIENCE,
        },
    )
}

/// `gated` with another patience (zero: nothing is held, as without the gate).
pub fn with_patience<B>(mut gated: Gated<B>, patience: Duration) -> Gated<B> {
    gated.change_mut().patience = patience;
    gated
}

/// The change of [`Gated`]: each connection's handler is a [`GatedHandler`].
pub struct Gate {
    protocol: StreamProtocol,
    patience: Duration,
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

/// The connection handler of [`Gated`]: `H` with its outbound streams [`Held`].
pub type GatedHandler<H> = Hooked<Inline<H>, Held<H>>;

/// What a [`GatedHandler`] holds back of its inner handler `H`, and why.
pub struct Held<H: ConnectionHandler> {
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

impl<B> Change<B> for Gate
where
    B: NetworkBehaviour,
    <THandler<B> as ConnectionHandler>::InboundProtocol: Clone,
    <THandler<B> as ConnectionHandler>::InboundOpenInfo: Clone,
{
    type Handler = GatedHandler<THandler<B>>;

    fn handler(&mut self, inner: THandler<B>, _: Option<&Multiaddr>) -> Self::Handler {
        let held = Held::new(&inner, self.protocol.clone(), self.patience);
        Hooked::new(Inline(inner), held)
    }
}

impl<H> Held<H>
where
    H: ConnectionHandler,
    H::InboundProtocol: Clone,
    H::InboundOpenInfo: Clone,
{
    /// `inner`'s outbound streams held until the remote is known to speak `protocol` or
    /// `patience` has passed.
    pub fn new(inner: &H, protocol: StreamProtocol, patience: Duration) -> Self {
        Self {
            protocol,
            remote: Remote::Unknown(Delay::new(patience)),
            held: VecDeque::new(),
            released: VecDeque::new(),
            listened: inner.listen_protocol(),
        }
    }

    /// The remote speaks the protocol (or we stop waiting): held requests go out.
    fn release(&mut self) {
        self.remote = Remote::Speaks;
        self.released.append(&mut self.held);
    }

    /// Identify listed the remote's protocols without ours: the inner handler hears, for each
    /// held request, what a refusal would have told it.
    fn lacks(&mut self, inner: &mut H) {
        self.remote = Remote::Lacks;
        for request in std::mem::take(&mut self.held) {
            refuse(inner, request);
        }
    }

    fn learn(&mut self, inner: &mut H, change: &ProtocolsChange<'_>) {
        if !matches!(self.remote, Remote::Unknown(_)) {
            return;
        }
        // The first change identify reports is the remote's whole list.
        if let ProtocolsChange::Added(added) = change {
            let mut added = added.clone();
            if added.any(|p| *p == self.protocol) {
                self.release();
            } else {
                self.lacks(inner);
            }
        }
    }
}

/// Tells `inner` its stream `request` was refused, as the remote would have.
fn refuse<H: ConnectionHandler>(
    inner: &mut H,
    request: SubstreamProtocol<H::OutboundProtocol, H::OutboundOpenInfo>,
) {
    let (_, info) = request.into_upgrade();
    inner.on_connection_event(ConnectionEvent::DialUpgradeError(DialUpgradeError {
        info,
        error: StreamUpgradeError::NegotiationFailed,
    }));
}

impl<H> Hooks<H> for Held<H>
where
    H: ConnectionHandler,
    H::InboundProtocol: Clone,
    H::InboundOpenInfo: Clone,
{
    fn listen_protocol(
        &self,
        inner: &H,
    ) -> SubstreamProtocol<H::InboundProtocol, H::InboundOpenInfo> {
        match self.remote {
            Remote::Lacks => self.listened.clone(),
            _ => inner.listen_protocol(),
        }
    }

    fn poll(&mut self, inner: &mut H, cx: &mut Context<'_>) -> Poll<PolledOf<H>> {
        if let Remote::Unknown(delay) = &mut self.remote {
            if delay.poll_unpin(cx).is_ready() {
                self.release();
            }
        }
        if let Some(protocol) = self.released.pop_front() {
            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest { protocol });
        }
        loop {
            match inner.poll(cx) {
                Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest { protocol }) => {
                    match self.remote {
                        Remote::Speaks => {
                            return Poll::Ready(ConnectionHandlerEvent::OutboundSubstreamRequest {
                                protocol,
                            })
                        }
                        Remote::Unknown(_) => self.held.push_back(protocol),
                        Remote::Lacks => refuse(inner, protocol),
                    }
                }
                other => return other,
            }
        }
    }

    fn on_connection_event(&mut self, inner: &mut H, event: EventOf<'_, H>) {
        match &event {
            ConnectionEvent::RemoteProtocolsChange(change) => self.learn(inner, change),
            // A stream the peer opened to us on this protocol: it speaks it.
            ConnectionEvent::FullyNegotiatedInbound(_) => {
                if matches!(self.remote, Remote::Unknown(_)) {
                    self.release();
                }
            }
            _ => {}
        }
        inner.on_connection_event(event)
    }
}
