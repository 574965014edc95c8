//! Fewer, larger writes under yamux: its frames leave together, not one message each.
//!
//! Upstream cause: rust-yamux (0.13 and 0.14, `Connection::poll`) flushes its socket after every
//! frame it writes. Under it sits Noise, which seals what was written since the last flush as one
//! message, and under that a WebSocket or TCP: every yamux frame (a window update, a stream's
//! opening, 12 bytes of header and a token) became one Noise message, one WebSocket message and
//! one read and wake-up of the peer. A page pays for each message it receives (a JavaScript event,
//! a copy into wasm, a pass of its event loop: 0.4 ms each, measured, on a 2-core machine), and a
//! job's first token crossed about 55 of them.
//!
//! [`Coalescing`] wraps a muxer's upgrade (yamux's) and hands it the connection as a
//! [`DeferredFlush`], which puts a flush off while frames keep coming in the same pass of the
//! connection's task: it wakes the task and answers `Pending` (yamux goes on with its other
//! frames; it does not wait for a flush), and flushes for real when it is asked again with
//! nothing new written, or once [`MAX_DEFERRED_BYTES`] or [`MAX_DEFERRALS`] are reached. What one
//! pass writes leaves as one message; nothing waits for more than the task's next pass.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{AsyncRead, AsyncWrite};
use libp2p::core::upgrade::{InboundConnectionUpgrade, OutboundConnectionUpgrade, UpgradeInfo};

/// Bytes written since the last flush beyond which a flush is no longer put off.
pub const MAX_DEFERRED_BYTES: usize = 16 * 1024;
/// Flushes put off in a row (each with new frames since the one before) after which one is done.
pub const MAX_DEFERRALS: u8 = 16;

/// A connection whose flushes wait for a pass of its task with nothing new written.
#[derive(Debug)]
pub struct DeferredFlush<C> {
    inner: C,
    /// Bytes written since the last flush.
    unflushed: usize,
    /// Something was written since the last flush was put off (or done).
    written: bool,
    /// Flushes put off since the last one done.
    deferrals: u8,
}

impl<C> DeferredFlush<C> {
    /// Wraps `inner`.
    pub fn new(inner: C) -> Self {
        DeferredFlush {
            inner,
            unflushed: 0,
            written: false,
            deferrals: 0,
        }
    }
}

impl<C: AsyncRead + Unpin> AsyncRead for DeferredFlush<C> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<C: AsyncWrite + Unpin> AsyncWrite for DeferredFlush<C> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = futures::ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        this.unflushed += written;
        this.written |= written > 0;
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.written && this.unflushed < MAX_DEFERRED_BYTES && this.deferrals < MAX_DEFERRALS {
            // Asked again in this pass after more frames: put off once more, and make sure
            // there is a next pass to flush in.
            this.written = false;
            this.deferrals += 1;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        futures::ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        this.unflushed = 0;
        this.written = false;
        this.deferrals = 0;
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

/// A muxer upgrade (yamux's) that gets its connection as a [`DeferredFlush`].
#[derive(Debug, Clone)]
pub struct Coalescing<U>(pub U);

impl<U: UpgradeInfo> UpgradeInfo for Coalescing<U> {
    type Info = U::Info;
    type InfoIter = U::InfoIter;

    fn protocol_info(&self) -> Self::InfoIter {
        self.0.protocol_info()
    }
}

impl<C, U> InboundConnectionUpgrade<C> for Coalescing<U>
where
    U: InboundConnectionUpgrade<DeferredFlush<C>>,
{
    type Output = U::Output;
    type Error = U::Error;
    type Future = U::Future;

    fn upgrade_inbound(self, socket: C, info: Self::Info) -> Self::Future {
        self.0.upgrade_inbound(DeferredFlush::new(socket), info)
    }
}

impl<C, U> OutboundConnectionUpgrade<C> for Coalescing<U>
where
    U: OutboundConnectionUpgrade<DeferredFlush<C>>,
{
    type Output = U::Output;
    type Error = U::Error;
    type Future = U::Future;

    fn upgrade_outbound(self, socket: C, info: Self::Info) -> Self::Future {
        self.0.upgrade_outbound(DeferredFlush::new(socket), info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    /// Counts flushes and what each one flushed.
    #[derive(Default)]
    struct Pipe {
        pending: usize,
        flushed: Vec<usize>,
    }

    impl AsyncRead for Pipe {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut [u8],
        ) -> Poll<io::Result<usize>> {
            Poll::Ready(Ok(0))
        }
    }

    impl AsyncWrite for Pipe {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.get_mut().pending += buf.len();
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            let this = self.get_mut();
            if this.pending > 0 {
                this.flushed.push(std::mem::take(&mut this.pending));
            }
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    fn write(c: &mut DeferredFlush<Pipe>, cx: &mut Context<'_>, n: usize) {
        assert!(matches!(Pin::new(c).poll_write(cx, &vec![0; n]), Poll::Ready(Ok(m)) if m == n));
    }

    fn flush(c: &mut DeferredFlush<Pipe>, cx: &mut Context<'_>) -> bool {
        Pin::new(c).poll_flush(cx).is_ready()
    }

    #[test]
    fn frames_of_one_pass_leave_in_one_flush() {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut c = DeferredFlush::new(Pipe::default());
        // One pass, as yamux makes it: a frame, a flush, a frame, a flush, ...
        for n in [12, 30, 12] {
            write(&mut c, &mut cx, n);
            assert!(!flush(&mut c, &mut cx), "put off while frames come");
        }
        assert!(c.inner.flushed.is_empty());
        // The next pass, nothing new: flushed, all at once.
        assert!(flush(&mut c, &mut cx));
        assert_eq!(c.inner.flushed, vec![54]);
        // Nothing written: a flush is at once.
        assert!(flush(&mut c, &mut cx));
        assert_eq!(c.inner.flushed, vec![54]);
    }

    #[test]
    fn a_flush_is_put_off_only_so_far() {
        let waker = noop_waker();
        let mut cx = Context::from_waker(&waker);
        let mut c = DeferredFlush::new(Pipe::default());
        let mut done = 0;
        for _ in 0..(MAX_DEFERRALS as usize * 2) {
            write(&mut c, &mut cx, 1);
            done += usize::from(flush(&mut c, &mut cx));
        }
        assert_eq!(done, 1, "every {MAX_DEFERRALS} deferrals, one flush");
        let mut c = DeferredFlush::new(Pipe::default());
        write(&mut c, &mut cx, MAX_DEFERRED_BYTES);
        assert!(flush(&mut c, &mut cx), "a full buffer is flushed at once");
        assert_eq!(c.inner.flushed, vec![MAX_DEFERRED_BYTES]);
    }
}
