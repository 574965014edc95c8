//! Swarm construction per target: browser transports on wasm32, TCP/WebSocket natively.
//!
//! The native build exists so that the client core can be tested without a browser.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::Swarm;

use crate::config::ValidConfig;
use crate::error::SdkError;
use crate::net::behaviour::Behaviour;

/// Connections stay open while the SDK runs; liveness is checked by ping, not by idleness.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// The swarm's settings, the same on both targets.
///
/// Every stream the SDK opens proposes a single protocol, so multistream-select's lazy variant
/// is used for them (libp2p-swarm's default is `V1`): the protocol proposal travels with the
/// stream's first bytes instead of waiting a round trip for the peer's confirmation first. A
/// request on a new stream (a catalog ask, a job request, the token stream) costs one round
/// trip instead of two. A peer that does not speak the protocol is then noticed at the first
/// read ("Protocol negotiation failed"), not when the stream opens.
fn swarm_config(c: libp2p::swarm::Config) -> libp2p::swarm::Config {
    c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT)
        .with_substream_upgrade_protocol_override(libp2p::core::upgrade::Version::V1Lazy)
}

fn build_error(e: impl std::fmt::Display) -> SdkError {
    SdkError::Internal(format!("cannot build the network stack: {e}"))
}

/// Builds the browser swarm: WebSocket and WebRTC-direct, plus the relay client transport.
///
/// WebSocket and relay circuits share one Noise + Yamux upgrade (over `Either` of their
/// streams) rather than the builder's `with_relay_client`, which upgrades the relay transport
/// separately: each upgrade is its own copy of multistream-select, Noise and Yamux in the wasm.
#[cfg(target_arch = "wasm32")]
pub async fn build_swarm(key: Keypair, config: &ValidConfig) -> Result<Swarm<Behaviour>, SdkError> {
    use libp2p::core::muxing::StreamMuxerBox;
    use libp2p::core::upgrade::Version;
    use libp2p::core::Transport;
    use libp2p::{noise, relay, yamux};

    let (relay_transport, relay_client) = relay::client::new(key.public().to_peer_id());
    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_wasm_bindgen()
        .with_other_transport(|key| {
            let noise = noise::Config::new(key).map_err(Box::new)?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                crate::net::websocket::Transport
                    .or_transport(relay_transport)
                    .upgrade(Version::V1Lazy)
                    .authenticate(noise)
                    .multiplex(yamux::Config::default())
                    .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer))),
            )
        })
        .map_err(build_error)?
        .with_other_transport(|key| {
            crate::net::webrtc_direct::Transport::new(key)
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
        })
        .map_err(build_error)?
        .with_behaviour(|key| Behaviour::new(key, relay_client, config))
        .map_err(build_error)?
        .with_swarm_config(swarm_config)
        .build();
    Ok(swarm)
}

/// Builds the native swarm: TCP and WebSocket, plus the relay client transport.
#[cfg(not(target_arch = "wasm32"))]
pub async fn build_swarm(key: Keypair, config: &ValidConfig) -> Result<Swarm<Behaviour>, SdkError> {
    use libp2p::{noise, tcp, yamux};

    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(build_error)?
        .with_dns()
        .map_err(build_error)?
        .with_websocket(noise::Config::new, yamux::Config::default)
        .await
        .map_err(build_error)?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(build_error)?
        .with_behaviour(|key, relay| Behaviour::new(key, relay, config))
        .map_err(build_error)?
        .with_swarm_config(swarm_config)
        .build();
    Ok(swarm)
}
