//! Keep-alive on the node's connections: a connection whose peer stopped answering pings
//! (`connection.max_ping_failures` in a row) is closed.

use std::collections::HashMap;

use libp2p::swarm::ConnectionId;
use libp2p::{ping, Swarm};

use crate::swarm::Behaviour;

/// Closes connections whose peer stopped answering pings.
#[derive(Debug)]
pub struct Liveness {
    max_failures: u32,
    failures: HashMap<ConnectionId, u32>,
}

impl Liveness {
    /// Closes a connection after `max_failures` failed pings in a row.
    pub fn new(max_failures: u32) -> Self {
        Liveness {
            max_failures,
            failures: HashMap::new(),
        }
    }

    /// Forgets a closed connection.
    pub fn forget(&mut self, connection: ConnectionId) {
        self.failures.remove(&connection);
    }

    /// Records a ping result; returns true when the connection should be closed.
    fn record(&mut self, connection: ConnectionId, ok: bool) -> bool {
        if ok {
            self.failures.remove(&connection);
            return false;
        }
        let n = self.failures.entry(connection).or_insert(0);
        *n += 1;
        *n >= self.max_failures
    }

    /// Counts a ping's result and closes the connection whose peer stopped answering.
    pub fn on_ping(&mut self, swarm: &mut Swarm<Behaviour>, event: ping::Event) {
        let ping::Event {
            peer,
            connection,
            result,
        } = event;
        if self.record(connection, result.is_ok()) {
            tracing::info!(%peer, ?connection, failures = self.max_failures, "peer stopped answering pings; closing connection");
            self.failures.remove(&connection);
            swarm.close_connection(connection);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness_closes_after_consecutive_failures_only() {
        let mut l = Liveness::new(2);
        let c = ConnectionId::new_unchecked(1);
        assert!(!l.record(c, false));
        assert!(!l.record(c, true));
        assert!(!l.record(c, false));
        assert!(l.record(c, false));
    }
}
