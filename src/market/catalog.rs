//! The network catalog from the page's side (issue 12): every bootstrap node is asked
//! for the hosts it catalogs (`/fabstir/catalog/1.0.0`), each host's record is checked here
//! against that host's own signature (a bootstrap node can hide a host but not invent or alter
//! one), and the answers are merged, newest per host.

use fabstir_protocol::catalog::{
    self, Announcement, CatalogError, CatalogFrame, CatalogRequest, ModelSummary,
};
use libp2p::{Multiaddr, PeerId, StreamProtocol};

use crate::error::SdkError;
use crate::market::Market;
use crate::net::peers::P2pMetrics;
use crate::net::rt;

impl Market {
    /// The verified records of the hosts of `model_id` that a bootstrap node catalogs, newest
    /// per host. Records that fail their check are dropped with a `p2p:debug` event; a
    /// bootstrap node that cannot answer is left out. While the catalogs are watched and every
    /// view is synced, the watched view answers; else, unless `refresh`, the catalog
    /// `listModels` merged within the discovery cache's time, when it lists hosts of `model_id`.
    pub(crate) async fn catalog_hosts(&self, model_id: &str, refresh: bool) -> Vec<Announcement> {
        let merged = match self.watched_catalog() {
            Some(watched) => watched,
            None => {
                if let Some(hosts) = (!refresh).then(|| self.listed_hosts(model_id)).flatten() {
                    return hosts;
                }
                self.merged_catalog(Some(model_id)).await
            }
        };
        merged
            .hosts_for(model_id)
            .map(|e| e.announcement.clone())
            .collect()
    }

    /// The unexpired hosts of `model_id` in the catalog `listModels` merged, if that was within
    /// the discovery cache's time and it lists any.
    fn listed_hosts(&self, model_id: &str) -> Option<Vec<Announcement>> {
        let now = rt::now_ms();
        let (age, listed) = self.cache().listed(now, self.discovery_ttl_ms())?;
        let hosts: Vec<Announcement> = listed
            .hosts_for(model_id)
            .filter(|e| e.announcement.expires_at > now as u64)
            .map(|e| e.announcement.clone())
            .collect();
        self.net.debug("discovery", "info", || {
            format!(
                "the catalog listModels merged {} ms ago lists {} host(s) of {model_id}",
                age as u64,
                hosts.len()
            )
        });
        (!hosts.is_empty()).then_some(hosts)
    }

    /// The bootstrap nodes' answers to a hosts request, each record verified, merged into one
    /// catalog (newest per host, as [`catalog::Catalog::insert`] keeps them).
    async fn merged_catalog(&self, model_id: Option<&str>) -> catalog::Catalog {
        let nodes = self.bootstrap_peers();
        // Unfiltered: discoverNodes' filters apply to the checked records, and the answer is
        // cached for other filters.
        let request = CatalogRequest::Hosts {
            model_id: model_id.map(str::to_string),
            max_price_per_token: None,
            free_slots_only: false,
        };
        let answers = futures::future::join_all(nodes.into_iter().map(|node| {
            let request = request.clone();
            async move { (node, self.ask_catalog(node, request).await) }
        }))
        .await;
        let now = rt::now_ms() as u64;
        let mut merged = catalog::Catalog::default();
        let mut opened = self.opened();
        for (node, answer) in answers {
            let frames = match answer {
                Ok(frames) => frames,
                Err(e) => {
                    self.net.debug("discovery", "warn", || {
                        format!("bootstrap node {node} gave no catalog: {e}")
                    });
                    continue;
                }
            };
            for frame in frames {
                let CatalogFrame::Host(text) = frame else {
                    continue;
                };
                match opened.open_host(&text, now) {
                    Ok((a, bytes)) => {
                        merged.insert(a, bytes);
                    }
                    Err(e) => self.refuse_record(node, "catalog", &e),
                }
            }
        }
        merged
    }

    /// Every model the connected bootstrap nodes' catalogs know, summarised from the verified
    /// host records (host count, price range, free slots), by id. The merged catalog is kept
    /// for the lookups that follow (`listed`).
    pub async fn list_models(&self) -> Result<Vec<ModelSummary>, SdkError> {
        if let Some(watched) = self.watched_catalog() {
            return Ok(watched.models());
        }
        let merged = self.merged_catalog(None).await;
        let models = merged.models();
        self.cache().put_listed(rt::now_ms(), merged);
        Ok(models)
    }

    /// Hands the addresses of catalogued hosts to the network, for dialing them by peer id.
    pub(crate) async fn learn_hosts(&self, hosts: &[Announcement]) -> Vec<PeerId> {
        let mut peers = Vec::new();
        for a in hosts {
            let Ok(peer) = a.peer_id.parse::<PeerId>() else {
                continue;
            };
            let addresses: Vec<Multiaddr> = a
                .addresses
                .iter()
                .filter_map(|x| crate::config::multiaddr_text::parse(x).ok())
                .filter(crate::config::addresses::can_dial)
                .collect();
            if self.net.learn_addresses(peer, addresses).await.is_ok() {
                peers.push(peer);
            }
        }
        peers
    }

    /// Counts a host record refused (`getP2PMetrics()`: `catalogRecordsRefused`, and
    /// `catalogRecordsForged` for an altered or forged one) and says why in a `p2p:debug`
    /// event; `via` is where it came from (`catalog`, `catalog watch`).
    pub(crate) fn refuse_record(&self, node: PeerId, via: &str, why: &CatalogError) {
        let forged = matches!(
            why,
            CatalogError::BadSignature | CatalogError::WrongSigner { .. }
        );
        let mut refused = self.refused.lock().unwrap_or_else(|p| p.into_inner());
        refused.all = refused.all.saturating_add(1);
        refused.forged = refused.forged.saturating_add(forged as u32);
        drop(refused);
        self.net.debug("discovery", "warn", || {
            format!("dropped a host record from {node}'s {via}: {why}")
        });
    }

    /// The host records refused so far, and of those the forged ones.
    pub fn records_refused(&self) -> Refused {
        *self.refused.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `metrics` (the network's counters) with the host records refused so far.
    pub fn with_refused_records(&self, mut metrics: P2pMetrics) -> P2pMetrics {
        let refused = self.records_refused();
        metrics.catalog_records_refused = refused.all;
        metrics.catalog_records_forged = refused.forged;
        metrics
    }

    /// Asks bootstrap node `node` one catalog `request`; the answer's items.
    pub(super) async fn ask_catalog(
        &self,
        node: PeerId,
        request: CatalogRequest,
    ) -> Result<Vec<CatalogFrame>, SdkError> {
        // A bootstrap node still being dialed (start() resolves with the first one) is waited
        // for, within dialTimeout.
        self.net.connect(node).await?;
        self.net
            .with_connected_peer(node, "catalog", |control| async move {
                let failed = |reason: String| SdkError::StreamFailed {
                    peer_id: node.to_string(),
                    reason,
                };
                // A node may close a stream unread (its queue full, or a libp2p-stream node's
                // busy hand-over: crate::net::dropped): asked again.
                crate::net::dropped::retry_unanswered(|| {
                    let (mut control, request) = (control.clone(), &request);
                    async move {
                        let mut stream = control
                            .open_stream(node, StreamProtocol::new(catalog::PROTOCOL))
                            .await
                            .map_err(|e| failed(e.to_string()))?;
                        catalog::wire::ask(&mut stream, request)
                            .await
                            .map_err(|e| failed(crate::net::dropped::request_failure(&e)))
                    }
                })
                .await
            })
            .await
    }
}

/// Host records refused (every reason), and of those the ones altered or forged on the way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Refused {
    /// Every record refused.
    pub all: u32,
    /// A bad signature, or a signer that is not the host the record names.
    pub forged: u32,
}
