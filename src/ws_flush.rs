//! A browser WebSocket connection whose `flush` completes once the bytes are handed to the
//! browser.
//!
//! libp2p-websocket-websys 0.6.0 completes `poll_flush` only when the socket's `bufferedAmount`
//! is 0, and checks that on a 100 ms interval. Right after `send()` the amount is never 0, so every
//! flush waited up to 100 ms: the Noise handshake and protocol negotiation flush several times,
//! and a WebSocket connection took ~200 ms to set up on loopback (measured in the benchmark).
//! Once `send()` has queued the bytes the browser delivers them, and `poll_write` already applies
//! backpressure (it stops accepting at 1 MiB buffered), so waiting for the queue to drain buys
//! nothing.
//!
//! It also notices a socket that never opens. The same crate waits for `open` with a waker that
//! only the `open` event wakes: when the browser fails the connection (e.g. the node is down),
//! `error` and `close` fire but nothing polls the connection again until libp2p's 10 s upgrade
//! timeout. That made every dial to a dead node take 10 s (and, as Chromium lets only one
//! WebSocket connect to an endpoint at a time, held up the next dial to it). Until the socket
//! has opened, a pending read or write is polled again every [`OPENING_POLL`].

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{AsyncRead, AsyncWrite, Future};

/// How often a connection that has not opened yet is polled again.
pub const OPENING_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Wraps a connection; see the module docs.
pub struct HandOffFlush<C> {
    inner: C,
    /// Set once a read or write got past the opening.
    opened: bool,
    /// The next re-poll while opening (the browser is single-threaded; the wrapper only
    /// satisfies libp2p's `Send` bound).
    tick: Option<send_wrapper::SendWrapper<gloo_timers::future::TimeoutFuture>>,
}

impl<C> HandOffFlush<C> {
    /// Wraps `inner`.
    pub fn new(inner: C) -> Self {
        HandOffFlush {
            inner,
            opened: false,
            tick: None,
        }
    }

    /// Notes how a read or write went; while the socket is opening, arranges another poll.
    fn watch<T>(&mut self, cx: &mut Context<'_>, polled: Poll<T>) -> Poll<T> {
        if self.opened {
            return polled;
        }
        if polled.is_ready() {
            self.opened = true;
            self.tick = None;
            return polled;
        }
        let tick = self.tick.get_or_insert_with(|| {
            send_wrapper::SendWrapper::new(gloo_timers::future::TimeoutFuture::new(
                OPENING_POLL.as_millis() as u32,
            ))
        });
        if Pin::new(&mut **tick).poll(cx).is_ready() {
            self.tick = None;
            cx.waker().wake_by_ref();
        }
        polled
    }
}

impl<C: AsyncRead + Unpin> AsyncRead for HandOffFlush<C> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.watch(cx, polled)
    }
}

impl<C: AsyncWrite + Unpin> AsyncWrite for HandOffFlush<C> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }
}
