//! The client handle: starts the event loop, joins the network through the bootstrap nodes with
//! retries, and turns calls into [`Command`]s.

use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};

use crate::config::{BootstrapNode, ValidConfig};
use crate::error::SdkError;
use crate::event_loop::{Command, EventLoop};
use crate::events::{FeatureStatus, SdkEvent};
use crate::peers::{P2pMetrics, PeerInfo};
use crate::rt;

/// Commands waiting for the event loop; callers wait (backpressure) beyond this.
const COMMAND_BUFFER: usize = 64;
/// Events waiting for the page; beyond this they are counted as dropped, never block the loop.
pub const EVENT_BUFFER: usize = 1024;

/// A cheap, cloneable handle to a running SDK network stack.
#[derive(Clone)]
pub struct Client {
    commands: mpsc::Sender<Command>,
    events: mpsc::Sender<SdkEvent>,
    control: libp2p_stream::Control,
    peer_id: PeerId,
    config: Arc<ValidConfig>,
}

impl Client {
    /// Builds the network stack and returns the handle and the event loop; the caller runs the
    /// loop (e.g. with [`rt::spawn`]) before using the handle.
    pub async fn new(
        key: Keypair,
        config: ValidConfig,
        events: mpsc::Sender<SdkEvent>,
    ) -> Result<(Client, EventLoop), SdkError> {
        let peer_id = key.public().to_peer_id();
        let swarm = crate::transport::build_swarm(key, &config).await?;
        let control = swarm.behaviour().stream.new_control();
        rt::spawn(crate::ping::answer_pings(control.clone()));
        let (commands_tx, commands_rx) = mpsc::channel(COMMAND_BUFFER);
        let event_loop = EventLoop::new(swarm, commands_rx, events.clone(), config.clone());
        let client = Client {
            commands: commands_tx,
            events,
            control,
            peer_id,
            config: Arc::new(config),
        };
        Ok((client, event_loop))
    }

    /// Our peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// Dials every bootstrap node (with retries, in parallel) and returns once one is connected;
    /// the others keep trying in the background. Emits `p2p:started` on success.
    pub async fn bootstrap(&self) -> Result<(), SdkError> {
        let nodes = self.config.bootstrap_nodes.clone();
        let (results_tx, mut results_rx) = mpsc::channel(nodes.len());
        for node in nodes {
            let client = self.clone();
            let mut results = results_tx.clone();
            rt::spawn(async move {
                let result = client.dial_with_retry(&node).await;
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
                        peer_id: self.peer_id.to_string(),
                        start_time: rt::now_ms(),
                        dht: FeatureStatus {
                            enabled: self.config.enable_dht,
                            available: true,
                            reason: None,
                        },
                        mdns: mdns_status(self.config.enable_mdns),
                    });
                    return Ok(());
                }
                Err(failure) => failures.push(failure),
            }
        }
        Err(SdkError::BootstrapFailed { failures })
    }

    async fn dial_with_retry(&self, node: &BootstrapNode) -> Result<(), SdkError> {
        let cfg = &self.config;
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
            let delay = crate::backoff::retry_delay(cfg.retry_delay, attempt);
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

    async fn dial_with_timeout(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        let limit = self.config.dial_timeout;
        let operation = format!("dial {address}");
        rt::timeout(limit, self.dial(address))
            .await
            .unwrap_or(Err(SdkError::Timeout {
                operation,
                after_ms: limit.as_millis() as u64,
            }))
    }

    /// Dials `address` once (no retry) and returns the peer id once connected.
    pub async fn dial(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        self.request(|reply| Command::Dial { address, reply })
            .await?
    }

    /// Pings a connected peer on demand; returns the round trip in ms.
    pub async fn ping(&self, peer: PeerId) -> Result<f64, SdkError> {
        self.with_connected_peer(peer, "ping", |mut control| async move {
            crate::ping::ping(&mut control, peer).await
        })
        .await
    }

    /// Asks a connected peer for its capabilities (`/fabstir/info/1.0.0`).
    pub async fn node_info(
        &self,
        peer: PeerId,
    ) -> Result<fabstir_protocol::messages::NodeInfo, SdkError> {
        self.with_connected_peer(peer, "node info", |mut control| async move {
            crate::node_info::node_info(&mut control, peer).await
        })
        .await
    }

    /// Runs a stream request to `peer`: `NOT_CONNECTED` unless connected, `TIMEOUT` after
    /// `requestTimeout`.
    async fn with_connected_peer<T, F, Fut>(
        &self,
        peer: PeerId,
        operation: &str,
        request: F,
    ) -> Result<T, SdkError>
    where
        F: FnOnce(libp2p_stream::Control) -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError>>,
    {
        if !self
            .request(|reply| Command::IsConnected { peer, reply })
            .await?
        {
            return Err(SdkError::NotConnected {
                peer_id: peer.to_string(),
            });
        }
        let limit = self.config.request_timeout;
        rt::timeout(limit, request(self.control.clone()))
            .await
            .unwrap_or(Err(SdkError::Timeout {
                operation: format!("{operation} {peer}"),
                after_ms: limit.as_millis() as u64,
            }))
    }

    /// The connected peers.
    pub async fn connected_peers(&self) -> Result<Vec<PeerInfo>, SdkError> {
        self.request(|reply| Command::Peers { reply }).await
    }

    /// Our listen addresses (relay circuit addresses once reserved).
    pub async fn listen_addresses(&self) -> Result<Vec<String>, SdkError> {
        self.request(|reply| Command::ListenAddresses { reply })
            .await
    }

    /// Connection counters.
    pub async fn metrics(&self) -> Result<P2pMetrics, SdkError> {
        self.request(|reply| Command::Metrics { reply }).await
    }

    /// Closes every connection and ends the event loop.
    pub async fn stop(&self) -> Result<(), SdkError> {
        self.request(|reply| Command::Stop { reply }).await
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, SdkError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .clone()
            .send(make(reply))
            .await
            .map_err(|_| SdkError::Stopped)?;
        answer.await.map_err(|_| SdkError::Stopped)
    }

    fn emit(&self, event: SdkEvent) {
        let _ = self.events.clone().try_send(event);
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
