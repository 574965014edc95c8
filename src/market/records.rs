//! What each job stream and host attempt tells the marketplace: progress for resumes, totals and
//! averages, and each host's reliability (a host whose circuit opens is announced as
//! `node:blacklisted`).

use libp2p::PeerId;

use crate::events::SdkEvent;
use crate::market::Market;
use crate::net::rt;

impl Market {
    /// Notes how far a stream of `job_id` got (for `resumeResponseStream`'s default).
    pub fn record_progress(&self, job_id: &str, next_index: u64) {
        self.registry().progress(job_id, next_index);
    }

    /// Notes how a job stream went (totals, averages, and the host's reputation).
    pub fn record_stream(&self, summary: &crate::market::jobs::StreamSummary) {
        let change = self.registry().stream_ended(summary, rt::now_ms());
        self.on_reliability_change(summary.node, change);
    }

    /// Records a failed attempt to use `node` for a job (unreachable, refused to stream).
    pub fn record_host_failure(&self, node: PeerId) {
        let change = self.registry().outcome(node, false, None, rt::now_ms());
        self.on_reliability_change(node, change);
    }

    fn on_reliability_change(&self, node: PeerId, change: crate::market::reliability::Change) {
        use crate::market::reliability::Change;
        match change {
            Change::Opened(until) => {
                let report = self.node_reliability(node);
                self.net.debug("reliability", "warn", || {
                    format!(
                        "{node} is blacklisted until {} (ms since 1970) after {} failure(s) in a row",
                        until as u64,
                        report.failed_jobs
                    )
                });
                self.net.emit(SdkEvent::NodeBlacklisted {
                    peer_id: node.to_string(),
                    until,
                    failed_jobs: report.failed_jobs,
                });
            }
            Change::Closed => self.net.debug("reliability", "info", || {
                format!("{node} succeeded again; its circuit is closed")
            }),
            Change::None => {}
        }
    }

    /// How reliable `node` has been for this SDK (`getNodeReliability`).
    pub fn node_reliability(&self, node: PeerId) -> crate::market::reliability::NodeReliability {
        self.registry().node_reliability(&node, rt::now_ms())
    }

    /// Totals over this SDK's job streams and the recent averages of time to first token (ms)
    /// and tokens per second.
    pub fn job_statistics(&self) -> (crate::market::jobs::JobTotals, Option<f64>, Option<f64>) {
        let registry = self.registry();
        let (ttft, rate) = registry.averages();
        (registry.totals(), ttft, rate)
    }
}
