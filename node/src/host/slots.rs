//! Job slots: who holds them (running jobs, and fresh offers for `offer_hold_secs`), each
//! peer's share of them, and the offer that may hold one.

use std::net::IpAddr;

use fabstir_protocol::messages::{JobRequest, RejectReason};
use libp2p::PeerId;

use super::{Host, State};

/// A job slot (of `max_concurrent_jobs`, of its peer's `jobs_per_peer()` and, for a direct
/// peer, of its address's `jobs_per_ip()`), held by a running job or briefly by a fresh offer;
/// freed when dropped.
pub struct Slot {
    host: Host,
    peer: PeerId,
    ip: Option<IpAddr>,
    model: usize,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut state = self.host.state();
        state.slots_used = state.slots_used.saturating_sub(1);
        state.per_peer.give_back(&self.peer);
        if let Some(ip) = &self.ip {
            state.per_ip.give_back(ip);
        }
        state.per_model.give_back(&self.model);
        self.host
            .inner
            .metrics
            .load
            .set(i64::from(state.slots_used));
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
    /// The price per prompt token offered.
    pub price_per_prompt_token: u64,
    /// Unix ms after which accepting fails.
    pub expires_at: u64,
    /// SHA-256 (hex) of the request's frame payload as the client sent it, for the receipt
    /// (by default of the request as this host encodes it).
    pub request_sha256: String,
    pub(super) peer: PeerId,
    pub(super) request: JobRequest,
    pub(super) hold: Option<Slot>,
    /// Marks the offer open until it is dropped (started or gone).
    pub(super) _pending: super::pending::Ticket,
}

impl Offer {
    /// Gives the held slot back: the client took longer than the hold to decide.
    pub fn release(&mut self) {
        self.hold = None;
    }
}

impl Host {
    /// Whether `peer` (connected from `ip` when direct) could start a job now: a free slot, and
    /// fewer than its share and its address's share in use.
    pub(super) fn check_slots(
        &self,
        state: &State,
        peer: PeerId,
        ip: Option<IpAddr>,
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
        if let Some(ip) = ip {
            let share = h.jobs_per_ip();
            if state.per_ip.held(&ip) >= share {
                return Err((
                    RejectReason::PeerLimit,
                    format!(
                        "the peers connected from {ip} already run {share} job(s) here, the most \
                         one address may run at once"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Takes a slot for `peer` on `model` (its index, and how many generations its backend runs
    /// at once), or says why there is none.
    pub(super) fn take_slot(
        &self,
        peer: PeerId,
        (model, parallel): (usize, Option<u32>),
    ) -> Result<Slot, (RejectReason, String)> {
        let mut state = self.state();
        let ip = state.addresses.ip_of(&peer);
        self.check_slots(&state, peer, ip)?;
        if let Some(max) = parallel {
            if state.per_model.held(&model) >= max {
                return Err((
                    RejectReason::Busy,
                    format!("this model's server runs {max} generation(s) at once, all in use"),
                ));
            }
        }
        state.per_model.take(model, u32::MAX);
        state.per_peer.take(peer, u32::MAX);
        if let Some(ip) = ip {
            state.per_ip.take(ip, u32::MAX);
        }
        state.slots_used += 1;
        self.inner.metrics.load.set(i64::from(state.slots_used));
        Ok(Slot {
            host: self.clone(),
            peer,
            ip,
            model,
        })
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
