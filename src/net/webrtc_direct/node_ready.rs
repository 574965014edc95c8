//! Holding our first outbound streams on a new connection until the node can take them.
//!
//! Upstream cause: libp2p-webrtc 0.10.0-alpha, the native side of WebRTC-direct, installs its
//! handler for the data channels a browser opens only in `Connection::new`, after its Noise
//! handshake and the close of the handshake channel (`tokio/upgrade.rs`, `inbound`); webrtc 0.17
//! accepts a channel that arrives before that and hands it to no one
//! (`sctp_transport::accept_data_channels` without an `on_data_channel` handler). The browser is
//! done with Noise first (it receives the handshake's last message), so a stream it opens at once
//! can reach a node that is still between the two, and is never answered: on a loaded machine the
//! secure page's first catalog request waited its whole `requestTimeout` (60 s) in 2 of 11 runs
//! beside two busy loops (0 of 40 with this gate).
//!
//! A node opens its own first stream (identify) only after that handler is in place, so the first
//! data channel it opens to us proves it will take ours; both travel the same way as the
//! handshake's last message, so on a working node the wait costs next to nothing. Outbound streams
//! wait for that channel, or at most [`WAIT_LIMIT`] for a peer that opens none, well under
//! libp2p's 10 s limit for opening a stream. The channel counts whichever way it is taken: by
//! the swarm as an inbound stream ([`NodeReady::open`]) or by a waiting opener, which keeps it
//! for the swarm.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The longest outbound streams wait for the node's first stream.
pub(crate) const WAIT_LIMIT: Duration = Duration::from_secs(5);

/// The gate outbound streams pass once the node is known to take them (or the wait is over).
pub(crate) struct NodeReady<D> {
    /// `None` once the gate is open.
    deadline: Option<D>,
}

impl<D: Future<Output = ()> + Unpin> NodeReady<D> {
    /// A closed gate whose `deadline` should be started now (the connection has just been made).
    pub(crate) fn new(deadline: D) -> Self {
        NodeReady {
            deadline: Some(deadline),
        }
    }

    /// Opens the gate: the node opened a channel to us (taken from the inbound queue elsewhere).
    pub(crate) fn open(&mut self) {
        self.deadline = None;
    }

    /// Ready once `node_opened` says the node opened a channel to us (it polls for one and keeps
    /// what it finds) or the deadline passed; stays open after that.
    pub(crate) fn poll_open(
        &mut self,
        cx: &mut Context<'_>,
        node_opened: impl FnOnce(&mut Context<'_>) -> bool,
    ) -> Poll<()> {
        let Some(deadline) = self.deadline.as_mut() else {
            return Poll::Ready(());
        };
        if !node_opened(cx) && Pin::new(deadline).poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.deadline = None;
        Poll::Ready(())
    }
}
