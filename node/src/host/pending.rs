//! Offers made and not yet settled, so that a token stream opened for a job whose accept is
//! still on its way waits for it instead of finding no job.
//!
//! A client may open a job's token stream right after sending `accept`, without waiting for
//! `started` (one round trip less before the first token). The accept and the stream request
//! travel on two streams of one connection and are handled by two tasks, so the stream request
//! can be read first: it then waits until the offer is settled, started (the job exists) or not
//! (declined, refused, expired, the stream closed: `JOB_NOT_FOUND`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use libp2p::PeerId;
use tokio::sync::Notify;

use super::job::Job;
use super::Host;

/// The open offers, by job id, with the peer each was made to.
#[derive(Default)]
pub struct PendingOffers {
    offers: Mutex<HashMap<String, PeerId>>,
    settled: Notify,
}

/// An offer's place among the pending ones; dropping it (the offer started, or went) settles it.
pub struct Ticket {
    pending: Arc<PendingOffers>,
    job_id: String,
}

impl PendingOffers {
    /// Notes an offer of `job_id` to `peer` until the returned ticket is dropped.
    pub fn register(self: &Arc<Self>, job_id: &str, peer: PeerId) -> Ticket {
        self.lock().insert(job_id.to_string(), peer);
        Ticket {
            pending: self.clone(),
            job_id: job_id.to_string(),
        }
    }

    fn is_pending(&self, job_id: &str, peer: &PeerId) -> bool {
        self.lock().get(job_id) == Some(peer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PeerId>> {
        self.offers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.pending.lock().remove(&self.job_id);
        self.pending.settled.notify_waiters();
    }
}

impl Host {
    /// The job `job_id` of `peer`; while an offer of it to `peer` is still open, waits (at most
    /// `limit`) for that offer to be settled first.
    pub async fn job_once_settled(
        &self,
        job_id: &str,
        peer: &PeerId,
        limit: Duration,
    ) -> Option<Arc<Job>> {
        let pending = &self.inner.pending;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let settled = pending.settled.notified();
            tokio::pin!(settled);
            // Registered before looking, so a settlement in between is not missed.
            settled.as_mut().enable();
            if let Some(job) = self.job(job_id, peer) {
                return Some(job);
            }
            if !pending.is_pending(job_id, peer) {
                return None;
            }
            if tokio::time::timeout_at(deadline, settled).await.is_err() {
                return None;
            }
        }
    }
}
