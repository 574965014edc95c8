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

pub use crate::net::later::{MAX_DEFER_MS, QUIET_MS};

/// The relays whose reservation waits, and since when (ms on the `now_ms()` clock). The page's
/// busy times are those of [`crate::net::later`].
#[derive(Debug, Default)]
pub struct ReserveLater {
    relays: Vec<PeerId>,
    /// When the first of them was put off; `None` when none waits.
    since: Option<f64>,
}

impl ReserveLater {
    /// Puts off the reservation on `relay`; the relays put off before wait on with it.
    pub fn defer(&mut self, relay: PeerId, now: f64) {
        self.relays.push(relay);
        self.since.get_or_insert(now);
    }

    /// How many ms until the waiting reservations are due, the page last busy at `busy` (zero
    /// or less: now; also when the clock went back); `None` when none waits.
    pub fn wait(&self, busy: f64, now: f64) -> Option<f64> {
        Some(crate::net::later::wait(busy, self.since?, now))
    }

    /// The relays to ask now (a relay put off twice is listed twice): all that wait once they
    /// are due, none before.
    pub fn take_due(&mut self, busy: f64, now: f64) -> Vec<PeerId> {
        if self.wait(busy, now).is_some_and(|wait| wait <= 0.0) {
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
        assert_eq!(later.wait(0.0, 1000.0), None);
        later.defer(relay, 1000.0);
        assert_eq!(later.wait(0.0, 1000.0), Some(QUIET_MS));
        assert_eq!(later.wait(0.0, 1100.0), Some(QUIET_MS - 100.0));
        assert!(later.take_due(0.0, 1000.0 + QUIET_MS - 1.0).is_empty());
        assert_eq!(later.take_due(0.0, 1000.0 + QUIET_MS), vec![relay]);
        assert_eq!(later.wait(0.0, 1000.0 + QUIET_MS), None, "due once");
        assert!(later.take_due(0.0, 100_000.0).is_empty());
    }

    #[test]
    fn a_busy_page_puts_them_off_but_not_past_the_limit() {
        let (first, second) = (PeerId::random(), PeerId::random());
        let mut later = ReserveLater::default();
        later.defer(first, 0.0);
        assert_eq!(later.wait(200.0, 200.0), Some(QUIET_MS));
        assert!(
            later.take_due(200.0, QUIET_MS).is_empty(),
            "put off by the busy page"
        );
        // A second relay put off later waits with the first: the limit counts from the first.
        later.defer(second, 300.0);
        assert_eq!(
            later.wait(1900.0, 1900.0),
            Some(100.0),
            "the limit comes first"
        );
        assert_eq!(later.take_due(1900.0, MAX_DEFER_MS), vec![first, second]);
    }

    #[test]
    fn a_clock_that_went_back_makes_them_due() {
        let relay = PeerId::random();
        let mut later = ReserveLater::default();
        later.defer(relay, 5000.0);
        assert_eq!(later.take_due(5000.0, 10.0), vec![relay]);
    }
}
