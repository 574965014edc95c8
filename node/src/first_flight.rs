//! A page's connection's first answers leave as one message, not one per protocol message: below
//! Noise on a WebSocket connection, and above Noise on it and on a circuit.
//!
//! Upstream cause: multistream-select (0.13) writes each of its messages and waits for its flush
//! before it reads on, and libp2p-websocket 0.46 sends every write as a WebSocket message of its
//! own (rw-stream-sink's `poll_write` is one `start_send`). So the node's answers to a page's new
//! connection (multistream's header, 20 B; its protocol confirmation, 8 B; Noise's second
//! handshake message, 202 B) reached the page as three messages, each a browser event and a pass
//! of the SDK's event loop (0.7-1.9 ms apart in Chromium traces), although the page had sent its
//! whole first flight (header, proposal and Noise's first message) in one.
//!
//! [`FirstFlight`] wraps a connection below multistream-select and holds what is written while
//! the node can go on without its peer: a write is kept and a flush answered at once, as long as
//! every read finds data already received. When a read has to wait for the peer (or the
//! connection closes, or more than [`MAX_HELD`] bytes wait) what is held is written as one
//! message and flushed first: the peer never waits for bytes the node holds. That happens
//! once; from then on writes and flushes pass straight through (Noise seals each message into one
//! write, and yamux's frames are put together above it: `fabstir_protocol::coalesce`).
//!
//! The same happens again just above Noise, where multistream-select chooses the muxer: the
//! node's header (20 B), its yamux confirmation (14 B) and yamux's first frames (its answer to
//! the page's ping and its own, 24 B) were three Noise messages, so three WebSocket messages on
//! every page's new connection (38, 32 and 42 B in the bench trace), or three frames on a relayed
//! page's circuit. [`AfterHandshake`] wraps the security upgrade so that the connection it hands
//! on is a [`FirstFlight`] too: those leave as one Noise message.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{MapOk, TryFutureExt};
use futures::{AsyncRead, AsyncWrite};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};
use libp2p::PeerId;

/// The most bytes held; a write beyond sends what is held first (a handshake's first flight is a
/// few hundred bytes).
pub const MAX_HELD: usize = 16 * 1024;

/// A connection whose first flight of writes leaves in one write (see the module's doc).
#[derive(Debug)]
pub struct FirstFlight<C> {
    inner: C,
    /// What is held, while holding.
    held: Vec<u8>,
    /// Of `held`, the bytes written to `inner` so far (a write may take part of it).
    sent: usize,
    /// Whether writes are still held (until the first flight has left).
    holding: bool,
}

impl<C> FirstFlight<C> {
    /// Wraps `inner`; its first flight of writes is held.
    pub fn new(inner: C) -> Self {
        FirstFlight {
            inner,
            held: Vec::new(),
            sent: 0,
            holding: true,
        }
    }
}

impl<C: AsyncWrite + Unpin> FirstFlight<C> {
    /// Writes and flushes what is held, then stops holding; `Ready` once it has left.
    fn send_held(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.holding {
            return Poll::Ready(Ok(()));
        }
        while self.sent < self.held.len() {
            match Pin::new(&mut self.inner).poll_write(cx, &self.held[self.sent..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => self.sent += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if !self.held.is_empty() {
            std::task::ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        }
        self.holding = false;
        self.held = Vec::new();
        Poll::Ready(Ok(()))
    }
}

impl<C: AsyncRead + AsyncWrite + Unpin> AsyncRead for FirstFlight<C> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let read = Pin::new(&mut this.inner).poll_read(cx, buf);
        if read.is_pending() && this.holding && !this.held.is_empty() {
            // The node waits for its peer now: what it wrote leaves first.
            std::task::ready!(this.send_held(cx))?;
        }
        read
    }
}

impl<C: AsyncWrite + Unpin> AsyncWrite for FirstFlight<C> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.holding && this.held.len() + buf.len() <= MAX_HELD {
            this.held.extend_from_slice(buf);
            return Poll::Ready(Ok(buf.len()));
        }
        std::task::ready!(this.send_held(cx))?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.holding {
            // Answered at once: what is held leaves when the node next waits for its peer.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        std::task::ready!(this.send_held(cx))?;
        Pin::new(&mut this.inner).poll_close(cx)
    }
}

/// A security upgrade (Noise) whose authenticated connection is handed on as a [`FirstFlight`]:
/// the first answers above the handshake (multistream-select's, yamux's) leave together.
#[derive(Debug, Clone)]
pub struct AfterHandshake<U>(pub U);

/// The connection an [`AfterHandshake`] upgrade hands on.
type Held<S> = (PeerId, FirstFlight<S>);

/// Wraps an authenticated connection.
fn hold<S>((peer, connection): (PeerId, S)) -> Held<S> {
    (peer, FirstFlight::new(connection))
}

impl<U: UpgradeInfo> UpgradeInfo for AfterHandshake<U> {
    type Info = U::Info;
    type InfoIter = U::InfoIter;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.protocol_info()
    }
}

impl<C, S, U> InboundConnectionUpgrade<C> for AfterHandshake<U>
where
    U: InboundConnectionUpgrade<C, Output = (PeerId, S)>,
{
    type Output = Held<S>;
    type Error = U::Error;
    type Future = MapOk<U::Future, fn((PeerId, S)) -> Held<S>>;

    fn upgrade_inbound(self, socket: C, info: Self::Info) -> Self::Future {
        self.0
            .upgrade_inbound(socket, info)
            .map_ok(hold as fn(_) -> _)
    }
}

impl<C, S, U> OutboundConnectionUpgrade<C> for AfterHandshake<U>
where
    U: OutboundConnectionUpgrade<C, Output = (PeerId, S)>,
{
    type Output = Held<S>;
    type Error = U::Error;
    type Future = MapOk<U::Future, fn((PeerId, S)) -> Held<S>>;

    fn upgrade_outbound(self, socket: C, info: Self::Info) -> Self::Future {
        self.0
            .upgrade_outbound(socket, info)
            .map_ok(hold as fn(_) -> _)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::task::noop_waker;
    use futures::{AsyncReadExt, AsyncWriteExt};
    use std::collections::VecDeque;

    /// A connection whose reads are `incoming`'s chunks, then waiting; every write it takes is
    /// kept as one message, and flushes are counted.
    #[derive(Default)]
    struct Wire {
        incoming: VecDeque<Vec<u8>>,
        messages: Vec<Vec<u8>>,
        flushes: usize,
    }

    impl AsyncRead for Wire {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            match self.get_mut().incoming.pop_front() {
                Some(chunk) => {
                    buf[..chunk.len()].copy_from_slice(&chunk);
                    Poll::Ready(Ok(chunk.len()))
                }
                None => Poll::Pending,
            }
        }
    }

    impl AsyncWrite for Wire {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().messages.push(buf.to_vec());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            self.get_mut().flushes += 1;
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    /// One read that must not wait.
    fn read_now(c: &mut FirstFlight<Wire>) -> Vec<u8> {
        let mut buf = [0u8; 64];
        let n = block_on(c.read(&mut buf)).unwrap();
        buf[..n].to_vec()
    }

    /// One read that waits: `Pending`.
    fn read_waits(c: &mut FirstFlight<Wire>) {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut buf = [0u8; 64];
        assert!(Pin::new(c).poll_read(&mut cx, &mut buf).is_pending());
    }

    #[test]
    fn a_listeners_answers_leave_together_when_it_waits_for_its_peer() {
        // The page's first flight, as one message: header, proposal, Noise's first message.
        let wire = Wire {
            incoming: [b"hdr".to_vec(), b"proto".to_vec(), b"e".to_vec()].into(),
            ..Wire::default()
        };
        let mut c = FirstFlight::new(wire);
        for (expect, answer) in [
            (&b"hdr"[..], &b"HDR"[..]),
            (b"proto", b"OK"),
            (b"e", b"e,ee,s,es"),
        ] {
            assert_eq!(read_now(&mut c), expect);
            block_on(c.write_all(answer)).unwrap();
            block_on(c.flush()).unwrap();
        }
        assert!(
            c.inner.messages.is_empty(),
            "held while the node needs no answer"
        );
        read_waits(&mut c);
        assert_eq!(
            c.inner.messages,
            vec![b"HDROKe,ee,s,es".to_vec()],
            "one message"
        );
        assert_eq!(c.inner.flushes, 1);
        // Then writes pass straight through, a message each, and flushes too.
        block_on(c.write_all(b"noise")).unwrap();
        block_on(c.flush()).unwrap();
        block_on(c.write_all(b"more")).unwrap();
        assert_eq!(c.inner.messages.len(), 3);
        assert_eq!(c.inner.flushes, 2);
        read_waits(&mut c);
        assert_eq!(c.inner.messages.len(), 3, "nothing held any more");
    }

    #[test]
    fn held_bytes_leave_on_close_and_before_a_write_over_the_limit() {
        let mut c = FirstFlight::new(Wire::default());
        block_on(c.write_all(b"held")).unwrap();
        block_on(c.close()).unwrap();
        assert_eq!(c.inner.messages, vec![b"held".to_vec()]);

        let mut c = FirstFlight::new(Wire::default());
        block_on(c.write_all(b"held")).unwrap();
        let big = vec![7u8; MAX_HELD];
        block_on(c.write_all(&big)).unwrap();
        assert_eq!(c.inner.messages, vec![b"held".to_vec(), big]);
        assert_eq!(c.inner.flushes, 1, "what was held is flushed before");
    }

    /// A security upgrade that authenticates nothing: it hands the socket on as it is.
    #[derive(Clone)]
    struct Plain(PeerId);

    impl UpgradeInfo for Plain {
        type Info = &'static str;
        type InfoIter = std::iter::Once<&'static str>;
        fn protocol_info(&self) -> Self::InfoIter {
            std::iter::once("/plain")
        }
    }

    impl InboundConnectionUpgrade<Wire> for Plain {
        type Output = (PeerId, Wire);
        type Error = io::Error;
        type Future = futures::future::Ready<io::Result<(PeerId, Wire)>>;
        fn upgrade_inbound(self, socket: Wire, _: &'static str) -> Self::Future {
            futures::future::ready(Ok((self.0, socket)))
        }
    }

    #[test]
    fn the_answers_above_the_handshake_leave_together() {
        // The page's first message after the handshake: multistream's header, its yamux
        // proposal and a yamux ping; the node answers each (header, confirmation, pong).
        let peer = PeerId::random();
        let wire = Wire {
            incoming: [b"hdr".to_vec(), b"yamux".to_vec(), b"ping".to_vec()].into(),
            ..Wire::default()
        };
        let upgrade = AfterHandshake(Plain(peer));
        let (who, mut c) = block_on(upgrade.upgrade_inbound(wire, "/plain")).unwrap();
        assert_eq!(who, peer);
        for answer in [&b"HDR"[..], b"YAMUX", b"PONG"] {
            read_now(&mut c);
            block_on(c.write_all(answer)).unwrap();
            block_on(c.flush()).unwrap();
        }
        read_waits(&mut c);
        assert_eq!(c.inner.messages, vec![b"HDRYAMUXPONG".to_vec()]);
    }

    #[test]
    fn a_read_that_waits_with_nothing_held_keeps_holding() {
        let mut c = FirstFlight::new(Wire::default());
        read_waits(&mut c);
        block_on(c.write_all(b"a")).unwrap();
        block_on(c.write_all(b"b")).unwrap();
        assert!(c.inner.messages.is_empty());
        read_waits(&mut c);
        assert_eq!(c.inner.messages, vec![b"ab".to_vec()]);
    }
}
