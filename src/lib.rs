//! Fabstir SDK: a peer-to-peer LLM client for the browser, on rust-libp2p compiled to WebAssembly.
//!
//! Layers: [`config`], [`error`] and [`events`] are plain data; [`client`] and [`event_loop`]
//! are the client core (plain Rust, also compiled natively so it is tested without a browser);
//! `wasm` (wasm32 only) is the thin JavaScript binding that exports `FabstirSDK`.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod backoff;
pub mod behaviour;
pub mod client;
pub mod config;
pub mod diagnostics;
pub mod discovery;
pub mod dropped;
pub mod error;
pub mod event_loop;
pub mod events;
pub mod failover;
pub mod jobs;
pub mod negotiation;
pub mod node_info;
pub mod peers;
pub mod perf;
pub mod ping;
pub mod reconnect;
pub mod reliability;
pub mod retry;
pub mod rt;
pub mod security;
pub mod stream;
pub mod transport;
#[cfg(target_arch = "wasm32")]
pub mod wasm;
#[cfg(target_arch = "wasm32")]
pub mod webrtc_direct;
pub mod websocket;

pub use client::Client;
pub use config::{SdkConfig, ValidConfig};
pub use error::SdkError;
pub use events::SdkEvent;
