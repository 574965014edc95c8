//! WebRTC-direct for the browser: dialing `/webrtc-direct/certhash/…` addresses of native nodes.
//!
//! Our own transport on `libp2p-webrtc-utils` (SDP, Noise prologue, stream framing) rather than
//! libp2p-webrtc-websys 0.5.0, which installs its `ondatachannel` handler only after the Noise
//! handshake: the native side finishes Noise first and opens streams at once (identify, ping), so
//! their data channels could arrive with no handler and be lost. Here the handler is installed
//! when the `RTCPeerConnection` is created, and each inbound channel gets its message handler
//! synchronously inside that callback, so neither a channel nor its first bytes can be missed.

mod channel;
mod connection;
mod dial;
mod error;
mod firefox;
mod node_ready;

pub use connection::{Connection, Stream};
pub use dial::Transport;
pub use error::Error;
