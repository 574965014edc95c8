//! libp2p swarm plumbing shared by the SDK (in a page, wasm32) and `fabstir-node`: behaviours
//! that wrap another to change one thing of it.
//!
//! libp2p's `NetworkBehaviour` and `ConnectionHandler` traits give their methods no defaults,
//! so a wrapper that changes one call has to pass every other one through. [`Wrap`] and
//! [`handler::Hooked`] do that passing once; each wrapper is a [`Change`] (and, when it changes
//! what a connection's handler does, a [`handler::Hooks`]) that states only what it changes.
//! The node's are in `node/src/wrap/`; the SDK's `net::later` holds a page's identify and ping
//! until the page is quiet.

use std::borrow::Cow;
use std::ops::{Deref, DerefMut};
use std::task::{Context, Poll};

use libp2p::core::transport::PortUse;
use libp2p::core::Endpoint;
use libp2p::swarm::{
    ConnectionDenied, ConnectionHandler, ConnectionId, FromSwarm, NetworkBehaviour, THandler,
    THandlerInEvent, THandlerOutEvent, ToSwarm,
};
use libp2p::{Multiaddr, PeerId};

pub mod handler;

/// What a [`Wrap`] changes of the behaviour `B` it wraps. Every method but [`Change::handler`]
/// has a default that passes the call through as it was.
pub trait Change<B: NetworkBehaviour>: 'static {
    /// The connection handler the wrapped behaviour hands the swarm (`THandler<B>` when the
    /// handlers are left as they are).
    type Handler: ConnectionHandler<
        FromBehaviour = THandlerInEvent<B>,
        ToBehaviour = THandlerOutEvent<B>,
    >;

    /// The handler of a new connection, made from `B`'s: `local` is our address an inbound
    /// connection came in on, `None` for an outbound connection.
    fn handler(&mut self, inner: THandler<B>, local: Option<&Multiaddr>) -> Self::Handler;

    /// The remote address `B` is told of an inbound connection from `remote` to our `local`.
    #[inline]
    fn remote<'a>(&self, _local: &Multiaddr, remote: &'a Multiaddr) -> Cow<'a, Multiaddr> {
        Cow::Borrowed(remote)
    }

    /// Hands `inner` an event of one of its connection handlers.
    #[inline]
    fn handler_event(
        &mut self,
        inner: &mut B,
        peer: PeerId,
        id: ConnectionId,
        event: THandlerOutEvent<B>,
    ) {
        inner.on_connection_handler_event(peer, id, event)
    }
}

/// The behaviour `B` with `C`'s change; every other call passes through. It dereferences to
/// `B`, so a field of a composed behaviour reads as before (`swarm.behaviour_mut().kad`).
pub struct Wrap<B, C> {
    inner: B,
    change: C,
}

impl<B, C> Wrap<B, C> {
    /// `inner` with `change`.
    pub fn new(inner: B, change: C) -> Self {
        Self { inner, change }
    }

    /// The change, to read or adjust.
    pub fn change_mut(&mut self) -> &mut C {
        &mut self.change
    }
}

impl<B, C> Deref for Wrap<B, C> {
    type Target = B;
    #[inline]
    fn deref(&self) -> &B {
        &self.inner
    }
}

impl<B, C> DerefMut for Wrap<B, C> {
    #[inline]
    fn deref_mut(&mut self) -> &mut B {
        &mut self.inner
    }
}

impl<B: NetworkBehaviour, C: Change<B>> NetworkBehaviour for Wrap<B, C> {
    type ConnectionHandler = C::Handler;
    type ToSwarm = B::ToSwarm;

    #[inline]
    fn handle_pending_inbound_connection(
        &mut self,
        id: ConnectionId,
        local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<(), ConnectionDenied> {
        self.inner
            .handle_pending_inbound_connection(id, local, remote)
    }

    #[inline]
    fn handle_established_inbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        local: &Multiaddr,
        remote: &Multiaddr,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let remote = self.change.remote(local, remote);
        let inner = self
            .inner
            .handle_established_inbound_connection(id, peer, local, &remote)?;
        Ok(self.change.handler(inner, Some(local)))
    }

    #[inline]
    fn handle_pending_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: Option<PeerId>,
        addresses: &[Multiaddr],
        role: Endpoint,
    ) -> Result<Vec<Multiaddr>, ConnectionDenied> {
        self.inner
            .handle_pending_outbound_connection(id, peer, addresses, role)
    }

    #[inline]
    fn handle_established_outbound_connection(
        &mut self,
        id: ConnectionId,
        peer: PeerId,
        addr: &Multiaddr,
        role: Endpoint,
        port_use: PortUse,
    ) -> Result<THandler<Self>, ConnectionDenied> {
        let inner = self
            .inner
            .handle_established_outbound_connection(id, peer, addr, role, port_use)?;
        Ok(self.change.handler(inner, None))
    }

    #[inline]
    fn on_swarm_event(&mut self, event: FromSwarm) {
        self.inner.on_swarm_event(event)
    }

    #[inline]
    fn on_connection_handler_event(
        &mut self,
        peer: PeerId,
        id: ConnectionId,
        event: THandlerOutEvent<Self>,
    ) {
        self.change.handler_event(&mut self.inner, peer, id, event)
    }

    #[inline]
    fn poll(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<ToSwarm<Self::ToSwarm, THandlerInEvent<Self>>> {
        self.inner.poll(cx)
    }
}
