//! The catalog on join: a node that keeps a catalog asks each of its bootstrap nodes, once per
//! connection and as soon as identify says the node serves `/fabstir/catalog/1.0.0`, for every
//! host record it holds, and keeps each one that opens (envelope, signature, bounds and expiry
//! checked as a gossiped announcement's are; an older sequence never replaces a newer one). In
//! its first [`JOIN_WINDOW`] it also asks up to [`RELAYS_ON_JOIN`] relays it meets (identify
//! lists the hop protocol): a relay with no bootstrap node of its own, restarted, is dialed
//! again by the relays that bootstrap from it, and learns the catalog from them.
//!
//! Without it a node that joined late learned of a host only at the host's next announcement,
//! a third of its TTL later (40 s with the default 120 s): the hosts already running were
//! missing from its catalog until then. Who is asked is bounded: the bootstrap nodes the
//! operator chose, and a few relays while the node is new, so a peer that merely claims the
//! protocols cannot make the node fetch and check thousands of records at will. The records are
//! checked all the same: a node asked can withhold hosts but cannot invent or alter one. A peer
//! whose connection drops and comes back is asked again only [`ASK_AGAIN_AFTER`] after it was
//! last asked: a flapping link does not make a node fetch the whole catalog at each reconnect.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use fabstir_protocol::catalog::{self, wire, CatalogError, CatalogFrame, CatalogRequest};
use libp2p::{PeerId, StreamProtocol};

use super::{count, inserted_outcome, CatalogMetrics, SharedCatalog};
use crate::host::unix_ms;

/// How long one sync may take, asks again included.
const SYNC_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times a node that closed or reset our ask unread (a busy node does:
/// docs/PROTOCOL.md, "Dropped streams") is asked, and the first wait between asks (doubled each
/// time).
const ASKS: u32 = 4;
const FIRST_WAIT: Duration = Duration::from_millis(250);
/// How long after its start a node also asks the relays it meets.
pub const JOIN_WINDOW: Duration = Duration::from_secs(120);
/// How many relays that are not bootstrap nodes a node asks in its [`JOIN_WINDOW`].
pub const RELAYS_ON_JOIN: usize = 3;
/// How long after a peer was asked it may be asked again (on a new connection). What that peer
/// gossips meanwhile still arrives, and every host announces again within a third of its TTL
/// (40 s by default), so a quicker second ask would mostly fetch records the node holds.
pub const ASK_AGAIN_AFTER: Duration = Duration::from_secs(30);

/// Whom a node asks for their catalog (see the module's doc).
#[derive(Debug)]
pub struct Asking {
    bootstrap: HashSet<PeerId>,
    /// Peers asked during their current connection.
    asked: HashSet<PeerId>,
    /// When each peer was last asked (bootstrap nodes and the few relays: a bounded set).
    last: HashMap<PeerId, Instant>,
    started: Instant,
    /// Relays asked that are not bootstrap nodes.
    relays_asked: usize,
}

impl Asking {
    /// A node started at `started` with the `bootstrap` nodes.
    pub fn new(bootstrap: impl IntoIterator<Item = PeerId>, started: Instant) -> Self {
        Asking {
            bootstrap: bootstrap.into_iter().collect(),
            asked: HashSet::new(),
            last: HashMap::new(),
            started,
            relays_asked: 0,
        }
    }

    /// Whether to ask `peer`, which speaks `protocols`, now (and notes it asked).
    pub fn ask(&mut self, peer: PeerId, protocols: &[StreamProtocol], now: Instant) -> bool {
        let speaks = |name: &str| protocols.iter().any(|p| p.as_ref() == name);
        let recently = |at: &Instant| now.saturating_duration_since(*at) < ASK_AGAIN_AFTER;
        if !speaks(catalog::PROTOCOL)
            || self.asked.contains(&peer)
            || self.last.get(&peer).is_some_and(recently)
        {
            return false;
        }
        let joining_relay = speaks(fabstir_protocol::RELAY_HOP_PROTOCOL)
            && now.saturating_duration_since(self.started) < JOIN_WINDOW
            && self.relays_asked < RELAYS_ON_JOIN;
        if !self.bootstrap.contains(&peer) {
            if !joining_relay {
                return false;
            }
            self.relays_asked += 1;
        }
        self.asked.insert(peer);
        self.last.insert(peer, now);
        true
    }

    /// `peer`'s last connection closed: a bootstrap node is asked again when it is back (and
    /// [`ASK_AGAIN_AFTER`] has passed since it was last asked).
    pub fn gone(&mut self, peer: &PeerId) {
        self.asked.remove(peer);
    }
}

/// The syncs of one node.
pub struct Sync {
    control: libp2p_stream::Control,
    hub: SharedCatalog,
    metrics: CatalogMetrics,
    asking: Asking,
}

impl Sync {
    /// Syncs `hub` from the `bootstrap` nodes (and relays while joining) through `control`.
    pub fn new(
        control: libp2p_stream::Control,
        hub: SharedCatalog,
        metrics: CatalogMetrics,
        bootstrap: impl IntoIterator<Item = PeerId>,
    ) -> Self {
        Sync {
            control,
            hub,
            metrics,
            asking: Asking::new(bootstrap, Instant::now()),
        }
    }

    /// Identify told what `peer` speaks: asked now (in a task of its own) when [`Asking`] says.
    pub fn on_identify(&mut self, peer: PeerId, protocols: &[StreamProtocol]) {
        if !self.asking.ask(peer, protocols, Instant::now()) {
            return;
        }
        let (control, hub, metrics) =
            (self.control.clone(), self.hub.clone(), self.metrics.clone());
        tokio::spawn(async move {
            let pulled = tokio::time::timeout(SYNC_TIMEOUT, pull(control, peer, &hub, &metrics));
            match pulled.await {
                Ok(Ok(n)) => {
                    tracing::info!(%peer, records = n, "catalog synced on joining")
                }
                Ok(Err(e)) => {
                    metrics.syncs_failed.inc();
                    tracing::warn!(%peer, error = %e, "catalog sync failed");
                }
                Err(_) => {
                    metrics.syncs_failed.inc();
                    tracing::warn!(%peer, "catalog sync timed out");
                }
            }
        });
    }

    /// `peer`'s last connection closed (see [`Asking::gone`]).
    pub fn gone(&mut self, peer: &PeerId) {
        self.asking.gone(peer);
    }
}

/// Asks `peer` for every host it holds (again while it closes the ask unread) and keeps each
/// record that opens; how many records came.
async fn pull(
    mut control: libp2p_stream::Control,
    peer: PeerId,
    hub: &SharedCatalog,
    metrics: &CatalogMetrics,
) -> Result<usize, String> {
    let request = CatalogRequest::Hosts {
        model_id: None,
        max_price_per_token: None,
        free_slots_only: false,
    };
    let (mut asks, mut wait) = (1, FIRST_WAIT);
    loop {
        let mut stream = control
            .open_stream(peer, StreamProtocol::new(catalog::PROTOCOL))
            .await
            .map_err(|e| e.to_string())?;
        let keep = |item| keep(hub, metrics, item);
        match wire::ask_each(&mut stream, &request, keep).await {
            Err(e) if e.unanswered() && asks < ASKS => {
                tokio::time::sleep(wait).await;
                (asks, wait) = (asks + 1, wait * 2);
            }
            answered => return answered.map_err(|e| e.to_string()),
        }
    }
}

/// Keeps one item of a sync's answer when it is a record that opens; counts what became of it.
fn keep(hub: &SharedCatalog, metrics: &CatalogMetrics, item: CatalogFrame) {
    let opened = match item {
        CatalogFrame::Host(text) => wire::open_host(&text, unix_ms()),
        other => Err(CatalogError::Malformed(format!("a {} frame", other.name()))),
    };
    let outcome = match opened {
        Err(e) => {
            tracing::debug!(error = %e, "a synced record refused");
            e.code()
        }
        Ok((announcement, sealed)) => inserted_outcome(hub.insert(announcement, sealed)),
    };
    count(&metrics.synced, outcome);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speaking(names: &[&'static str]) -> Vec<StreamProtocol> {
        names.iter().map(|n| StreamProtocol::new(n)).collect()
    }

    #[test]
    fn bootstrap_nodes_are_asked_once_per_connection_and_a_few_relays_while_joining() {
        let t0 = Instant::now();
        let boot = PeerId::random();
        let mut asking = Asking::new([boot], t0);
        let catalog = speaking(&[catalog::PROTOCOL]);
        let relay = speaking(&[catalog::PROTOCOL, fabstir_protocol::RELAY_HOP_PROTOCOL]);
        assert!(!asking.ask(boot, &speaking(&["/ipfs/id/1.0.0"]), t0));
        assert!(asking.ask(boot, &catalog, t0));
        assert!(
            !asking.ask(boot, &catalog, t0),
            "asked twice on one connection"
        );
        asking.gone(&boot);
        assert!(
            !asking.ask(boot, &catalog, t0 + ASK_AGAIN_AFTER / 2),
            "a bootstrap node back soon after it was asked is not asked again"
        );
        asking.gone(&boot);
        let late = t0 + JOIN_WINDOW * 10;
        assert!(
            asking.ask(boot, &catalog, late),
            "a bootstrap node back is asked again"
        );
        // A node that serves a catalog but is no relay (a host keeping one) is not asked.
        assert!(!asking.ask(PeerId::random(), &catalog, t0));
        // Relays: a few while joining, none after.
        assert!(!asking.ask(PeerId::random(), &relay, t0 + JOIN_WINDOW));
        let relays: Vec<bool> = (0..RELAYS_ON_JOIN + 2)
            .map(|_| asking.ask(PeerId::random(), &relay, t0))
            .collect();
        assert_eq!(relays.iter().filter(|a| **a).count(), RELAYS_ON_JOIN);
    }
}
