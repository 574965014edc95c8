//! The catalog on join: a node that keeps a catalog asks each of its bootstrap nodes, once per
//! connection and as soon as identify says the node serves `/fabstir/catalog/1.0.0`, for every
//! host record it holds, and keeps each one that opens (envelope, signature, bounds and expiry
//! checked as a gossiped announcement's are; an older sequence never replaces a newer one).
//!
//! Without it a node that joined late learned of a host only at the host's next announcement,
//! a third of its TTL later (40 s with the default 120 s): the hosts already running were
//! missing from its catalog until then. Only bootstrap nodes are asked: the operator chose them,
//! and a peer that merely claims the protocol cannot make the node fetch and check thousands of
//! records at will. The records are checked all the same: a bootstrap node can withhold hosts
//! but cannot invent or alter one.

use std::collections::HashSet;
use std::time::Duration;

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

/// The syncs of one node.
pub struct Sync {
    control: libp2p_stream::Control,
    hub: SharedCatalog,
    metrics: CatalogMetrics,
    bootstrap: HashSet<PeerId>,
    /// Bootstrap nodes asked during their current connection.
    asked: HashSet<PeerId>,
}

impl Sync {
    /// Syncs `hub` from the `bootstrap` nodes through `control`.
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
            bootstrap: bootstrap.into_iter().collect(),
            asked: HashSet::new(),
        }
    }

    /// Identify told what `peer` speaks: a bootstrap node that serves the catalog and was not
    /// asked since it connected is asked now (in a task of its own).
    pub fn on_identify(&mut self, peer: PeerId, protocols: &[StreamProtocol]) {
        let serves = protocols.iter().any(|p| p.as_ref() == catalog::PROTOCOL);
        if !serves || !self.bootstrap.contains(&peer) || !self.asked.insert(peer) {
            return;
        }
        let (control, hub, metrics) =
            (self.control.clone(), self.hub.clone(), self.metrics.clone());
        tokio::spawn(async move {
            let pulled = tokio::time::timeout(SYNC_TIMEOUT, pull(control, peer, &hub, &metrics));
            match pulled.await {
                Ok(Ok(n)) => {
                    tracing::info!(%peer, records = n, "catalog synced from a bootstrap node")
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

    /// `peer`'s last connection closed: it is asked again when it is back.
    pub fn gone(&mut self, peer: &PeerId) {
        self.asked.remove(peer);
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
    let request = CatalogRequest::Hosts { model_id: None };
    let mut wait = FIRST_WAIT;
    for ask in 1..=ASKS {
        let mut stream = control
            .open_stream(peer, StreamProtocol::new(catalog::PROTOCOL))
            .await
            .map_err(|e| e.to_string())?;
        let keep = |item| keep(hub, metrics, item);
        match wire::ask_each(&mut stream, &request, keep).await {
            Err(e) if e.unanswered() && ask < ASKS => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            answered => return answered.map_err(|e| e.to_string()),
        }
    }
    unreachable!("the last ask returns")
}

/// Keeps one item of a sync's answer when it is a record that opens; counts what became of it.
fn keep(hub: &SharedCatalog, metrics: &CatalogMetrics, item: CatalogFrame) {
    let opened = match item {
        CatalogFrame::Host(text) => wire::sealed_bytes(&text)
            .map_err(|e| CatalogError::Malformed(e.to_string()))
            .and_then(|bytes| Ok((catalog::open(&bytes, unix_ms())?, bytes))),
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
