//! `p2pConfig.security`: which hosts this SDK uses for jobs. The blocklist refuses connections
//! outright; the allowlist and the page's `authenticate(peerId)` callback are consulted before a
//! host is probed, offered a job or streamed from.

use std::collections::HashMap;

use futures::channel::{mpsc, oneshot};
use libp2p::PeerId;

/// A question to the page's `authenticate` callback: may this peer serve jobs?
/// The answer is `Err` when the callback threw or rejected (treated as no).
pub type Approval = (PeerId, oneshot::Sender<Result<bool, String>>);

/// Questions waiting for the page; callers wait beyond this (backpressure).
pub const APPROVAL_BUFFER: usize = 16;

/// The page's answers, kept for `ttl_ms` so the callback is asked once per peer per period.
#[derive(Default)]
pub struct Verdicts {
    answers: HashMap<PeerId, (bool, f64)>,
}

impl Verdicts {
    /// A fresh answer about `peer`, if one is kept.
    pub fn get(&self, peer: &PeerId, now_ms: f64, ttl_ms: f64) -> Option<bool> {
        self.answers
            .get(peer)
            .filter(|(_, at)| now_ms - at < ttl_ms)
            .map(|(ok, _)| *ok)
    }

    /// Keeps an answer (at most 1024; the oldest are dropped first).
    pub fn put(&mut self, peer: PeerId, ok: bool, now_ms: f64) {
        if self.answers.len() >= 1024 {
            if let Some(oldest) = self
                .answers
                .iter()
                .min_by(|a, b| a.1 .1.total_cmp(&b.1 .1))
                .map(|(p, _)| *p)
            {
                self.answers.remove(&oldest);
            }
        }
        self.answers.insert(peer, (ok, now_ms));
    }
}

/// The channel to the binding that asks the page.
pub fn approval_channel() -> (mpsc::Sender<Approval>, mpsc::Receiver<Approval>) {
    mpsc::channel(APPROVAL_BUFFER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_expire_and_stay_bounded() {
        let mut v = Verdicts::default();
        let p = PeerId::random();
        v.put(p, true, 0.0);
        assert_eq!(v.get(&p, 10.0, 100.0), Some(true));
        assert_eq!(v.get(&p, 200.0, 100.0), None);
        for i in 0..2000 {
            v.put(PeerId::random(), false, f64::from(i));
        }
        assert!(v.answers.len() <= 1024);
    }
}
