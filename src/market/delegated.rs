//! DHT lookups done for the page by its bootstrap nodes (delegated routing, the way IPFS
//! browser nodes use it): the SDK carries no Kademlia client. Each bootstrap node is asked on
//! `/fabstir/catalog/1.0.0` (`providers`, `dhtCheck`) and the answers are merged. A provider
//! hint is not signed: who a provider is gets proved by connecting to it (Noise authenticates
//! its peer id) and asking it for its node info, as every discovered host is probed.

use std::collections::HashMap;

use fabstir_protocol::catalog::wire::MAX_PROVIDERS;
use fabstir_protocol::catalog::{CatalogFrame, CatalogRequest};
use libp2p::{Multiaddr, PeerId};

use crate::error::SdkError;
use crate::market::Market;
use crate::net::rt;

impl Market {
    /// The providers of `model_id` that the bootstrap nodes' DHT lookups find, merged, their
    /// addresses handed to the network for dialing them by peer id. An error when the DHT is
    /// disabled or no bootstrap node could look it up within `requestTimeout`.
    pub(crate) async fn dht_providers(&self, model_id: &str) -> Result<Vec<PeerId>, SdkError> {
        let request = CatalogRequest::Providers {
            model_id: model_id.to_string(),
        };
        let answers = self.ask_delegates(request, model_id).await?;
        let me = self.net.peer_id();
        let mut found: HashMap<PeerId, Vec<Multiaddr>> = HashMap::new();
        for (node, frames) in answers {
            for frame in frames.into_iter().take(MAX_PROVIDERS) {
                let CatalogFrame::Provider(hint) = frame else {
                    self.net.debug("dht", "warn", || {
                        format!(
                            "bootstrap node {node} answered a providers lookup with another frame"
                        )
                    });
                    continue;
                };
                let Ok(peer) = hint.peer_id.parse::<PeerId>() else {
                    self.net.debug("dht", "warn", || {
                        format!("bootstrap node {node} named a provider {:?}", hint.peer_id)
                    });
                    continue;
                };
                if peer == me {
                    continue;
                }
                let addresses = found.entry(peer).or_default();
                let parse = |a: &String| crate::config::multiaddr_text::parse(a).ok();
                for addr in hint.addresses.iter().filter_map(parse) {
                    if crate::config::addresses::can_dial(&addr) && !addresses.contains(&addr) {
                        addresses.push(addr);
                    }
                }
            }
        }
        let mut peers = Vec::new();
        for (peer, addresses) in found {
            if self.net.learn_addresses(peer, addresses).await.is_ok() {
                peers.push(peer);
            }
        }
        Ok(peers)
    }

    /// How many DHT peers answered the bootstrap nodes' lookups of a random key, summed.
    pub(crate) async fn dht_check(&self) -> Result<u32, SdkError> {
        let answers = self
            .ask_delegates(CatalogRequest::DhtCheck, "a random key")
            .await?;
        Ok(answers
            .iter()
            .flat_map(|(_, frames)| frames)
            .map(|f| match f {
                CatalogFrame::DhtCheck { answered } => *answered,
                _ => 0,
            })
            .sum())
    }

    /// Asks every bootstrap node `request`; the answers of those that gave one within
    /// `requestTimeout`, or why none did.
    async fn ask_delegates(
        &self,
        request: CatalogRequest,
        what: &str,
    ) -> Result<Vec<(PeerId, Vec<CatalogFrame>)>, SdkError> {
        let disabled = |reason: &str| SdkError::NoNodesAvailable {
            model_id: what.to_string(),
            reason: reason.to_string(),
        };
        if !self.net.config().enable_dht {
            return Err(disabled(
                "the DHT is disabled (p2pConfig.enableDHT is false)",
            ));
        }
        let limit = self.net.config().request_timeout;
        let asks = self.bootstrap_peers().into_iter().map(|node| {
            let request = request.clone();
            async move {
                let answer = rt::timeout(limit, self.ask_catalog(node, request)).await;
                (node, answer)
            }
        });
        let mut answers = Vec::new();
        let mut failures = Vec::new();
        for (node, answer) in futures::future::join_all(asks).await {
            match answer {
                Some(Ok(frames)) => answers.push((node, frames)),
                Some(Err(e)) => failures.push(format!("{node}: {e}")),
                None => failures.push(format!("{node}: no answer within {} ms", limit.as_millis())),
            }
        }
        if answers.is_empty() {
            return Err(disabled(&format!(
                "no bootstrap node looked the DHT up ({})",
                failures.join("; ")
            )));
        }
        for failure in failures {
            self.net.debug("dht", "warn", || {
                format!("a bootstrap node gave no DHT answer: {failure}")
            });
        }
        Ok(answers)
    }
}
