//! Finding the hosts of a model: one lookup per model at a time (concurrent callers share its
//! answer through the cache) in the bootstrap nodes' catalogs, or the DHT (looked up by them)
//! when they list none;
//! the hosts admitted by security probed for their info and round trip, and the answer filtered
//! and ordered for the caller. A job submitted without discovery first skips the probes when the
//! catalogs answered: their records, each signed by its host, already say what a probe would ask,
//! and the negotiation that follows is the round trip that counts.

use std::sync::Arc;

use libp2p::PeerId;

use crate::error::SdkError;
use crate::events::{Capabilities, DiscoveredNode, SdkEvent};
use crate::market::discovery::{DiscoverOptions, Source};
use crate::market::Market;
use crate::net::rt;

/// Providers of one model probed per discovery (each costs a connection and two requests).
const MAX_PROBES: usize = 20;
/// How long a probe waits before its second and last try to reach a provider.
const PROBE_RETRY_AFTER: std::time::Duration = std::time::Duration::from_millis(300);

impl Market {
    /// Hosts of `options.model_id`, from the cache when fresh, else from the catalogs or the
    /// DHT; filtered
    /// and ordered as [`crate::market::discovery::select`] says.
    pub async fn discover_nodes(
        &self,
        options: &DiscoverOptions,
    ) -> Result<Vec<DiscoveredNode>, SdkError> {
        crate::config::addresses::parse_peer_ids("preferredNodes", &options.preferred_nodes)?;
        crate::config::addresses::parse_peer_ids("excludeNodes", &options.exclude_nodes)?;
        let nodes = self
            .hosts_of(
                &options.model_id,
                options.force_refresh,
                options.source,
                Probe::Always,
            )
            .await?;
        let registry = self.registry();
        Ok(crate::market::discovery::select(nodes, options, |p| {
            registry.reputation(p, rt::now_ms())
        }))
    }

    /// Every reachable host of `model_id` (cached for `discoveryCacheTtl`). With
    /// [`Probe::UnlessCatalogued`], hosts from the catalogs come unprobed, as their records say
    /// (latency 0, no `node:discovered` events, not yet checked by security: the caller
    /// connects to them and asks [`Market::admits`] itself), cached as unprobed: only a
    /// [`Probe::Always`] answer serves a later `discoverNodes`.
    pub(crate) async fn hosts_of(
        &self,
        model_id: &str,
        refresh: bool,
        source: Source,
        probe: Probe,
    ) -> Result<Vec<DiscoveredNode>, SdkError> {
        if model_id.is_empty() || model_id.len() > fabstir_protocol::messages::MAX_MODEL_ID_LEN {
            return Err(SdkError::argument(
                "modelId",
                format!(
                    "must be 1 to {} bytes, got {}",
                    fabstir_protocol::messages::MAX_MODEL_ID_LEN,
                    model_id.len()
                ),
            ));
        }
        let ttl = self.discovery_ttl_ms();
        // Only the usual lookup's answers are cached (a forced source is asked every time).
        let refresh = refresh || source != Source::Auto;
        // An unprobed answer serves only an unprobing caller.
        let probed = probe == Probe::Always;
        if !refresh {
            if let Some(nodes) = self.cache().get(model_id, rt::now_ms(), ttl, probed) {
                return Ok(nodes);
            }
        }
        let turn = {
            let mut lookups = self
                .lookups
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if lookups.len() > 256 {
                lookups.retain(|_, m| Arc::strong_count(m) > 1);
            }
            lookups.entry(model_id.to_string()).or_default().clone()
        };
        let started = rt::now_ms();
        let _turn = turn.lock().await;
        // Someone else looked while we waited: their answer is ours.
        let fresh = self
            .cache()
            .get_with_time(model_id, rt::now_ms(), ttl, probed);
        if let Some((nodes, at)) = fresh {
            if !refresh || at >= started {
                return Ok(nodes);
            }
        }
        // The bootstrap nodes' catalogs first (one round trip); the DHT when they list no host.
        let catalogued = match source {
            Source::Dht => Vec::new(),
            Source::Auto | Source::Catalog => self.catalog_hosts(model_id, refresh).await,
        };
        let providers = if catalogued.is_empty() && source != Source::Catalog {
            let providers = self.dht_providers(model_id).await?;
            self.net.debug("discovery", "info", || {
                format!(
                    "no catalog lists {model_id}; the DHT lists {} provider(s)",
                    providers.len()
                )
            });
            providers
        } else {
            self.net.debug("discovery", "info", || {
                format!(
                    "the catalog lists {} host(s) of {model_id}",
                    catalogued.len()
                )
            });
            self.learn_hosts(&catalogued).await
        };
        // An answer without a blacklisted host is not cached: the host may half-open before the
        // cache would expire.
        let now = rt::now_ms();
        let cacheable =
            source == Source::Auto && providers.iter().all(|p| self.registry().usable(p, now));
        // "No host" is not cached: one may come (back) any moment, and a retry should see it.
        if probe == Probe::UnlessCatalogued && !catalogued.is_empty() {
            let nodes: Vec<DiscoveredNode> = catalogued
                .iter()
                .filter(|a| providers.iter().any(|p| p.to_string() == a.peer_id))
                .filter_map(|a| as_recorded(a, model_id, now))
                .collect();
            if cacheable && !nodes.is_empty() {
                self.cache().put(model_id, now, false, nodes.clone());
            }
            return Ok(nodes);
        }
        let admitted = futures::future::join_all(
            providers
                .into_iter()
                .map(|peer| async move { self.admits(peer).await.then_some(peer) }),
        )
        .await;
        let probes = admitted
            .into_iter()
            .flatten()
            .take(MAX_PROBES)
            .map(|peer| async move {
                let probed = self.probe(peer, model_id).await;
                if let Err(e) = &probed {
                    self.net.debug("discovery", "warn", || {
                        format!("provider {peer} did not qualify: {e}")
                    });
                }
                probed.ok()
            });
        let nodes: Vec<DiscoveredNode> = futures::future::join_all(probes)
            .await
            .into_iter()
            .flatten()
            .collect();
        for node in &nodes {
            self.net.emit(SdkEvent::NodeDiscovered {
                model_id: model_id.to_string(),
                node: node.clone(),
            });
        }
        if cacheable && !nodes.is_empty() {
            self.cache()
                .put(model_id, rt::now_ms(), true, nodes.clone());
        }
        Ok(nodes)
    }

    /// Connects to a provider, reads its node info and measures its round trip.
    async fn probe(&self, peer: PeerId, model_id: &str) -> Result<DiscoveredNode, SdkError> {
        // A provider named a moment ago may be unreachable for a moment (a relayed host between
        // two reservations, a dial that lost a race): one more try before it is left out.
        if let Err(first) = self.connect(peer).await {
            if matches!(first, SdkError::CircuitOpen { .. }) {
                return Err(first);
            }
            self.net.debug("discovery", "info", || {
                format!("provider {peer} unreachable ({first}); trying once more")
            });
            rt::sleep(PROBE_RETRY_AFTER).await;
            self.connect(peer).await?;
        }
        // Asked together: one round trip to the host, not two (each opens its own stream).
        let (info, latency) =
            futures::future::join(self.node_info(peer), self.net.ping(peer)).await;
        let (info, latency) = (info?, latency?);
        let Some(model) = info.models.iter().find(|m| m.id == model_id) else {
            return Err(SdkError::NoNodesAvailable {
                model_id: model_id.into(),
                reason: format!("{peer} no longer serves it"),
            });
        };
        let peer_text = peer.to_string();
        let multiaddrs = self
            .net
            .connected_peers()
            .await?
            .into_iter()
            .filter(|p| p.peer_id == peer_text)
            .map(|p| {
                if p.address.ends_with(&peer_text) {
                    p.address
                } else {
                    format!("{}/p2p/{peer_text}", p.address)
                }
            })
            .collect();
        Ok(DiscoveredNode {
            peer_id: peer_text,
            multiaddrs,
            capabilities: Capabilities {
                models: info.models.iter().map(|m| m.id.clone()).collect(),
                max_tokens: model.max_tokens,
                price_per_token: model.price_per_token,
                price_per_prompt_token: model.price_per_prompt_token,
                context_tokens: model.context_tokens,
                compute_type: info.compute_type.clone(),
                max_concurrent_jobs: info.max_concurrent_jobs,
                current_load: info.current_load,
                backend: model.backend,
            },
            latency,
            reputation: 0.5,
            last_seen: rt::now_ms(),
        })
    }
}

/// Whether [`Market::hosts_of`] probes the hosts the catalogs list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// Every host is probed (`discoverNodes`: its answer has measured round trips).
    Always,
    /// Catalogued hosts are taken as their signed records say (a job submitted at once).
    UnlessCatalogued,
}

/// A catalogued host as its verified record describes it, unprobed (latency 0).
fn as_recorded(
    a: &fabstir_protocol::catalog::Announcement,
    model_id: &str,
    now: f64,
) -> Option<DiscoveredNode> {
    let model = a.models.iter().find(|m| m.id == model_id)?;
    Some(DiscoveredNode {
        peer_id: a.peer_id.clone(),
        multiaddrs: a.addresses.clone(),
        capabilities: Capabilities {
            models: a.models.iter().map(|m| m.id.clone()).collect(),
            max_tokens: model.max_tokens,
            price_per_token: model.price_per_token,
            price_per_prompt_token: model.price_per_prompt_token,
            context_tokens: model.context_tokens,
            compute_type: String::new(),
            max_concurrent_jobs: a.max_concurrent_jobs,
            current_load: a.current_load,
            backend: model.backend,
        },
        latency: 0.0,
        reputation: 0.5,
        last_seen: now,
    })
}
