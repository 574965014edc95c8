//! The streams identify and ping open and answer on a new connection, put off until the page is
//! quiet.
//!
//! libp2p-identify 0.48 and libp2p-ping 0.47 open a stream to the peer the moment a connection
//! is established (identify asks for the peer's record, ping sends its first ping), and our
//! nodes do the same to the page. A page that submits a job right after `start()` (or dials the
//! job's host) ran those exchanges, and on a fresh page V8's first compile of their code, on its
//! one thread in the middle of the job's setup: about twelve messages per connection.
//!
//! [`Later`] wraps such a behaviour. Its connection handlers do not poll the inner handler
//! until the page has been quiet for [`QUIET_MS`] (no dial, no connect, no new connection; the
//! relay reservation waits by the same clock, `crate::net::reserve_later`), and at most
//! [`MAX_DEFER_MS`] after the connection was made. Until then the inner handler opens no stream,
//! and a stream the peer opens is handed to it but not answered (libp2p-identify and libp2p-ping
//! set their answer up when they get the stream and run it when polled); the peer waits (identify
//! and ping wait far longer than [`MAX_DEFER_MS`]). Then everything runs as before. The page
//! learns a peer's protocols (`peer:identify`) and its round trip, and a node learns the page's,
//! about [`QUIET_MS`] later than before; nothing a job waits for comes from either. (The node
//! holds its half on a page's connection: `node/src/wrap/page_later.rs`.)
//!
//! Measured in headless Chromium 156 on loopback, the bench's fresh page submitting a job at
//! once, medians of 15, four alternated rounds, direct / relayed host: the first token came
//! after 51-61 / 52-58 ms before, 41-53 / 43-49 ms with only our own streams put off, and
//! 40-43 / 38-43 ms with the peer's put off too (those held apart from the inner handler then;
//! now the inner handler, not polled, holds them).

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use fabstir_swarm::handler::{Hooked, Inline, PollAfter};
use fabstir_swarm::{Change, Wrap};
use futures::FutureExt;
use futures_timer::Delay;
use libp2p::swarm::{NetworkBehaviour, THandler};
use libp2p::Multiaddr;

use crate::net::rt::now_ms;

/// How long the page must have been quiet before what waits for it goes, in ms.
pub const QUIET_MS: f64 = 250.0;
/// The longest anything waits for the page to be quiet, however busy it is, in ms.
pub const MAX_DEFER_MS: f64 = 2000.0;

/// When the page was last busy (the bits of an `f64`, ms on the `now_ms()` clock). One for
/// the page: its SDK instances share its one thread.
static BUSY: AtomicU64 = AtomicU64::new(0);

/// The page is busy now (a dial, a connect, a new connection): what [`Later`] holds waits on.
pub fn busy(now: f64) {
    // Non-negative `f64`s order as their bits do.
    BUSY.fetch_max(now.max(0.0).to_bits(), Ordering::Relaxed);
}

/// When the page was last busy.
pub fn last_busy() -> f64 {
    f64::from_bits(BUSY.load(Ordering::Relaxed))
}

/// How many ms until what was put off at `since` may go, the page last busy at `busy`: once the
/// page has been quiet for [`QUIET_MS`], at the latest [`MAX_DEFER_MS`] after `since`. Zero or
/// less: now; also when the clock went back.
pub fn wait(busy: f64, since: f64, now: f64) -> f64 {
    let busy = busy.max(since);
    if now < busy {
        return 0.0;
    }
    (busy + QUIET_MS).min(since + MAX_DEFER_MS) - now
}

/// A behaviour `B` whose handlers put their streams off until the page is quiet (see the
/// module comment). It dereferences to `B`.
pub type Later<B> = Wrap<B, PutOff>;

/// `inner`, its handlers' streams held until the page is quiet.
pub fn later<B: NetworkBehaviour>(inner: B) -> Later<B> {
    Wrap::new(inner, PutOff)
}

/// The change [`Later`] makes: each connection's handler is held ([`Held`]).
pub struct PutOff;

impl<B: NetworkBehaviour> Change<B> for PutOff {
    type Handler = Hooked<Inline<THandler<B>>, Held>;

    fn handler(&mut self, inner: THandler<B>, _: Option<&Multiaddr>) -> Self::Handler {
        Hooked::new(Inline(inner), PollAfter(Some(Hold::new())))
    }
}

/// A connection's hold ([`PollAfter`] the page was quiet long enough): until then the inner
/// handler is not polled, so it opens no stream and a stream the peer opened waits in it.
pub type Held = PollAfter<Hold>;

/// How long one connection's handler holds, done once the page was quiet long enough (kept
/// apart from the handler's types, so that its code is there once for all of them).
pub struct Hold {
    /// When the connection was made.
    since: f64,
    /// Wakes the handler to look at the clock again.
    timer: Delay,
}

impl Hold {
    fn new() -> Self {
        Self {
            since: now_ms(),
            timer: Delay::new(duration(QUIET_MS)),
        }
    }
}

impl Future for Hold {
    type Output = ();

    /// Ready once the page has been quiet long enough; if not, sets the timer to look again.
    #[inline(never)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        while self.timer.poll_unpin(cx).is_ready() {
            let wait = wait(last_busy(), self.since, now_ms());
            if wait <= 0.0 {
                return Poll::Ready(());
            }
            self.timer.reset(duration(wait));
        }
        Poll::Pending
    }
}

/// `ms` as a [`Duration`], whole ms rounded up (none when negative): how long to wait for a
/// [`wait`].
pub fn duration(ms: f64) -> Duration {
    Duration::from_millis(ms.max(0.0).ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_waits_until_the_page_was_quiet_and_no_longer_than_the_cap() {
        // Made at 1000 with the page quiet since: it waits the quiet time from then.
        assert_eq!(wait(0.0, 1000.0, 1000.0), QUIET_MS);
        assert_eq!(wait(500.0, 1000.0, 1000.0 + QUIET_MS), 0.0);
        // The page busy again at 1100: it waits on from there.
        assert_eq!(wait(1100.0, 1000.0, 1100.0 + QUIET_MS), 0.0);
        assert_eq!(wait(1100.0, 1000.0, 1200.0), 1100.0 + QUIET_MS - 1200.0);
        // However busy the page stays, no longer than the cap after the connection.
        assert_eq!(
            wait(1000.0 + MAX_DEFER_MS, 1000.0, 1000.0 + MAX_DEFER_MS),
            0.0
        );
    }

    #[test]
    fn the_page_clock_never_goes_back() {
        busy(5000.0);
        busy(4000.0);
        assert!(last_busy() >= 5000.0);
    }
}
