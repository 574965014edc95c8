//! The order in which a peer's addresses are dialed: the cheapest kind of connection first,
//! the next kind only when every address of the one before failed.
//!
//! libp2p's swarm dials all of a peer's addresses at once (up to its dial concurrency), keeps
//! the first connection and drops the rest. For a host that announces WebSocket, WebRTC-direct
//! and relayed addresses, a page then built a WebRTC peer connection (SDP, DTLS, a data
//! channel) and opened relay circuits only to throw them away, on the CPU its first job
//! needed. Stages: WebSocket (`/ws`, `/wss`, `/tls/ws`), then WebRTC-direct, then one relay
//! circuit per relay (the first address given for it), then the relays' other addresses, then
//! anything else.

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

/// `addresses` grouped into dial stages, cheapest first, empty stages left out; the order
/// within a stage is kept.
pub fn stages(addresses: Vec<Multiaddr>) -> Vec<Vec<Multiaddr>> {
    let mut out: [Vec<Multiaddr>; 5] = Default::default();
    for a in addresses {
        let mut stage = stage_of(&a);
        // One circuit per relay at first: each would be a circuit and a Noise handshake of its
        // own through the same relay (over the connection to it the page has, if it has one).
        if stage == 2 && out[2].iter().any(|f| relay_peer(f) == relay_peer(&a)) {
            stage = 3;
        }
        out[stage].push(a);
    }
    out.into_iter().filter(|s| !s.is_empty()).collect()
}

/// The relay peer of a circuit address (the last `/p2p` before `/p2p-circuit`).
fn relay_peer(address: &Multiaddr) -> Option<libp2p::PeerId> {
    let mut relay = None;
    for p in address.iter() {
        match p {
            Protocol::P2p(peer) => relay = Some(peer),
            Protocol::P2pCircuit => break,
            _ => {}
        }
    }
    relay
}

/// The stage of `address` (a circuit: 2, before its duplicates are moved to 3).
fn stage_of(address: &Multiaddr) -> usize {
    let mut stage = 4;
    for p in address.iter() {
        match p {
            Protocol::P2pCircuit => return 2,
            Protocol::Ws(_) | Protocol::Wss(_) => stage = 0,
            Protocol::WebRTCDirect if stage == 4 => stage = 1,
            _ => {}
        }
    }
    stage
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Multiaddr {
        s.parse().unwrap()
    }

    #[test]
    fn one_circuit_per_relay_first() {
        let peer = "12D3KooWS7mCcqG4ujY9pCFfHphyDXrdc9wWC9fQ3ZrHnLjTfF2K";
        let other = "12D3KooWBwjbJk1xfbX1WrgrhPx6HeGA9W82s2z3vnBJfaTnvSUV";
        let over_webrtc = a(&format!(
            "/ip4/127.0.0.1/udp/3/webrtc-direct/p2p/{peer}/p2p-circuit"
        ));
        let over_ws = a(&format!("/ip4/127.0.0.1/tcp/2/ws/p2p/{peer}/p2p-circuit"));
        let second_relay = a(&format!("/ip4/127.0.0.1/tcp/7/ws/p2p/{other}/p2p-circuit"));
        let got = stages(vec![
            over_ws.clone(),
            over_webrtc.clone(),
            second_relay.clone(),
        ]);
        assert_eq!(got, vec![vec![over_ws, second_relay], vec![over_webrtc]]);
    }

    #[test]
    fn websocket_first_then_webrtc_then_circuits() {
        let relay =
            "/ip4/127.0.0.1/tcp/2/ws/p2p/12D3KooWS7mCcqG4ujY9pCFfHphyDXrdc9wWC9fQ3ZrHnLjTfF2K";
        let circuit = a(&format!("{relay}/p2p-circuit"));
        let webrtc = a("/ip4/127.0.0.1/udp/3/webrtc-direct");
        let ws = a("/ip4/127.0.0.1/tcp/4/ws");
        let tls = a("/dns4/x.test/tcp/5/tls/ws");
        let tcp = a("/ip4/127.0.0.1/tcp/6");
        let got = stages(vec![
            circuit.clone(),
            webrtc.clone(),
            tcp.clone(),
            ws.clone(),
            tls.clone(),
        ]);
        assert_eq!(
            got,
            vec![vec![ws, tls], vec![webrtc], vec![circuit], vec![tcp]]
        );
        assert!(stages(Vec::new()).is_empty());
    }
}
