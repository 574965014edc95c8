//! Staying joined: when the connection to a bootstrap (relay) node drops, it is dialed again
//! with exponential backoff and jitter until it is back (`p2p:reconnecting`,
//! `p2p:reconnected`). The relay reservation follows by itself: the event loop reserves again
//! once the relay identifies itself on the new connection.

use std::time::Duration;

use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::net::handle::Network;
use crate::net::rt;

/// The longest one reconnection dial may take.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(3);

/// How often the bootstrap connections are checked.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// The wait before attempt `attempt` (from 1): `base · 2^(attempt-1)`, capped at 30 s, then
/// scaled by a random factor in [0.5, 1) so many pages do not redial a restarted relay in step.
pub fn jittered(base: Duration, attempt: u32, random: f64) -> Duration {
    crate::net::backoff::jitter(crate::net::backoff::retry_delay(base, attempt), random)
}

impl Network {
    /// Watches the bootstrap connections until the SDK stops, dialing lost ones again (only
    /// those that were connected once: the others are still being dialed by `bootstrap`).
    pub async fn keep_bootstrap_connected(self) {
        let mut joined = std::collections::HashSet::new();
        let mut first = true;
        loop {
            // The first check at once: what start() connected counts as joined.
            if !std::mem::take(&mut first) {
                rt::sleep(CHECK_EVERY).await;
            }
            for node in self.config().bootstrap_nodes.clone() {
                match self.is_connected(node.peer_id).await {
                    Ok(true) => {
                        joined.insert(node.peer_id);
                    }
                    Ok(false) if joined.contains(&node.peer_id) => {
                        if self.reconnect(&node).await.is_err() {
                            return;
                        }
                    }
                    Ok(false) => {}
                    Err(_) => return,
                }
            }
        }
    }

    /// Dials `node` until connected; `Err` only when the SDK stopped.
    async fn reconnect(&self, node: &crate::config::BootstrapNode) -> Result<(), SdkError> {
        let lost_at = rt::now_ms();
        let base = self.config().retry_delay.max(Duration::from_millis(100));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let delay = jittered(base, attempt, rt::random());
            self.emit(SdkEvent::Reconnecting {
                peer_id: node.peer_id.to_string(),
                attempt,
                delay: delay.as_secs_f64() * 1000.0,
            });
            rt::sleep(delay).await;
            // Another dial (e.g. a reservation or a lookup) may have brought it back meanwhile.
            if self.is_connected(node.peer_id).await? || self.redial(node).await? {
                self.emit(SdkEvent::Reconnected {
                    peer_id: node.peer_id.to_string(),
                    attempts: attempt,
                    downtime: rt::now_ms() - lost_at,
                });
                return Ok(());
            }
        }
    }

    /// One dial of `node`: whether it connected; `Err` only when the SDK stopped.
    async fn redial(&self, node: &crate::config::BootstrapNode) -> Result<bool, SdkError> {
        // Short attempts: a dial to a node that is down can hang in the browser for seconds,
        // and the node may be back long before that.
        let limit = self.config().dial_timeout.min(ATTEMPT_LIMIT);
        match rt::timeout(limit, self.dial(node.address.clone())).await {
            Some(Ok(_)) => return Ok(true),
            Some(Err(SdkError::Stopped)) => return Err(SdkError::Stopped),
            Some(Err(e)) => self.debug("connection", "warn", || {
                format!("reconnecting to {} failed: {e}", node.address)
            }),
            None => self.debug("connection", "warn", || {
                format!("reconnecting to {} timed out", node.address)
            }),
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_is_capped_and_jittered_into_its_upper_half() {
        let base = Duration::from_millis(1000);
        assert_eq!(jittered(base, 1, 0.0), Duration::from_millis(500));
        assert_eq!(jittered(base, 3, 1.0), Duration::from_millis(4000));
        assert_eq!(jittered(base, 3, 0.5), Duration::from_millis(3000));
        assert_eq!(
            jittered(base, 50, 1.0),
            crate::net::backoff::MAX_RETRY_DELAY
        );
    }
}
