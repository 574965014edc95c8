//! Errors of the WebRTC-direct transport.

/// Why a WebRTC-direct connection failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A browser WebRTC API call failed.
    #[error("webrtc: {0}")]
    Js(String),
    /// The Noise handshake failed (e.g. the peer id or certificate did not match).
    #[error("noise handshake: {0}")]
    Noise(#[from] libp2p_webrtc_utils::noise::Error),
    /// This browser cannot reach the address over WebRTC-direct at all (see `firefox.rs`).
    #[error("{0}")]
    Unreachable(String),
    /// ICE found no working path to the node (nothing answered its connectivity checks).
    #[error("ICE failed: no candidate pair to {0} succeeded (is the node's UDP port reachable from this browser?)")]
    IceFailed(std::net::SocketAddr),
    /// The connection is closed.
    #[error("connection closed")]
    Closed,
}

impl From<wasm_bindgen::JsValue> for Error {
    fn from(value: wasm_bindgen::JsValue) -> Self {
        Error::Js(crate::net::rt::js_text(&value))
    }
}
