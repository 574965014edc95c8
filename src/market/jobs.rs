//! What this SDK instance remembers about its jobs and hosts: which host runs a job (for
//! `createResponseStream`), how far each stream got, and each host's record (reliability and
//! circuit breaker, see [`crate::market::reliability`]).

use std::collections::{HashMap, VecDeque};

use libp2p::PeerId;

use crate::config::resilience::ReliabilityConfig;
use crate::market::memory::{keep_receipt, Memory};
use crate::market::receipts::VerifiedReceipt;
use crate::market::reliability::{Change, HostRecord, NodeReliability};

/// Jobs remembered; the oldest are forgotten beyond this.
const MAX_JOBS: usize = 1024;

/// One job this SDK started.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The host running it.
    pub node: PeerId,
    /// The agreed price per token.
    pub price_per_token: u64,
    /// The agreed price per prompt token.
    pub price_per_prompt_token: u64,
    /// The highest number of tokens any of its streams delivered.
    pub received: u64,
    /// The most tokens the job may generate (its `maxTokens`).
    pub max_tokens: u32,
    /// SHA-256 (hex) of the job request sent to the host, which its receipt names.
    pub request_sha256: String,
}

/// What one job stream delivered, recorded when it ends.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    /// The host.
    pub node: PeerId,
    /// `Some(true)`: ended with its end frame; `Some(false)`: failed; `None`: cancelled by us.
    pub success: Option<bool>,
    /// Tokens received.
    pub tokens: u64,
    /// Bytes received on the stream.
    pub bytes: u64,
    /// Milliseconds from the request to the first token, when one arrived.
    pub time_to_first_token: Option<f64>,
    /// Tokens per second after the first, when more than one arrived.
    pub tokens_per_second: Option<f64>,
}

/// Totals over this SDK's job streams.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobTotals {
    /// Streams that ended.
    pub streams: u64,
    /// Ended with their end frame.
    pub succeeded: u64,
    /// Failed.
    pub failed: u64,
    /// Cancelled by this SDK.
    pub cancelled: u64,
    /// Tokens received.
    pub tokens_received: u64,
    /// Bytes received on token streams.
    pub bytes_received: u64,
}

/// Recent timings kept for averages.
const RECENT: usize = 100;

/// The registry.
#[derive(Default)]
pub struct Registry {
    jobs: HashMap<String, JobRecord>,
    order: VecDeque<String>,
    hosts: HashMap<PeerId, HostRecord>,
    reliability: ReliabilityConfig,
    totals: JobTotals,
    first_token_ms: VecDeque<f64>,
    rates: VecDeque<f64>,
    /// Receipts received, bounded (see [`Memory`]).
    receipts: VecDeque<VerifiedReceipt>,
    /// Poked (never blocking; one pending poke is enough) when what [`Registry::memory`] gives
    /// changed.
    changed: Option<futures::channel::mpsc::Sender<()>>,
}

impl Registry {
    /// An empty registry whose circuit breaker follows `reliability`.
    pub fn new(reliability: ReliabilityConfig) -> Self {
        Registry {
            reliability,
            ..Registry::default()
        }
    }

    /// Remembers a new job.
    pub fn add(&mut self, job_id: &str, record: JobRecord) {
        if self.jobs.insert(job_id.to_string(), record).is_none() {
            self.order.push_back(job_id.to_string());
        }
        while self.order.len() > MAX_JOBS {
            if let Some(old) = self.order.pop_front() {
                self.jobs.remove(&old);
            }
        }
    }

    /// The job, if remembered.
    pub fn get(&self, job_id: &str) -> Option<JobRecord> {
        self.jobs.get(job_id).cloned()
    }

    /// Notes that a stream of the job delivered tokens up to (not including) `next_index`.
    pub fn progress(&mut self, job_id: &str, next_index: u64) {
        if let Some(r) = self.jobs.get_mut(job_id) {
            r.received = r.received.max(next_index);
        }
    }

    /// Records a job's (or job attempt's) outcome with its host at `now` (ms since the epoch).
    pub fn outcome(
        &mut self,
        node: PeerId,
        success: bool,
        response_ms: Option<f64>,
        now: f64,
    ) -> Change {
        let config = self.reliability;
        self.touch();
        self.hosts
            .entry(node)
            .or_default()
            .record(success, response_ms, now, &config)
    }

    /// Keeps a verified receipt (the newest [`crate::market::memory::MAX_RECEIPTS`]).
    pub fn receipt_received(&mut self, receipt: VerifiedReceipt) {
        keep_receipt(&mut self.receipts, receipt);
        self.touch();
    }

    /// The receipts received, oldest first.
    pub fn receipts(&self) -> &VecDeque<VerifiedReceipt> {
        &self.receipts
    }

    /// What is worth remembering beyond this instance: host records and receipts.
    pub fn memory(&self) -> Memory {
        Memory {
            hosts: self.hosts.iter().map(|(p, r)| (*p, *r)).collect(),
            receipts: self.receipts.clone(),
        }
    }

    /// Takes up what an earlier instance remembered (before any job of this one).
    pub fn recall(&mut self, memory: Memory) {
        self.hosts.extend(memory.hosts);
        self.receipts = memory.receipts;
    }

    /// Pokes `changed` whenever [`Registry::memory`] changes.
    pub fn on_change(&mut self, changed: futures::channel::mpsc::Sender<()>) {
        self.changed = Some(changed);
    }

    /// Stops poking: the receiver given to [`Registry::on_change`] ends after what is pending.
    pub fn stop_telling(&mut self) {
        self.changed = None;
    }

    fn touch(&mut self) {
        if let Some(tx) = &mut self.changed {
            // Full: a poke is already waiting, which covers this change too.
            let _ = tx.try_send(());
        }
    }

    /// Whether `node` may be used at `now` (its circuit is not open).
    pub fn usable(&self, node: &PeerId, now: f64) -> bool {
        self.hosts.get(node).is_none_or(|h| h.usable(now))
    }

    /// `getNodeReliability(peerId)`.
    pub fn node_reliability(&self, node: &PeerId, now: f64) -> NodeReliability {
        self.hosts
            .get(node)
            .copied()
            .unwrap_or_default()
            .report(node.to_string(), now)
    }

    /// Records how a job stream went (totals, averages, and the host's outcome unless cancelled)
    /// at `now`.
    pub fn stream_ended(&mut self, s: &StreamSummary, now: f64) -> Change {
        let t = &mut self.totals;
        t.streams += 1;
        t.tokens_received += s.tokens;
        t.bytes_received += s.bytes;
        match s.success {
            Some(true) => t.succeeded += 1,
            Some(false) => t.failed += 1,
            None => t.cancelled += 1,
        }
        let change = match s.success {
            Some(ok) => self.outcome(s.node, ok, s.time_to_first_token, now),
            None => Change::None,
        };
        for (recent, value) in [
            (&mut self.first_token_ms, s.time_to_first_token),
            (&mut self.rates, s.tokens_per_second),
        ] {
            if let Some(v) = value.filter(|v| v.is_finite()) {
                recent.push_back(v);
                if recent.len() > RECENT {
                    recent.pop_front();
                }
            }
        }
        change
    }

    /// Totals over all streams.
    pub fn totals(&self) -> JobTotals {
        self.totals.clone()
    }

    /// Mean time to first token and mean tokens per second over recent streams.
    pub fn averages(&self) -> (Option<f64>, Option<f64>) {
        let mean =
            |v: &VecDeque<f64>| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
        (mean(&self.first_token_ms), mean(&self.rates))
    }

    /// The host's reliability at `now` (see [`HostRecord::reliability`]); 0.5 for a stranger.
    pub fn reputation(&self, node: &str, now: f64) -> f64 {
        node.parse::<PeerId>()
            .ok()
            .and_then(|p| self.hosts.get(&p))
            .copied()
            .unwrap_or_default()
            .reliability(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reputation_starts_neutral_and_follows_outcomes() {
        let mut r = Registry::default();
        let p = PeerId::random();
        assert_eq!(r.reputation(&p.to_string(), 0.0), 0.5);
        r.outcome(p, true, None, 0.0);
        r.outcome(p, true, None, 0.0);
        assert_eq!(r.reputation(&p.to_string(), 0.0), 0.75);
        r.outcome(p, false, None, 0.0);
        assert_eq!(r.reputation(&p.to_string(), 0.0), 0.6);
    }

    #[test]
    fn stream_summaries_feed_totals_averages_and_reputation() {
        let mut r = Registry::default();
        let node = PeerId::random();
        let summary = |success, ttft| StreamSummary {
            node,
            success,
            tokens: 10,
            bytes: 700,
            time_to_first_token: ttft,
            tokens_per_second: Some(100.0),
        };
        r.stream_ended(&summary(Some(true), Some(40.0)), 0.0);
        r.stream_ended(&summary(Some(false), Some(60.0)), 0.0);
        r.stream_ended(&summary(None, None), 0.0);
        let t = r.totals();
        assert_eq!(
            (t.streams, t.succeeded, t.failed, t.cancelled),
            (3, 1, 1, 1)
        );
        assert_eq!((t.tokens_received, t.bytes_received), (30, 2100));
        assert_eq!(r.averages(), (Some(50.0), Some(100.0)));
        assert_eq!(
            r.reputation(&node.to_string(), 0.0),
            0.5,
            "a cancel says nothing about the host"
        );
    }

    #[test]
    fn progress_only_grows_and_the_registry_is_bounded() {
        let mut r = Registry::default();
        let node = PeerId::random();
        let rec = JobRecord {
            node,
            price_per_token: 1,
            price_per_prompt_token: 0,
            received: 0,
            max_tokens: 10,
            request_sha256: String::new(),
        };
        r.add("j", rec.clone());
        r.progress("j", 10);
        r.progress("j", 4);
        assert_eq!(r.get("j").unwrap().received, 10);
        for i in 0..MAX_JOBS + 10 {
            r.add(&format!("x{i}"), rec.clone());
        }
        assert!(r.get("j").is_none());
        assert_eq!(r.jobs.len(), MAX_JOBS);
    }
}
