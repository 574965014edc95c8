//! Multiaddrs read from text here instead of by `Multiaddr`'s `FromStr` (multiaddr 0.19), which
//! reads a `/certhash` in any multibase and `/onion` addresses through data-encoding's generic
//! decoder and Unicode case tables: about 50 KB of the browser's wasm for two protocols. Here a
//! certhash is read in the bases libp2p writes (base64url `u`, as every implementation writes
//! it; `U`, `m`, `M`; base58btc `z`) with `fabstir_protocol::b64` and the bs58 code the build
//! has anyway.
//!
//! Every protocol of multiaddr 0.19 that a browser could meet is read as multiaddr reads it (the
//! tests compare both on each). Not read: `/onion`, `/onion3`, `/garlic32`, `/garlic64`,
//! `/x-parity-ws`, `/x-parity-wss` and `/http-path` (the error names the protocol).
//!
//! Addresses are still written by `Multiaddr`'s `Display`: libp2p-stream 0.5 writes every failed
//! dial with it, so its encoder stays in the wasm whatever we do, and a writer of our own beside
//! it cost 2 KB gzip (measured).

use std::borrow::Cow;

use fabstir_protocol::b64::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use libp2p::multiaddr::{multihash::Multihash, Protocol};
use libp2p::Multiaddr;

/// The protocols that carry no value, by their names.
const BARE: [Protocol<'static>; 18] = [
    Protocol::Tls,
    Protocol::Noise,
    Protocol::Http,
    Protocol::Https,
    Protocol::Quic,
    Protocol::QuicV1,
    Protocol::WebTransport,
    Protocol::WebRTCDirect,
    Protocol::WebRTC,
    Protocol::P2pCircuit,
    Protocol::Ws(Cow::Borrowed("/")),
    Protocol::Wss(Cow::Borrowed("/")),
    Protocol::Udt,
    Protocol::Utp,
    Protocol::P2pWebSocketStar,
    Protocol::P2pWebRtcStar,
    Protocol::P2pWebRtcDirect,
    Protocol::P2pStardust,
];

/// The protocols read here that carry a value, by their names.
const VALUED: [&str; 18] = [
    "ip4", "ip6", "dns", "dns4", "dns6", "dnsaddr", "sni", "unix", "ip6zone", "tcp", "udp", "dccp",
    "sctp", "memory", "ipcidr", "p2p", "ipfs", "certhash",
];

/// Reads `text` (`/ip4/127.0.0.1/tcp/4001/ws/p2p/12D3…`). The error says which part is wrong.
pub fn parse(text: &str) -> Result<Multiaddr, String> {
    let mut parts = text.split('/');
    if parts.next() != Some("") {
        return Err("it does not begin with /".into());
    }
    let mut address = Multiaddr::empty();
    while let Some(name) = parts.next() {
        if let Some(bare) = BARE.iter().find(|p| p.tag() == name) {
            address.push(bare.clone());
            continue;
        }
        if name.is_empty() {
            return Err("it has an empty part (// or a / at the end)".into());
        }
        if !VALUED.contains(&name) {
            return Err(format!("/{name} is not a protocol read here"));
        }
        let value = parts
            .next()
            .ok_or_else(|| format!("/{name} lacks its value"))?;
        let bad = |what: &str| format!("/{name}/{value}: {what}");
        let port = || value.parse().map_err(|_| bad("not a port"));
        let text = || Cow::Owned(value.to_string());
        address.push(match name {
            "ip4" => Protocol::Ip4(value.parse().map_err(|_| bad("not an IPv4 address"))?),
            "ip6" => Protocol::Ip6(value.parse().map_err(|_| bad("not an IPv6 address"))?),
            "dns" => Protocol::Dns(text()),
            "dns4" => Protocol::Dns4(text()),
            "dns6" => Protocol::Dns6(text()),
            "dnsaddr" => Protocol::Dnsaddr(text()),
            "sni" => Protocol::Sni(text()),
            "unix" => Protocol::Unix(text()),
            "ip6zone" => Protocol::Ip6zone(text()),
            "tcp" => Protocol::Tcp(port()?),
            "udp" => Protocol::Udp(port()?),
            "dccp" => Protocol::Dccp(port()?),
            "sctp" => Protocol::Sctp(port()?),
            "memory" => Protocol::Memory(value.parse().map_err(|_| bad("not a number"))?),
            "ipcidr" => Protocol::Ipcidr(value.parse().map_err(|_| bad("not a prefix length"))?),
            "p2p" | "ipfs" => Protocol::P2p(value.parse().map_err(|_| bad("not a peer id"))?),
            "certhash" => {
                Protocol::Certhash(certhash(value).ok_or_else(|| bad("not a multihash"))?)
            }
            _ => return Err(format!("/{name} is not a protocol read here")),
        });
    }
    Ok(address)
}

/// A certhash's multibase text as its multihash.
fn certhash(value: &str) -> Option<Multihash<64>> {
    let mut chars = value.chars();
    let base = chars.next()?;
    let rest = chars.as_str();
    let bytes = match base {
        'u' => URL_SAFE_NO_PAD.decode(rest).ok()?,
        'U' => URL_SAFE.decode(rest).ok()?,
        'm' => STANDARD_NO_PAD.decode(rest).ok()?,
        'M' => STANDARD.decode(rest).ok()?,
        'z' => bs58::decode(rest).into_vec().ok()?,
        _ => return None,
    };
    Multihash::from_bytes(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose;
    use base64::Engine;

    const PEER: &str = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN";

    fn samples() -> Vec<String> {
        let cert = "uEiBVpEOd3oXxpwqrqvq-i6DG2IZ8LwmGKPrE3AE-bHvXyw";
        [
            "/ip4/127.0.0.1/tcp/4001/ws".to_string(),
            format!("/ip4/127.0.0.1/tcp/4001/ws/p2p/{PEER}"),
            format!("/ip6/::1/tcp/4002/wss/p2p/{PEER}"),
            format!("/ip6/2001:db8::7/tcp/443/tls/sni/relay.example.com/ws/p2p/{PEER}"),
            format!("/dns4/relay.example.com/tcp/443/tls/ws/p2p/{PEER}"),
            format!("/dns/relay.example.com/tcp/443/wss/p2p/{PEER}"),
            format!("/dns6/relay.example.com/tcp/443/wss/p2p/{PEER}/p2p-circuit/p2p/{PEER}"),
            format!("/dnsaddr/bootstrap.example.com/p2p/{PEER}"),
            format!("/ip4/127.0.0.1/udp/4003/webrtc-direct/certhash/{cert}/p2p/{PEER}"),
            format!("/ip4/127.0.0.1/udp/4003/webrtc-direct/certhash/{cert}/certhash/{cert}"),
            format!("/ip4/10.0.0.1/udp/4004/quic-v1/webtransport/certhash/{cert}"),
            format!("/ip4/10.0.0.1/udp/4004/quic/p2p/{PEER}/p2p-circuit/webrtc/p2p/{PEER}"),
            format!("/p2p/{PEER}/p2p-circuit/p2p/{PEER}"),
            "/ip4/0.0.0.0/tcp/0/http".to_string(),
            "/ip4/1.2.3.4/tcp/80/https".to_string(),
            "/ip4/1.2.3.4/tcp/80/noise/udt/utp".to_string(),
            "/ip6zone/eth0/ip6/fe80::1/sctp/9/dccp/10".to_string(),
            "/memory/1234".to_string(),
            "/unix/tmp".to_string(),
            "/ip4/1.2.3.4/ipcidr/24".to_string(),
            "/p2p-websocket-star/p2p-webrtc-star/p2p-webrtc-direct/p2p-stardust".to_string(),
            String::new(),
        ]
        .to_vec()
    }

    #[test]
    fn it_reads_as_multiaddr_does() {
        for s in samples() {
            let theirs: Multiaddr = s.parse().unwrap();
            let ours = parse(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(ours, theirs, "{s}");
            assert_eq!(ours.to_string(), s, "{s}");
        }
    }

    #[test]
    fn it_reads_every_base_libp2p_writes_a_certhash_in() {
        let written = "uEiBVpEOd3oXxpwqrqvq-i6DG2IZ8LwmGKPrE3AE-bHvXyw";
        let expected: Multiaddr = format!("/certhash/{written}").parse().unwrap();
        let hash = match expected.iter().next() {
            Some(Protocol::Certhash(h)) => h.to_bytes(),
            _ => unreachable!(),
        };
        for base in [
            format!("U{}", general_purpose::URL_SAFE.encode(&hash)),
            format!("m{}", general_purpose::STANDARD_NO_PAD.encode(&hash)),
            format!("M{}", general_purpose::STANDARD.encode(&hash)),
            format!("z{}", bs58::encode(&hash).into_string()),
        ] {
            let ours = parse(&format!("/certhash/{base}")).unwrap();
            assert_eq!(ours, expected, "{base}");
            assert_eq!(ours.to_string(), format!("/certhash/{written}"));
        }
    }

    #[test]
    fn what_is_wrong_is_named() {
        let cases = [
            ("ip4/1.2.3.4", "does not begin with /"),
            (
                "/ip4/1.2.3.999/tcp/1",
                "/ip4/1.2.3.999: not an IPv4 address",
            ),
            ("/ip6/nope", "/ip6/nope: not an IPv6 address"),
            ("/ip4/1.2.3.4/tcp/65536", "/tcp/65536: not a port"),
            ("/ip4/1.2.3.4/tcp", "/tcp lacks its value"),
            ("/ip4/1.2.3.4/tcp/1/", "an empty part"),
            ("//ip4/1.2.3.4", "an empty part"),
            ("/p2p/QmNotAPeer", "/p2p/QmNotAPeer: not a peer id"),
            ("/certhash/xAAAA", "not a multihash"),
            ("/certhash/u!!", "not a multihash"),
            ("/certhash/", "not a multihash"),
            (
                "/onion3/vww6ybal4bd7szmgncyruucpgfkqahzddi37ktceo3ah7ngmcopnpyyd:1234",
                "/onion3",
            ),
            (
                "/x-parity-ws/%2Fpath",
                "/x-parity-ws is not a protocol read here",
            ),
            ("/quic-v2", "/quic-v2 is not a protocol read here"),
        ];
        for (input, said) in cases {
            let error = parse(input).unwrap_err();
            assert!(error.contains(said), "{input}: {error}");
        }
    }
}
