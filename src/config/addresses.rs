//! Addresses and peer ids as the page writes them: which addresses this build can dial or listen
//! on, how a connection is carried, and lists of peer ids (errors name the field).

use libp2p::multiaddr::Protocol;
use libp2p::{Multiaddr, PeerId};

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

/// Parses a list of peer ids from `options`, naming the field on error.
pub fn parse_peer_ids(field: &str, ids: &[String]) -> Result<Vec<PeerId>, crate::SdkError> {
    ids.iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse().map_err(|e| {
                crate::SdkError::argument(
                    format!("{field}[{i}]"),
                    format!("{s:?} is not a peer id: {e}"),
                )
            })
        })
        .collect()
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
