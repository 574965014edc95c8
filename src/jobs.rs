//! What this SDK instance remembers about its jobs and hosts: which host runs a job (for
//! `createResponseStream`), how far each stream got, and each host's job outcomes (reputation).

use std::collections::{HashMap, VecDeque};

use libp2p::PeerId;

/// Jobs remembered; the oldest are forgotten beyond this.
const MAX_JOBS: usize = 1024;

/// One job this SDK started.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// The host running it.
    pub node: PeerId,
    /// The agreed price per token.
    pub price_per_token: u64,
    /// The highest number of tokens any of its streams delivered.
    pub received: u64,
}

/// Job outcomes with one host.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcomes {
    /// Jobs that ended (either way).
    pub jobs: u32,
    /// Jobs that ended with their `end` frame.
    pub successes: u32,
}

impl Outcomes {
    /// (successes + 1) / (jobs + 2): 0.5 for a host we know nothing about.
    pub fn reputation(&self) -> f64 {
        (f64::from(self.successes) + 1.0) / (f64::from(self.jobs) + 2.0)
    }
}

/// The registry.
#[derive(Default)]
pub struct Registry {
    jobs: HashMap<String, JobRecord>,
    order: VecDeque<String>,
    outcomes: HashMap<PeerId, Outcomes>,
}

impl Registry {
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

    /// Records a job's outcome with its host.
    pub fn outcome(&mut self, node: PeerId, success: bool) {
        let o = self.outcomes.entry(node).or_default();
        o.jobs += 1;
        o.successes += u32::from(success);
    }

    /// The host's reputation (see [`Outcomes::reputation`]).
    pub fn reputation(&self, node: &str) -> f64 {
        node.parse::<PeerId>()
            .ok()
            .and_then(|p| self.outcomes.get(&p))
            .copied()
            .unwrap_or_default()
            .reputation()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reputation_starts_neutral_and_follows_outcomes() {
        let mut r = Registry::default();
        let p = PeerId::random();
        assert_eq!(r.reputation(&p.to_string()), 0.5);
        r.outcome(p, true);
        r.outcome(p, true);
        assert_eq!(r.reputation(&p.to_string()), 0.75);
        r.outcome(p, false);
        assert_eq!(r.reputation(&p.to_string()), 0.6);
    }

    #[test]
    fn progress_only_grows_and_the_registry_is_bounded() {
        let mut r = Registry::default();
        let node = PeerId::random();
        let rec = JobRecord {
            node,
            price_per_token: 1,
            received: 0,
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
