//! Staying joined: a bootstrap node whose connection dropped (e.g. a restarted relay) is dialed
//! again with exponential backoff, and our models are announced again once it is back (a
//! restarted DHT node has forgotten every provider record).

use std::collections::HashMap;
use std::time::Duration;

use libp2p::{Multiaddr, PeerId};
use tokio::time::Instant;

/// The first wait after a lost connection; it doubles per failed dial, up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_millis(500);
/// The longest wait between dials.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Bootstrap nodes and when each may be dialed again.
pub struct Rejoin {
    nodes: Vec<(PeerId, Multiaddr)>,
    /// Node → (next dial, dials since it was last connected).
    lost: HashMap<PeerId, (Instant, u32)>,
}

impl Rejoin {
    /// Watches `nodes`.
    pub fn new(nodes: Vec<(PeerId, Multiaddr)>) -> Self {
        Rejoin {
            nodes,
            lost: HashMap::new(),
        }
    }

    /// Whether `peer` is one of the bootstrap nodes.
    pub fn is_bootstrap(&self, peer: &PeerId) -> bool {
        self.nodes.iter().any(|(p, _)| p == peer)
    }

    /// Notes a connection to `peer`; true when it is a bootstrap node that was lost (rejoined).
    pub fn connected(&mut self, peer: &PeerId) -> bool {
        self.lost.remove(peer).is_some()
    }

    /// Notes that the last connection to `peer` closed.
    pub fn disconnected(&mut self, peer: &PeerId, now: Instant) {
        if self.is_bootstrap(peer) {
            self.lost.entry(*peer).or_insert((now + FIRST_WAIT, 0));
        }
    }

    /// The addresses to dial now (each due node once; its next dial moves back).
    pub fn due(&mut self, now: Instant) -> Vec<Multiaddr> {
        let mut out = Vec::new();
        for (peer, addr) in &self.nodes {
            if let Some((at, dials)) = self.lost.get_mut(peer) {
                if now >= *at {
                    *dials += 1;
                    let wait = FIRST_WAIT
                        .saturating_mul(1u32.checked_shl(*dials).unwrap_or(u32::MAX))
                        .min(MAX_WAIT);
                    *at = now + wait;
                    out.push(addr.clone());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_bootstrap_node_is_dialed_with_backoff_until_it_is_back() {
        let (boot, other) = (PeerId::random(), PeerId::random());
        let addr: Multiaddr = "/ip4/127.0.0.1/tcp/1".parse().unwrap();
        let mut r = Rejoin::new(vec![(boot, addr.clone())]);
        let t0 = Instant::now();
        r.disconnected(&other, t0);
        r.disconnected(&boot, t0);
        assert!(r.due(t0).is_empty(), "not at once");
        assert_eq!(r.due(t0 + FIRST_WAIT), vec![addr.clone()]);
        assert!(r.due(t0 + FIRST_WAIT).is_empty(), "then it waits longer");
        assert_eq!(r.due(t0 + Duration::from_secs(2)), vec![addr]);
        assert!(r.connected(&boot), "rejoined");
        assert!(!r.connected(&boot));
        assert!(r.due(t0 + Duration::from_secs(60)).is_empty());
    }
}
