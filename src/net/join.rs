//! Joining the network: every bootstrap node dialed in parallel with retries and backoff;
//! `p2p:started` once one answers.

use futures::channel::mpsc;
use futures::{SinkExt, StreamExt};

use crate::config::BootstrapNode;
use crate::error::SdkError;
use crate::events::{FeatureStatus, SdkEvent};
use crate::net::handle::Network;
use crate::net::rt;

impl Network {
    /// Dials every bootstrap node (with retries, in parallel) and returns once one is connected;
    /// the others keep trying in the background. Emits `p2p:started` on success.
    pub async fn bootstrap(&self) -> Result<(), SdkError> {
        let nodes = self.config().bootstrap_nodes.clone();
        let (results_tx, mut results_rx) = mpsc::channel(nodes.len());
        for node in nodes {
            let network = self.clone();
            let mut results = results_tx.clone();
            rt::spawn(async move {
                let result = network.dial_with_retry(&node).await;
                let _ = results
                    .send(result.map_err(|e| format!("{}: {e}", node.address)))
                    .await;
            });
        }
        drop(results_tx);
        let mut failures = Vec::new();
        while let Some(result) = results_rx.next().await {
            match result {
                Ok(()) => {
                    self.emit(SdkEvent::Started {
                        peer_id: self.peer_id().to_string(),
                        start_time: rt::now_ms(),
                        dht: FeatureStatus {
                            enabled: self.config().enable_dht,
                            available: true,
                            reason: None,
                        },
                        mdns: mdns_status(self.config().enable_mdns),
                    });
                    return Ok(());
                }
                Err(failure) => failures.push(failure),
            }
        }
        Err(SdkError::BootstrapFailed { failures })
    }

    async fn dial_with_retry(&self, node: &BootstrapNode) -> Result<(), SdkError> {
        let cfg = self.config();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.dial_with_timeout(node.address.clone()).await {
                Ok(_) => return Ok(()),
                Err(SdkError::Stopped) => return Err(SdkError::Stopped),
                Err(e) => e,
            };
            if attempt > cfg.max_retries {
                self.emit(SdkEvent::ConnectionFailed {
                    address: node.address.to_string(),
                    attempts: attempt,
                    error: error.to_string(),
                });
                return Err(error);
            }
            let delay = crate::net::backoff::retry_delay(cfg.retry_delay, attempt);
            self.emit(SdkEvent::ConnectionRetry {
                address: node.address.to_string(),
                attempt,
                max_retries: cfg.max_retries,
                delay: delay.as_secs_f64() * 1000.0,
                error: error.to_string(),
            });
            rt::sleep(delay).await;
        }
    }
}

fn mdns_status(enabled: bool) -> FeatureStatus {
    let reason = cfg!(target_arch = "wasm32")
        .then(|| "a browser cannot send or receive multicast".to_string());
    FeatureStatus {
        enabled,
        available: reason.is_none(),
        reason,
    }
}
