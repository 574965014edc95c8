//! `fabstir-node`: the native relay, bootstrap and DHT node of the Fabstir network, and its LLM host.
//!
//! The binary (`main.rs`) is a thin CLI over these modules.
#![warn(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod advertise;
pub mod backend;
pub mod catalog;
pub mod config;
pub mod delegated;
pub mod error;
pub mod first_flight;
pub mod health;
pub mod host;
pub mod identity;
pub mod inbound;
pub mod liveness;
pub mod metrics;
pub mod places;
pub mod rejoin;
pub mod relayed;
pub mod run;
pub mod security;
pub mod serve;
mod shutdown;
pub mod store;
pub mod swarm;
pub mod tls;
pub mod wrap;
pub mod ws_close;

pub use error::NodeError;

/// Prints one line on stdout for people and scripts. A closed stdout (the reader went away) is
/// ignored: losing a status line must never bring the node down, as `println!` would by panicking.
pub fn say(line: impl std::fmt::Display) {
    use std::io::Write;
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}
