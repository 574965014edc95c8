//! Fabstir SDK: a peer-to-peer LLM client for the browser, on rust-libp2p compiled to WebAssembly.
//!
//! The crate is in rooms whose arrows run one way:
//! - [`config`], [`error`] and [`events`]: plain data; they import nothing from the rooms below.
//! - [`net`]: the swarm, its transports and behaviour, the event loop that owns it, and the
//!   [`net::handle::Network`] handle the other rooms talk to it through. It knows nothing of the
//!   marketplace.
//! - [`market`]: discovery, negotiation, token streams, jobs, reliability, failover and retries,
//!   as [`market::Market`] over a network handle.
//! - [`diagnostics`]: health, connectivity and performance reports, over the two above.
//! - [`client`]: the façade that starts a network and its marketplace together.
//! - `wasm` (wasm32 only): the thin JavaScript binding that exports `FabstirSDK`, on the façade.
//!
//! Everything but `wasm` also compiles natively, so most logic is tested without a browser.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod chat;
pub mod client;
pub mod config;
pub mod diagnostics;
pub mod error;
pub mod events;
pub mod market;
pub mod net;
#[cfg(target_arch = "wasm32")]
pub mod wasm;

pub use client::Client;
pub use config::{SdkConfig, ValidConfig};
pub use error::SdkError;
pub use events::SdkEvent;
