//! Behaviours that wrap another to change one thing of it: a workaround of an upstream bug, a
//! delay, a heap allocation.
//!
//! libp2p's `NetworkBehaviour` and `ConnectionHandler` traits give their methods no defaults,
//! so a wrapper that changes one call has to pass every other one through. [`Wrap`] and
//! [`handler::Hooked`] do that passing once; each wrapper here is a [`Change`] (and, when it
//! changes what a connection's handler does, a [`handler::Hooks`]) that states only what it
//! changes:
//! - [`boxed`]: each connection's handler on the heap (libp2p-swarm's connection task);
//! - [`observed`]: identify's observed address of a relayed connection (js-libp2p rejects ours);
//! - [`relay_guard`]: a panic of libp2p-relay's server caught;
//! - [`page_later`]: the node's identify and ping of a page's connection started later.
//!
//! (`catalog::gate`, which holds gossipsub's first stream to a peer, is one too.)
//!
//! [`Wrap`], [`Change`] and the handler half ([`handler`]) are `fabstir-swarm`'s, shared with the
//! SDK.

pub use fabstir_swarm::{handler, Change, Wrap};

pub mod boxed;
pub mod observed;
pub mod page_later;
pub mod relay_guard;
