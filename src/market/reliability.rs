//! How reliable each host has been for this SDK instance, and the circuit breaker that stops
//! using one that keeps failing: after `failureThreshold` failures in a row its circuit opens
//! (it is left out of discovery and not dialed) for `blacklistDuration`, then half-opens: the
//! next job may try it, and one more failure opens it again at once.

use serde::Serialize;

use crate::config::resilience::ReliabilityConfig;

/// A host's circuit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Circuit {
    /// In use.
    #[default]
    Closed,
    /// Blacklisted until the time (ms since the epoch) in [`HostRecord::open_until`].
    Open,
    /// The blacklist time passed: the next attempt decides.
    HalfOpen,
}

/// What one host did for us.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HostRecord {
    /// Jobs (and job attempts) that ended, either way.
    pub total: u32,
    /// Jobs that streamed to their end.
    pub successes: u32,
    /// Failures in a row.
    pub failures_in_a_row: u32,
    /// Sum and count of response times (ms to the first token).
    response_ms: (f64, u32),
    circuit: Circuit,
    /// When an open circuit half-opens (ms since the epoch).
    pub open_until: f64,
}

/// `getNodeReliability(peerId)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeReliability {
    /// The host.
    pub peer_id: String,
    /// Jobs (and job attempts) with it that ended.
    pub total_jobs: u32,
    /// Jobs that streamed to their end.
    pub successful_jobs: u32,
    /// Jobs or attempts that failed because of the host.
    pub failed_jobs: u32,
    /// Mean ms from asking to the first token; null before any.
    pub average_response_time: Option<f64>,
    /// successful / total; null before any job.
    pub success_rate: Option<f64>,
    /// (successful + 1) / (total + 2), 0 while blacklisted: what host selection uses.
    pub reliability: f64,
    /// `closed`, `open` (blacklisted) or `half-open`.
    pub circuit: Circuit,
    /// Until when it is blacklisted (ms since the epoch); null unless open.
    pub blacklisted_until: Option<f64>,
}

/// What a new outcome did to the circuit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Change {
    /// Nothing to tell.
    None,
    /// The circuit opened: blacklisted until this time.
    Opened(f64),
    /// A half-open circuit closed again after a success.
    Closed,
}

impl HostRecord {
    /// The circuit as of `now`: an open one whose time passed is half-open.
    pub fn circuit(&self, now: f64) -> Circuit {
        match self.circuit {
            Circuit::Open if now >= self.open_until => Circuit::HalfOpen,
            c => c,
        }
    }

    /// Whether the host may be used (dialed, discovered, given a job) at `now`.
    pub fn usable(&self, now: f64) -> bool {
        self.circuit(now) != Circuit::Open
    }

    /// Records a job's outcome at `now`.
    pub fn record(
        &mut self,
        success: bool,
        response_ms: Option<f64>,
        now: f64,
        config: &ReliabilityConfig,
    ) -> Change {
        self.total += 1;
        if let Some(ms) = response_ms.filter(|ms| ms.is_finite() && *ms >= 0.0) {
            self.response_ms.0 += ms;
            self.response_ms.1 += 1;
        }
        let before = self.circuit(now);
        if success {
            self.successes += 1;
            self.failures_in_a_row = 0;
            self.circuit = Circuit::Closed;
            return if before == Circuit::Closed {
                Change::None
            } else {
                Change::Closed
            };
        }
        self.failures_in_a_row += 1;
        if before == Circuit::HalfOpen || self.failures_in_a_row >= config.failure_threshold {
            self.circuit = Circuit::Open;
            self.open_until = now + config.blacklist_duration as f64;
            return Change::Opened(self.open_until);
        }
        Change::None
    }

    /// (successes + 1) / (total + 2); 0 while the circuit is open.
    pub fn reliability(&self, now: f64) -> f64 {
        if !self.usable(now) {
            return 0.0;
        }
        (f64::from(self.successes) + 1.0) / (f64::from(self.total) + 2.0)
    }

    /// The record as whole numbers, for [`crate::market::memory`]: totals, response times (ms,
    /// rounded), circuit (0 closed, 1 open, 2 half-open) and when it half-opens (ms).
    pub fn to_parts(&self) -> [u64; 7] {
        let circuit = match self.circuit {
            Circuit::Closed => 0,
            Circuit::Open => 1,
            Circuit::HalfOpen => 2,
        };
        [
            u64::from(self.total),
            u64::from(self.successes),
            u64::from(self.failures_in_a_row),
            self.response_ms.0.round() as u64,
            u64::from(self.response_ms.1),
            circuit,
            self.open_until.round() as u64,
        ]
    }

    /// [`HostRecord::to_parts`] read back; `None` unless every number is one it can write.
    pub fn from_parts(p: [u64; 7]) -> Option<HostRecord> {
        let count = |v: u64| u32::try_from(v).ok();
        let (total, successes) = (count(p[0])?, count(p[1])?);
        let circuit = match p[5] {
            0 => Circuit::Closed,
            1 => Circuit::Open,
            2 => Circuit::HalfOpen,
            _ => return None,
        };
        (successes <= total).then_some(HostRecord {
            total,
            successes,
            failures_in_a_row: count(p[2])?,
            response_ms: (p[3] as f64, count(p[4])?),
            circuit,
            open_until: p[6] as f64,
        })
    }

    /// The public view.
    pub fn report(&self, peer_id: String, now: f64) -> NodeReliability {
        let circuit = self.circuit(now);
        NodeReliability {
            peer_id,
            total_jobs: self.total,
            successful_jobs: self.successes,
            failed_jobs: self.total - self.successes,
            average_response_time: (self.response_ms.1 > 0)
                .then(|| self.response_ms.0 / f64::from(self.response_ms.1)),
            success_rate: (self.total > 0)
                .then(|| f64::from(self.successes) / f64::from(self.total)),
            reliability: self.reliability(now),
            circuit,
            blacklisted_until: (circuit == Circuit::Open).then_some(self.open_until),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: ReliabilityConfig = ReliabilityConfig {
        failure_threshold: 3,
        blacklist_duration: 1000,
    };

    #[test]
    fn failures_in_a_row_open_the_circuit_which_half_opens_then_decides() {
        let mut h = HostRecord::default();
        assert_eq!(h.record(false, None, 0.0, &CONFIG), Change::None);
        assert_eq!(h.record(true, Some(40.0), 1.0, &CONFIG), Change::None);
        assert_eq!(h.failures_in_a_row, 0, "a success resets the run");
        h.record(false, None, 2.0, &CONFIG);
        h.record(false, None, 3.0, &CONFIG);
        assert_eq!(h.record(false, None, 4.0, &CONFIG), Change::Opened(1004.0));
        assert!(!h.usable(500.0));
        assert_eq!(h.reliability(500.0), 0.0);
        assert_eq!(h.circuit(1004.0), Circuit::HalfOpen);
        assert!(h.usable(1004.0));
        assert_eq!(
            h.record(false, None, 1100.0, &CONFIG),
            Change::Opened(2100.0),
            "one failure while half-open opens it again"
        );
        assert_eq!(h.record(true, Some(20.0), 2200.0, &CONFIG), Change::Closed);
        let r = h.report("p".into(), 2200.0);
        assert_eq!((r.total_jobs, r.successful_jobs, r.failed_jobs), (7, 2, 5));
        assert_eq!(r.average_response_time, Some(30.0));
        assert_eq!(r.success_rate, Some(2.0 / 7.0));
        assert_eq!(r.reliability, 3.0 / 9.0);
        assert_eq!((r.circuit, r.blacklisted_until), (Circuit::Closed, None));
    }

    #[test]
    fn config_ranges_name_the_field() {
        let bad = ReliabilityConfig {
            failure_threshold: 0,
            ..CONFIG
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("p2pConfig.reliability.failureThreshold"));
        let bad = ReliabilityConfig {
            blacklist_duration: 3_600_001,
            ..CONFIG
        };
        assert!(bad
            .validate()
            .unwrap_err()
            .to_string()
            .contains("p2pConfig.reliability.blacklistDuration"));
    }
}
