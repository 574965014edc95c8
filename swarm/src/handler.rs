//! A connection handler that wraps another to change part of what it does ([`Hooked`]), the
//! handler half of [`super::Wrap`].

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::task::{Context, Poll};

use libp2p::swarm::handler::ConnectionEvent;
use libp2p::swarm::{ConnectionHandler, ConnectionHandlerEvent, SubstreamProtocol};

/// An event of a connection for the handler `H`.
pub type EventOf<'a, H> = ConnectionEvent<
    'a,
    <H as ConnectionHandler>::InboundProtocol,
    <H as ConnectionHandler>::OutboundProtocol,
    <H as ConnectionHandler>::InboundOpenInfo,
    <H as ConnectionHandler>::OutboundOpenInfo,
>;

/// What the handler `H` hands the connection when polled.
pub type PolledOf<H> = ConnectionHandlerEvent<
    <H as ConnectionHandler>::OutboundProtocol,
    <H as ConnectionHandler>::OutboundOpenInfo,
    <H as ConnectionHandler>::ToBehaviour,
>;

/// What a [`Hooked`] handler changes of the handler `H` it wraps; each method's default passes
/// the call through as it was.
pub trait Hooks<H: ConnectionHandler>: Send + 'static {
    /// The protocols the connection accepts streams of.
    #[inline]
    fn listen_protocol(
        &self,
        inner: &H,
    ) -> SubstreamProtocol<H::InboundProtocol, H::InboundOpenInfo> {
        inner.listen_protocol()
    }

    /// Polls `inner`.
    #[inline]
    fn poll(&mut self, inner: &mut H, cx: &mut Context<'_>) -> Poll<PolledOf<H>> {
        inner.poll(cx)
    }

    /// Hands `inner` an event of the connection.
    #[inline]
    fn on_connection_event(&mut self, inner: &mut H, event: EventOf<'_, H>) {
        inner.on_connection_event(event)
    }
}

/// No change: a [`Hooked`] handler with these hooks is its inner handler, where it is kept.
impl<H: ConnectionHandler> Hooks<H> for () {}

/// The handler `S` holds (`Box<H>`, or [`Inline<H>`]), with `K`'s changes; every other call
/// passes through.
pub struct Hooked<S, K> {
    inner: S,
    hooks: K,
}

impl<S, K> Hooked<S, K> {
    /// `inner` with `hooks`.
    pub fn new(inner: S, hooks: K) -> Self {
        Self { inner, hooks }
    }
}

/// A handler kept in place (a [`Hooked`] handler's other choice is a `Box` of it).
pub struct Inline<H>(pub H);

impl<H> Deref for Inline<H> {
    type Target = H;
    #[inline]
    fn deref(&self) -> &H {
        &self.0
    }
}

impl<H> DerefMut for Inline<H> {
    #[inline]
    fn deref_mut(&mut self) -> &mut H {
        &mut self.0
    }
}

impl<S, K> ConnectionHandler for Hooked<S, K>
where
    S: DerefMut + Send + 'static,
    S::Target: ConnectionHandler + Sized,
    K: Hooks<S::Target>,
{
    type FromBehaviour = <S::Target as ConnectionHandler>::FromBehaviour;
    type ToBehaviour = <S::Target as ConnectionHandler>::ToBehaviour;
    type InboundProtocol = <S::Target as ConnectionHandler>::InboundProtocol;
    type OutboundProtocol = <S::Target as ConnectionHandler>::OutboundProtocol;
    type InboundOpenInfo = <S::Target as ConnectionHandler>::InboundOpenInfo;
    type OutboundOpenInfo = <S::Target as ConnectionHandler>::OutboundOpenInfo;

    #[inline]
    fn listen_protocol(&self) -> SubstreamProtocol<Self::InboundProtocol, Self::InboundOpenInfo> {
        self.hooks.listen_protocol(&self.inner)
    }

    #[inline]
    fn connection_keep_alive(&self) -> bool {
        self.inner.connection_keep_alive()
    }

    #[inline]
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<PolledOf<S::Target>> {
        self.hooks.poll(&mut self.inner, cx)
    }

    #[inline]
    fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Option<Self::ToBehaviour>> {
        self.inner.poll_close(cx)
    }

    #[inline]
    fn on_behaviour_event(&mut self, event: Self::FromBehaviour) {
        self.inner.on_behaviour_event(event)
    }

    #[inline]
    fn on_connection_event(&mut self, event: EventOf<'_, S::Target>) {
        self.hooks.on_connection_event(&mut self.inner, event)
    }
}

/// Hooks that do not poll the inner handler until `F` has completed (`None` from the start: it
/// runs at once). Until then the inner handler opens no stream, and a stream the peer opened
/// waits in it unanswered (libp2p-identify and libp2p-ping set their answer up when they get
/// the stream and run it when polled).
pub struct PollAfter<F>(pub Option<F>);

impl<H, F> Hooks<H> for PollAfter<F>
where
    H: ConnectionHandler,
    F: Future<Output = ()> + Unpin + Send + 'static,
{
    #[inline]
    fn poll(&mut self, inner: &mut H, cx: &mut Context<'_>) -> Poll<PolledOf<H>> {
        if let Some(until) = &mut self.0 {
            if Pin::new(until).poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.0 = None;
        }
        inner.poll(cx)
    }
}
