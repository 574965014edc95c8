//! The SDP answer a browser's `RTCPeerConnection` is given for a WebRTC-direct node.
//!
//! Upstream workaround: `libp2p-webrtc-utils` 0.5.0 (`sdp::answer`) renders this text with
//! `tinytemplate`, which brought ~15 KB of templating code into the wasm for one fixed
//! description; the same text is written here with `format!`, line for line as upstream's
//! `SERVER_SESSION_DESCRIPTION`.

use std::net::SocketAddr;

/// The answer for the node at `addr` whose certificate fingerprint is `fingerprint` (as
/// `algorithm` and its SDP form, e.g. `sha-256` and `AB:CD:…`), with `ufrag` as ICE ufrag and
/// password.
pub fn answer(addr: SocketAddr, algorithm: &str, fingerprint: &str, ufrag: &str) -> String {
    let version = if addr.is_ipv4() { "IP4" } else { "IP6" };
    let (ip, port) = (addr.ip(), addr.port());
    format!(
        "v=0\n\
         o=- 0 0 IN {version} {ip}\n\
         s=-\n\
         t=0 0\n\
         a=ice-lite\n\
         m=application {port} UDP/DTLS/SCTP webrtc-datachannel\n\
         c=IN {version} {ip}\n\
         a=mid:0\n\
         a=ice-options:ice2\n\
         a=ice-ufrag:{ufrag}\n\
         a=ice-pwd:{ufrag}\n\
         a=fingerprint:{algorithm} {fingerprint}\n\
         a=setup:passive\n\
         a=sctp-port:5000\n\
         a=max-message-size:16384\n\
         a=candidate:1467250027 1 UDP 1467250027 {ip} {port} typ host\n\
         a=end-of-candidates\n"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_answer_is_upstreams_text() {
        let addr = "127.0.0.1:4003".parse().unwrap();
        let text = super::answer(addr, "sha-256", "AB:CD", "libp2p+webrtc+v1/x");
        let expected = "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=-\nt=0 0\na=ice-lite\nm=application 4003 UDP/DTLS/SCTP webrtc-datachannel\nc=IN IP4 127.0.0.1\na=mid:0\na=ice-options:ice2\na=ice-ufrag:libp2p+webrtc+v1/x\na=ice-pwd:libp2p+webrtc+v1/x\na=fingerprint:sha-256 AB:CD\na=setup:passive\na=sctp-port:5000\na=max-message-size:16384\na=candidate:1467250027 1 UDP 1467250027 127.0.0.1 4003 typ host\na=end-of-candidates\n";
        assert_eq!(text, expected);
        let v6 = super::answer("[::1]:9".parse().unwrap(), "sha-256", "AB", "u");
        assert!(v6.contains("IN IP6 ::1\n") && v6.contains(" ::1 9 typ host"));
    }
}
