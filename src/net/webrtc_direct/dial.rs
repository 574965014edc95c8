//! Dialing: peer connection, SDP offer/answer for the node's address, Noise over channel 0.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::FutureExt;
use libp2p::core::transport::{DialOpts, ListenerId, TransportError, TransportEvent};
use libp2p::identity::Keypair;
use libp2p::{Multiaddr, PeerId};
use libp2p_webrtc_utils::Fingerprint;
use send_wrapper::SendWrapper;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcConfiguration, RtcDataChannelInit, RtcIceConnectionState, RtcSdpType,
    RtcSessionDescriptionInit,
};

use super::channel::DataChannel;
use super::connection::{Connection, PeerConnection, Stream};
use super::error::Error;
use super::firefox;

type BoxedUpgrade = Pin<Box<dyn Future<Output = Result<(PeerId, Connection), Error>> + Send>>;

/// The WebRTC-direct transport (dial only: a browser cannot listen).
pub struct Transport {
    keypair: Keypair,
}

impl Transport {
    /// A transport that authenticates as `keypair`.
    pub fn new(keypair: &Keypair) -> Self {
        Transport {
            keypair: keypair.clone(),
        }
    }
}

impl libp2p::core::Transport for Transport {
    type Output = (PeerId, Connection);
    type Error = Error;
    type ListenerUpgrade = BoxedUpgrade;
    type Dial = BoxedUpgrade;

    fn listen_on(&mut self, _: ListenerId, addr: Multiaddr) -> Result<(), TransportError<Error>> {
        Err(TransportError::MultiaddrNotSupported(addr))
    }

    fn remove_listener(&mut self, _: ListenerId) -> bool {
        false
    }

    fn dial(
        &mut self,
        addr: Multiaddr,
        opts: DialOpts,
    ) -> Result<BoxedUpgrade, TransportError<Error>> {
        if opts.role.is_listener() {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        let Some((socket, fingerprint)) = libp2p_webrtc_utils::parse_webrtc_dial_addr(&addr) else {
            return Err(TransportError::MultiaddrNotSupported(addr));
        };
        if socket.port() == 0 || socket.ip().is_unspecified() {
            return Err(TransportError::MultiaddrNotSupported(addr));
        }
        if !has_webrtc() {
            return Err(TransportError::Other(Error::Unreachable(
                "this browser has no WebRTC (RTCPeerConnection is not defined), so it cannot dial \
                 WebRTC-direct; dial the node's /ws address"
                    .into(),
            )));
        }
        if let Some(reason) = firefox::unreachable_reason(socket.ip()) {
            return Err(TransportError::Other(Error::Unreachable(reason)));
        }
        let keypair = self.keypair.clone();
        Ok(SendWrapper::new(connect(socket, fingerprint, keypair)).boxed())
    }

    fn poll(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<TransportEvent<BoxedUpgrade, Error>> {
        Poll::Pending
    }
}

async fn connect(
    socket: SocketAddr,
    remote: Fingerprint,
    keypair: Keypair,
) -> Result<(PeerId, Connection), Error> {
    let pc = PeerConnection::new(new_rtc_peer_connection(&remote.algorithm()).await?);

    // Channel 0, negotiated out of band, carries the Noise handshake; it must exist before the
    // offer so that the offer includes a data section.
    let init = RtcDataChannelInit::new();
    init.set_negotiated(true);
    init.set_id(0);
    let (handshake, _drop_listener) = Stream::new(DataChannel::new(
        pc.inner
            .create_data_channel_with_data_channel_dict("", &init),
    ));

    let ufrag = libp2p_webrtc_utils::sdp::random_ufrag();
    let offer = JsFuture::from(pc.inner.create_offer()).await?;
    let offer_sdp = js_sys::Reflect::get(&offer, &"sdp".into())?
        .as_string()
        .ok_or_else(|| Error::Js("the offer has no SDP".into()))?;
    let local = RtcSessionDescriptionInit::new(RtcSdpType::Offer);
    local.set_sdp(&munge_offer(&offer_sdp, &ufrag));
    JsFuture::from(pc.inner.set_local_description(&local)).await?;
    let answer = RtcSessionDescriptionInit::new(RtcSdpType::Answer);
    answer.set_sdp(&crate::net::sdp::answer(
        socket,
        &remote.algorithm(),
        &remote.to_sdp_format(),
        &ufrag,
    ));
    JsFuture::from(pc.inner.set_remote_description(&answer)).await?;

    let local_sdp = pc
        .inner
        .local_description()
        .map(|d| d.sdp())
        .unwrap_or_default();
    let local_fingerprint = parse_fingerprint(&local_sdp)
        .ok_or_else(|| Error::Js("no sha-256 fingerprint in the local SDP".into()))?;
    let peer = libp2p_webrtc_utils::noise::outbound(keypair, handshake, remote, local_fingerprint)
        .await
        .map_err(|e| {
            // A handshake channel that closed because ICE gave up says only "broken pipe".
            if pc.inner.ice_connection_state() == RtcIceConnectionState::Failed {
                Error::IceFailed(socket)
            } else {
                Error::from(e)
            }
        })?;
    Ok((peer, Connection::new(pc)))
}

/// Whether the page has WebRTC at all (some builds, e.g. Debian's WebKitGTK, leave it out).
pub(super) fn has_webrtc() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &"RTCPeerConnection".into()).unwrap_or(false)
}

async fn new_rtc_peer_connection(hash: &str) -> Result<web_sys::RtcPeerConnection, Error> {
    let algorithm = js_sys::Object::new();
    for (key, value) in [("name", "ECDSA"), ("namedCurve", "P-256"), ("hash", hash)] {
        js_sys::Reflect::set(&algorithm, &key.into(), &value.into())?;
    }
    let certificate =
        JsFuture::from(web_sys::RtcPeerConnection::generate_certificate_with_object(&algorithm)?)
            .await?;
    let config = RtcConfiguration::new();
    config.set_certificates(&js_sys::Array::of1(&certificate));
    Ok(web_sys::RtcPeerConnection::new_with_configuration(&config)?)
}

/// Replaces the browser's ICE credentials with `ufrag`, which the server derives from the
/// STUN username (this is how WebRTC-direct works without a signalling channel).
fn munge_offer(sdp: &str, ufrag: &str) -> String {
    sdp.split("\r\n")
        .filter(|line| !line.is_empty())
        .map(|line| {
            if line.starts_with("a=ice-ufrag:") {
                format!("a=ice-ufrag:{ufrag}\r\n")
            } else if line.starts_with("a=ice-pwd:") {
                format!("a=ice-pwd:{ufrag}\r\n")
            } else {
                format!("{line}\r\n")
            }
        })
        .collect()
}

/// The sha-256 certificate fingerprint in an SDP (`a=fingerprint:sha-256 AB:CD:…`).
fn parse_fingerprint(sdp: &str) -> Option<Fingerprint> {
    let line = sdp
        .split("\r\n")
        .find_map(|l| l.strip_prefix("a=fingerprint:sha-256 "))?;
    let bytes: Vec<u8> = line
        .trim()
        .split(':')
        .map(|hex| u8::from_str_radix(hex, 16).ok())
        .collect::<Option<_>>()?;
    Some(Fingerprint::raw(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn munges_ice_credentials_and_parses_fingerprints() {
        let sdp = "v=0\r\na=ice-ufrag:abc\r\na=ice-pwd:def\r\na=fingerprint:sha-256 A8:17:77:1E:02:7E:D1:2B:53:92:70:A6:8E:F9:02:CC:21:72:3A:92:5D:F4:97:5F:27:C4:5E:75:D4:F4:31:89\r\n\r\n";
        let munged = munge_offer(sdp, "U");
        assert!(
            munged.contains("a=ice-ufrag:U\r\na=ice-pwd:U\r\n") && !munged.contains("\r\n\r\n")
        );
        let fp = parse_fingerprint(sdp).unwrap();
        assert!(fp.to_sdp_format().starts_with("A8:17:77"));
        assert!(parse_fingerprint("a=fingerprint:sha-256 ZZ\r\n").is_none());
    }
}
