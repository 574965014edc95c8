//! On-demand ping (`/fabstir/ping/1.0.0`): sending one, timed end to end, and answering others'.

use std::time::Duration;

use futures::StreamExt;
use libp2p::{PeerId, StreamProtocol};
use web_time::Instant;

use crate::error::SdkError;
use fabstir_protocol::ping;

/// Pings answered at once; more wait, so a flood of pings cannot use unbounded memory.
const MAX_CONCURRENT_ANSWERS: usize = 16;
/// How long one inbound ping may take to arrive and be answered.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Sends one ping payload to `peer` on a new stream and returns the round trip in ms, from the
/// write to the echo; the stream is negotiated lazily, so the peer's confirmation of the protocol
/// arrives within that round trip.
pub async fn ping(control: &mut libp2p_stream::Control, peer: PeerId) -> Result<f64, SdkError> {
    let failed = |reason: String| SdkError::PingFailed {
        peer_id: peer.to_string(),
        reason,
    };
    let protocol = StreamProtocol::new(ping::PROTOCOL);
    let mut stream = control
        .open_stream(peer, protocol)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let started = Instant::now();
    ping::send(&mut stream, &payload())
        .await
        .map_err(|e| failed(e.to_string()))?;
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

/// Answers inbound pings until the network stack stops.
pub async fn answer_pings(mut control: libp2p_stream::Control) {
    let Ok(incoming) = control.accept(StreamProtocol::new(ping::PROTOCOL)) else {
        tracing::error!("the ping protocol is already being answered");
        return;
    };
    incoming
        .for_each_concurrent(MAX_CONCURRENT_ANSWERS, |(peer, stream)| async move {
            if let Some(Err(e)) = crate::net::rt::timeout(ANSWER_TIMEOUT, ping::serve(stream)).await
            {
                tracing::debug!(%peer, error = %e, "inbound ping failed");
            }
        })
        .await;
}

/// A payload that differs between pings (the peer must echo it, so a stale reply cannot pass).
fn payload() -> [u8; ping::PAYLOAD_LEN] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut x = (crate::net::rt::now_ms() as u64)
        ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        | 1;
    let mut out = [0u8; ping::PAYLOAD_LEN];
    for chunk in out.chunks_mut(8) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn payloads_differ() {
        assert_ne!(super::payload(), super::payload());
    }
}
