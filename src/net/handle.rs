//! The network handle: a cheap, cloneable sender of [`Command`]s to the event loop, with the
//! operations the rooms above build on (dial, connect, ping, stream requests to a connected
//! peer, DHT lookups, peers and counters). It knows nothing of the marketplace.

use std::sync::Arc;

use futures::channel::{mpsc, oneshot};
use futures::SinkExt;
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};

use crate::config::ValidConfig;
use crate::error::SdkError;
use crate::events::SdkEvent;
use crate::net::event_loop::{Command, EventLoop};
use crate::net::peers::{P2pMetrics, PeerInfo};
use crate::net::rt;

/// Commands waiting for the event loop; callers wait (backpressure) beyond this.
const COMMAND_BUFFER: usize = 64;

/// A handle to a running network stack.
#[derive(Clone)]
pub struct Network {
    commands: mpsc::Sender<Command>,
    events: mpsc::Sender<SdkEvent>,
    control: libp2p_stream::Control,
    peer_id: PeerId,
    config: Arc<ValidConfig>,
}

impl Network {
    /// Builds the network stack and returns its handle and the event loop; the caller runs the
    /// loop (e.g. with [`rt::spawn`]) before using the handle.
    pub async fn start(
        key: Keypair,
        config: ValidConfig,
        events: mpsc::Sender<SdkEvent>,
    ) -> Result<(Network, EventLoop), SdkError> {
        let peer_id = key.public().to_peer_id();
        let swarm = crate::net::transport::build_swarm(key, &config).await?;
        let control = swarm.behaviour().stream.new_control();
        rt::spawn(crate::net::ping::answer_pings(control.clone()));
        let (commands_tx, commands_rx) = mpsc::channel(COMMAND_BUFFER);
        let event_loop = EventLoop::new(swarm, commands_rx, events.clone(), config.clone());
        let network = Network {
            commands: commands_tx,
            events,
            control,
            peer_id,
            config: Arc::new(config),
        };
        Ok((network, event_loop))
    }

    /// Our peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The configuration in force.
    pub fn config(&self) -> &ValidConfig {
        &self.config
    }

    /// Dials `address` once (no retry) and returns the peer id once connected.
    pub async fn dial(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        self.request(|reply| Command::Dial {
            address,
            always: false,
            reply,
        })
        .await?
    }

    /// Opens a new connection to exactly `address`, even when already connected to its peer
    /// (proves that this address works); returns the peer id.
    pub async fn dial_fresh(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        self.request(|reply| Command::Dial {
            address,
            always: true,
            reply,
        })
        .await?
    }

    /// Pings a connected peer on demand; returns the round trip in ms.
    pub async fn ping(&self, peer: PeerId) -> Result<f64, SdkError> {
        self.with_connected_peer(peer, "ping", |mut control| async move {
            crate::net::ping::ping(&mut control, peer).await
        })
        .await
    }

    /// Whether we have a connection to `peer` now.
    pub async fn is_connected(&self, peer: PeerId) -> Result<bool, SdkError> {
        self.request(|reply| Command::IsConnected { peer, reply })
            .await
    }

    /// Runs a stream request to `peer`: `NOT_CONNECTED` unless connected, `TIMEOUT` after
    /// `requestTimeout`.
    pub async fn with_connected_peer<T, F, Fut>(
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

    /// [`Network::dial`] within `dialTimeout`.
    pub async fn dial_with_timeout(&self, address: Multiaddr) -> Result<PeerId, SdkError> {
        let limit = self.config.dial_timeout;
        let operation = format!("dial {address}");
        rt::timeout(limit, self.dial(address))
            .await
            .unwrap_or(Err(SdkError::Timeout {
                operation,
                after_ms: limit.as_millis() as u64,
            }))
    }

    /// Makes sure we are connected to `peer` (dialing the addresses we reached it at before,
    /// within `dialTimeout`).
    pub async fn connect(&self, peer: PeerId) -> Result<(), SdkError> {
        let limit = self.config.dial_timeout;
        let connecting = self.request(|reply| Command::Connect { peer, reply });
        match rt::timeout(limit, connecting).await {
            Some(result) => result?,
            None => Err(SdkError::Timeout {
                operation: format!("connect to {peer}"),
                after_ms: limit.as_millis() as u64,
            }),
        }
    }

    /// Remembers `addresses` of `peer` (after the ones that worked before) for [`Self::connect`].
    pub async fn learn_addresses(
        &self,
        peer: PeerId,
        addresses: Vec<Multiaddr>,
    ) -> Result<(), SdkError> {
        self.request(|reply| Command::LearnAddresses {
            peer,
            addresses,
            reply,
        })
        .await
    }

    /// Closes every connection to `peer`; false when there was none.
    pub async fn disconnect(&self, peer: PeerId) -> Result<bool, SdkError> {
        self.request(|reply| Command::Disconnect { peer, reply })
            .await
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

    /// A handle for opening streams to peers.
    pub fn control(&self) -> libp2p_stream::Control {
        self.control.clone()
    }

    /// Sends a command to the event loop and waits for its answer (`STOPPED` once it ended).
    pub async fn request<T>(
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

    /// Emits `p2p:debug` when `subsystem` is enabled in the config; `message` is only built then.
    pub fn debug(
        &self,
        subsystem: &'static str,
        level: &'static str,
        message: impl FnOnce() -> String,
    ) {
        if self.config.debugs(subsystem) {
            self.emit_debug(subsystem, level, message());
        }
    }

    /// The non-generic half of [`Network::debug`]: one copy in the wasm, not one per message.
    #[inline(never)]
    fn emit_debug(&self, subsystem: &'static str, level: &'static str, message: String) {
        self.emit(SdkEvent::Debug {
            subsystem,
            level,
            message,
        });
    }

    /// Sends an event to the page's listeners (dropped, not blocking, when the page lags).
    pub fn emit(&self, event: SdkEvent) {
        let _ = self.events.clone().try_send(event);
    }
}
