//! `/fabstir/catalog/1.0.0` on a node: a `models` or `hosts` request answered once from the
//! catalog, or a `watch` kept open that sends the hosts, `synced`, then every change as the
//! [`Hub`] makes it. Watches are bounded in number, overall and per peer. `providers` and
//! `dhtCheck` are DHT lookups done for the page through the node's [`Delegate`].

use std::collections::HashSet;
use std::time::Duration;

use fabstir_protocol::catalog::wire::{self, host_frame, HostFilter};
use fabstir_protocol::catalog::{CatalogFrame, CatalogRequest};
use fabstir_protocol::frame;
use futures::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::PeerId;
use tokio::sync::broadcast::error::RecvError;

use super::hub::{Change, Hub};
use super::SharedCatalog;
use crate::delegated::Delegate;

/// Watches a node serves at once.
pub const MAX_WATCHERS: usize = 768;
/// Watches one peer may hold (a page watches once per bootstrap node).
pub const WATCHES_PER_PEER: usize = 4;
/// How long a request may take to arrive, and a one-shot answer to be written.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a watcher may leave one batch of frames unread before its watch is ended.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// The watches held, per peer: [`WATCHES_PER_PEER`] each, [`MAX_WATCHERS`] in all.
pub type Watchers = crate::places::Places<PeerId>;

/// What the catalog protocol is served from.
#[derive(Clone, Debug)]
pub struct Served {
    /// The catalog.
    pub hub: SharedCatalog,
    /// The DHT lookups done for pages; `None` on a node that runs no DHT.
    pub dht: Option<Delegate>,
}

/// Serves one catalog stream (what a node runs for `/fabstir/catalog/1.0.0`).
pub async fn serve(
    served: Served,
    peer: PeerId,
    mut stream: libp2p::Stream,
) -> std::io::Result<()> {
    let hub = served.hub;
    let read = tokio::time::timeout(
        ANSWER_TIMEOUT,
        frame::read::<_, CatalogRequest>(&mut stream),
    );
    let request = match read.await {
        Err(_) => return Ok(()),
        Ok(request) => request.map_err(std::io::Error::other)?,
    };
    let Some(request) = request else {
        return Ok(());
    };
    let items = wire::answer_items(&hub.lock(), &request);
    // The answer's items, or why the request is refused.
    let answer = match (items, request, served.dht) {
        (Some(items), _, _) => Ok(items),
        (None, CatalogRequest::Watch { model_id }, _) => {
            return watch(&hub, peer, stream, model_id).await
        }
        (None, _, None) => Err("this node runs no DHT".to_string()),
        (None, CatalogRequest::Providers { model_id }, Some(dht)) => {
            let key = fabstir_protocol::messages::provider_key(&model_id);
            dht.providers(key)
                .await
                .map(|found| found.into_iter().map(CatalogFrame::Provider).collect())
        }
        (None, _, Some(dht)) => dht
            .check()
            .await
            .map(|answered| vec![CatalogFrame::DhtCheck { answered }]),
    };
    tokio::time::timeout(ANSWER_TIMEOUT, async {
        match answer {
            Ok(items) => wire::write_answer(&mut stream, &items)
                .await
                .map_err(std::io::Error::other)?,
            Err(why) => send(&mut stream, &[CatalogFrame::Refused(why)]).await?,
        }
        stream.close().await
    })
    .await
    .map_err(|_| std::io::Error::other("answer timed out"))?
}

/// The hosts of `hub`'s catalog a watch sends (those `filter` admits), as frames, and their
/// peer ids.
fn snapshot(
    hub: &Hub,
    filter: HostFilter<'_>,
) -> (
    Vec<CatalogFrame>,
    HashSet<String>,
    tokio::sync::broadcast::Receiver<Change>,
) {
    let (catalog, changes) = hub.subscribe();
    let frames = wire::host_frames(&catalog, filter);
    let peers = catalog
        .entries()
        .filter(|e| filter.admits(&e.announcement))
        .map(|e| e.announcement.peer_id.clone())
        .collect();
    (frames, peers, changes)
}

/// Writes `frames` in batches of about [`frame::BATCH_LEN`] bytes (one transport message for a
/// whole small answer, not one per host), each batch within [`WRITE_TIMEOUT`], then flushes.
async fn send<W: AsyncWrite + Unpin>(w: &mut W, frames: &[CatalogFrame]) -> std::io::Result<()> {
    for batch in frame::encode_batch(frames).map_err(std::io::Error::other)? {
        tokio::time::timeout(WRITE_TIMEOUT, w.write_all(&batch))
            .await
            .map_err(|_| std::io::Error::other("watcher stopped reading"))??;
    }
    tokio::time::timeout(WRITE_TIMEOUT, w.flush())
        .await
        .map_err(|_| std::io::Error::other("watcher stopped reading"))?
}

/// Serves a watch until the watcher closes its side (or stops reading, or the node stops).
async fn watch(
    hub: &Hub,
    peer: PeerId,
    mut stream: libp2p::Stream,
    model_id: Option<String>,
) -> std::io::Result<()> {
    let Some(_watching) = hub.watchers.take(peer) else {
        tracing::debug!(%peer, "too many watchers; refusing a watch");
        send(
            &mut stream,
            &[CatalogFrame::Refused("too many watchers".into())],
        )
        .await?;
        return stream.close().await;
    };
    let filter = HostFilter::model(model_id.as_deref());
    let (reader, mut writer) = stream.split();
    let (mut frames, mut sent, mut changes) = snapshot(hub, filter);
    frames.push(CatalogFrame::Synced {
        count: sent.len() as u32,
    });
    send(&mut writer, &frames).await?;
    // A watcher sends nothing after its request: its side closing (or anything it sends) ends
    // the watch.
    let mut closed = std::pin::pin!(async move {
        let mut reader = reader;
        let mut byte = [0u8; 1];
        let _ = reader.read(&mut byte).await;
    });
    loop {
        let change = tokio::select! {
            () = &mut closed => return Ok(()),
            change = changes.recv() => change,
        };
        let frames = match change {
            Ok(Change::Host(entry)) => {
                let id = &entry.announcement.peer_id;
                if filter.admits(&entry.announcement) {
                    sent.insert(id.clone());
                    vec![host_frame(&entry.sealed)]
                } else if sent.remove(id) {
                    vec![CatalogFrame::Gone(id.clone())]
                } else {
                    continue;
                }
            }
            Ok(Change::Gone(id)) if sent.remove(&id) => vec![CatalogFrame::Gone(id)],
            Ok(Change::Gone(_)) => continue,
            Err(RecvError::Lagged(missed)) => {
                tracing::debug!(%peer, missed, "a watcher fell behind; sending the catalog again");
                let (hosts, peers, fresh) = snapshot(hub, filter);
                (sent, changes) = (peers, fresh);
                let mut frames = vec![CatalogFrame::Reset];
                frames.extend(hosts);
                frames.push(CatalogFrame::Synced {
                    count: sent.len() as u32,
                });
                frames
            }
            Err(RecvError::Closed) => return Ok(()),
        };
        send(&mut writer, &frames).await?;
    }
}
