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

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{AsyncRead, AsyncWrite};

/// Wraps a connection; see the module docs.
pub struct HandOffFlush<C>(pub C);

impl<C: AsyncRead + Unpin> AsyncRead for HandOffFlush<C> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<C: AsyncWrite + Unpin> AsyncWrite for HandOffFlush<C> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}
