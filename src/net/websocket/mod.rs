//! The browser's `WebSocket` as a libp2p transport (dial only; a page cannot listen).
//!
//! It replaces libp2p-websocket-websys 0.6.0, whose connection is woken by the wrong events:
//! - a reader waiting for data is woken only by `message`. When the remote goes away (a killed
//!   node, a dropped network) the browser fires `error` and `close`, but nothing polls the
//!   connection again until something *writes* to it, so a dead host was noticed only at the next
//!   write (10.5 s after a SIGKILL in one failover test run, on a busy machine);
//! - the opener is woken only by `open`: a refused connection sat until libp2p's 10 s upgrade
//!   timeout;
//! - `poll_flush` waits until `bufferedAmount` is 0, checked on a 100 ms interval per connection,
//!   so every flush of the Noise handshake waited up to 100 ms.
//!
//! Here every event (`open`, `message`, `error`, `close`) wakes whoever waits, so a closed socket
//! fails its reads and writes as soon as the browser reports it, whatever the machine's load.
//! Writes are coalesced: what the SDK writes within one turn of its executor (yamux writes and
//! flushes every frame on its own, each a Noise message) leaves in one `send()` after the turn
//! (a task of its own), not one `send()` and one WebSocket message per frame. On a job's way to its
//! first token this took a page from 52 sends to 29, and each send cost the page 0.1–0.6
//! ms, each message the remote node a read and a wake-up. A flush completes at once: the bytes are
//! handed to the browser after the turn whatever happens next (a close or drop hands them
//! over first). `poll_write` applies the backpressure (it stops taking bytes while
//! `MAX_BUFFERED` are queued, in the browser or here).

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

/// The `ws://` or `wss://` URL of a WebSocket multiaddr (`/ip4|ip6|dns|dns4|dns6/…/tcp/…` then
/// `/ws`, `/wss` or `/tls/ws`, optionally ending in `/p2p/…`), or `None` for any other address.
pub fn websocket_url(addr: &Multiaddr) -> Option<String> {
    let mut parts = addr.iter();
    let host = match parts.next()? {
        Protocol::Ip4(ip) => ip.to_string(),
        Protocol::Ip6(ip) => format!("[{ip}]"),
        Protocol::Dns(h) | Protocol::Dns4(h) | Protocol::Dns6(h) => h.to_string(),
        _ => return None,
    };
    let Protocol::Tcp(port) = parts.next()? else {
        return None;
    };
    let (scheme, path) = match (parts.next()?, parts.next()) {
        (Protocol::Tls, Some(Protocol::Ws(path))) => ("wss", path),
        (Protocol::Ws(path), None | Some(Protocol::P2p(_))) => ("ws", path),
        (Protocol::Wss(path), None | Some(Protocol::P2p(_))) => ("wss", path),
        _ => return None,
    };
    match parts.next() {
        None | Some(Protocol::P2p(_)) if parts.next().is_none() => {}
        _ => return None,
    }
    Some(format!("{scheme}://{host}:{port}{path}"))
}

#[cfg(target_arch = "wasm32")]
pub use browser::{Connection, Error, Transport};

#[cfg(target_arch = "wasm32")]
mod browser;

#[cfg(test)]
mod tests {
    use super::websocket_url;

    fn url(s: &str) -> Option<String> {
        websocket_url(&s.parse().unwrap())
    }

    #[test]
    fn websocket_addresses_become_urls() {
        let id = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";
        assert_eq!(url("/ip4/127.0.0.1/tcp/1/ws").unwrap(), "ws://127.0.0.1:1/");
        assert_eq!(
            url(&format!("/ip4/127.0.0.1/tcp/1/ws/p2p/{id}")).unwrap(),
            "ws://127.0.0.1:1/"
        );
        assert_eq!(url("/ip6/::1/tcp/2/wss").unwrap(), "wss://[::1]:2/");
        assert_eq!(
            url("/dns4/relay.example.com/tcp/443/tls/ws").unwrap(),
            "wss://relay.example.com:443/"
        );
        assert_eq!(
            url(&format!("/dns/a.b/tcp/443/tls/ws/p2p/{id}")).unwrap(),
            "wss://a.b:443/"
        );
        for bad in [
            "/ip4/127.0.0.1/tcp/1",
            "/ip4/127.0.0.1/tcp/1/tls/wss",
            "/dnsaddr/a.b/tcp/1/ws",
            "/ip4/127.0.0.1/udp/1/webrtc-direct",
        ] {
            assert_eq!(url(bad), None, "{bad}");
        }
        // A circuit through a WebSocket relay is the relay transport's, not ours.
        assert_eq!(
            url(&format!(
                "/ip4/127.0.0.1/tcp/1/ws/p2p/{id}/p2p-circuit/p2p/{id}"
            )),
            None
        );
    }
}
