//! TLS WebSocket listeners (`/tls/ws`, `/wss`) for pages served over https:, with certificate
//! files that are read again when they change on disk (renewal), so new connections present the
//! new certificate while open ones stay.
//!
//! Why our own listener: libp2p-websocket 0.46 terminates TLS itself but only with one fixed
//! certificate (`tls::Builder::server` → rustls `with_single_cert`, no way to pass a certificate
//! resolver), so it cannot pick up a renewed certificate without a restart. Here TLS is
//! terminated on each accepted TCP stream with our own rustls config ([`cert::Reloading`]), and
//! libp2p-websocket runs plain WebSocket over it ([`transport::TlsWs`]).

pub mod cert;
pub mod transport;

pub use cert::{load, CertError, Reloading};
pub use transport::TlsWs;
