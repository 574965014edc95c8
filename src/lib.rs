//! Fabstir SDK: a peer-to-peer LLM client for the browser, on rust-libp2p compiled to WebAssembly.
//!
//! Layers: [`config`], [`error`] and [`events`] are plain data; [`client`] and [`event_loop`]
//! are the client core (plain Rust, also compiled natively so it is tested without a browser);
//! `wasm` (wasm32 only) is the thin JavaScript binding that exports `FabstirSDK`.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

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
