//! Prometheus metrics: libp2p's (connections, bandwidth by transport, identify, ping, Kademlia,
//! relay), the host's (jobs by outcome, rejections, tokens, time to first token, earnings), and the HTTP
//! endpoint that serves them with `/healthz` and `/readyz` (see [`crate::health`]).

use std::net::SocketAddr;
use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::NodeError;

/// A job outcome label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// `started`, `completed`, `cancelled`, `failed` or `abandoned` (nobody read it).
    pub outcome: String,
}

/// A rejection reason label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Reason {
    /// A [`fabstir_protocol::messages::RejectReason`]'s wire name, e.g. `peer_limit`.
    pub reason: String,
}

/// A model label.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Model {
    /// The model id.
    pub model: String,
}

/// Why an inbound stream was dropped before it was read.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Dropped {
    /// The protocol, e.g. `/fabstir/job/1.0.0`.
    pub protocol: String,
    /// `peer_share` (its peer held its share of the protocol's places), `ip_share` (the direct
    /// peers of its IP address held theirs), `full` (every place was taken) or `queue` (its
    /// connection found the protocol's hand-over queue full: `crate::inbound`).
    pub why: String,
}

/// The host's counters; also the source of `stats` in node info.
#[derive(Clone)]
pub struct HostMetrics {
    /// Jobs by outcome.
    pub jobs: Family<Outcome, Counter>,
    /// Job requests rejected, by reason.
    pub rejections: Family<Reason, Counter>,
    /// Tokens generated.
    pub tokens: Counter,
    /// Seconds from a job's start to its first token.
    pub time_to_first_token: Histogram,
    /// Job slots in use (offers holding one plus jobs running).
    pub load: Gauge,
    /// Inbound streams dropped unread, by protocol and why.
    pub streams_dropped: Family<Dropped, Counter>,
    /// What receipted jobs earned, by model (from the database: survives restarts).
    pub earned: Family<Model, Counter>,
    /// Tokens delivered under a receipt (from the database: survives restarts).
    pub delivered: Counter,
}

impl Default for HostMetrics {
    fn default() -> Self {
        HostMetrics {
            jobs: Family::default(),
            rejections: Family::default(),
            tokens: Counter::default(),
            // 1 ms .. ~16 s.
            time_to_first_token: Histogram::new(exponential_buckets(0.001, 2.0, 15)),
            load: Gauge::default(),
            streams_dropped: Family::default(),
            earned: Family::default(),
            delivered: Counter::default(),
        }
    }
}

impl HostMetrics {
    /// Adds the metrics to `registry` (under the `fabstir` prefix the caller chose).
    pub fn register(&self, registry: &mut Registry) {
        // Every outcome and reason shows from the start (as 0), not only once it happened.
        for outcome in ["started", "completed", "cancelled", "failed", "abandoned"] {
            self.jobs_with(outcome);
        }
        for reason in fabstir_protocol::messages::RejectReason::ALL {
            let _ = self.rejections.get_or_create(&Reason {
                reason: fabstir_protocol::messages::reject_reason_code(reason).into(),
            });
        }
        registry.register("jobs", "Jobs by outcome", self.jobs.clone());
        registry.register(
            "job_rejections",
            "Job requests rejected, by reason",
            self.rejections.clone(),
        );
        registry.register("tokens_generated", "Tokens generated", self.tokens.clone());
        registry.register(
            "time_to_first_token_seconds",
            "Seconds from a job's start to its first token",
            self.time_to_first_token.clone(),
        );
        registry.register(
            "job_slots_used",
            "Offers holding a slot plus jobs running",
            self.load.clone(),
        );
        registry.register(
            "earned",
            "What receipted jobs earned, by model, in the smallest price unit",
            self.earned.clone(),
        );
        registry.register(
            "tokens_delivered",
            "Tokens delivered under a signed receipt",
            self.delivered.clone(),
        );
        registry.register(
            "streams_dropped",
            "Inbound streams dropped unread, by protocol and why (peer_share, ip_share, full, queue)",
            self.streams_dropped.clone(),
        );
    }

    /// The count of jobs with `outcome`.
    pub fn jobs_with(&self, outcome: &str) -> u64 {
        self.jobs
            .get_or_create(&Outcome {
                outcome: outcome.into(),
            })
            .get()
    }

    /// Counts one inbound stream of `protocol` dropped unread, `why`.
    pub fn stream_dropped(&self, protocol: &str, why: &str) {
        self.stream_dropped_counter(protocol, why).inc();
    }

    /// The counter of inbound streams of `protocol` dropped unread, `why` (shown from now on,
    /// as 0 until one is).
    pub fn stream_dropped_counter(&self, protocol: &str, why: &str) -> Counter {
        self.streams_dropped
            .get_or_create(&Dropped {
                protocol: protocol.into(),
                why: why.into(),
            })
            .clone()
    }

    /// Counts a receipt: `tokens` delivered of `model`, earning `cost`.
    pub fn receipted(&self, model: &str, tokens: u64, cost: u64) {
        self.delivered.inc_by(tokens);
        self.earned
            .get_or_create(&Model {
                model: model.into(),
            })
            .inc_by(cost);
    }

    /// Starts the counters from what the database recorded before this start.
    pub fn restore(&self, totals: &crate::store::Totals) {
        for (outcome, n) in &totals.jobs {
            if outcome != "running" {
                self.jobs
                    .get_or_create(&Outcome {
                        outcome: outcome.clone(),
                    })
                    .inc_by(*n);
            }
        }
        self.tokens.inc_by(totals.tokens);
        self.delivered.inc_by(totals.delivered);
        for (model, cost) in &totals.earned {
            self.earned
                .get_or_create(&Model {
                    model: model.clone(),
                })
                .inc_by(*cost);
        }
    }

    /// Counts one job with `outcome`.
    pub fn job(&self, outcome: &str) {
        self.jobs
            .get_or_create(&Outcome {
                outcome: outcome.into(),
            })
            .inc();
    }
}

/// The longest request head we read before answering.
const MAX_REQUEST: usize = 8 * 1024;

/// Serves `GET /metrics` (Prometheus text format) on `addr` until the process ends; returns the
/// bound address.
pub async fn serve(
    addr: SocketAddr,
    registry: Arc<Registry>,
    health: Arc<crate::health::Health>,
) -> Result<SocketAddr, NodeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| NodeError::Network(format!("cannot serve metrics on {addr}: {e}")))?;
    let bound = listener
        .local_addr()
        .map_err(|e| NodeError::Network(e.to_string()))?;
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else {
                continue;
            };
            let registry = registry.clone();
            let health = health.clone();
            tokio::spawn(async move {
                let answered = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    answer(socket, &registry, &health),
                );
                if let Ok(Err(e)) = answered.await {
                    tracing::debug!(error = %e, "metrics request failed");
                }
            });
        }
    });
    Ok(bound)
}

async fn answer(
    mut socket: tokio::net::TcpStream,
    registry: &Registry,
    health: &crate::health::Health,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_REQUEST {
        let n = socket.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&head);
    let (status, kind, body) = if line.starts_with("GET /metrics ") {
        let mut text = String::new();
        match prometheus_client::encoding::text::encode(&mut text, registry) {
            Ok(()) => (
                "200 OK",
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                text,
            ),
            Err(e) => (
                "500 Internal Server Error",
                "text/plain",
                format!("cannot encode metrics: {e}\n"),
            ),
        }
    } else if line.starts_with("GET /healthz ") {
        ("200 OK", "text/plain", "ok\n".into())
    } else if line.starts_with("GET /readyz ") {
        match health.ready() {
            Ok(()) => ("200 OK", "text/plain", "ready\n".into()),
            Err(missing) => (
                "503 Service Unavailable",
                "text/plain",
                format!("not ready: {}\n", missing.join("; ")),
            ),
        }
    } else {
        (
            "404 Not Found",
            "text/plain",
            "only GET /metrics, /healthz and /readyz\n".into(),
        )
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    socket.write_all(response.as_bytes()).await?;
    socket.shutdown().await
}
