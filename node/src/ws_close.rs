//! WebSocket connections that end with a closing handshake, however libp2p drops them.
//!
//! Upstream cause: libp2p-websocket 0.46 (with soketto 0.8) sends a WebSocket Close frame only
//! when libp2p closes a connection itself (`poll_close`). A connection whose peer ended it —
//! a browser's stop() sends yamux's GoAway and then its own Close frame — is dropped as soon as
//! the GoAway is read: no Close frame is sent, and the browser's Close frame is left unread, so
//! the kernel answers it with a TCP reset. Every page then saw code 1006 ("abnormal closure",
//! `wasClean` false) for every connection it closed, and Firefox counts such a close as a failed
//! connection: its next WebSocket to the same address waits 200-400 ms (its
//! `FailDelayManager`; measured in the bench as a first token 300-435 ms late after a page
//! restarted the SDK). A connection libp2p did close itself was dropped right after its Close
//! frame, so the browser's answering Close frame met a closed socket and a reset as well.
//!
//! [`Lingering`] wraps each accepted or dialed WebSocket connection below Noise. When it is
//! dropped it hands the connection to a short task that completes the closing handshake the way
//! RFC 6455 §7.1 describes: it reads the peer's Close frame, which soketto answers with ours
//! (or, when the peer sends none within [`PEER_CLOSE_WAIT`], sends ours), then reads and
//! discards what the peer still sends until it closes: at most [`LINGER`] and [`MAX_DRAINED`]
//! bytes. At most [`MAX_LINGERING`] connections linger at once; past that one is dropped as
//! before.
//!
//! A connection already read to its end (the peer's Close frame came, and libp2p read the end
//! of the stream before dropping it) is not read again: libp2p-websocket 0.46's incoming stream
//! is a `futures::stream::unfold` that panics when polled after its end ("Unfold must not be
//! polled after it returned `Poll::Ready(None)`"), which killed this task in the nodes' logs.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How long a dropped connection may take to finish its closing handshake.
pub const LINGER: Duration = Duration::from_secs(2);

/// How long a dropped connection waits for its peer's Close frame before sending its own.
pub const PEER_CLOSE_WAIT: Duration = Duration::from_millis(250);

/// The most bytes read from a dropped connection while it closes (a peer that keeps sending is
/// cut off there).
pub const MAX_DRAINED: usize = 64 * 1024;

/// The most connections finishing their closing handshake at once.
pub const MAX_LINGERING: usize = 4096;

/// Connections finishing their closing handshake now.
static LINGERING: AtomicUsize = AtomicUsize::new(0);

/// A WebSocket connection (libp2p-websocket's byte stream) that finishes its closing handshake
/// when dropped (see the module's doc).
pub struct Lingering<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> {
    inner: Option<S>,
    /// Whether `poll_close` completed (the Close frame went out).
    closed: bool,
    /// Whether a read returned the end of the stream (it must not be read again).
    ended: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Lingering<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Lingering {
            inner: Some(inner),
            closed: false,
            ended: false,
        }
    }

    fn inner(&mut self) -> &mut S {
        // Taken only in `drop`.
        self.inner.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncRead for Lingering<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let read = Pin::new(self.inner()).poll_read(cx, buf);
        if matches!(read, Poll::Ready(Ok(0))) && !buf.is_empty() {
            self.ended = true;
        }
        read
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> AsyncWrite for Lingering<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(self.inner()).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.inner()).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let done = Pin::new(self.inner()).poll_close(cx);
        if done.is_ready() {
            self.closed = true;
        }
        done
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Drop for Lingering<S> {
    fn drop(&mut self) {
        let Some(mut inner) = self.inner.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        if LINGERING.fetch_add(1, Ordering::Relaxed) >= MAX_LINGERING {
            LINGERING.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        let (closed, ended) = (self.closed, self.ended);
        runtime.spawn(async move {
            // One budget for both reads: at most MAX_DRAINED bytes in all.
            let mut drained = 0;
            let _ = tokio::time::timeout(LINGER, async {
                if ended {
                    // Read to its end: nothing is left to read (and reading would panic, see
                    // the module's doc); only our Close frame may still be owed.
                    if !closed {
                        let _ = inner.close().await;
                    }
                    return;
                }
                if !closed {
                    // A peer that ended the connection sends its Close frame right after what
                    // ended it: read it first, and soketto answers it (Close frame, then FIN) as
                    // RFC 6455 has the receiver of a Close do. A peer that sends none within
                    // PEER_CLOSE_WAIT gets ours.
                    if tokio::time::timeout(PEER_CLOSE_WAIT, drain(&mut inner, &mut drained))
                        .await
                        .is_ok()
                    {
                        return;
                    }
                    if inner.close().await.is_err() {
                        return;
                    }
                }
                drain(&mut inner, &mut drained).await;
            })
            .await;
            drop(inner);
            LINGERING.fetch_sub(1, Ordering::Relaxed);
        });
    }
}

/// Reads and discards what `inner` still delivers, until its end, an error or `drained` (the
/// bytes read so far, counted here) reaching [`MAX_DRAINED`].
async fn drain<S: AsyncRead + Unpin>(inner: &mut S, drained: &mut usize) {
    let mut scratch = [0u8; 4096];
    while *drained < MAX_DRAINED {
        match inner.read(&mut scratch).await {
            Ok(0) | Err(_) => break,
            Ok(n) => *drained += n,
        }
    }
}
