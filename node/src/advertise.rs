//! Announcing the models a host serves as Kademlia provider records, and renewing them.

use std::time::Duration;

use libp2p::kad;
use tokio::time::Instant;

/// How soon a failed or premature announcement is tried again.
const RETRY: Duration = Duration::from_secs(2);

/// When to (re-)announce which models.
pub struct Advertiser {
    models: Vec<String>,
    interval: Duration,
    next: Option<Instant>,
    /// Announcements in flight: query → model id.
    pending: std::collections::HashMap<kad::QueryId, String>,
    /// Models announced at least once (for the one-time `advertised` status line).
    announced: std::collections::HashSet<String>,
}

impl Advertiser {
    /// An advertiser for `models`, renewing every `interval`; the first announcement is due now.
    pub fn new(models: Vec<String>, interval: Duration) -> Self {
        Advertiser {
            next: (!models.is_empty()).then(Instant::now),
            models,
            interval,
            pending: Default::default(),
            announced: Default::default(),
        }
    }

    /// Announce again soon, e.g. because our addresses changed.
    pub fn soon(&mut self) {
        if !self.models.is_empty() {
            self.next = Some(Instant::now());
        }
    }

    /// Starts the due announcements when `ready` (we know DHT peers and have addresses to give).
    pub fn tick(&mut self, kad: &mut kad::Behaviour<kad::store::MemoryStore>, ready: bool) {
        let Some(next) = self.next else { return };
        if Instant::now() < next || !self.pending.is_empty() {
            return;
        }
        if !ready {
            self.next = Some(Instant::now() + RETRY);
            return;
        }
        for model in &self.models {
            let key = kad::RecordKey::new(&fabstir_protocol::messages::provider_key(model));
            match kad.start_providing(key) {
                Ok(query) => {
                    self.pending.insert(query, model.clone());
                }
                Err(e) => tracing::warn!(%model, error = %e, "cannot store our provider record"),
            }
        }
        self.next = Some(Instant::now() + self.interval);
    }

    /// Whether every model was announced at least once.
    pub fn all_announced(&self) -> bool {
        self.announced.len() == self.models.len()
    }

    /// Handles the end of an announcement; returns the model id when it was announced for the
    /// first time.
    pub fn on_result(
        &mut self,
        query: kad::QueryId,
        result: &Result<kad::AddProviderOk, kad::AddProviderError>,
    ) -> Option<String> {
        let model = self.pending.remove(&query)?;
        match result {
            Ok(_) => {
                tracing::info!(%model, "provider record announced");
                self.announced.insert(model.clone()).then_some(model)
            }
            Err(e) => {
                tracing::warn!(%model, error = %e, "provider announcement failed; retrying");
                self.next = Some(Instant::now() + RETRY);
                None
            }
        }
    }
}
