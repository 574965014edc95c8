//! Events the SDK emits; JavaScript receives each as a plain object whose `type` is its name.

use serde::Serialize;

/// Whether an optional feature that was asked for actually runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureStatus {
    /// The config asked for it.
    pub enabled: bool,
    /// It can run here.
    pub available: bool,
    /// Why it cannot run, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// One SDK event. The serde tag is the event name passed to `on(name, cb)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum SdkEvent {
    /// `start()` connected to the network.
    #[serde(rename = "p2p:started", rename_all = "camelCase")]
    Started {
        /// Our peer id.
        peer_id: String,
        /// When the SDK started (ms since the epoch).
        start_time: f64,
        /// Kademlia DHT client status.
        dht: FeatureStatus,
        /// mDNS status (never available in a browser).
        mdns: FeatureStatus,
    },
    /// `stop()` finished; all connections are closed.
    #[serde(rename = "p2p:stopped", rename_all = "camelCase")]
    Stopped {
        /// Our peer id.
        peer_id: String,
        /// Milliseconds between start and stop.
        uptime: f64,
    },
    /// The first connection to a peer opened.
    #[serde(rename = "peer:connect", rename_all = "camelCase")]
    PeerConnect {
        /// The peer.
        peer_id: String,
        /// The remote address of the connection.
        address: String,
        /// `websocket`, `webrtc-direct`, `relayed`, `tcp` or `other`.
        transport: String,
        /// `outbound` (we dialed) or `inbound`.
        direction: String,
    },
    /// The last connection to a peer closed.
    #[serde(rename = "peer:disconnect", rename_all = "camelCase")]
    PeerDisconnect {
        /// The peer.
        peer_id: String,
        /// Why the connection closed, when known.
        reason: Option<String>,
    },
    /// A peer told us who it is (identify). Asked once the page has been quiet for
    /// `net::later::QUIET_MS` after connecting (its first job's setup goes first).
    #[serde(rename = "peer:identify", rename_all = "camelCase")]
    PeerIdentify {
        /// The peer.
        peer_id: String,
        /// Its agent, e.g. `fabstir-node/0.1.0`.
        agent_version: String,
        /// The protocols it speaks.
        protocols: Vec<String>,
        /// The addresses it listens on.
        listen_addrs: Vec<String>,
    },
    /// A bootstrap dial failed and will be retried after `delay` ms.
    #[serde(rename = "connection:retry", rename_all = "camelCase")]
    ConnectionRetry {
        /// The address being dialed.
        address: String,
        /// Which retry this is (1-based).
        attempt: u32,
        /// The configured `maxRetries`.
        max_retries: u32,
        /// Milliseconds until the retry.
        delay: f64,
        /// Why the previous attempt failed.
        error: String,
    },
    /// A bootstrap node could not be reached after all retries.
    #[serde(rename = "connection:failed", rename_all = "camelCase")]
    ConnectionFailed {
        /// The address that was dialed.
        address: String,
        /// How many attempts were made.
        attempts: u32,
        /// Why the last attempt failed.
        error: String,
    },
    /// A relay accepted (or renewed) our reservation: we are reachable at `address`.
    #[serde(rename = "relay:reservation", rename_all = "camelCase")]
    RelayReservation {
        /// The relay.
        relay_peer_id: String,
        /// Our `/p2p-circuit` address through this relay.
        address: String,
        /// True when this renews an earlier reservation.
        renewal: bool,
    },
    /// Something failed in the background (not as the answer to a call).
    #[serde(rename = "error:p2p", rename_all = "camelCase")]
    Error {
        /// A stable error code, as on thrown errors.
        code: String,
        /// What happened.
        message: String,
    },
    /// A debug message from a subsystem enabled with the `debug` config.
    #[serde(rename = "p2p:debug", rename_all = "camelCase")]
    Debug {
        /// `connection`, `relay`, `dht`, `discovery`, `negotiation` or `stream`.
        subsystem: &'static str,
        /// `debug`, `info` or `warn`.
        level: &'static str,
        /// What happened.
        message: String,
    },
    /// `discoverNodes` found (and probed) a host.
    #[serde(rename = "node:discovered", rename_all = "camelCase")]
    NodeDiscovered {
        /// The model it was found for.
        model_id: String,
        /// The host, as `discoverNodes` returns it.
        node: DiscoveredNode,
    },
    /// A host failed `failureThreshold` times in a row (or once more while on probation) and is
    /// left out of discovery and not dialed until `until`.
    #[serde(rename = "node:blacklisted", rename_all = "camelCase")]
    NodeBlacklisted {
        /// The host.
        peer_id: String,
        /// When it may be tried again (ms since the epoch).
        until: f64,
        /// Its failed jobs so far.
        failed_jobs: u32,
    },
    /// A job's host failed mid-stream and did not come back in time; the job continues on another
    /// host from the tokens already received.
    #[serde(rename = "job:failover", rename_all = "camelCase")]
    JobFailover {
        /// The job, as the page knows it (its first id).
        job_id: String,
        /// The host that failed.
        from_node: String,
        /// The host that continues it.
        to_node: String,
        /// Why the first host was left.
        reason: String,
        /// Tokens already received; the new host generates from this index on.
        resumed_at: u64,
    },
    /// `submitJobWithRetry` failed an attempt and waits before the next.
    #[serde(rename = "job:retry", rename_all = "camelCase")]
    JobRetry {
        /// The attempt that failed, from 1.
        attempt: u32,
        /// Retries allowed.
        max_retries: u32,
        /// Milliseconds until the next attempt.
        delay: f64,
        /// The failure's code.
        code: &'static str,
        /// The failure.
        error: String,
    },
    /// The connection to a bootstrap node was lost; the SDK dials it again after `delay` ms.
    #[serde(rename = "p2p:reconnecting", rename_all = "camelCase")]
    Reconnecting {
        /// The bootstrap node.
        peer_id: String,
        /// Attempt number, from 1.
        attempt: u32,
        /// Milliseconds until this attempt.
        delay: f64,
    },
    /// The connection to a bootstrap node is back.
    #[serde(rename = "p2p:reconnected", rename_all = "camelCase")]
    Reconnected {
        /// The bootstrap node.
        peer_id: String,
        /// Attempts it took.
        attempts: u32,
        /// Milliseconds from the loss to the new connection.
        downtime: f64,
    },
    /// A host accepted a job.
    #[serde(rename = "job:negotiated", rename_all = "camelCase")]
    JobNegotiated {
        /// The job id.
        job_id: String,
        /// The host.
        node_id: String,
        /// The agreed price per token.
        price_per_token: u64,
        /// Hosts asked.
        candidates: usize,
        /// Offers received.
        offers: usize,
    },
    /// A job's stream delivered a token.
    #[serde(rename = "stream:token", rename_all = "camelCase")]
    StreamToken {
        /// The job id.
        job_id: String,
        /// The host.
        node_id: String,
        /// The token's index.
        index: u64,
        /// Its text.
        content: String,
    },
    /// A job's stream ended.
    #[serde(rename = "stream:end", rename_all = "camelCase")]
    StreamEnd {
        /// The job id.
        job_id: String,
        /// The host.
        node_id: String,
        /// Tokens generated in all.
        total_tokens: u64,
        /// Milliseconds from the job's start to its end, on the host.
        duration: u64,
        /// `stop`, `length` or `cancelled`.
        finish_reason: fabstir_protocol::messages::FinishReason,
        /// Tokens read and generated (`completionTokens`: every token the page received).
        usage: Option<fabstir_protocol::chat::Usage>,
        /// What the job cost, every host's part together.
        cost: Option<u64>,
    },
    /// The watched catalogs of the bootstrap nodes changed (a host came, went, or announced
    /// again, e.g. with another load); sent once a `catalog:update` listener is added.
    #[serde(rename = "catalog:update", rename_all = "camelCase")]
    CatalogUpdate {
        /// Every model, as `listModels()` gives them.
        models: Vec<fabstir_protocol::catalog::ModelSummary>,
        /// Every host's record (checked against its signature), newest per host.
        hosts: Vec<fabstir_protocol::catalog::Announcement>,
        /// Hosts new or announced again since the last update (peer ids).
        changed: Vec<String>,
        /// Hosts gone since the last update (peer ids).
        removed: Vec<String>,
    },
}

impl SdkEvent {
    /// Every event name, as accepted by `on(name, cb)`.
    pub const NAMES: &'static [&'static str] = &[
        "p2p:started",
        "p2p:stopped",
        "peer:connect",
        "peer:disconnect",
        "peer:identify",
        "connection:retry",
        "connection:failed",
        "relay:reservation",
        "error:p2p",
        "p2p:debug",
        "node:discovered",
        "job:negotiated",
        "stream:token",
        "stream:end",
        "node:blacklisted",
        "job:failover",
        "job:retry",
        "p2p:reconnecting",
        "p2p:reconnected",
        "catalog:update",
    ];

    /// This event's name.
    pub fn name(&self) -> &'static str {
        match self {
            SdkEvent::Started { .. } => "p2p:started",
            SdkEvent::Stopped { .. } => "p2p:stopped",
            SdkEvent::PeerConnect { .. } => "peer:connect",
            SdkEvent::PeerDisconnect { .. } => "peer:disconnect",
            SdkEvent::PeerIdentify { .. } => "peer:identify",
            SdkEvent::ConnectionRetry { .. } => "connection:retry",
            SdkEvent::ConnectionFailed { .. } => "connection:failed",
            SdkEvent::RelayReservation { .. } => "relay:reservation",
            SdkEvent::Error { .. } => "error:p2p",
            SdkEvent::Debug { .. } => "p2p:debug",
            SdkEvent::NodeDiscovered { .. } => "node:discovered",
            SdkEvent::NodeBlacklisted { .. } => "node:blacklisted",
            SdkEvent::JobFailover { .. } => "job:failover",
            SdkEvent::JobRetry { .. } => "job:retry",
            SdkEvent::Reconnecting { .. } => "p2p:reconnecting",
            SdkEvent::Reconnected { .. } => "p2p:reconnected",
            SdkEvent::JobNegotiated { .. } => "job:negotiated",
            SdkEvent::StreamToken { .. } => "stream:token",
            SdkEvent::StreamEnd { .. } => "stream:end",
            SdkEvent::CatalogUpdate { .. } => "catalog:update",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_type_is_the_name_and_fields_are_camel_case() {
        let e = SdkEvent::ConnectionRetry {
            address: "a".into(),
            attempt: 1,
            max_retries: 3,
            delay: 10.0,
            error: "x".into(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], e.name());
        assert_eq!(v["maxRetries"], 3);
        assert!(SdkEvent::NAMES.contains(&e.name()));
    }
}

/// What a host offers for the model asked about.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    /// Every model the host serves.
    pub models: Vec<String>,
    /// The most tokens one job of this model may ask for.
    pub max_tokens: u32,
    /// The host's price per token for this model.
    pub price_per_token: u64,
    /// The host's price per prompt token for this model.
    pub price_per_prompt_token: u64,
    /// The model's context in tokens (prompt and answer), when the host announces it.
    pub context_tokens: Option<u32>,
    /// What the host computes on, as its operator describes it.
    pub compute_type: String,
    /// Jobs the host runs at once.
    pub max_concurrent_jobs: u32,
    /// Jobs running or offered on the host when it was probed.
    pub current_load: u32,
    /// `demo` (the node's built-in deterministic generator) or `openai`.
    pub backend: fabstir_protocol::messages::BackendKind,
}

/// One host found by `discoverNodes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveredNode {
    /// The host's peer id.
    pub peer_id: String,
    /// The addresses we reached it at (a `/p2p-circuit` address for a relayed host).
    pub multiaddrs: Vec<String>,
    /// What it offers.
    pub capabilities: Capabilities,
    /// Round trip measured with `/fabstir/ping/1.0.0` when it was probed, in ms.
    pub latency: f64,
    /// 0..1 from this SDK's own job outcomes with the host: (successes + 1) / (jobs + 2).
    pub reputation: f64,
    /// When it was probed (ms since the Unix epoch).
    pub last_seen: f64,
}
