//! Swarm construction per target: browser transports on wasm32, TCP/WebSocket natively.
//!
//! The native build exists so that the client core can be tested without a browser.

use std::time::Duration;

use libp2p::identity::Keypair;
use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, Swarm};

use crate::behaviour::Behaviour;
use crate::config::ValidConfig;
use crate::error::SdkError;

/// Connections stay open while the SDK runs; liveness is checked by ping, not by idleness.
const IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Which transports an address must use to be dialable here (for error messages).
#[cfg(target_arch = "wasm32")]
pub const DIALABLE: &str =
    "a browser can dial (/ws, /wss, /webrtc-direct with /certhash, or /p2p-circuit)";
/// Which transports an address must use to be dialable here (for error messages).
#[cfg(not(target_arch = "wasm32"))]
pub const DIALABLE: &str = "this build can dial (/tcp, /ws, /wss or /p2p-circuit)";
/// What an address must be to be listened on here (for error messages).
#[cfg(target_arch = "wasm32")]
pub const LISTENABLE: &str = "in a browser (only /p2p-circuit relay addresses)";
/// What an address must be to be listened on here (for error messages).
#[cfg(not(target_arch = "wasm32"))]
pub const LISTENABLE: &str = "by this build (/tcp, /ws or /p2p-circuit)";

/// Whether this build has a transport for `addr`.
pub fn can_dial(addr: &Multiaddr) -> bool {
    let has = |f: fn(&Protocol) -> bool| addr.iter().any(|p| f(&p));
    if has(|p| matches!(p, Protocol::P2pCircuit)) {
        return true;
    }
    let websocket = has(|p| matches!(p, Protocol::Ws(_) | Protocol::Wss(_)));
    if cfg!(target_arch = "wasm32") {
        let webrtc_direct = has(|p| matches!(p, Protocol::WebRTCDirect))
            && has(|p| matches!(p, Protocol::Certhash(_)));
        websocket || webrtc_direct
    } else {
        websocket || has(|p| matches!(p, Protocol::Tcp(_)))
    }
}

/// Whether this build can listen on `addr`.
pub fn can_listen(addr: &Multiaddr) -> bool {
    let circuit = addr.iter().any(|p| matches!(p, Protocol::P2pCircuit));
    circuit || (!cfg!(target_arch = "wasm32") && addr.iter().any(|p| matches!(p, Protocol::Tcp(_))))
}

/// How a connection to `addr` is carried: `relayed`, `webrtc-direct`, `websocket`, `tcp` or `other`.
pub fn kind(addr: &Multiaddr) -> &'static str {
    let mut kind = "other";
    for p in addr.iter() {
        match p {
            Protocol::P2pCircuit => return "relayed",
            Protocol::WebRTCDirect => kind = "webrtc-direct",
            Protocol::Ws(_) | Protocol::Wss(_) => kind = "websocket",
            Protocol::Tcp(_) if kind == "other" => kind = "tcp",
            _ => {}
        }
    }
    kind
}

fn build_error(e: impl std::fmt::Display) -> SdkError {
    SdkError::Internal(format!("cannot build the network stack: {e}"))
}

/// Builds the browser swarm: WebSocket and WebRTC-direct, plus the relay client transport.
#[cfg(target_arch = "wasm32")]
pub async fn build_swarm(key: Keypair, config: &ValidConfig) -> Result<Swarm<Behaviour>, SdkError> {
    use libp2p::core::muxing::StreamMuxerBox;
    use libp2p::core::upgrade::Version;
    use libp2p::core::Transport;
    use libp2p::{noise, yamux};

    let swarm = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_wasm_bindgen()
        .with_other_transport(|key| {
            let noise = noise::Config::new(key).map_err(Box::new)?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(
                crate::websocket::Transport
                    .upgrade(Version::V1Lazy)
                    .authenticate(noise)
                    .multiplex(yamux::Config::default())
                    .map(|(peer, muxer), _| (peer, StreamMuxerBox::new(muxer))),
            )
        })
        .map_err(build_error)?
        .with_other_transport(|key| {
            crate::webrtc_direct::Transport::new(key)
                .map(|(peer, conn), _| (peer, StreamMuxerBox::new(conn)))
        })
        .map_err(build_error)?
        .with_relay_client(noise::Config::new, yamux::Config::default)
        .map_err(build_error)?
        .with_behaviour(|key, relay| Behaviour::new(key, relay, config))
        .map_err(build_error)?
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
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
        .with_swarm_config(|c| c.with_idle_connection_timeout(IDLE_CONNECTION_TIMEOUT))
        .build();
    Ok(swarm)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_transports() {
        let k = |s: &str| kind(&s.parse().unwrap());
        assert_eq!(k("/ip4/1.2.3.4/tcp/1/ws"), "websocket");
        assert_eq!(k("/ip4/1.2.3.4/udp/1/webrtc-direct"), "webrtc-direct");
        assert_eq!(k("/ip4/1.2.3.4/tcp/1/ws/p2p-circuit"), "relayed");
        assert_eq!(k("/ip4/1.2.3.4/tcp/1"), "tcp");
    }
}
