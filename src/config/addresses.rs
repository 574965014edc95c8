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

/// Whether this build has a transport for `addr`. A `/p2p-circuit` address counts by its way to
/// the relay: dialable when that is, or when it names the relay by peer id alone.
///
/// Circuit addresses whose relay part we cannot dial must be left out, not merely fail:
/// libp2p-relay 0.22's client dials a relay it is not connected to once per circuit dial, and
/// the swarm's default peer condition refuses the second concurrent dial of that relay, which
/// drops its circuit request. With a host announced at `<relay>/tcp/…/p2p-circuit` and
/// `<relay>/tcp/…/ws/p2p-circuit`, the TCP one (no transport in a browser) could take the
/// relay's one dial and fail, and the WebSocket one be refused: both "Response from behaviour
/// was canceled" (seen in the catalog test: about one run in three).
pub fn can_dial(addr: &Multiaddr) -> bool {
    if let Some(at) = addr.iter().position(|p| matches!(p, Protocol::P2pCircuit)) {
        let relay: Multiaddr = addr.iter().take(at).collect();
        let by_id_only = relay.iter().all(|p| matches!(p, Protocol::P2p(_)));
        return by_id_only || can_dial(&relay);
    }
    let has = |f: fn(&Protocol) -> bool| addr.iter().any(|p| f(&p));
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

/// Why a page served over `https:` may not use an address (mixed content), or `None`: a plain
/// `/ws` WebSocket (not `/tls/ws` or `/wss`) to anything but a loopback host, which browsers
/// refuse from a secure page. A `/p2p-circuit` address counts by its first hop.
pub fn mixed_content(addr: &Multiaddr) -> Option<String> {
    let mut parts = addr.iter();
    let loopback = match parts.next()? {
        Protocol::Ip4(ip) => ip.is_loopback(),
        Protocol::Ip6(ip) => ip.is_loopback(),
        Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => {
            h == "localhost" || h.ends_with(".localhost")
        }
        _ => return None,
    };
    let mut tls = false;
    for p in parts {
        match p {
            Protocol::Tls => tls = true,
            Protocol::Ws(_) if !tls && !loopback => {
                return Some(format!(
                    "{addr} is a plain /ws WebSocket, which a page served over https: may not \
                     open (mixed content); use /tls/ws (wss) or WebRTC-direct"
                ))
            }
            Protocol::P2pCircuit => return None,
            _ => {}
        }
    }
    None
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
    #[test]
    fn plain_websockets_are_mixed_content_but_to_loopback() {
        let m = |a: &str| mixed_content(&a.parse().unwrap()).is_some();
        assert!(m("/dns4/relay.example.com/tcp/80/ws/p2p/12D3KooWGEi7W5k2iNKu2zGVAaeJsV5SwcriWyVm8MUwpva74p11"));
        assert!(m("/ip4/203.0.113.7/tcp/4002/ws"));
        assert!(m("/ip4/203.0.113.7/tcp/4002/ws/p2p/12D3KooWGEi7W5k2iNKu2zGVAaeJsV5SwcriWyVm8MUwpva74p11/p2p-circuit"));
        assert!(!m("/dns4/relay.example.com/tcp/443/tls/ws"));
        assert!(!m("/dns4/relay.example.com/tcp/443/wss"));
        assert!(!m("/ip4/127.0.0.1/tcp/4002/ws"));
        assert!(!m("/ip6/::1/tcp/4002/ws"));
        assert!(!m("/dns/localhost/tcp/4002/ws"));
        assert!(!m("/ip4/203.0.113.7/udp/4003/webrtc-direct"));
    }

    use super::*;

    #[test]
    fn a_circuit_counts_by_its_way_to_the_relay() {
        let r = "12D3KooWGEi7W5k2iNKu2zGVAaeJsV5SwcriWyVm8MUwpva74p11";
        let d = |a: String| can_dial(&a.parse().unwrap());
        assert!(d(format!(
            "/ip4/127.0.0.1/tcp/1/ws/p2p/{r}/p2p-circuit/p2p/{r}"
        )));
        assert!(d(format!("/p2p/{r}/p2p-circuit/p2p/{r}")));
        assert!(!d(format!(
            "/ip4/127.0.0.1/udp/1/quic-v1/p2p/{r}/p2p-circuit/p2p/{r}"
        )));
        // A browser has no TCP transport; this build does.
        assert_eq!(
            d(format!("/ip4/127.0.0.1/tcp/1/p2p/{r}/p2p-circuit/p2p/{r}")),
            !cfg!(target_arch = "wasm32")
        );
    }

    #[test]
    fn classifies_transports() {
        let k = |s: &str| kind(&s.parse().unwrap());
        assert_eq!(k("/ip4/1.2.3.4/tcp/1/ws"), "websocket");
        assert_eq!(k("/ip4/1.2.3.4/udp/1/webrtc-direct"), "webrtc-direct");
        assert_eq!(k("/ip4/1.2.3.4/tcp/1/ws/p2p-circuit"), "relayed");
        assert_eq!(k("/ip4/1.2.3.4/tcp/1"), "tcp");
    }
}
