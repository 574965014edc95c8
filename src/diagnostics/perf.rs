//! `testNetworkPerformance(peerId)`: round trip and throughput to a node, measured over
//! `/fabstir/perf/1.0.0` (sizes bounded by `fabstir_protocol::perf::MAX_PERF_BYTES`).

use crate::net::handle::Network;
use crate::net::rt;
use fabstir_protocol::perf::{self, PerfRequest};
use futures::AsyncWriteExt;
use libp2p::{PeerId, StreamProtocol};
use serde::{Deserialize, Serialize};
use web_time::Instant;

use crate::error::SdkError;

/// What to measure.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerfOptions {
    /// Bytes to send. Default 1 MiB.
    #[serde(default = "one_mib")]
    pub upload_bytes: u64,
    /// Bytes to receive. Default 1 MiB.
    #[serde(default = "one_mib")]
    pub download_bytes: u64,
}

impl Default for PerfOptions {
    fn default() -> Self {
        PerfOptions {
            upload_bytes: one_mib(),
            download_bytes: one_mib(),
        }
    }
}

fn one_mib() -> u64 {
    1024 * 1024
}

/// What `testNetworkPerformance` resolves to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerfReport {
    /// The node.
    pub peer_id: String,
    /// Median of the pings, ms.
    pub latency: f64,
    /// Each ping's round trip, ms.
    pub pings: Vec<f64>,
    /// Bytes sent.
    pub upload_bytes: u64,
    /// Upload throughput, megabits per second.
    pub upload_mbps: f64,
    /// Bytes received.
    pub download_bytes: u64,
    /// Download throughput, megabits per second.
    pub download_mbps: f64,
    /// Milliseconds the transfers took in all.
    pub duration: f64,
}

/// Runs one upload + download measurement on a new stream to `peer`; returns (upload ms,
/// download ms).
pub async fn transfer(
    control: &mut libp2p_stream::Control,
    peer: PeerId,
    options: PerfOptions,
) -> Result<(f64, f64), SdkError> {
    let request = PerfRequest {
        upload: options.upload_bytes,
        download: options.download_bytes,
    };
    request.validate().map_err(|m| {
        let name = m.split_whitespace().next().unwrap_or("options").to_string();
        SdkError::argument(format!("options.{name}Bytes"), m)
    })?;
    let failed = |reason: String| SdkError::StreamFailed {
        peer_id: peer.to_string(),
        reason,
    };
    let mut stream = control
        .open_stream(peer, StreamProtocol::new(perf::PROTOCOL))
        .await
        .map_err(|e| failed(e.to_string()))?;
    let started = Instant::now();
    perf::upload(&mut stream, request)
        .await
        .map_err(|e| failed(format!("upload: {e}")))?;
    let uploaded = started.elapsed();
    perf::download(&mut stream, request.download)
        .await
        .map_err(|e| failed(format!("download: {e}")))?;
    let downloaded = started.elapsed() - uploaded;
    let _ = stream.close().await;
    Ok((
        uploaded.as_secs_f64() * 1000.0,
        downloaded.as_secs_f64() * 1000.0,
    ))
}

/// Megabits per second for `bytes` in `ms`.
pub fn mbps(bytes: u64, ms: f64) -> f64 {
    if ms <= 0.0 {
        return 0.0;
    }
    bytes as f64 * 8.0 / 1_000_000.0 / (ms / 1000.0)
}

/// The median of `values` (0 when empty).
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 0.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Round trip (median of 3 pings) and throughput to a connected node.
pub async fn network_performance(
    net: &Network,
    peer: PeerId,
    options: crate::diagnostics::perf::PerfOptions,
) -> Result<crate::diagnostics::perf::PerfReport, SdkError> {
    let mut pings = Vec::new();
    for _ in 0..3 {
        pings.push(net.ping(peer).await?);
    }
    let started = rt::now_ms();
    let (up_ms, down_ms) = net
        .with_connected_peer(peer, "performance test", |mut control| async move {
            crate::diagnostics::perf::transfer(&mut control, peer, options).await
        })
        .await?;
    Ok(crate::diagnostics::perf::PerfReport {
        peer_id: peer.to_string(),
        latency: crate::diagnostics::perf::median(&pings),
        pings,
        upload_bytes: options.upload_bytes,
        upload_mbps: crate::diagnostics::perf::mbps(options.upload_bytes, up_ms),
        download_bytes: options.download_bytes,
        download_mbps: crate::diagnostics::perf::mbps(options.download_bytes, down_ms),
        duration: rt::now_ms() - started,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures() {
        assert_eq!(mbps(1_000_000, 1000.0), 8.0);
        assert_eq!(mbps(1, 0.0), 0.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }
}
