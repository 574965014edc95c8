//! `discoverNodes`: hosts of a model found through the network catalog or DHT provider records,
//! probed for their
//! capabilities and round-trip time, cached per model, filtered and ordered for the caller.

use std::collections::HashMap;
use std::sync::Arc;

use fabstir_protocol::catalog::Catalog;

use serde::Deserialize;

use crate::events::DiscoveredNode;

/// What `discoverNodes(options)` asks for.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DiscoverOptions {
    /// The model to find hosts of.
    pub model_id: String,
    /// Only hosts whose price per token is at most this.
    #[serde(default)]
    pub max_price: Option<u64>,
    /// Only hosts whose measured round trip (ms) is at most this.
    #[serde(default)]
    pub max_latency: Option<f64>,
    /// Only hosts whose reputation (0..1) is at least this.
    #[serde(default)]
    pub min_reputation: Option<f64>,
    /// Peer ids listed first when they qualify.
    #[serde(default)]
    pub preferred_nodes: Vec<String>,
    /// Peer ids never returned.
    #[serde(default)]
    pub exclude_nodes: Vec<String>,
    /// Ask again even when a cached answer is fresh.
    #[serde(default)]
    pub force_refresh: bool,
    /// Where hosts are looked up (default: the catalog, the DHT when it lists none).
    #[serde(default)]
    pub source: Source,
}

/// Where `discoverNodes` looks hosts up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The bootstrap nodes' catalogs, the DHT when they list no host (answers cached).
    #[default]
    Auto,
    /// Only the catalogs (not cached).
    Catalog,
    /// Only the DHT (not cached).
    Dht,
}

/// Cached discovery answers per model id, each marked whether its hosts were probed.
#[derive(Default)]
pub struct Cache {
    entries: HashMap<String, (f64, bool, Vec<DiscoveredNode>)>,
    /// The whole catalog as `listModels` last merged it (records checked), and when.
    listed: Option<(f64, Arc<Catalog>)>,
}

/// Models whose answers are kept at once; the oldest answer goes first beyond this.
const MAX_CACHED_MODELS: usize = 64;

impl Cache {
    /// The answer for `model_id` if it is younger than `ttl_ms` at `now_ms` (and probed, when
    /// `probed` asks for that).
    pub fn get(
        &self,
        model_id: &str,
        now_ms: f64,
        ttl_ms: f64,
        probed: bool,
    ) -> Option<Vec<DiscoveredNode>> {
        self.get_with_time(model_id, now_ms, ttl_ms, probed)
            .map(|(nodes, _)| nodes)
    }

    /// Like [`Cache::get`], with when the answer was stored.
    pub fn get_with_time(
        &self,
        model_id: &str,
        now_ms: f64,
        ttl_ms: f64,
        probed: bool,
    ) -> Option<(Vec<DiscoveredNode>, f64)> {
        let (at, was_probed, nodes) = self.entries.get(model_id)?;
        (now_ms - at < ttl_ms && (*was_probed || !probed)).then(|| (nodes.clone(), *at))
    }

    /// Models with an answer stored (fresh or not).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no answer is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Stores the answer for `model_id` found at `now_ms`, its hosts `probed` or taken as their
    /// catalog records say.
    pub fn put(&mut self, model_id: &str, now_ms: f64, probed: bool, nodes: Vec<DiscoveredNode>) {
        if self.entries.len() >= MAX_CACHED_MODELS && !self.entries.contains_key(model_id) {
            if let Some(oldest) = self
                .entries
                .iter()
                .min_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
                .map(|(k, _)| k.clone())
            {
                self.entries.remove(&oldest);
            }
        }
        self.entries
            .insert(model_id.to_string(), (now_ms, probed, nodes));
    }

    /// Keeps the catalog `listModels` merged at `now_ms`, for the lookups that follow.
    pub fn put_listed(&mut self, now_ms: f64, catalog: Catalog) {
        self.listed = Some((now_ms, Arc::new(catalog)));
    }

    /// The catalog `listModels` merged and its age, if younger than `ttl_ms` at `now_ms`.
    pub fn listed(&self, now_ms: f64, ttl_ms: f64) -> Option<(f64, Arc<Catalog>)> {
        let (at, catalog) = self.listed.as_ref()?;
        (now_ms - at < ttl_ms).then(|| (now_ms - at, catalog.clone()))
    }
}

/// Applies the caller's filters and orders the result: preferred nodes first, then by price,
/// then by latency. `reputation` gives each peer's current reputation.
pub fn select(
    nodes: Vec<DiscoveredNode>,
    options: &DiscoverOptions,
    reputation: impl Fn(&str) -> f64,
) -> Vec<DiscoveredNode> {
    let mut out: Vec<DiscoveredNode> = nodes
        .into_iter()
        .map(|mut n| {
            n.reputation = reputation(&n.peer_id);
            n
        })
        .filter(|n| !options.exclude_nodes.contains(&n.peer_id))
        .filter(|n| {
            options
                .max_price
                .is_none_or(|m| n.capabilities.price_per_token <= m)
        })
        .filter(|n| options.max_latency.is_none_or(|m| n.latency <= m))
        .filter(|n| options.min_reputation.is_none_or(|m| n.reputation >= m))
        .collect();
    let preferred = |n: &DiscoveredNode| !options.preferred_nodes.contains(&n.peer_id);
    out.sort_by(|a, b| {
        preferred(a)
            .cmp(&preferred(b))
            .then(
                a.capabilities
                    .price_per_token
                    .cmp(&b.capabilities.price_per_token),
            )
            .then(a.latency.total_cmp(&b.latency))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Capabilities;
    use fabstir_protocol::messages::BackendKind;

    fn node(id: &str, price: u64, latency: f64) -> DiscoveredNode {
        DiscoveredNode {
            peer_id: id.into(),
            multiaddrs: vec![],
            capabilities: Capabilities {
                models: vec!["m".into()],
                max_tokens: 10,
                price_per_token: price,
                price_per_prompt_token: 0,
                context_tokens: None,
                compute_type: "cpu".into(),
                max_concurrent_jobs: 1,
                current_load: 0,
                backend: BackendKind::Demo,
            },
            latency,
            reputation: 0.0,
            last_seen: 0.0,
        }
    }

    fn ids(nodes: &[DiscoveredNode]) -> Vec<&str> {
        nodes.iter().map(|n| n.peer_id.as_str()).collect()
    }

    #[test]
    fn orders_by_price_then_latency_with_preferred_first() {
        let nodes = vec![node("a", 5, 1.0), node("b", 3, 9.0), node("c", 3, 2.0)];
        let o = DiscoverOptions::default();
        assert_eq!(ids(&select(nodes.clone(), &o, |_| 0.5)), ["c", "b", "a"]);
        let o = DiscoverOptions {
            preferred_nodes: vec!["a".into()],
            ..Default::default()
        };
        assert_eq!(ids(&select(nodes, &o, |_| 0.5)), ["a", "c", "b"]);
    }

    #[test]
    fn filters() {
        let nodes = vec![node("a", 5, 1.0), node("b", 3, 9.0), node("c", 3, 2.0)];
        let o = DiscoverOptions {
            max_price: Some(4),
            max_latency: Some(5.0),
            ..Default::default()
        };
        assert_eq!(ids(&select(nodes.clone(), &o, |_| 0.5)), ["c"]);
        let o = DiscoverOptions {
            exclude_nodes: vec!["c".into()],
            min_reputation: Some(0.6),
            ..Default::default()
        };
        let rep = |p: &str| if p == "a" { 0.9 } else { 0.5 };
        let out = select(nodes, &o, rep);
        assert_eq!(ids(&out), ["a"]);
        assert_eq!(out[0].reputation, 0.9);
    }

    #[test]
    fn cache_expires_and_stays_bounded() {
        let mut c = Cache::default();
        c.put("m", 1000.0, true, vec![node("a", 1, 1.0)]);
        assert!(c.get("m", 1500.0, 1000.0, true).is_some());
        assert!(c.get("m", 2000.0, 1000.0, true).is_none());
        assert!(c.get("m", 1500.0, 0.0, false).is_none());
        // An unprobed answer serves a submitted job, not discoverNodes.
        c.put("u", 1000.0, false, vec![node("a", 1, 0.0)]);
        assert!(c.get("u", 1500.0, 1000.0, false).is_some());
        assert!(c.get("u", 1500.0, 1000.0, true).is_none());
        for i in 0..100 {
            c.put(&format!("m{i}"), f64::from(i), true, vec![]);
        }
        assert!(c.entries.len() <= MAX_CACHED_MODELS);
        assert!(c.get("m99", 99.0, 1.0, true).is_some());
    }

    #[test]
    fn the_listed_catalog_serves_within_the_ttl_and_is_replaced() {
        let mut c = Cache::default();
        assert!(c.listed(0.0, 1000.0).is_none());
        c.put_listed(1000.0, Catalog::new(8));
        let (age, _) = c.listed(1400.0, 1000.0).expect("fresh");
        assert_eq!(age, 400.0);
        assert!(c.listed(2000.0, 1000.0).is_none(), "expired at the ttl");
        c.put_listed(2500.0, Catalog::new(8));
        assert!(
            c.listed(3000.0, 1000.0).is_some(),
            "a newer list serves again"
        );
    }
}
