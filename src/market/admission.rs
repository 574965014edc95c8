//! Whether a host may serve our jobs: not blacklisted, admitted by the allow and block lists, and
//! approved by the page's `authenticate` callback when it gave one (answers kept for
//! `discoveryCacheTtl`).

use std::sync::MutexGuard;

use futures::channel::oneshot;
use futures::SinkExt;
use libp2p::PeerId;

use crate::market::security::Verdicts;
use crate::market::Market;
use crate::net::rt;

impl Market {
    /// Whether `peer` may serve our jobs: not blocked, on the allowlist when there is one, and
    /// approved by the page's `authenticate` callback when there is one (a throw means no).
    pub async fn admits(&self, peer: PeerId) -> bool {
        if !self.registry().usable(&peer, rt::now_ms()) {
            self.net.debug("reliability", "info", || {
                format!("{peer} is blacklisted (its circuit is open); not used")
            });
            return false;
        }
        if !self.net.config().security.lists_admit(&peer) {
            self.net.debug("security", "info", || {
                format!("{peer} is not admitted by the allowlist or blocklist")
            });
            return false;
        }
        let Some(approvals) = &self.approvals else {
            return true;
        };
        let ttl = self.discovery_ttl_ms();
        if let Some(ok) = self.verdicts().get(&peer, rt::now_ms(), ttl) {
            return ok;
        }
        let (reply, answer) = oneshot::channel();
        if approvals.clone().send((peer, reply)).await.is_err() {
            return false;
        }
        let limit = self.net.config().request_timeout;
        let verdict = match rt::timeout(limit, answer).await {
            Some(Ok(Ok(ok))) => ok,
            Some(Ok(Err(thrown))) => {
                self.net.debug("security", "warn", || {
                    format!("authenticate({peer}) threw: {thrown}; the host is not used")
                });
                false
            }
            Some(Err(_)) => false,
            None => {
                self.net.debug("security", "warn", || {
                    format!(
                        "authenticate({peer}) did not answer within {} ms; the host is not used",
                        limit.as_millis()
                    )
                });
                false
            }
        };
        self.verdicts().put(peer, verdict, rt::now_ms());
        verdict
    }

    fn verdicts(&self) -> MutexGuard<'_, Verdicts> {
        self.verdicts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
