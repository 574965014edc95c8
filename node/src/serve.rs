//! Serving the node's protocols: each protocol's inbound streams taken from libp2p-stream's
//! single slot at once and run each in its own task, bounded in number, per peer and in time;
//! the info answer; the perf limits.

use fabstir_protocol::messages;
use libp2p::PeerId;

use crate::host::Host;
use crate::places::Places;

/// Throughput measurements served at once (each can move 32 MiB).
pub(crate) const MAX_CONCURRENT_PERF: usize = 4;
/// How long one throughput measurement may take.
pub(crate) const PERF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How often finished jobs past their retention time are forgotten.
pub(crate) const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Streams of one protocol handled at once; more wait (bounded memory under a flood).
pub(crate) const MAX_CONCURRENT_STREAMS: usize = 256;
/// The share of a protocol's places (running and waiting) one peer may hold: a quarter, at
/// least one, so one connection's flood of streams cannot delay every other peer.
pub(crate) fn per_peer_streams(concurrency: usize) -> usize {
    (concurrency / 4).max(1)
}

/// How long one short request (ping, info, a job request) may take to be handled.
pub(crate) const STREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Serves one token stream (`/fabstir/stream/1.0.0`) of a client peer; with its request when
/// that is known already (a job stream whose request had `start`, after `started`).
pub type StreamServer = fn(
    Host,
    PeerId,
    libp2p::Stream,
    Option<messages::StreamRequest>,
) -> futures::future::BoxFuture<'static, std::io::Result<()>>;

/// Sees the terms a job negotiation answers for a model (an offer, or the terms a job started
/// on) before they are sent. The node's leaves them as they are; the test suite's hostile host
/// changes some, as a host that lies about its price would.
pub type TermsHook = fn(&str, &mut messages::JobResponse);

/// Serves ping, perf and info from `listener`, and when `host` serves models the job and token
/// stream protocols (tokens through `serve_tokens`, terms seen by `terms`) and the sweep of
/// finished jobs.
pub(crate) fn spawn_protocols(
    listener: crate::inbound::Listener,
    host: &Host,
    serve_tokens: StreamServer,
    terms: TermsHook,
) {
    tokio::spawn(serve_streams(
        listener.clone(),
        Queue::new(
            fabstir_protocol::ping::PROTOCOL,
            MAX_CONCURRENT_STREAMS,
            Some(STREAM_TIMEOUT),
            host,
        ),
        |_, stream| fabstir_protocol::ping::serve(stream),
    ));
    tokio::spawn(serve_streams(
        listener.clone(),
        Queue::new(
            fabstir_protocol::perf::PROTOCOL,
            MAX_CONCURRENT_PERF,
            Some(PERF_TIMEOUT),
            host,
        ),
        |_, stream| async move {
            fabstir_protocol::perf::serve(stream)
                .await
                .map_err(std::io::Error::other)
        },
    ));
    let info_host = host.clone();
    tokio::spawn(serve_streams(
        listener.clone(),
        Queue::new(
            messages::INFO_PROTOCOL,
            MAX_CONCURRENT_STREAMS,
            Some(STREAM_TIMEOUT),
            host,
        ),
        move |_, stream| send_info(stream, info_host.info()),
    ));
    if host.serves_models() {
        let h = host.clone();
        // Negotiation waits at most the offer's lifetime for the client's decision.
        let negotiation_limit = host.offer_ttl() + STREAM_TIMEOUT;
        tokio::spawn(serve_streams(
            listener.clone(),
            Queue::new(
                messages::JOB_PROTOCOL,
                MAX_CONCURRENT_STREAMS,
                Some(negotiation_limit),
                host,
            ),
            move |peer, stream| {
                crate::host::job_protocol::serve(h.clone(), peer, stream, serve_tokens, terms)
            },
        ));
        let h = host.clone();
        // Token streams last as long as their job (their writes have their own timeout); a
        // peer may read each of the jobs it may run.
        let mut tokens = Queue::new(
            messages::STREAM_PROTOCOL,
            MAX_CONCURRENT_STREAMS,
            None,
            host,
        );
        tokens.per_peer = tokens.per_peer.max(host.jobs_per_peer() as usize);
        tokens.per_ip = tokens.per_ip.max(host.jobs_per_ip() as usize);
        tokio::spawn(serve_streams(listener, tokens, move |peer, stream| {
            serve_tokens(h.clone(), peer, stream, None)
        }));
        let h = host.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(SWEEP_INTERVAL);
            loop {
                every.tick().await;
                h.sweep();
            }
        });
    }
}

/// How one protocol's inbound streams are served.
pub(crate) struct Queue {
    /// The protocol.
    pub protocol: &'static str,
    /// Streams handled at once (as many again wait).
    pub concurrency: usize,
    /// Places (running and waiting) one peer may hold; see [`per_peer_streams`].
    pub per_peer: usize,
    /// Places all peers connected directly from one IP address may hold (a fresh peer id costs
    /// nothing); peers through a relay circuit are not counted.
    pub per_ip: usize,
    /// How long one stream may take, when bounded.
    pub limit: Option<std::time::Duration>,
    /// Where peers' addresses are known and dropped streams counted.
    pub host: Host,
}

impl Queue {
    /// A queue of `concurrency` places, a quarter of them per peer and per IP address, each
    /// stream within `limit`.
    pub(crate) fn new(
        protocol: &'static str,
        concurrency: usize,
        limit: Option<std::time::Duration>,
        host: &Host,
    ) -> Self {
        Queue {
            protocol,
            concurrency,
            per_peer: per_peer_streams(concurrency),
            per_ip: per_peer_streams(concurrency),
            limit,
            host: host.clone(),
        }
    }
}

/// Accepts every inbound stream of `queue.protocol` and runs `handler` on it,
/// `queue.concurrency` at a time (as many again wait), each within `queue.limit` when given. One
/// peer holds at most `queue.per_peer` of those places, and the direct peers of one IP address
/// `queue.per_ip`; streams beyond them are dropped (reset) at once, and counted in
/// `fabstir_streams_dropped_total`.
pub(crate) async fn serve_streams<F, Fut>(
    listener: crate::inbound::Listener,
    queue: Queue,
    handler: F,
) where
    F: Fn(PeerId, libp2p::Stream) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    use futures::StreamExt;
    let Queue {
        protocol,
        concurrency,
        per_peer,
        per_ip,
        limit,
        host,
    } = queue;
    let metrics = host.metrics();
    let queue_full = metrics.stream_dropped_counter(protocol, "queue");
    let Ok(mut incoming) = listener.accept(libp2p::StreamProtocol::new(protocol), queue_full)
    else {
        tracing::error!(protocol, "protocol is already being served");
        return;
    };
    // This loop only takes streams from their queue (crate::inbound) and spawns: each stream runs
    // in its own task, at most `concurrency` at once, with up to as many again waiting their turn.
    let running = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let admitted = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency * 2));
    let peers = Places::new(per_peer, usize::MAX);
    let ips = Places::new(per_ip, usize::MAX);
    while let Some((peer, stream)) = incoming.next().await {
        let Some(peer_place) = peers.take(peer) else {
            tracing::debug!(%peer, protocol, "this peer holds its share of streams; dropping one");
            metrics.stream_dropped(protocol, "peer_share");
            continue;
        };
        let ip_place = match host.ip_of(&peer) {
            Some(ip) => match ips.take(ip) {
                Some(place) => Some(place),
                None => {
                    tracing::debug!(%peer, %ip, protocol, "this address holds its share of streams; dropping one");
                    metrics.stream_dropped(protocol, "ip_share");
                    continue;
                }
            },
            None => None,
        };
        let Ok(place) = admitted.clone().try_acquire_owned() else {
            tracing::debug!(%peer, protocol, "too many streams waiting; dropping one");
            metrics.stream_dropped(protocol, "full");
            continue;
        };
        let handled = handler(peer, stream);
        let running = running.clone();
        tokio::spawn(async move {
            let _place = (place, peer_place, ip_place);
            let Ok(_turn) = running.acquire_owned().await else {
                return;
            };
            let result = match limit {
                Some(limit) => tokio::time::timeout(limit, handled).await,
                None => Ok(handled.await),
            };
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::debug!(%peer, protocol, error = %e, "inbound stream failed")
                }
                Err(_) => tracing::debug!(%peer, protocol, "inbound stream timed out"),
            }
        });
    }
}

/// Serves one catalog stream (`/fabstir/catalog/1.0.0`) of a peer from the node's catalog
/// and DHT.
pub type CatalogServer = fn(
    crate::catalog::server::Served,
    PeerId,
    libp2p::Stream,
) -> futures::future::BoxFuture<'static, std::io::Result<()>>;

/// Catalog streams handled at once: watches stay open (at most
/// [`crate::catalog::server::MAX_WATCHERS`] of them), so more places than other protocols.
const CATALOG_STREAMS: usize = 1024;

/// Serves the catalog protocol (`/fabstir/catalog/1.0.0`) from `served` with `serve` (which
/// bounds each request's time itself: a watch lasts as long as its watcher).
pub(crate) fn spawn_catalog(
    listener: crate::inbound::Listener,
    host: &Host,
    served: crate::catalog::server::Served,
    serve: CatalogServer,
) {
    tokio::spawn(serve_streams(
        listener,
        Queue::new(
            fabstir_protocol::catalog::PROTOCOL,
            CATALOG_STREAMS,
            None,
            host,
        ),
        move |peer, stream| serve(served.clone(), peer, stream),
    ));
}

/// Answers `/fabstir/info/1.0.0`: one `NodeInfo` frame, then close.
pub(crate) async fn send_info(
    mut stream: libp2p::Stream,
    info: messages::NodeInfo,
) -> std::io::Result<()> {
    use futures::AsyncWriteExt;
    fabstir_protocol::frame::write(&mut stream, &info)
        .await
        .map_err(std::io::Error::other)?;
    stream.close().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_peer_holds_at_most_its_share_of_places() {
        assert_eq!(per_peer_streams(256), 64);
        assert_eq!(per_peer_streams(4), 1);
        let places = Places::new(2, usize::MAX);
        let (a, b) = (PeerId::random(), PeerId::random());
        let first = places.take(a).unwrap();
        let _second = places.take(a).unwrap();
        assert!(places.take(a).is_none());
        assert!(places.take(b).is_some(), "another peer has its own share");
        drop(first);
        assert!(places.take(a).is_some(), "a place comes back");
    }
}
