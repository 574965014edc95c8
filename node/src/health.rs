//! `/healthz` and `/readyz` on the metrics listener: alive, and ready for clients (listening,
//! connected to a bootstrap node, every model announced, not shutting down).

use std::sync::atomic::{AtomicBool, Ordering};

/// What readiness is made of; the event loop sets it, the metrics listener reads it.
#[derive(Debug)]
pub struct Health {
    listening: AtomicBool,
    bootstrap_connected: AtomicBool,
    models_announced: AtomicBool,
    draining: AtomicBool,
}

impl Health {
    /// Before anything happened: a node without bootstrap nodes needs none, and one without
    /// models (or without a DHT to announce them in) has none to announce.
    pub fn new(has_bootstrap: bool, announces_models: bool) -> Self {
        Health {
            listening: AtomicBool::new(false),
            bootstrap_connected: AtomicBool::new(!has_bootstrap),
            models_announced: AtomicBool::new(!announces_models),
            draining: AtomicBool::new(false),
        }
    }

    /// Every listener is up.
    pub fn set_listening(&self) {
        self.listening.store(true, Ordering::Relaxed);
    }

    /// Whether a bootstrap node is connected now.
    pub fn set_bootstrap_connected(&self, connected: bool) {
        self.bootstrap_connected.store(connected, Ordering::Relaxed);
    }

    /// Every model was announced in the DHT at least once.
    pub fn set_models_announced(&self) {
        self.models_announced.store(true, Ordering::Relaxed);
    }

    /// The node is shutting down: not ready from now on.
    pub fn set_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// `Ok` when ready, else what is missing, in words.
    pub fn ready(&self) -> Result<(), Vec<&'static str>> {
        let missing: Vec<&'static str> = [
            (&self.listening, true, "not listening yet"),
            (
                &self.bootstrap_connected,
                true,
                "no bootstrap node connected",
            ),
            (
                &self.models_announced,
                true,
                "models not yet announced in the DHT",
            ),
            (&self.draining, false, "shutting down"),
        ]
        .into_iter()
        .filter(|(flag, wanted, _)| flag.load(Ordering::Relaxed) != *wanted)
        .map(|(_, _, why)| why)
        .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(missing)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_once_everything_is_there_and_not_while_draining() {
        let h = Health::new(true, true);
        assert_eq!(h.ready().unwrap_err().len(), 3);
        h.set_listening();
        h.set_bootstrap_connected(true);
        h.set_models_announced();
        assert!(h.ready().is_ok());
        h.set_bootstrap_connected(false);
        assert_eq!(h.ready().unwrap_err(), ["no bootstrap node connected"]);
        h.set_bootstrap_connected(true);
        h.set_draining();
        assert_eq!(h.ready().unwrap_err(), ["shutting down"]);
        let lone = Health::new(false, false);
        lone.set_listening();
        assert!(lone.ready().is_ok(), "a lone relay needs no bootstrap node");
    }
}
