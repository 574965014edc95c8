//! Job slots: who holds them (running jobs, and fresh offers for `offer_hold_secs`), each
//! peer's share of them, and the offer that may hold one.

use fabstir_protocol::messages::{JobRequest, RejectReason};
use libp2p::PeerId;

use super::{Host, State};

/// A job slot (of `max_concurrent_jobs`, and of its peer's `jobs_per_peer()`), held by a running
/// job or briefly by a fresh offer; freed when dropped.
pub struct Slot(Host, PeerId);

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.0.state();
        state.slots_used = state.slots_used.saturating_sub(1);
        state.per_peer.give_back(&self.1);
        self.0.inner.metrics.load.set(i64::from(state.slots_used));
    }
}

/// An offer made and not yet accepted. It holds a slot for `offer_hold_secs` (see
/// [`Offer::release`]); after that it is a quote, and accepting it takes a slot only if one is
/// free at that moment (else `busy` / `peer_limit`).
pub struct Offer {
    /// The job id offered.
    pub job_id: String,
    /// The price offered.
    pub price_per_token: u64,
    /// Unix ms after which accepting fails.
    pub expires_at: u64,
    pub(super) peer: PeerId,
    pub(super) request: JobRequest,
    pub(super) hold: Option<Slot>,
}

impl Offer {
    /// Gives the held slot back: the client took longer than the hold to decide.
    pub fn release(&mut self) {
        self.hold = None;
    }
}

impl Host {
    /// Whether `peer` could start a job now: a free slot, and fewer than its share in use.
    pub(super) fn check_slots(
        &self,
        state: &State,
        peer: PeerId,
    ) -> Result<(), (RejectReason, String)> {
        let h = &self.inner.config.host;
        let max = h.max_concurrent_jobs;
        if state.slots_used >= max {
            return Err((
                RejectReason::Busy,
                format!("all {max} job slots are in use"),
            ));
        }
        let share = h.jobs_per_peer();
        if state.per_peer.held(&peer) >= share {
            return Err((
                RejectReason::PeerLimit,
                format!(
                    "this peer already runs {share} job(s) here, the most one peer may run at once"
                ),
            ));
        }
        Ok(())
    }

    /// Takes a slot for `peer`, or says why there is none.
    pub(super) fn take_slot(&self, peer: PeerId) -> Result<Slot, (RejectReason, String)> {
        let mut state = self.state();
        self.check_slots(&state, peer)?;
        state.per_peer.take(peer, u32::MAX);
        state.slots_used += 1;
        self.inner.metrics.load.set(i64::from(state.slots_used));
        Ok(Slot(self.clone(), peer))
    }

    pub(super) fn count_rejection(&self, reason: RejectReason) {
        let reason = fabstir_protocol::messages::reject_reason_code(reason).into();
        self.inner
            .metrics
            .rejections
            .get_or_create(&crate::metrics::Reason { reason })
            .inc();
    }
}
