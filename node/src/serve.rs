//! Serving inbound streams of one protocol: taken from libp2p-stream's single slot at once and
//! run each in its own task, bounded in number and time; the info answer; the perf limits.

use fabstir_protocol::messages;
use libp2p::PeerId;

/// Throughput measurements served at once (each can move 32 MiB).
pub(crate) const MAX_CONCURRENT_PERF: usize = 4;
/// How long one throughput measurement may take.
pub(crate) const PERF_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How often finished jobs past their retention time are forgotten.
pub(crate) const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Streams of one protocol handled at once; more wait (bounded memory under a flood).
pub(crate) const MAX_CONCURRENT_STREAMS: usize = 256;
/// How long one short request (ping, info, a job request) may take to be handled.
pub(crate) const STREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Accepts every inbound stream of `protocol` and runs `handler` on it, `concurrency` at a time
/// (more wait), each within `limit` when given.
pub(crate) async fn serve_streams<F, Fut>(
    mut control: libp2p_stream::Control,
    protocol: &'static str,
    concurrency: usize,
    limit: Option<std::time::Duration>,
    handler: F,
) where
    F: Fn(PeerId, libp2p::Stream) -> Fut,
    Fut: std::future::Future<Output = std::io::Result<()>> + Send + 'static,
{
    use futures::StreamExt;
    let Ok(mut incoming) = control.accept(libp2p::StreamProtocol::new(protocol)) else {
        tracing::error!(protocol, "protocol is already being served");
        return;
    };
    // libp2p-stream hands streams over through a single slot and drops any that arrive while it
    // is full, so this loop only takes them and spawns: each stream runs in its own task, at most
    // `concurrency` at once, with up to as many again waiting their turn.
    let running = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency));
    let admitted = std::sync::Arc::new(tokio::sync::Semaphore::new(concurrency * 2));
    while let Some((peer, stream)) = incoming.next().await {
        let Ok(place) = admitted.clone().try_acquire_owned() else {
            tracing::debug!(%peer, protocol, "too many streams waiting; dropping one");
            continue;
        };
        let handled = handler(peer, stream);
        let running = running.clone();
        tokio::spawn(async move {
            let _place = place;
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
