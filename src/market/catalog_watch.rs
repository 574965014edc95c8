//! Watching the bootstrap nodes' catalogs (issue 12): one `watch` stream per bootstrap node,
//! each node's view built from its answer with every host record checked here
//! ([`WatchView`]), the views merged newest per host, and every visible change told to the page
//! as a `catalog:update` event. A watch that ends is opened again (1 s, doubling to 30 s) while
//! the SDK runs. While every bootstrap node's view is synced, discovery reads the merged view
//! instead of asking the nodes again.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use fabstir_protocol::catalog::{self, Applied, CatalogFrame, CatalogRequest, WatchView};
use fabstir_protocol::frame;
use libp2p::{PeerId, StreamProtocol};

use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::market::Market;
use crate::net::rt;

/// A watch silent this long is ended and opened again (hosts announce at least every
/// 200 s, a third of the longest announcement life).
const SILENCE: Duration = Duration::from_secs(300);
/// The first wait before watching a node again, doubled up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The watches of one SDK instance.
#[derive(Default)]
pub(crate) struct Watches {
    started: bool,
    views: HashMap<PeerId, WatchView>,
    /// Each host's `seq` in the merged view last told to the page.
    told: BTreeMap<String, u64>,
}

impl Watches {
    /// The views merged newest per host (`None` unless every node in `nodes` is synced).
    fn merged(&self, nodes: &[PeerId], all_synced: bool) -> Option<catalog::Catalog> {
        if all_synced
            && !nodes
                .iter()
                .all(|n| self.views.get(n).is_some_and(|v| v.synced()))
        {
            return None;
        }
        let now = rt::now_ms() as u64;
        let mut merged = catalog::Catalog::default();
        for view in self.views.values().filter(|v| v.synced()) {
            // A node gone silent may still hold records past their expiry: left out.
            for e in view
                .catalog()
                .entries()
                .filter(|e| e.announcement.expires_at > now)
            {
                merged.insert(e.announcement.clone(), e.sealed.clone());
            }
        }
        Some(merged)
    }
}

impl Market {
    /// The bootstrap nodes' peer ids: the catalogs asked and watched.
    pub(super) fn bootstrap_peers(&self) -> Vec<PeerId> {
        self.net
            .config()
            .bootstrap_nodes
            .iter()
            .map(|b| b.peer_id)
            .collect()
    }

    fn watches(&self) -> std::sync::MutexGuard<'_, Watches> {
        self.watches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts watching every bootstrap node's catalog (once per SDK instance; later calls do
    /// nothing): `catalog:update` events follow every change.
    pub fn watch_catalog(&self) {
        {
            let mut w = self.watches();
            if w.started {
                return;
            }
            w.started = true;
        }
        for node in self.bootstrap_peers() {
            let market = self.clone();
            rt::spawn(async move { market.keep_watching(node).await });
        }
    }

    /// The merged view of the watched catalogs while every bootstrap node's is synced.
    pub(crate) fn watched_catalog(&self) -> Option<catalog::Catalog> {
        let nodes = self.bootstrap_peers();
        let w = self.watches();
        if !w.started {
            return None;
        }
        w.merged(&nodes, true)
    }

    async fn keep_watching(&self, node: PeerId) {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let result = self.watch_once(node, &mut backoff).await;
            self.watches().views.remove(&node);
            if let Err(e) = &result {
                if matches!(e, SdkError::Stopped) {
                    return;
                }
                self.net.debug("discovery", "warn", || {
                    format!(
                        "watch of {node}'s catalog ended: {e}; again in {} ms",
                        backoff.as_millis()
                    )
                });
            }
            rt::sleep(backoff).await;
            // A watch ends with the SDK too (its connections close first): then there is no
            // page to tell.
            if matches!(self.net.is_connected(node).await, Err(SdkError::Stopped)) {
                return;
            }
            self.tell_page();
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One watch of `node`'s catalog, until it ends; `backoff` is reset once it synced.
    async fn watch_once(&self, node: PeerId, backoff: &mut Duration) -> Result<(), SdkError> {
        let failed = |reason: String| SdkError::StreamFailed {
            peer_id: node.to_string(),
            reason,
        };
        self.net.connect(node).await?;
        let mut stream = self
            .net
            .with_connected_peer(node, "catalog watch", |mut control| async move {
                let mut stream = control
                    .open_stream(node, StreamProtocol::new(catalog::PROTOCOL))
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                frame::write(&mut stream, &CatalogRequest::Watch { model_id: None })
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                Ok(stream)
            })
            .await?;
        self.watches().views.insert(node, WatchView::new());
        loop {
            let read = frame::read::<_, CatalogFrame>(&mut stream);
            let frame = match rt::timeout_polling(SILENCE, Duration::from_secs(1), read).await {
                None => return Err(failed(format!("silent for {} s", SILENCE.as_secs()))),
                Some(Ok(None)) => return Err(failed("the node ended the watch".into())),
                Some(Err(e)) => return Err(failed(format!("{e} ({})", e.code()))),
                Some(Ok(Some(frame))) => frame,
            };
            let now = rt::now_ms() as u64;
            let applied = {
                let mut w = self.watches();
                let Some(view) = w.views.get_mut(&node) else {
                    return Ok(());
                };
                let applied = view
                    .apply(frame, now, &mut self.opened())
                    .map_err(|e| failed(e.to_string()))?;
                let expired = !view.expire(now).is_empty();
                (applied, expired)
            };
            match applied {
                (Applied::Dropped(why), _) => self.refuse_record(node, "catalog watch", &why),
                (Applied::Nothing, false) => {}
                (Applied::Synced, _) => {
                    *backoff = FIRST_BACKOFF;
                    self.tell_page();
                }
                _ => self.tell_page(),
            }
        }
    }

    /// Emits `catalog:update` when the merged view differs from what the page was last told.
    fn tell_page(&self) {
        let nodes = self.bootstrap_peers();
        let event = {
            let mut w = self.watches();
            let Some(merged) = w.merged(&nodes, false) else {
                return;
            };
            let now: BTreeMap<String, u64> = merged
                .entries()
                .map(|e| (e.announcement.peer_id.clone(), e.announcement.seq))
                .collect();
            if now == w.told {
                return;
            }
            let changed = now
                .iter()
                .filter(|(p, seq)| w.told.get(*p) != Some(seq))
                .map(|(p, _)| p.clone())
                .collect();
            let removed = w
                .told
                .keys()
                .filter(|p| !now.contains_key(*p))
                .cloned()
                .collect();
            w.told = now;
            SdkEvent::CatalogUpdate {
                models: merged.models(),
                hosts: merged.entries().map(|e| e.announcement.clone()).collect(),
                changed,
                removed,
            }
        };
        self.net.emit(event);
    }
}
