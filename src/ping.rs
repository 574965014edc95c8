//! On-demand ping: the libp2p ping protocol spoken over a fresh stream, timed end to end.

use futures::{AsyncReadExt, AsyncWriteExt};
use libp2p::{PeerId, StreamProtocol};
use web_time::Instant;

use crate::error::SdkError;

/// Sends one ping payload to `peer` on a new stream and returns the round trip in ms.
pub async fn ping(control: &mut libp2p_stream::Control, peer: PeerId) -> Result<f64, SdkError> {
    let failed = |reason: String| SdkError::PingFailed {
        peer_id: peer.to_string(),
        reason,
    };
    let protocol = StreamProtocol::new(fabstir_protocol::PING_PROTOCOL);
    let mut stream = control
        .open_stream(peer, protocol)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let payload = payload();
    let started = Instant::now();
    stream
        .write_all(&payload)
        .await
        .map_err(|e| failed(format!("send: {e}")))?;
    stream
        .flush()
        .await
        .map_err(|e| failed(format!("send: {e}")))?;
    let mut echo = [0u8; fabstir_protocol::PING_PAYLOAD_LEN];
    stream
        .read_exact(&mut echo)
        .await
        .map_err(|e| failed(format!("receive: {e}")))?;
    let rtt = started.elapsed().as_secs_f64() * 1000.0;
    let _ = stream.close().await;
    if echo != payload {
        return Err(failed("the echo differs from the payload sent".into()));
    }
    Ok(rtt)
}

/// A payload that differs between pings (the peer must echo it, so a stale reply cannot pass).
fn payload() -> [u8; fabstir_protocol::PING_PAYLOAD_LEN] {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut x = (crate::rt::now_ms() as u64)
        ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
        | 1;
    let mut out = [0u8; fabstir_protocol::PING_PAYLOAD_LEN];
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
