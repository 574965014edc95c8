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

use std::time::Duration;

use futures_timer::Delay;
use libp2p::multiaddr::Protocol;
use libp2p::swarm::{NetworkBehaviour, THandler};
use libp2p::Multiaddr;

use super::handler::{Hooked, Inline, PollAfter};
use super::{Change, Wrap};

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
pub type PageLater<B> = Wrap<B, HoldPages>;

/// `b`, its handlers on pages' connections started [`WAIT`] late.
pub fn page_later<B: NetworkBehaviour>(b: B) -> PageLater<B> {
    Wrap::new(b, HoldPages)
}

/// The change of [`PageLater`]: a handler on a page's connection is [`Paused`].
pub struct HoldPages;

/// The connection handler of [`PageLater`].
pub type PausedHandler<H> = Hooked<Inline<H>, Paused>;

/// Until when a handler is not polled; `None` once it runs (or from the start, for a node's).
pub type Paused = PollAfter<Delay>;

impl<B: NetworkBehaviour> Change<B> for HoldPages {
    type Handler = PausedHandler<THandler<B>>;

    fn handler(&mut self, inner: THandler<B>, local: Option<&Multiaddr>) -> Self::Handler {
        let until = local.filter(|l| from_a_page(l)).map(|_| Delay::new(WAIT));
        Hooked::new(Inline(inner), PollAfter(until))
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
