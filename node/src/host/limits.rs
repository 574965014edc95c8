//! Per-peer limits on offers: a token bucket of requests per peer, and jobs held at once per peer
//! and per IP address.

use std::collections::HashMap;
use std::time::Instant;

use libp2p::PeerId;

use crate::config::relay::RateLimit;

/// Peers tracked before full buckets are forgotten (a full bucket holds nothing worth keeping).
const PRUNE_ABOVE: usize = 4096;

/// Request buckets, one per peer.
#[derive(Default)]
pub struct RequestRate {
    buckets: HashMap<PeerId, (f64, Instant)>,
}

impl RequestRate {
    /// Takes one request from `peer`'s bucket; false when it is empty. `burst: 0` allows all.
    pub fn allow(&mut self, peer: PeerId, limit: RateLimit, now: Instant) -> bool {
        if limit.burst == 0 {
            return true;
        }
        let burst = f64::from(limit.burst);
        let refill = |(tokens, at): (f64, Instant)| {
            let per_sec = 1.0 / limit.refill_secs.max(1) as f64;
            (
                burst.min(tokens + now.duration_since(at).as_secs_f64() * per_sec),
                now,
            )
        };
        if self.buckets.len() > PRUNE_ABOVE {
            self.buckets.retain(|_, bucket| refill(*bucket).0 < burst);
        }
        let bucket = self.buckets.entry(peer).or_insert((burst, now));
        *bucket = refill(*bucket);
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Jobs (and offers) held per key: a peer id, or an IP address.
pub struct Held<K> {
    held: HashMap<K, u32>,
}

/// Jobs (and offers) held per peer.
pub type PerPeer = Held<PeerId>;

impl<K> Default for Held<K> {
    fn default() -> Self {
        Held {
            held: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Copy> Held<K> {
    /// Takes one of `peer`'s `max` places; false when it holds them all.
    pub fn take(&mut self, peer: K, max: u32) -> bool {
        let held = self.held.entry(peer).or_default();
        if *held >= max {
            return false;
        }
        *held += 1;
        true
    }

    /// The places `peer` holds.
    pub fn held(&self, peer: &K) -> u32 {
        self.held.get(peer).copied().unwrap_or(0)
    }

    /// Gives one of `peer`'s places back.
    pub fn give_back(&mut self, peer: &K) {
        if let Some(held) = self.held.get_mut(peer) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                self.held.remove(peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_allows_its_burst_then_refills() {
        let mut rate = RequestRate::default();
        let limit = RateLimit {
            burst: 3,
            refill_secs: 2,
        };
        let (peer, other, t0) = (PeerId::random(), PeerId::random(), Instant::now());
        assert!((0..3).all(|_| rate.allow(peer, limit, t0)));
        assert!(!rate.allow(peer, limit, t0), "the burst is used up");
        assert!(rate.allow(other, limit, t0), "buckets are per peer");
        assert!(!rate.allow(peer, limit, t0 + Duration::from_secs(1)));
        assert!(rate.allow(peer, limit, t0 + Duration::from_secs(3)));
        let off = RateLimit {
            burst: 0,
            refill_secs: 1,
        };
        assert!((0..100).all(|_| rate.allow(peer, off, t0)));
    }

    #[test]
    fn places_are_per_peer_and_come_back() {
        let mut places = PerPeer::default();
        let (a, b) = (PeerId::random(), PeerId::random());
        assert!(places.take(a, 2) && places.take(a, 2));
        assert!(!places.take(a, 2));
        assert!(places.take(b, 2));
        places.give_back(&a);
        assert!(places.take(a, 2));
        places.give_back(&a);
        places.give_back(&a);
        places.give_back(&a);
        assert!(!places.held.contains_key(&a), "an idle peer is forgotten");
    }
}
