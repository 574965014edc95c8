//! Firefox never reaches a WebRTC-direct node on a loopback address, so such a dial is refused
//! up front instead of failing after ICE's timeout with an opaque "broken pipe".
//!
//! Upstream cause (Mozilla bug 1659672, and why libp2p-webrtc-websys refuses Firefox on
//! localhost): a page without camera or microphone permission gathers ICE candidates only on the
//! default-route interface ("default address only", RFC 8828 mode 2), and loopback is never
//! that interface, so no candidate pair to 127.0.0.1 or ::1 exists. `media.peerconnection.ice.
//! loopback` does not lift it (tried with Firefox ESR 153). A node on any other address works.

use std::net::IpAddr;

/// Whether this page (or worker) runs in Firefox, by `navigator.userAgent`.
fn is_firefox() -> bool {
    let get = |object: &wasm_bindgen::JsValue, key: &str| {
        js_sys::Reflect::get(object, &key.into()).unwrap_or(wasm_bindgen::JsValue::UNDEFINED)
    };
    get(&get(&js_sys::global(), "navigator"), "userAgent")
        .as_string()
        .is_some_and(|ua| ua.to_ascii_lowercase().contains("firefox"))
}

/// Why a WebRTC-direct dial to `ip` cannot work in this browser, if it cannot.
pub(crate) fn unreachable_reason(ip: IpAddr) -> Option<String> {
    (ip.is_loopback() && is_firefox()).then(|| {
        format!(
            "Firefox cannot reach WebRTC-direct on the loopback address {ip}: it gathers no \
             loopback ICE candidates (Mozilla bug 1659672); dial the node's /ws address, or \
             its WebRTC-direct address on another interface"
        )
    })
}
