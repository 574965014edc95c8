//! A behaviour whose per-connection handler lives in its own heap allocation.
//!
//! Upstream cause: libp2p-swarm 0.48 runs each established connection as one spawned future
//! (`connection::pool::task::new_for_established_connection`) that holds the
//! `Connection<THandler>` — and with it the composed handler of every behaviour — inline, and
//! the compiler's layout of that async state machine keeps more than one handler-sized slot.
//! Our composed handler is ~6.5 KB (identify's alone 3.4 KB), so each connection paid for it
//! several times over (22.6 KB per connection for the task future, measured with massif).
//! Boxing the handler leaves a pointer in the future and one copy of the handler on the heap.
//!
//! [`Boxed`] wraps any behaviour and changes nothing else, and it dereferences to the inner
//! behaviour, so `swarm.behaviour_mut().kad` keeps working.

use libp2p::swarm::{NetworkBehaviour, THandler};
use libp2p::Multiaddr;

use super::handler::Hooked;
use super::{Change, Wrap};

/// `B` with its connection handlers boxed (see the module comment).
pub type Boxed<B> = Wrap<B, OnTheHeap>;

/// A connection handler on the heap.
pub type BoxedHandler<H> = Hooked<Box<H>, ()>;

/// `b` with its connection handlers boxed.
pub fn boxed<B: NetworkBehaviour>(b: B) -> Boxed<B> {
    Wrap::new(b, OnTheHeap)
}

/// The change of [`Boxed`]: each connection's handler moved to the heap.
pub struct OnTheHeap;

impl<B: NetworkBehaviour> Change<B> for OnTheHeap {
    type Handler = BoxedHandler<THandler<B>>;

    fn handler(&mut self, inner: THandler<B>, _: Option<&Multiaddr>) -> Self::Handler {
        Hooked::new(Box::new(inner), ())
    }
}
